"""Writes for applications to volunteer: the public page's submission, the e-mail confirmation,
and the coordinators' intake pipeline (søknad → opptak).

Pipeline::

    unconfirmed → applied → contacted → interview held → training → vetting complete → active
    applied … vetting complete → declined (with a reason)

1. A stranger applies on the public page of a programme and a local organisation. Nothing is
   shown to anyone until they confirm their e-mail address with the signed link mailed to them
   (valid ``APPLICATION_CONFIRM_HOURS``); retention erases an unconfirmed application after that.
2. Coordinators of the organisation's sites for the programme take it one stage at a time; each
   step records its day, who took it and a short note.
3. Moving to training takes the applicant in: their account (with an e-mail to choose a
   password) and their volunteer profile (status applicant) are made from the application, which
   from then on keeps only its history. Vetting is recorded on the volunteer as for anyone else;
   "vetting complete" and "active" are the volunteer's own steps (``volunteer_transition``), so a
   volunteer is matched only once the programme's vetting is in order.

Two coordinators acting at once: each step names the stage the coordinator saw, and the rows are
locked (the volunteer first, then the application), so the second one is told what happened
instead of taking a step twice.
"""

import datetime
import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.counts import count_this_hour
from outbox.services import task_send_after_commit
from programmes.models import Gender, Organisation, PostalCode, Programme, ProgrammeSite
from programmes.notifications import email_after_commit, link_to
from programmes.services import activities_resolve
from programmes.tasks import send_email_task
from programmes.validators import (
    clean_free_text,
    validate_languages_with_level,
    validate_weekly_availability,
)
from volunteers.models import ApplicationStage, Volunteer, VolunteerApplication
from volunteers.services import application_step_record, volunteer_transition

log = logging.getLogger("kobling.volunteers")

Stage = ApplicationStage
NEXT_STAGE: dict[str, str] = {
    Stage.APPLIED: Stage.CONTACTED,
    Stage.CONTACTED: Stage.INTERVIEWED,
    Stage.INTERVIEWED: Stage.TRAINING,
    Stage.TRAINING: Stage.VETTED,
    Stage.VETTED: Stage.ACTIVE,
}
# Stages a coordinator still works on: they may be declined, and are reminded of.
OPEN_STAGES = tuple(NEXT_STAGE)
# The volunteer's status each stage after the take-in stands for.
VOLUNTEER_STATUS_AT: dict[str, str] = {
    Stage.VETTED: Volunteer.Status.VETTED,
    Stage.ACTIVE: Volunteer.Status.ACTIVE,
}
UNTOUCHED_DAYS = 7
CONFIRM_SALT = "kobling.volunteers.application-confirm"
MOTIVATION_MAX_LENGTH: int = VolunteerApplication._meta.get_field("motivation").max_length or 1000
# A Norwegian or foreign number: digits in groups, perhaps a country code ("+47 412 34 567").
PHONE = re.compile(r"\+?\d[\d ]{6,18}\d")


class ApplicationConflict(Exception):
    """Someone else moved the application first (or it is gone); the message says what."""


class ApplicationLinkInvalid(Exception):
    """A confirmation link that was changed, has expired, or whose application is gone."""


@dataclass(frozen=True)
class ApplicationInput:
    """What the applicant typed, as plain values."""

    first_name: str
    last_name: str
    email: str
    phone: str
    postal_code: str
    gender: str
    languages: list[dict]
    availability: list[dict]
    activities: list[str]
    motivation: str
    consent: bool


def recruiting_sites(programme: Programme, organisation: Organisation):
    return ProgrammeSite.objects.filter(programme=programme, organisation=organisation)


def application_submit(
    programme: Programme, organisation: Organisation, data: ApplicationInput, *, language: str
) -> VolunteerApplication:
    """Save an application, unconfirmed, and mail the link that confirms it. Every field is
    checked here too; nothing is saved unless all of it is valid."""
    if not recruiting_sites(programme, organisation).exists():
        raise ValidationError(_("This organisation does not recruit for the programme."))
    activities = activities_resolve(list(data.activities), "activities")
    with transaction.atomic():
        application = VolunteerApplication(
            programme=programme,
            organisation=organisation,
            first_name=clean_free_text(data.first_name),
            last_name=clean_free_text(data.last_name),
            email=data.email.strip(),
            phone=data.phone.strip(),
            postal_code=_postal_code(data.postal_code),
            gender=data.gender,
            languages=data.languages,
            availability=data.availability,
            motivation=clean_free_text(data.motivation),
            language=language,
            consent_given_at=timezone.now(),
        )
        _check(application, data)
        application.save()
        application.activities.set(activities)
        _confirmation_email(application)
    return application


