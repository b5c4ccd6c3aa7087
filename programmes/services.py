"""Writes for the programmes app: submitting referrals and moving them through their lifecycle.

Referral lifecycle::

    submitted → waiting → proposed → matched → active → closed (with a reason)
        any of submitted/waiting/proposed/matched → withdrawn
    a rejected proposal or a declined agreement returns the referral to waiting.
"""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from programmes.audit import queryset_update_logged
from programmes.models import Municipality, PostalCode, ProgrammeSite, Referral
from programmes.notifications import notify_coordinators_of_new_referral

Status = Referral.Status

REFERRAL_TRANSITIONS: dict[str, set[str]] = {
    Status.SUBMITTED: {Status.WAITING, Status.WITHDRAWN},
    Status.WAITING: {Status.PROPOSED, Status.WITHDRAWN},
    Status.PROPOSED: {Status.MATCHED, Status.WAITING, Status.WITHDRAWN},
    Status.MATCHED: {Status.ACTIVE, Status.WAITING, Status.WITHDRAWN},
    Status.ACTIVE: {Status.CLOSED},
    Status.CLOSED: set(),
    Status.WITHDRAWN: set(),
}


@dataclass(frozen=True)
class ReferralInput:
    """What a crisis centre tells Kobling about a participant. Codes, not objects: the service
    resolves them and reports an unknown one against its field."""

    languages: list[str]
    consent_given_on: datetime.date
    postal_code: str = ""
    municipality: str = ""
    availability: list[dict] = field(default_factory=list)
    adults: int = 1
    children_birth_years: list[int] = field(default_factory=list)
    volunteer_gender: str = ""
    max_distance_km: int | None = None
    avoid_municipalities: list[str] = field(default_factory=list)
    alias: str = ""
    notes: str = ""


def referral_submit(*, site: ProgrammeSite, data: ReferralInput, submitted_by) -> Referral:
    """Record a referral from crisis-centre staff of the site's centre. Nothing is saved unless
    every field is valid."""
    if not site.crisis_centre.staff.filter(pk=submitted_by.pk).exists():
        raise PermissionDenied(
            _("Only staff of %(centre)s can refer to this site.") % {"centre": site.crisis_centre}
        )
    postal_code, municipality = _resolve_home(data.postal_code, data.municipality)
    avoid = _resolve_municipalities(data.avoid_municipalities, "avoid_municipalities")
    referral = Referral(
        site=site,
        postal_code=postal_code,
        municipality=municipality,
        languages=data.languages,
        availability=data.availability,
        adults=data.adults,
        children_birth_years=data.children_birth_years,
        volunteer_gender=data.volunteer_gender,
        max_distance_km=data.max_distance_km,
        consent_given_on=data.consent_given_on,
        consent_recorded_by=submitted_by,
        notes=data.notes,
    )
    if data.alias:
        referral.alias = data.alias
    referral.full_clean()
    with transaction.atomic():
        referral.save()
        referral.avoid_municipalities.set(avoid)
        notify_coordinators_of_new_referral(referral)
    return referral


EDITABLE_STATUSES = (Status.SUBMITTED, Status.WAITING)
EDITABLE_FIELDS = (
    "languages",
    "availability",
    "adults",
    "children_birth_years",
    "volunteer_gender",
    "max_distance_km",
    "alias",
    "notes",
)


def referral_update(referral: Referral, *, changes: dict, updated_by) -> Referral:
    """Crisis-centre staff correct a referral while it is submitted or waiting. ``changes`` holds
    ReferralInput's fields; a new postal code or municipality replaces the home. Nothing is saved
    unless every field is valid."""
    with transaction.atomic():
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        if not locked.site.crisis_centre.staff.filter(pk=updated_by.pk).exists():
            raise PermissionDenied(_("Only staff of the referring crisis centre may change it."))
        if locked.status not in EDITABLE_STATUSES:
            raise ValidationError(
                {"status": _("A %s referral can no longer be changed.") % locked.status}
            )
        avoid = _apply_changes(locked, changes)
        locked.full_clean()
        locked.save()
        if avoid is not None:
            locked.avoid_municipalities.set(avoid)
    return locked


