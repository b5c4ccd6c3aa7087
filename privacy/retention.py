"""Retention: personal data goes a set time after Kobling stops needing it.

- A closed referral is anonymised ``RETENTION_CLOSED_REFERRAL_MONTHS`` after it closed, a
  withdrawn one ``RETENTION_WITHDRAWN_REFERRAL_MONTHS`` after it was withdrawn. Both statuses are
  final, so ``status_changed_at`` is when that happened.
- A retired volunteer is erased ``RETENTION_RETIRED_VOLUNTEER_MONTHS`` after retiring, once none
  of their matches is open (``privacy.volunteers.volunteer_erase``).
- Sign-in records (django-axes: successful and failed logins with time, network address and
  browser) go ``LOGIN_RECORD_DAYS`` after the sign-in.
- An application to volunteer whose e-mail address was never confirmed goes once its link has
  expired (``APPLICATION_CONFIRM_HOURS``); one never taken in (declined, or left at a stage
  before training) goes ``RETENTION_APPLICATION_MONTHS`` after its last step, with its history.
  One taken in holds no personal data: the volunteer's own retention covers them.

Anonymising a referral keeps what the statistics count and nothing that describes the person:

- kept: programme site, municipality, adults in the household, status, closure reason and every
  date as it is. The dashboard's median wait is computed from the dates, so coarsening them
  would change the statistics; the municipality is the coarsest place Kobling holds and what
  per-municipality figures are reported by. Without the alias, the crisis centre's own records
  can no longer point to the row.
- removed: alias (replaced by ``anon-<id>``), note, languages, weekly availability, children's
  birth years, postal code, preferred volunteer gender, maximum distance and municipalities to
  avoid, the submission key and the hash of what was submitted; the languages shared in
  proposals; and every free text written about the referral in other tables
  (``FREE_TEXT_ABOUT_REFERRAL``).

The audit log stays as it is: it holds no personal values, and the database refuses changes.
"""

import datetime
from dataclasses import dataclass, field

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from matching.models import (
    CheckIn,
    Match,
    MatchVolunteer,
    Proposal,
    ProposalPair,
    RejectedPair,
    UnmatchedReferral,
)
from privacy.erasure import REMOVED, admin_history_forget
from privacy.volunteers import volunteer_erase
from programmes.audit import queryset_update_logged
from programmes.models import Referral
from volunteers.models import ApplicationStage, Volunteer, VolunteerApplication

ANONYMOUS_ALIAS = "anon-{pk}"
FINAL_STATUSES = (Referral.Status.CLOSED, Referral.Status.WITHDRAWN)


# (model, field, path to the referral) of every free text about a referral outside its own row.
FREE_TEXT_ABOUT_REFERRAL = [
    (Proposal, "rejection_reason", "referral"),
    (Proposal, "hand_reason", "referral"),
    (UnmatchedReferral, "detail", "referral"),
    (RejectedPair, "reason", "referral"),
    (Match, "end_reason", "referral"),
    (MatchVolunteer, "left_note", "match__referral"),
    (MatchVolunteer, "end_request_note", "match__referral"),
    (CheckIn, "note", "match__referral"),
    (CheckIn, "handled_note", "match__referral"),
]


LOGIN_RECORD_MODELS = (AccessLog, AccessAttempt, AccessFailureLog)


@dataclass
class RetentionDue:
    """Ids of what retention removes on a given day, by reason, and how many sign-in records
    go (they are many, and no one asks which)."""

    closed_referrals: list[int] = field(default_factory=list)
    withdrawn_referrals: list[int] = field(default_factory=list)
    retired_volunteers: list[int] = field(default_factory=list)
    unconfirmed_applications: list[int] = field(default_factory=list)
    applications_not_taken_in: list[int] = field(default_factory=list)
    login_records: int = 0

    def ids(self) -> dict[str, list[int]]:
        return {name: ids for name, ids in vars(self).items() if isinstance(ids, list)}

    def counts(self) -> dict[str, int]:
        return {
            **{name: len(ids) for name, ids in self.ids().items()},
            "login_records": self.login_records,
        }


def _months_before(now: datetime.datetime, months: int) -> datetime.datetime:
    return now - relativedelta(months=months)


