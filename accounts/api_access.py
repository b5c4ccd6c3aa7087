"""Who may call the API and how much: roles per action (default-deny), token scope, the
throttles and the request-body limit. Kept apart from config/api.py because DRF imports these
settings-named classes while it is itself being imported, before drf-spectacular can load.
"""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import permissions, throttling
from rest_framework.parsers import JSONParser

from accounts.models import ApiToken
from accounts.roles import Role, user_roles
from core.api_input import MAX_BODY_BYTES, BodyTooLarge, declared_length, json_from_body

# Not a role a person holds: every signed-in caller, for the look-ups anyone may use.
AUTHENTICATED = "authenticated"
# The actions of a viewset that only read.
READ_ACTIONS = ("list", "retrieve")


def api_token(request) -> ApiToken | None:
    return request.auth if isinstance(request.auth, ApiToken) else None


def api_roles(request) -> set[str]:
    """A token acts only as staff of its crisis centre, whatever else its user may be. Every
    signed-in caller also holds AUTHENTICATED."""
    if not request.user.is_authenticated:
        return set()
    if api_token(request) is not None:
        return {AUTHENTICATED, Role.CRISIS_CENTRE_STAFF}
    return {AUTHENTICATED, *user_roles(request.user)}


def read_roles(*roles: str) -> dict[str, set[str]]:
    """A viewset's ``roles`` for its read actions: the same roles for each."""
    return {action: set(roles) for action in READ_ACTIONS}


def within_token_centre(request, queryset, centre_field: str):
    """Narrow a scoped queryset to the token's crisis centre when a token is used."""
    token = api_token(request)
    return queryset if token is None else queryset.filter(**{centre_field: token.crisis_centre_id})


class RolePermission(permissions.BasePermission):
    """Default-deny: the view's ``roles`` maps each action (or HTTP method, for plain views) to
    the roles allowed; a read-scoped token may only read."""

    message = _("Your role may not do this.")

    def has_permission(self, request, view) -> bool:
        action = getattr(view, "action", None) or request.method.lower()
        allowed = getattr(view, "roles", {}).get(action, set())
        token = api_token(request)
        read_only = token is not None and token.scope != ApiToken.Scope.WRITE
        if read_only and request.method not in permissions.SAFE_METHODS:
            return False
        return bool(allowed & api_roles(request))


class LimitedJSONParser(JSONParser):
    """Strict JSON (core.api_input) of at most MAX_BODY_BYTES. The size is refused earlier,
    by core.api_input.ApiBodyLimitMiddleware, and checked here again; a client may lie about
    the length, so the stream is read no further than the limit either. JSON is UTF-8 whatever
    charset the Content-Type names (RFC 8259, section 8.1)."""

    def parse(self, stream, media_type=None, parser_context=None):
        declared = declared_length(parser_context["request"].META) or 0
        body = stream.read(MAX_BODY_BYTES + 1) if stream is not None else b""
        if declared > MAX_BODY_BYTES or len(body) > MAX_BODY_BYTES:
            raise BodyTooLarge()
        return json_from_body(body)


class _LiveRate:
    # Read the rate per request, so settings can change it without re-importing DRF.
    def get_rate(self):
        return settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][self.scope]


class UserThrottle(_LiveRate, throttling.UserRateThrottle):
    pass


class AnonThrottle(_LiveRate, throttling.AnonRateThrottle):
    pass


class TokenThrottle(_LiveRate, throttling.SimpleRateThrottle):
    scope = "token"

    def get_cache_key(self, request, view):
        token = api_token(request)
        if token is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": token.pk}
