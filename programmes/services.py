"""Writes for the programmes app: submitting referrals and correcting them while they wait.
Every later change of a referral's status is a step of the joint lifecycle of referral, proposal
and match in matching/lifecycle.py."""

import datetime
import json
from dataclasses import asdict, dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from programmes import models
from programmes.models import Activity, Municipality, PostalCode, ProgrammeSite, Referral
from programmes.notifications import notify_coordinators_of_new_referral
from programmes.validators import screened_text

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
    # Codes of programmes.Activity: what the children (Fritidsvenn) or the woman (Ressursvenn)
    # would like to do.
    wished_activities: list[str] = field(default_factory=list)
    notes: str = ""


# Staff never choose the alias: a typed one can be a name, and a refused duplicate would tell
# them an alias in use at another centre.
ALIAS_IS_MADE_BY_KOBLING = gettext_lazy("Kobling makes the alias itself; it cannot be set.")
ALIAS_ATTEMPTS = 20


def referral_submit(
    *, site: ProgrammeSite, data: ReferralInput, submitted_by, submission_key: str = ""
) -> Referral:
    """Record a referral from crisis-centre staff of the site's centre. Nothing is saved unless
    every field is valid. Sent again with the same ``submission_key`` (one per portal form or
    API request), it returns the referral made the first time (SubmissionKeyReused if the
    answers differ)."""
    if not site.crisis_centre.staff.filter(pk=submitted_by.pk).exists():
        raise PermissionDenied(
            _("Only staff of %(centre)s can refer to this site.") % {"centre": site.crisis_centre}
        )
    fingerprint = _submission_fingerprint(site, data) if submission_key else ""
    earlier = _submitted_before(submitted_by, submission_key, fingerprint)
    if earlier is not None:
        return earlier
    postal_code, municipality = _resolve_home(data.postal_code, data.municipality)
    avoid = _resolve_municipalities(data.avoid_municipalities, "avoid_municipalities")
    wished = activities_resolve(data.wished_activities, "wished_activities")
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
        notes=screened_text(data.notes, "notes"),
    )
    referral.full_clean(exclude=["alias"])
    referral.submission_key, referral.submission_fingerprint = submission_key, fingerprint
    try:
        with transaction.atomic():
            _save_under_new_alias(referral)
            referral.avoid_municipalities.set(avoid)
            referral.wished_activities.set(wished)
            notify_coordinators_of_new_referral(referral)
    except IntegrityError:
        # The same submission twice at once: the other request saved it first.
        earlier = _submitted_before(submitted_by, submission_key, fingerprint)
        if earlier is None:
            raise
        return earlier
    return referral


class SubmissionKeyReused(Exception):
    """A submission key came back with other answers than the first time."""

    def __init__(self, earlier: Referral):
        super().__init__(earlier.pk)
        self.earlier = earlier


def _submission_fingerprint(site: ProgrammeSite, data: ReferralInput) -> str:
    # Keyed, so the stored hash cannot be matched against guessed answers.
    answers = json.dumps({"site": site.pk, **asdict(data)}, sort_keys=True, default=str)
    return salted_hmac("kobling.referral-submission", answers, algorithm="sha256").hexdigest()


def _submitted_before(submitted_by, submission_key: str, fingerprint: str) -> Referral | None:
    if not submission_key:
        return None
    earlier = Referral.objects.filter(
        consent_recorded_by=submitted_by, submission_key=submission_key
    ).first()
    if earlier is not None and earlier.submission_fingerprint != fingerprint:
        raise SubmissionKeyReused(earlier)
    return earlier


EDITABLE_STATUSES = (Status.SUBMITTED, Status.WAITING)
EDITABLE_FIELDS = (
    "languages",
    "availability",
    "adults",
    "children_birth_years",
    "volunteer_gender",
    "max_distance_km",
    "notes",
)


class ReferralChangedMeanwhile(Exception):
    """Someone else changed the referral after the form being sent was shown."""


def referral_version(referral: Referral) -> str:
    """A fingerprint of what staff may change: a form carries the one it was shown with, so a
    change made meanwhile is found before it is overwritten. Keyed, so it says nothing about the
    values."""
    values = {name: getattr(referral, name) for name in EDITABLE_FIELDS}
    values |= {
        "home": [referral.postal_code_id, referral.municipality_id],
        "avoid": sorted(m.pk for m in referral.avoid_municipalities.all()),
        "wished": sorted(a.code for a in referral.wished_activities.all()),
    }
    answers = json.dumps(values, sort_keys=True, default=str)
    return salted_hmac("kobling.referral-version", answers, algorithm="sha256").hexdigest()[:32]


def referral_is_editable(referral: Referral) -> bool:
    return referral.status in EDITABLE_STATUSES