def _apply_changes(referral: Referral, changes: dict) -> list[Municipality] | None:
    """Set the changed fields, resolving codes; returns the new municipalities to avoid, if
    they change."""
    if "postal_code" in changes or "municipality" in changes:
        referral.postal_code, referral.municipality = _resolve_home(
            changes.get("postal_code", ""), changes.get("municipality", "")
        )
    for name in EDITABLE_FIELDS:
        if name in changes:
            setattr(referral, name, changes[name])
    if "avoid_municipalities" not in changes:
        return None
    return _resolve_municipalities(changes["avoid_municipalities"], "avoid_municipalities")


def _resolve_home(code: str, number: str) -> tuple[PostalCode | None, Municipality]:
    if code:
        postal_code = PostalCode.objects.select_related("municipality").filter(code=code).first()
        if postal_code is None:
            raise ValidationError({"postal_code": _("Unknown postal code %r.") % code})
        if number and postal_code.municipality.number != number:
            raise ValidationError(
                {
                    "postal_code": _("Postal code %(code)s is not in municipality %(number)s.")
                    % {"code": code, "number": number}
                }
            )
        return postal_code, postal_code.municipality
    if not number:
        raise ValidationError({"municipality": _("Give the postal code or the municipality.")})
    return None, _resolve_municipalities([number], "municipality")[0]


def _resolve_municipalities(numbers: list[str], field_name: str) -> list[Municipality]:
    found = {m.number: m for m in Municipality.objects.filter(number__in=numbers)}
    for index, number in enumerate(numbers):
        if number not in found:
            where = field_name if field_name == "municipality" else f"{field_name}[{index}]"
            raise ValidationError(
                {
                    field_name: _("%(where)s: unknown municipality %(number)r.")
                    % {"where": where, "number": number}
                }
            )
    return [found[number] for number in numbers]


def referral_transition(referral: Referral, to: str, *, closure_reason: str = "") -> Referral:
    """Move a referral along its lifecycle, refusing any step the lifecycle does not allow.
    The row is locked so two people acting at once cannot both move it."""
    if to == Status.CLOSED and closure_reason not in Referral.ClosureReason.values:
        raise ValidationError({"closure_reason": _("Closing a referral needs a valid reason.")})
    with transaction.atomic():
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        if to not in REFERRAL_TRANSITIONS[locked.status]:
            raise ValidationError(
                {
                    "status": _("A referral cannot go from %(from)s to %(to)s.")
                    % {"from": locked.status, "to": to}
                }
            )
        now = timezone.now()
        locked.status = to
        locked.status_changed_at = now
        locked.closure_reason = closure_reason if to == Status.CLOSED else ""
        if to == Status.WAITING and locked.waiting_since is None:
            locked.waiting_since = now
        locked.save(
            update_fields=["status", "status_changed_at", "closure_reason", "waiting_since"]
        )
    return locked


def referral_accept(referral: Referral) -> Referral:
    """A coordinator takes a submitted referral into the queue of those waiting for a volunteer."""
    return referral_transition(referral, Status.WAITING)


def referral_withdraw(referral: Referral) -> Referral:
    return referral_transition(referral, Status.WITHDRAWN)


def referrals_mark_proposed(referral_ids: list[int]) -> set[int]:
    """Move the referrals that are still waiting to proposed, in one locked update; returns the
    ids that moved (a referral withdrawn meanwhile is left alone)."""
    assert Status.PROPOSED in REFERRAL_TRANSITIONS[Status.WAITING]
    waiting = Referral.objects.select_for_update().filter(
        pk__in=referral_ids, status=Status.WAITING
    )
    moved = set(waiting.values_list("pk", flat=True))
    queryset_update_logged(
        Referral.objects.filter(pk__in=moved),
        status=Status.PROPOSED,
        status_changed_at=timezone.now(),
    )
    return moved