def _postal_code(code: str) -> PostalCode | None:
    return PostalCode.objects.filter(code=code.strip()).first()


def _check(application: VolunteerApplication, data: ApplicationInput) -> None:
    errors: dict[str, list[str]] = {}
    required = {
        "first_name": _("Give your first name."),
        "last_name": _("Give your last name."),
        "email": _("Give your e-mail address."),
        "phone": _("Give your phone number."),
        "motivation": _("Tell us why you want to help."),
    }
    for name, message in required.items():
        if not getattr(application, name):
            errors[name] = [message]
    if application.phone and not PHONE.fullmatch(application.phone):
        errors["phone"] = [_("Write the phone number with digits, such as 412 34 567.")]
    if len(application.motivation) > MOTIVATION_MAX_LENGTH:
        errors["motivation"] = [
            _("Keep it to %(limit)d characters.") % {"limit": MOTIVATION_MAX_LENGTH}
        ]
    if application.postal_code is None:
        errors["postal_code"] = [_("Give a postal code that exists.")]
    if data.gender not in Gender.values:
        errors["gender"] = [_("Choose one of the options.")]
    if not data.consent:
        errors["consent"] = [_("Agree to the processing of your data to send the application.")]
    for name, validate in (
        ("languages", validate_languages_with_level),
        ("availability", validate_weekly_availability),
    ):
        try:
            validate(getattr(application, name))
        except ValidationError as error:
            errors[name] = error.messages
    try:
        application.full_clean(exclude=["languages", "availability", *errors])
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def application_allowed(email: str, address: str | None) -> tuple[bool, bool]:
    """Whether this submission may be saved, as (address within its limit, e-mail within its
    limit): at most ``APPLICATIONS_PER_ADDRESS_HOURLY`` from one network address and
    ``APPLICATIONS_PER_EMAIL_HOURLY`` to one e-mail address an hour. The counts are kept in the
    cache (Redis where configured, so every web process shares them); when it cannot count,
    nothing is saved, since each saved application mails a stranger's address."""
    address_count = count_this_hour("apply-address", address or "")
    email_count = count_this_hour("apply-email", email.strip().lower())
    address_ok = (
        address_count is not None and address_count <= settings.APPLICATIONS_PER_ADDRESS_HOURLY
    )
    email_ok = email_count is not None and email_count <= settings.APPLICATIONS_PER_EMAIL_HOURLY
    if not (address_ok and email_ok):
        log.warning("Volunteer application held back: too many within an hour")
    return address_ok, email_ok


def confirmation_token(application: VolunteerApplication) -> str:
    return signing.dumps(application.pk, salt=CONFIRM_SALT, compress=True)


def _confirmation_email(application: VolunteerApplication) -> None:
    link = link_to("application_confirm", confirmation_token(application))
    hours = settings.APPLICATION_CONFIRM_HOURS
    task_send_after_commit(
        send_email_task,
        [application.email],
        _("Confirm your application to volunteer"),
        _(
            "Thank you for applying to volunteer in %(programme)s with %(organisation)s.\n\n"
            "Open this link to confirm your e-mail address and send the application:\n%(link)s\n\n"
            "The link works for %(hours)d hours. Until you confirm, nobody sees your application, "
            "and after that it is deleted. If you did not apply, do nothing."
        )
        % {
            "programme": application.programme,
            "organisation": application.organisation,
            "link": link,
            "hours": hours,
        },
    )


def application_for_token(token: str) -> VolunteerApplication:
    """The application a confirmation link is for, or ApplicationLinkInvalid."""
    try:
        pk = signing.loads(
            token,
            salt=CONFIRM_SALT,
            max_age=datetime.timedelta(hours=settings.APPLICATION_CONFIRM_HOURS),
        )
    except signing.BadSignature as error:  # SignatureExpired is one too
        raise ApplicationLinkInvalid from error
    application = VolunteerApplication.objects.filter(pk=pk).select_related("programme").first()
    if application is None:
        raise ApplicationLinkInvalid
    return application


def application_confirm(token: str) -> tuple[VolunteerApplication, bool]:
    """Confirm the address: the application reaches the coordinators. Returns it and whether
    this call confirmed it (False when it was confirmed before: a second click changes
    nothing)."""
    found = application_for_token(token)
    with transaction.atomic():
        locked = VolunteerApplication.objects.select_for_update().filter(pk=found.pk).first()
        if locked is None:
            raise ApplicationLinkInvalid
        if locked.stage != Stage.UNCONFIRMED:
            return locked, False
        locked.confirmed_at = timezone.now()
        application_step_record(locked, Stage.APPLIED, by=None, on=timezone.localdate())
        _tell_coordinators_of_new(locked)
    return locked, True