def referral_update(
    referral: Referral, *, changes: dict, updated_by, version: str | None = None
) -> Referral:
    """Crisis-centre staff correct a referral while it is submitted or waiting. ``changes`` holds
    ReferralInput's fields; a new postal code or municipality replaces the home. Nothing is saved
    unless every field is valid. Given the ``version`` a form was shown with, a referral changed
    since then is refused (ReferralChangedMeanwhile)."""
    with transaction.atomic():
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        _require_centre_staff(locked, updated_by)
        if not referral_is_editable(locked):
            raise ValidationError(
                {
                    "status": _("%(alias)s is “%(status)s” and can no longer be changed.")
                    % {"alias": locked.alias, "status": locked.get_status_display().lower()}
                }
            )
        if version is not None and version != referral_version(locked):
            raise ReferralChangedMeanwhile(locked.alias)
        avoid = _apply_changes(locked, changes)
        wished = _wished_changed(locked, changes)
        locked.full_clean()
        locked.save()
        if avoid is not None:
            locked.avoid_municipalities.set(avoid)
        if wished is not None:
            locked.wished_activities.set(wished)
    return locked


def _wished_changed(referral: Referral, changes: dict) -> list[Activity] | None:
    """The new wished activities, if they change: any offered one, and those already chosen
    even if no longer offered, so a correction never loses them."""
    if "wished_activities" not in changes:
        return None
    kept = referral.wished_activities.values_list("code", flat=True)
    return activities_resolve(changes["wished_activities"], "wished_activities", also=kept)


def activities_resolve(codes: object, field_name: str, also=()) -> list[Activity]:
    """The offered activities with these codes (and those with a code in ``also``, offered or
    not), in the order given; an unknown code is an error on ``field_name`` that names it."""
    if not isinstance(codes, list) or not all(isinstance(code, str) for code in codes):
        raise ValidationError({field_name: _("Give the activities as a list of codes.")})
    allowed = Activity.objects.filter(code__in=codes).filter(
        Q(is_active=True) | Q(code__in=list(also))
    )
    found = {activity.code: activity for activity in allowed}
    unknown = [
        _("%(where)s: unknown activity %(code)r.")
        % {"where": f"{field_name}[{index}]", "code": code}
        for index, code in enumerate(codes)
        if code not in found
    ]
    if unknown:
        raise ValidationError({field_name: unknown})
    return list(dict.fromkeys(found[code] for code in codes))


def _require_centre_staff(referral: Referral, user) -> None:
    if not referral.site.crisis_centre.staff.filter(pk=user.pk).exists():
        raise PermissionDenied(_("Only staff of the referring crisis centre may change it."))


# While a referral is open a volunteer may still be looked for, also to replace one who left.
CONSENT_STATUSES = (
    Status.SUBMITTED,
    Status.WAITING,
    Status.PROPOSED,
    Status.MATCHED,
    Status.ACTIVE,
)


def referral_record_any_gender_consent(referral: Referral, *, by) -> Referral:
    """Crisis-centre staff record that the participant accepts a volunteer of another gender
    than the one wished for, from today. A coordinator may then propose one by hand
    (matching.proposing). Recording it again changes nothing."""
    with transaction.atomic():
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        _require_centre_staff(locked, by)
        if not locked.volunteer_gender:
            raise ValidationError(
                {"any_gender_consent_on": _("%s has no wish for a volunteer's gender.") % locked}
            )
        if locked.status not in CONSENT_STATUSES:
            raise ValidationError(
                {
                    "status": _("%(alias)s is “%(status)s”: there is nobody to look for.")
                    % {"alias": locked.alias, "status": locked.get_status_display().lower()}
                }
            )
        if locked.any_gender_consent_on is None:
            locked.any_gender_consent_on = timezone.localdate()
            locked.any_gender_consent_recorded_by = by
            locked.save(update_fields=["any_gender_consent_on", "any_gender_consent_recorded_by"])
    return locked


def _save_under_new_alias(referral: Referral) -> None:
    """Save a new referral under a fresh alias, drawing again if it is taken (also by a
    concurrent save), so a clash never reaches the user."""
    for _attempt in range(ALIAS_ATTEMPTS):
        referral.alias = models.new_alias()
        try:
            with transaction.atomic():
                referral.save()
            return
        except IntegrityError:
            if not Referral.objects.filter(alias=referral.alias).exists():
                raise
    raise RuntimeError("No free alias found; widen programmes.models.new_alias.")


def _apply_changes(referral: Referral, changes: dict) -> list[Municipality] | None:
    """Set the changed fields, resolving codes; returns the new municipalities to avoid, if
    they change."""
    if "alias" in changes:
        raise ValidationError({"alias": ALIAS_IS_MADE_BY_KOBLING})
    if "notes" in changes:
        changes = {**changes, "notes": screened_text(changes["notes"], "notes")}
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
