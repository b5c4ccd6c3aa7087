"""Writes for the programmes app: submitting referrals and correcting them while they wait.
Every later change of a referral's status is a step of the joint lifecycle of referral, proposal
and match in matching/lifecycle.py."""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from programmes.models import Municipality, PostalCode, ProgrammeSite, Referral
from programmes.notifications import notify_coordinators_of_new_referral

Status = Referral.Status


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
                {
                    "status": _("%(alias)s is “%(status)s” and can no longer be changed.")
                    % {"alias": locked.alias, "status": locked.get_status_display().lower()}
                }
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
