"""The access log: who read or changed a participant's case, when, and through which channel.

Changes are written by django-auditlog for the models registered in ``AUDITED``, with the names
of the changed fields; a field's value is kept only where it is listed as harmless (ids,
statuses, dates of the process), every other value is masked to ``core.audit.MASK``, and
``Referral.notes`` is left out altogether. Reads are written by ``referrals_log_read``, called by
every page, API endpoint, admin view and export that shows a referral, one row per referral in
one statement per response. Rows are append-only (migration 0006 installs the trigger); admins
read them in the admin. Every write here is one statement however many rows it takes: the log
is written inside a run's locking transaction and on every list page.
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING

from auditlog.diff import model_instance_diff
from auditlog.registry import auditlog
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q

from programmes.models import AuditLogEntry, Referral

Action = AuditLogEntry.Action
Channel = AuditLogEntry.Channel

ACTION_NAMES = {
    Action.CREATE: "create",
    Action.UPDATE: "update",
    Action.DELETE: "delete",
    Action.ACCESS: "access",
}


# Per model: the fields whose values the log may keep. Any other field's value is masked, so a
# field added later stays masked until someone decides otherwise. A referral's closure reason is
# masked ("ended for safety reasons" says something about the participant); its status is kept.
AUDITED = {
    "programmes.Referral": {
        "kept": [
            "id",
            "site",
            "status",
            "consent_recorded_by",
            "submitted_at",
            "status_changed_at",
            "waiting_since",
            "long_wait_flagged_on",
            "anonymised_at",
        ],
        "excluded": ["notes"],
        "m2m": ["avoid_municipalities", "wished_activities"],
    },
    "accounts.ApiToken": {
        # last_used_at changes on every API call, which the read log already records.
        "kept": [
            "id",
            "name",
            "user",
            "crisis_centre",
            "scope",
            "prefix",
            "created_at",
            "revoked_at",
            "expires_at",
        ],
        "excluded": ["last_used_at"],
    },
    "volunteers.Volunteer": {
        "kept": [
            "id",
            "user",
            "organisation",
            "programmes",
            "capacity",
            "commitments",
            "status",
            "status_changed_at",
            "joined_on",
        ],
        "m2m": ["programmes", "avoid_municipalities", "activities"],
    },
    "volunteers.VettingRecord": {
        "kept": [
            "id",
            "volunteer",
            "kind",
            "politiattest_type",
            "issued_on",
            "expires_on",
            "recorded_by",
            "recorded_at",
            "expiry_warned_on",
        ],
    },
    "matching.Proposal": {
        "kept": ["id", "run", "referral", "status", "reviewed_by", "reviewed_at"],
    },
    "matching.Match": {
        "kept": ["id", "referral", "proposal", "status", "approved_by", "created_at", "ended_at"],
    },
    "matching.MatchVolunteer": {"kept": ["id", "match", "volunteer", "accepted_at"]},
    "matching.Agreement": {
        "kept": [
            "id",
            "match",
            "terms",
            "starts_on",
            "ends_on",
            "consent_recorded_at",
            "consent_recorded_by",
            "countersigned_at",
            "countersigned_by",
            "activated_at",
        ],
    },
    "matching.CheckIn": {
        "kept": [
            "id",
            "match",
            "months_after_start",
            "due_on",
            "answered_at",
            "overdue_notified_on",
        ],
    },
}


def audited_models_register() -> None:
    """Called once from ProgrammesConfig.ready()."""
    for label, rule in AUDITED.items():
        model = apps.get_model(label)
        excluded = rule.get("excluded", [])
        names = [f.name for f in model._meta.concrete_fields] + rule.get("m2m", [])
        auditlog.register(
            model,
            exclude_fields=excluded,
            mask_fields=[n for n in names if n not in rule["kept"] and n not in excluded],
            m2m_fields=rule.get("m2m", []),
        )


def _actor_or_none(actor):
    return actor if actor is not None and actor.is_authenticated else None


def referrals_log_read(actor, referrals, channel: str) -> None:
    """Record that ``actor`` was shown these referrals (instances or ids): one row each, all
    written by one statement whatever their number. ``channel`` is "portal", "api", "admin" or
    "export"."""
    objects_log_read(actor, Referral, referrals, channel)


def objects_log_read(actor, model, objects, channel: str) -> None:
    """``referrals_log_read`` for any model: an export of volunteers is logged this way."""
    ids = sorted({getattr(obj, "pk", obj) for obj in objects})
    if not ids:
        return
    actor = _actor_or_none(actor)
    AuditLogEntry.objects.log_reads(model, ids, actor and actor.pk, Channel(channel))


def referral_ids_of(*shown: Iterable) -> set[int]:
    """The referrals behind what a page shows: referrals themselves, objects of one referral
    (proposals, matches, unmatched referrals) and objects of one match (agreements, check-ins).
    Iterating a queryset here caches its rows for the template."""
    ids = set()
    for objects in shown:
        for obj in objects:
            if isinstance(obj, Referral):
                ids.add(obj.pk)
            elif hasattr(obj, "referral_id"):
                ids.add(obj.referral_id)
            else:
                ids.add(obj.match.referral_id)
    return ids


if TYPE_CHECKING:
    # For mypy only: the mixin calls a viewset's own methods; at run time it is a plain class.
    from rest_framework.generics import GenericAPIView

    _ViewSetBase = GenericAPIView
else:
    _ViewSetBase = object


class ApiReadsLogged(_ViewSetBase):
    """For API viewsets: logs the referrals behind each page of a list and behind each single
    object the view fetches. ``referrals_in`` says where a view's objects keep them."""

    def referrals_in(self, objects) -> set[int]:
        return referral_ids_of(objects)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        self._log_read(queryset if page is None else page)
        return page

    def get_object(self):
        shown = super().get_object()
        self._log_read([shown])
        return shown

    def _log_read(self, objects) -> None:
        referrals_log_read(self.request.user, self.referrals_in(objects), Channel.API)


