"""django-auditlog fitted to Kobling's access log (the log itself: programmes/audit.py).

Adjustments to the library: a masked value becomes one fixed marker, so not even its length is
kept; the middleware stores the channel and the actor's user id, never the actor's e-mail or
network address; and the library's own log table, replaced by ours, is not created.
"""

from auditlog.middleware import AuditlogMiddleware

from core.paths import is_api_request

MASK = "[masked]"


def mask_value(value: str) -> str:
    """AUDITLOG_MASK_CALLABLE. The library's default keeps half the value."""
    return MASK


def object_label(model, pk) -> str:
    """How an audit row names its object, "Referral #12". Never ``str(instance)``: a
    referral's is its alias, which retention deletes, and a volunteer's is a name."""
    return f"{model.__name__} #{pk}"


def request_channel(request) -> str:
    if is_api_request(request):
        return "api"
    if request.path.startswith("/admin/"):
        return "admin"
    return "portal"


def _user_id(request) -> int | None:
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


class AuditMiddleware(AuditlogMiddleware):
    """Takes the place of auditlog's middleware (see settings).

    The actor is read when a row is written rather than when the request arrives: the API
    authenticates a token inside the view, after every middleware has run.
    """

    def get_extra_data(self, request):
        return {"actor_id": lambda: _user_id(request), "channel": request_channel(request)}


class SwappedAuditlogRouter:
    """Gives auditlog's own LogEntry, which programmes.AuditLogEntry replaces, no table.
    django-auditlog 3.4 creates it anyway (jazzband/django-auditlog#804, fixed in a later
    release), and its foreign keys make PostgreSQL refuse the TRUNCATE that empties the
    database between transactional tests."""

    def allow_migrate(self, db, app_label, **hints):
        return False if app_label == "auditlog" else None