def _tell_coordinators_of_new(application: VolunteerApplication) -> None:
    """No name in the message: it says where to look."""
    email_after_commit(
        _coordinators_of(application),
        _("New application to volunteer in %(programme)s") % {"programme": application.programme},
        _("Someone has applied to volunteer in %(programme)s with %(organisation)s.\n%(link)s")
        % {
            "programme": application.programme,
            "organisation": application.organisation,
            "link": link_to("application_list"),
        },
    )


def _coordinators_of(application: VolunteerApplication):
    return (
        get_user_model()
        .objects.filter(
            coordinated_sites__programme=application.programme_id,
            coordinated_sites__organisation=application.organisation_id,
            is_active=True,
        )
        .distinct()
    )


def _locked(application: VolunteerApplication, seen_stage: str) -> VolunteerApplication:
    """The application locked (its volunteer first), still at the stage the coordinator saw."""
    if application.volunteer_id:
        Volunteer.objects.select_for_update().filter(pk=application.volunteer_id).first()
    locked = VolunteerApplication.objects.select_for_update().filter(pk=application.pk).first()
    if locked is None:
        raise ApplicationConflict(_("This application no longer exists."))
    if locked.stage != seen_stage:
        raise ApplicationConflict(
            _("Someone else moved this application meanwhile: it is now at “%(stage)s”.")
            % {"stage": locked.get_stage_display()}
        )
    return locked


def application_advance(
    application: VolunteerApplication, *, seen_stage: str, by, on: datetime.date, note: str = ""
) -> VolunteerApplication:
    """Take the application from ``seen_stage`` to the next one. Into training, the applicant
    is taken in; to vetting complete and active, their volunteer profile moves with it, which
    needs the programme's vetting."""
    if seen_stage not in NEXT_STAGE:
        raise ApplicationConflict(_("This application has no further step."))
    to = NEXT_STAGE[seen_stage]
    with transaction.atomic():
        locked = _locked(application, seen_stage)
        if to == Stage.TRAINING:
            _take_in(locked)
            application_step_record(locked, to, by=by, on=on, note=note)
        elif to in VOLUNTEER_STATUS_AT:
            assert locked.volunteer is not None
            volunteer_transition(
                locked.volunteer,
                VOLUNTEER_STATUS_AT[to],
                only_from=locked.volunteer.status,
                by=by,
                on=on,
                note=note,
            )
            locked.refresh_from_db()
        else:
            application_step_record(locked, to, by=by, on=on, note=note)
    return locked


def application_decline(
    application: VolunteerApplication,
    *,
    seen_stage: str,
    by,
    reason: str,
    on: datetime.date,
    note: str = "",
) -> VolunteerApplication:
    """Decline an open application with a reason. An applicant already taken in retires, so
    they are never matched and retention erases them as any retired volunteer."""
    if reason not in VolunteerApplication.DeclineReason.values:
        raise ValidationError({"reason": _("Choose why the application is declined.")})
    with transaction.atomic():
        locked = _locked(application, seen_stage)
        if locked.stage not in OPEN_STAGES:
            raise ApplicationConflict(_("Only an application in progress can be declined."))
        locked.decline_reason = reason
        application_step_record(locked, Stage.DECLINED, by=by, on=on, note=note)
        if locked.volunteer is not None:
            volunteer_transition(locked.volunteer, Volunteer.Status.RETIRED, by=by, on=on)
    return locked


def _take_in(application: VolunteerApplication) -> Volunteer:
    """Make the account and the volunteer profile from the application, mail the invitation to
    choose a password, and empty the application of the data that moved."""
    User = get_user_model()
    email = application.email
    if User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email)).exists():
        raise ValidationError(
            _(
                "An account with the e-mail address %(email)s exists already. Ask an admin to "
                "make that account a volunteer, then decline this application."
            )
            % {"email": email}
        )
    user = User.objects.create_user(
        username=email.lower(),
        email=email,
        first_name=application.first_name,
        last_name=application.last_name,
    )
    volunteer = Volunteer(
        user=user,
        organisation=application.organisation,
        home_postal_code=application.postal_code,
        languages=application.languages,
        gender=application.gender,
        availability=application.availability,
        phone=application.phone,
    )
    volunteer.full_clean()
    volunteer.save()
    volunteer.programmes.set([application.programme])
    volunteer.activities.set(application.activities.all())
    _invitation_email(application, user)
    _personal_data_forget(application)
    application.volunteer = volunteer
    return volunteer