def objects_log_created(instances: Iterable) -> None:
    """Log objects made with ``bulk_create``, which sends no signal to auditlog: one insert
    for all of them (a programme-wide run saves thousands of proposals in one transaction)."""
    AuditLogEntry.objects.log_create_many(
        (instance, Action.CREATE, _created_diff(instance)) for instance in instances
    )


def _created_diff(instance) -> dict | None:
    """The changes of a row just made. Nothing points at it through a one-to-one yet (a new
    proposal has no match): said for the time of the diff, which would otherwise look for one
    with a query per row."""
    unknown = [
        relation
        for relation in instance._meta.related_objects
        if relation.one_to_one and not relation.is_cached(instance)
    ]
    for relation in unknown:
        relation.set_cached_value(instance, None)
    try:
        return model_instance_diff(None, instance)
    finally:
        for relation in unknown:
            relation.delete_cached_value(instance)


def queryset_update_logged(queryset, **values) -> int:
    """``queryset.update(**values)`` that also logs each changed object, as ``save()`` would,
    in one insert."""
    before = list(queryset)
    count = queryset.update(**values)
    after = queryset.model._base_manager.in_bulk([obj.pk for obj in before])
    AuditLogEntry.objects.log_create_many(
        (
            after[old.pk],
            Action.UPDATE,
            model_instance_diff(old, after[old.pk], fields_to_check=values),
        )
        for old in before
    )
    return count


def _case_objects(referral_id: int) -> dict:
    """Per model, the ids of a referral and of its proposals, matches, volunteer places,
    agreements and check-ins. The referral's own id is kept even once retention deleted it."""
    of_referral, of_match = {"referral_id": referral_id}, {"match__referral_id": referral_id}
    lookups = {
        "matching.Proposal": of_referral,
        "matching.Match": of_referral,
        "matching.MatchVolunteer": of_match,
        "matching.Agreement": of_match,
        "matching.CheckIn": of_match,
    }
    case = {Referral: [referral_id]}
    for label, lookup in lookups.items():
        model = apps.get_model(label)
        case[model] = model.objects.filter(**lookup).values("pk")
    return case


def referral_history(referral) -> list[dict]:
    """Every audit row about a referral (instance or id) and its proposals, matches,
    agreements and check-ins, oldest first: the history a participant may ask for."""
    rows = Q()
    for model, ids in _case_objects(getattr(referral, "pk", referral)).items():
        rows |= Q(content_type=ContentType.objects.get_for_model(model), object_id__in=ids)
    entries = AuditLogEntry.objects.filter(rows).order_by("timestamp", "pk")
    return [
        {
            "when": entry.timestamp.isoformat(),
            "actor_id": entry.actor_id,
            "action": ACTION_NAMES[entry.action],
            "channel": entry.channel,
            "object": entry.object_repr,
            "fields": sorted(entry.changes or {}),
        }
        for entry in entries
    ]