def retention_due(now: datetime.datetime) -> RetentionDue:
    waiting = Referral.objects.filter(anonymised_at__isnull=True).order_by("pk")
    closed_before = _months_before(now, settings.RETENTION_CLOSED_REFERRAL_MONTHS)
    withdrawn_before = _months_before(now, settings.RETENTION_WITHDRAWN_REFERRAL_MONTHS)
    retired_before = _months_before(now, settings.RETENTION_RETIRED_VOLUNTEER_MONTHS)
    volunteers = Volunteer.objects.filter(
        status=Volunteer.Status.RETIRED, retired_at__lt=retired_before, erased_at__isnull=True
    ).exclude(matches__match__status__in=Match.OPEN_STATUSES)
    return RetentionDue(
        closed_referrals=_ids(
            waiting.filter(status=Referral.Status.CLOSED, status_changed_at__lt=closed_before)
        ),
        withdrawn_referrals=_ids(
            waiting.filter(status=Referral.Status.WITHDRAWN, status_changed_at__lt=withdrawn_before)
        ),
        retired_volunteers=_ids(volunteers.order_by("pk").distinct()),
        **_applications_due(now),
        login_records=sum(records.count() for records in _old_login_records(now)),
    )


def _applications_due(now: datetime.datetime) -> dict[str, list[int]]:
    applications = VolunteerApplication.objects.order_by("pk")
    unconfirmed = applications.filter(
        stage=ApplicationStage.UNCONFIRMED,
        submitted_at__lt=now - datetime.timedelta(hours=settings.APPLICATION_CONFIRM_HOURS),
    )
    not_taken_in = applications.filter(
        volunteer__isnull=True,
        stage_changed_at__lt=_months_before(now, settings.RETENTION_APPLICATION_MONTHS),
    ).exclude(stage=ApplicationStage.UNCONFIRMED)
    return {
        "unconfirmed_applications": _ids(unconfirmed),
        "applications_not_taken_in": _ids(not_taken_in),
    }


def _old_login_records(now: datetime.datetime) -> list:
    before = now - datetime.timedelta(days=settings.LOGIN_RECORD_DAYS)
    return [model.objects.filter(attempt_time__lt=before) for model in LOGIN_RECORD_MODELS]


def _ids(queryset) -> list[int]:
    return list(queryset.values_list("pk", flat=True))


def retention_apply(now: datetime.datetime, *, dry_run: bool = False) -> RetentionDue:
    """Anonymise what is due, all or nothing; a dry run only says what would go."""
    due = retention_due(now)
    if dry_run:
        return due
    with transaction.atomic():
        referral_ids = due.closed_referrals + due.withdrawn_referrals
        for referral in Referral.objects.filter(pk__in=referral_ids):
            referral_anonymise(referral)
        for volunteer in Volunteer.objects.filter(pk__in=due.retired_volunteers):
            volunteer_erase(volunteer, by=None)
        for records in _old_login_records(now):
            records.delete()
        # With their history (ApplicationStep) and chosen activities.
        application_ids = due.unconfirmed_applications + due.applications_not_taken_in
        VolunteerApplication.objects.filter(pk__in=application_ids).delete()
    return due


def referral_anonymise(referral: Referral) -> Referral:
    """Remove the participant's personal data from the referral and every table about it.
    Only a closed or withdrawn referral can be anonymised; doing it twice changes nothing."""
    with transaction.atomic():
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        if locked.anonymised_at:
            return locked
        if locked.status not in FINAL_STATUSES:
            raise ValidationError(_("Withdraw or close the referral before removing its data."))
        # The audit log records which fields changed, with their values masked.
        queryset_update_logged(
            Referral.objects.filter(pk=locked.pk),
            alias=ANONYMOUS_ALIAS.format(pk=locked.pk),
            notes="",
            withdrawal_note="",
            languages=[],
            availability=[],
            children_birth_years=[],
            postal_code=None,
            volunteer_gender="",
            max_distance_km=None,
            # An integration's Idempotency-Key may be its own case number.
            submission_key="",
            submission_fingerprint="",
            anonymised_at=timezone.now(),
        )
        Referral.avoid_municipalities.through.objects.filter(referral=locked).delete()
        # What the children or the participant wished to do says something about them.
        Referral.wished_activities.through.objects.filter(referral=locked).delete()
        _related_free_text_remove(locked)
        admin_history_forget(locked)
    locked.refresh_from_db()
    return locked


def _related_free_text_remove(referral: Referral) -> None:
    for model, name, path in FREE_TEXT_ABOUT_REFERRAL:
        written = model._default_manager.filter(**{path: referral}).exclude(**{name: ""})
        written.update(**{name: REMOVED})
    # The languages and activities a pair shares are the participant's.
    ProposalPair.objects.filter(proposal__referral=referral).update(
        shared_languages=[], shared_activities=[]
    )
    # The engine's figures name the participant's languages and gender wish.
    UnmatchedReferral.objects.filter(referral=referral).update(facts={})