def _invitation_email(application: VolunteerApplication, user) -> None:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    link = settings.SITE_URL + reverse(
        "password_reset_confirm", args=[uid, default_token_generator.make_token(user)]
    )
    days = max(1, settings.PASSWORD_RESET_TIMEOUT // (24 * 60 * 60))
    with translation.override(application.language or settings.LANGUAGE_CODE):
        subject = _("Welcome as a volunteer in %(programme)s") % {
            "programme": application.programme
        }
        body = _(
            "You are taken in as a volunteer in %(programme)s with %(organisation)s.\n\n"
            "Your username is %(username)s. Choose your password here:\n%(link)s\n\n"
            "The link works for %(days)s days; after that, ask for a new one at %(reset)s.\n"
            "In Kobling you see what is still missing before you can be matched: training, "
            "a police certificate (politiattest) and the rest of the programme's vetting."
        ) % {
            "programme": application.programme,
            "organisation": application.organisation,
            "username": user.username,
            "link": link,
            "days": days,
            "reset": link_to("password_reset"),
        }
    task_send_after_commit(send_email_task, [user.email], subject, body)


PERSONAL_FIELDS: dict[str, object] = {
    "first_name": "",
    "last_name": "",
    "email": "",
    "phone": "",
    "postal_code": None,
    "gender": "",
    "languages": [],
    "availability": [],
    "motivation": "",
}


def _personal_data_forget(application: VolunteerApplication) -> None:
    """What the applicant told about themselves, emptied; the caller saves. The motivation is
    not kept anywhere: it served the interview."""
    for name, value in PERSONAL_FIELDS.items():
        setattr(application, name, value)
    application.activities.clear()


def untouched_since(now: datetime.datetime) -> datetime.datetime:
    return now - datetime.timedelta(days=UNTOUCHED_DAYS)


def applications_remind_untouched(now: datetime.datetime) -> int:
    """Once a day: tell each coordinator, in one message without names, how many applications
    they may see have had no step for ``UNTOUCHED_DAYS`` days, when at least one of them became
    due since the last reminder (a reminder counts as a touch for this only). Returns how many
    applications were newly due."""
    limit = untouched_since(now)
    open_ones = VolunteerApplication.objects.filter(stage__in=OPEN_STAGES)
    untouched = open_ones.filter(stage_changed_at__lt=limit)
    due = untouched.annotate(
        touched=Greatest("stage_changed_at", Coalesce("reminded_at", "stage_changed_at"))
    ).filter(touched__lt=limit)
    due_ids = set(due.values_list("pk", flat=True))
    if not due_ids:
        return 0
    with transaction.atomic():
        for coordinator, ids in _untouched_by_coordinator(untouched).items():
            if ids & due_ids:
                _reminder_email(coordinator, len(ids))
        VolunteerApplication.objects.filter(pk__in=due_ids).update(reminded_at=now)
    return len(due_ids)


def _untouched_by_coordinator(untouched) -> dict:
    pairs: dict[tuple[int, int], set[int]] = {}
    for application in untouched.values("pk", "programme_id", "organisation_id"):
        pairs.setdefault((application["programme_id"], application["organisation_id"]), set()).add(
            application["pk"]
        )
    by_coordinator: dict = {}
    sites = ProgrammeSite.objects.filter(
        Exists(
            untouched.filter(programme=OuterRef("programme"), organisation=OuterRef("organisation"))
        )
    ).prefetch_related("coordinators")
    for site in sites:
        ids = pairs.get((site.programme_id, site.organisation_id), set())
        for coordinator in site.coordinators.all():
            if coordinator.is_active:
                by_coordinator.setdefault(coordinator, set()).update(ids)
    return by_coordinator


def _reminder_email(coordinator, count: int) -> None:
    email_after_commit(
        [coordinator],
        _("Applications to volunteer waiting for a step"),
        ngettext(
            "%(count)d application to volunteer has had no step for %(days)d days or more.\n"
            "%(link)s",
            "%(count)d applications to volunteer have had no step for %(days)d days or more.\n"
            "%(link)s",
            count,
        )
        % {
            "count": count,
            "days": UNTOUCHED_DAYS,
            "link": link_to("application_list") + "?untouched=1",
        },
    )
