"""Writes for the volunteers app: status changes and vetting.

Volunteer lifecycle::

    applicant → vetted → active ⇄ paused
    any status but retired → retired

Becoming vetted needs the vetting every one of the volunteer's programmes requires.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from programmes.models import VettingKind
from programmes.services import activities_resolve
from volunteers.models import VettingRecord, Volunteer
from volunteers.selectors import vetting_missing

Status = Volunteer.Status

VOLUNTEER_TRANSITIONS: dict[str, set[str]] = {
    Status.APPLICANT: {Status.VETTED, Status.RETIRED},
    Status.VETTED: {Status.ACTIVE, Status.RETIRED},
    Status.ACTIVE: {Status.PAUSED, Status.RETIRED},
    Status.PAUSED: {Status.ACTIVE, Status.RETIRED},
    Status.RETIRED: set(),
}


def volunteer_transition(volunteer: Volunteer, to: str, *, only_from: str = "") -> Volunteer:
    """``only_from`` narrows the step to one starting status: a volunteer may resume from a
    pause, but only a coordinator makes a vetted volunteer active."""
    with transaction.atomic():
        locked = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
        allowed = not only_from or locked.status == only_from
        if not allowed or to not in VOLUNTEER_TRANSITIONS[locked.status]:
            raise ValidationError(
                {
                    "status": _("A volunteer cannot go from %(from)s to %(to)s.")
                    % {"from": locked.status, "to": to}
                }
            )
        if to == Status.VETTED:
            _require_complete_vetting(locked)
        locked.status = to
        locked.status_changed_at = timezone.now()
        changed = ["status", "status_changed_at"]
        if to == Status.RETIRED:
            # Retention counts from here: the personal data goes a set time after retirement.
            locked.retired_at = locked.status_changed_at
            changed.append("retired_at")
        locked.save(update_fields=changed)
    return locked


PROFILE_FIELDS = ("languages", "availability", "activities")


def volunteer_profile_update(volunteer: Volunteer, **changes) -> Volunteer:
    """A volunteer keeps their languages, weekly availability and activities (codes) up to
    date. The row is locked and nothing is saved unless every field is valid."""
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in unknown})
    codes = changes.pop("activities", None)
    with transaction.atomic():
        locked = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
        activities = None
        if codes is not None:
            # Those already chosen stay choosable when no longer offered, so none is lost.
            kept = locked.activities.values_list("code", flat=True)
            activities = activities_resolve(codes, "activities", also=kept)
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.full_clean()
        if changes:
            locked.save(update_fields=list(changes))
        if activities is not None:
            locked.activities.set(activities)
    return locked


def _require_complete_vetting(volunteer: Volunteer) -> None:
    today = timezone.localdate()
    gaps = {
        programme.name: [
            str(VettingKind(kind).label) for kind in vetting_missing(volunteer, programme, today)
        ]
        for programme in volunteer.programmes.all()
    }
    gaps = {name: kinds for name, kinds in gaps.items() if kinds}
    if not volunteer.programmes.exists():
        raise ValidationError({"programmes": _("Enrol the volunteer in a programme first.")})
    if gaps:
        summary = "; ".join(f"{name}: {', '.join(kinds)}" for name, kinds in sorted(gaps.items()))
        raise ValidationError({"status": _("Vetting is not complete (%s).") % summary})


def vetting_record_add(volunteer: Volunteer, *, recorded_by, **fields) -> VettingRecord:
    record = VettingRecord(volunteer=volunteer, recorded_by=recorded_by, **fields)
    record.full_clean()
    record.save()
    return record
