"""Writes for the volunteers app: status changes and vetting.

Volunteer lifecycle::

    applicant → vetted → active ⇄ paused
    any status but retired → retired

Becoming vetted needs the vetting every one of the volunteer's programmes requires. A volunteer
taken in from an application (volunteers/applications.py) carries it along: becoming vetted or
active, or retiring before that, is also the application's step, whichever page or API took it.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from programmes.models import VettingKind
from programmes.services import activities_resolve
from programmes.validators import screened_text, validate_not_future
from volunteers.models import (
    ApplicationStage,
    ApplicationStep,
    VettingRecord,
    Volunteer,
    VolunteerApplication,
    VolunteerFollowUp,
)
from volunteers.selectors import vetting_missing

Status = Volunteer.Status

VOLUNTEER_TRANSITIONS: dict[str, set[str]] = {
    Status.APPLICANT: {Status.VETTED, Status.RETIRED},
    Status.VETTED: {Status.ACTIVE, Status.RETIRED},
    Status.ACTIVE: {Status.PAUSED, Status.RETIRED},
    Status.PAUSED: {Status.ACTIVE, Status.RETIRED},
    Status.RETIRED: set(),
}


# The application's stage a volunteer's new status stands for, and the stage it comes from.
APPLICATION_FOLLOWS: dict[str, tuple[str, str]] = {
    Status.VETTED: (ApplicationStage.TRAINING, ApplicationStage.VETTED),
    Status.ACTIVE: (ApplicationStage.VETTED, ApplicationStage.ACTIVE),
}
STEP_NOTE_MAX_LENGTH = ApplicationStep._meta.get_field("note").max_length


def volunteer_transition(
    volunteer: Volunteer,
    to: str,
    *,
    only_from: str = "",
    by=None,
    on: datetime.date | None = None,
    note: str = "",
) -> Volunteer:
    """``only_from`` narrows the step to one starting status: a volunteer may resume from a
    pause, but only a coordinator makes a vetted volunteer active. ``by``, ``on`` and ``note``
    go to the step of the volunteer's application, if they came through one."""
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
        _application_follow(locked, to, by=by, on=on or timezone.localdate(), note=note)
    return locked


def _application_follow(volunteer: Volunteer, to: str, *, by, on: datetime.date, note: str):
    """The volunteer's open application takes the matching step. Locked after the volunteer,
    as ``applications.application_advance`` does too, so the two never wait on each other."""
    applications = VolunteerApplication.objects.select_for_update().filter(volunteer=volunteer)
    if to == Status.RETIRED:
        application = applications.filter(
            stage__in=[ApplicationStage.TRAINING, ApplicationStage.VETTED]
        ).first()
        if application is not None:
            application.decline_reason = VolunteerApplication.DeclineReason.OTHER
            application_step_record(application, ApplicationStage.DECLINED, by=by, on=on)
        return
    if to not in APPLICATION_FOLLOWS:
        return
    before, after = APPLICATION_FOLLOWS[to]
    application = applications.filter(stage=before).first()
    if application is not None:
        application_step_record(application, after, by=by, on=on, note=note)


def application_step_record(
    application: VolunteerApplication, stage: str, *, by, on: datetime.date, note: str = ""
) -> ApplicationStep:
    """Move a locked application to ``stage`` and record the step: the day it happened (not in
    the future, not before the application), who recorded it and a short note without anything
    that identifies a person. Saves the application's other changed fields too."""
    validate_step_date(on, application)
    text = screened_text(note, "note", STEP_NOTE_MAX_LENGTH)
    application.stage = stage
    application.stage_changed_at = timezone.now()
    application.reminded_at = None
    application.save()
    return ApplicationStep.objects.create(
        application=application, stage=stage, on=on, by=by, note=text
    )


def validate_step_date(on: datetime.date, application: VolunteerApplication) -> None:
    try:
        validate_not_future(on)
    except ValidationError as error:
        raise ValidationError({"on": error.messages}) from error
    if on < timezone.localtime(application.submitted_at).date():
        raise ValidationError({"on": _("The date cannot be before the application was sent.")})


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


FOLLOW_UP_NOTE_MAX_LENGTH = VolunteerFollowUp._meta.get_field("note").max_length


def volunteer_follow_up_record(
    volunteer: Volunteer, *, kind: str, on: datetime.date, note: str = "", recorded_by
) -> VolunteerFollowUp:
    """A group meeting, supervision, course or refresher the volunteer took part in, on a day
    not in the future; the note is short and holds nothing that identifies a person."""
    if kind not in VolunteerFollowUp.Kind.values:
        raise ValidationError({"kind": _("Choose what kind of follow-up it was.")})
    try:
        validate_not_future(on)
    except ValidationError as error:
        raise ValidationError({"on": error.messages}) from error
    text = screened_text(note, "note", FOLLOW_UP_NOTE_MAX_LENGTH)
    return VolunteerFollowUp.objects.create(
        volunteer=volunteer, kind=kind, on=on, note=text, recorded_by=recorded_by
    )
