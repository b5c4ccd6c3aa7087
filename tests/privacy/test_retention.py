"""Retention on a frozen clock: what goes when, what stays for the statistics, that nothing of
the participant is left in any table about the referral, and that sign-in records go too."""

import datetime
import io

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.core import serializers
from django.core.management import call_command
from django.db import models as django_models
from django.test import Client, override_settings
from django.utils import timezone

from matching.lifecycle import referral_withdraw
from matching.models import (
    Agreement,
    CheckIn,
    Match,
    MatchVolunteer,
    Proposal,
    ProposalPair,
    RejectedPair,
    UnmatchedReferral,
)
from matching.selectors import dashboard_map_for, matches_per_month_for
from privacy.erasure import REMOVED
from privacy.retention import (
    FREE_TEXT_ABOUT_REFERRAL,
    referral_anonymise,
    retention_apply,
    retention_due,
)
from programmes.models import AuditLogEntry, Referral
from programmes.selectors import referral_waiting_by_site
from tests.matching.factories import ready_volunteer, site_with_people, waiting_referral
from tests.privacy.conftest import (
    ALIAS,
    NOTES,
    START,
    case_closed_with_everything,
    months_later,
)
from volunteers.models import Volunteer
from volunteers.services import volunteer_transition

pytestmark = pytest.mark.django_db


def test_a_referral_closed_11_months_ago_stays_and_one_closed_13_months_ago_is_anonymised(clock):
    referral, _coordinator, _volunteer = case_closed_with_everything()

    clock.move_to(months_later(11))
    retention_apply(months_later(11))
    assert Referral.objects.get(pk=referral.pk).alias == ALIAS

    clock.move_to(months_later(13))
    due = retention_apply(months_later(13))

    assert due.closed_referrals == [referral.pk]
    anonymised = Referral.objects.get(pk=referral.pk)
    assert anonymised.alias == f"anon-{referral.pk}"
    assert anonymised.anonymised_at == months_later(13)


def test_a_withdrawn_referral_goes_after_the_shorter_period(clock):
    site, staff, _coordinator = site_with_people()
    referral = referral_withdraw(
        waiting_referral(site),
        by=staff,
        reason=Referral.WithdrawalReason.HELP_ELSEWHERE,
        note="Bor hos søsteren i Tromsø",
    )

    clock.move_to(months_later(2))
    assert retention_due(months_later(2)).withdrawn_referrals == []

    clock.move_to(months_later(4))
    assert retention_apply(months_later(4)).withdrawn_referrals == [referral.pk]
    anonymised = Referral.objects.get(pk=referral.pk)
    assert (anonymised.withdrawal_reason, anonymised.withdrawal_note) == ("help_elsewhere", "")


@override_settings(RETENTION_CLOSED_REFERRAL_MONTHS=2)
def test_the_periods_come_from_the_settings(clock):
    referral, _coordinator, _volunteer = case_closed_with_everything()
    assert retention_due(months_later(3)).closed_referrals == [referral.pk]


def test_a_retired_volunteer_is_erased_after_the_period(clock):
    volunteer = volunteer_transition(ready_volunteer(), Volunteer.Status.RETIRED)
    username = volunteer.user.username

    clock.move_to(months_later(11))
    retention_apply(months_later(11))
    assert Volunteer.objects.get(pk=volunteer.pk).user.username == username

    clock.move_to(months_later(13))
    due = retention_apply(months_later(13))

    erased = Volunteer.objects.select_related("user").get(pk=volunteer.pk)
    assert due.retired_volunteers == [volunteer.pk]
    assert erased.erased_at == months_later(13)
    assert erased.user.username == f"erased-{erased.user.pk}"
    assert erased.home_postal_code is None and erased.languages == []
    assert not erased.vetting.exists()


def test_open_cases_and_active_volunteers_are_never_due(clock):
    site, _staff, _coordinator = site_with_people()
    waiting_referral(site)
    ready_volunteer()

    due = retention_due(months_later(60))

    assert due.counts() == {
        "closed_referrals": 0,
        "withdrawn_referrals": 0,
        "retired_volunteers": 0,
        "unconfirmed_applications": 0,
        "applications_not_taken_in": 0,
        "login_records": 0,
    }


def test_a_dry_run_lists_what_would_go_and_changes_nothing(clock):
    referral, _coordinator, _volunteer = case_closed_with_everything()
    retired = volunteer_transition(ready_volunteer(code="0151"), Volunteer.Status.RETIRED)
    clock.move_to(months_later(13))
    before = related_rows_dump(referral)

    out = io.StringIO()
    call_command("apply_retention", "--dry-run", stdout=out)

    assert f"closed_referrals {referral.pk}:" in out.getvalue()
    assert f"retired_volunteers {retired.pk}:" in out.getvalue()
    assert "Would anonymise: 1 closed_referrals, 0 withdrawn_referrals, 1 retired_volunteers." in (
        out.getvalue()
    )
    assert related_rows_dump(referral) == before
    assert Volunteer.objects.get(pk=retired.pk).erased_at is None


def test_the_command_applies_and_prints_counts(clock):
    case_closed_with_everything()
    clock.move_to(months_later(13))
    out = io.StringIO()

    call_command("apply_retention", stdout=out)

    assert "Anonymised: 1 closed_referrals" in out.getvalue()
    assert Referral.objects.filter(anonymised_at__isnull=False).count() == 1


def test_running_twice_changes_nothing_the_second_time(clock):
    referral, _coordinator, _volunteer = case_closed_with_everything()
    clock.move_to(months_later(13))
    retention_apply(months_later(13))
    after_first = related_rows_dump(referral)

    clock.move_to(months_later(14))
    due = retention_apply(months_later(14))

    assert due.counts() == {
        "closed_referrals": 0,
        "withdrawn_referrals": 0,
        "retired_volunteers": 0,
        "unconfirmed_applications": 0,
        "applications_not_taken_in": 0,
        "login_records": 0,
    }
    assert related_rows_dump(referral) == after_first
    assert referral_anonymise(referral).anonymised_at == months_later(13)


def test_the_dashboard_counts_the_same_before_and_after(clock):
    referral, coordinator, _volunteer = case_closed_with_everything()
    waiting_referral(referral.site)
    clock.move_to(months_later(13))
    today = months_later(13).date()
    before = dashboard_counts(coordinator, today)

    retention_apply(months_later(13))

    assert dashboard_counts(coordinator, today) == before
    assert sum(row["matches"] for row in before["per_month"]) == 1


def dashboard_counts(user, today) -> dict:
    return {
        "map": dashboard_map_for(user)["places"],
        "per_month": matches_per_month_for(user, today, months=24),
        "waiting": [
            (s.pk, s.waiting_count, s.waiting_since) for s in referral_waiting_by_site(user)
        ],
    }


def test_statistics_fields_stay(clock):
    referral, _coordinator, _volunteer = case_closed_with_everything()
    clock.move_to(months_later(13))

    anonymised = referral_anonymise(referral)

    kept = ["site_id", "municipality_id", "adults", "status", "closure_reason", "submitted_at"]
    kept += ["status_changed_at", "waiting_since", "consent_given_on"]
    assert {name: getattr(anonymised, name) for name in kept} == {
        name: getattr(referral, name) for name in kept
    }
    assert Match.objects.filter(referral=referral).count() == 1
    assert CheckIn.objects.filter(match__referral=referral, answered_at__isnull=False).count() == 1


def test_nothing_of_the_participant_is_left_in_any_table_about_the_referral(clock):
    referral, _coordinator, _volunteer = case_closed_with_everything()
    before = related_rows_dump(referral)
    assert ALIAS in before and NOTES in before and '"smj"' in before and "climbing" in before
    clock.move_to(months_later(13))

    referral_anonymise(referral)

    dump = related_rows_dump(referral)
    for personal in (ALIAS, NOTES, '"smj"', '"ar"', "Bergen", "samme gate", "climbing"):
        assert personal not in dump
    anonymised = Referral.objects.get(pk=referral.pk)
    assert anonymised.postal_code is None and anonymised.children_birth_years == []
    assert anonymised.volunteer_gender == "" and anonymised.max_distance_km is None
    assert not anonymised.avoid_municipalities.exists()
    assert not anonymised.wished_activities.exists()
    assert RejectedPair.objects.get(referral=referral).reason == REMOVED


def test_the_submission_key_and_hash_go_with_the_rest(clock):
    """An integration's Idempotency-Key may be its own case number for the participant."""
    referral, _coordinator, _volunteer = case_closed_with_everything()
    Referral.objects.filter(pk=referral.pk).update(
        submission_key="sak-2025-0117", submission_fingerprint="a" * 64
    )
    clock.move_to(months_later(13))

    anonymised = referral_anonymise(referral)

    assert (anonymised.submission_key, anonymised.submission_fingerprint) == ("", "")


def test_the_back_office_history_stops_naming_the_participant(clock):
    referral, coordinator, _volunteer = case_closed_with_everything()
    LogEntry.objects.log_actions(
        coordinator.pk, [referral], CHANGE, change_message='[{"changed": {"fields": ["Status"]}}]'
    )
    assert LogEntry.objects.get(object_id=str(referral.pk)).object_repr == ALIAS
    clock.move_to(months_later(13))

    referral_anonymise(referral)

    entry = LogEntry.objects.get(object_id=str(referral.pk))
    assert entry.object_repr == f"Referral #{referral.pk}"
    assert entry.get_change_message() == "Changed Status."


def test_an_open_referral_cannot_be_anonymised(clock):
    from django.core.exceptions import ValidationError

    site, _staff, _coordinator = site_with_people()
    with pytest.raises(ValidationError):
        referral_anonymise(waiting_referral(site))


def related_rows_dump(referral: Referral) -> str:
    """Every row about the referral, serialised as the database holds it."""
    matches = Match.objects.filter(referral=referral)
    rows = [
        *Referral.objects.filter(pk=referral.pk),
        *Proposal.objects.filter(referral=referral),
        *ProposalPair.objects.filter(proposal__referral=referral),
        *UnmatchedReferral.objects.filter(referral=referral),
        *RejectedPair.objects.filter(referral=referral),
        *matches,
        *MatchVolunteer.objects.filter(match__in=matches),
        *Agreement.objects.filter(match__in=matches),
        *CheckIn.objects.filter(match__in=matches),
    ]
    return serializers.serialize("json", rows)


# Text fields about a referral that anonymisation keeps on purpose, with the reason.
TEXT_KEPT = {
    ("matching.UnmatchedReferral", "reason"): "a code from the engine, counted by the dashboard",
    # A replacement search points at its match; the run's own fields say nothing of the person.
    ("matching.MatchRun", "rules"): "the engine's settings for the run",
    ("matching.MatchRun", "timings"): "seconds per phase of the run",
    ("matching.MatchRun", "error"): "why the run failed, an exception's type and message",
    ("matching.Proposal", "relaxed_rules"): "names of matching rules, from a fixed list",
}
# Text fields of the referral's own row that anonymisation empties.
REFERRAL_TEXT_EMPTIED = {
    "alias",
    "notes",
    "withdrawal_note",
    "languages",
    "availability",
    "children_birth_years",
    "submission_key",
    "submission_fingerprint",
}


def text_fields(model) -> set[str]:
    """Fields that can hold free text: character, text and JSON fields without fixed choices."""
    kinds = (django_models.CharField, django_models.TextField, django_models.JSONField)
    return {
        field.name
        for field in model._meta.concrete_fields
        if isinstance(field, kinds) and not field.choices
    }


def models_about_a_referral() -> set:
    """Models pointing at Referral, and at a Proposal or Match of one."""
    pointing_at = {Referral, Proposal, Match}
    return {
        model
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if field.is_relation and field.related_model in pointing_at
    } - {AuditLogEntry}


def test_every_free_text_field_about_a_referral_is_removed_or_kept_on_purpose():
    handled = {(model._meta.label, name) for model, name, _path in FREE_TEXT_ABOUT_REFERRAL}
    handled |= {
        ("matching.ProposalPair", "shared_languages"),
        ("matching.ProposalPair", "shared_activities"),
        ("matching.UnmatchedReferral", "facts"),
    }
    handled |= {("programmes.Referral", name) for name in REFERRAL_TEXT_EMPTIED}
    found = {
        (model._meta.label, name)
        for model in models_about_a_referral() | {Referral}
        for name in text_fields(model)
    }

    assert found == handled | set(TEXT_KEPT)


# Issue 12, finding 9: login records (network address, browser) were kept for ever.


def sign_in_and_fail(username: str) -> None:
    client = Client(REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT="Firefox/140")
    client.post("/accounts/login/", {"username": username, "password": "wrong"})
    client.post("/accounts/login/", {"username": username, "password": "kobling-test"})
    client.post("/accounts/login/", {"username": username, "password": "wrong"})


def login_records() -> list[int]:
    return [model.objects.count() for model in (AccessLog, AccessAttempt)]


def test_login_records_go_after_90_days(clock):
    sign_in_and_fail(ready_volunteer().user.username)
    AccessFailureLog.objects.create(
        username="someone", ip_address="198.51.100.7", user_agent="curl", attempt_time=START
    )
    assert login_records() == [1, 1]

    clock.move_to(START + datetime.timedelta(days=settings.LOGIN_RECORD_DAYS - 1))
    retention_apply(timezone.now())
    assert login_records() == [1, 1]

    clock.move_to(START + datetime.timedelta(days=settings.LOGIN_RECORD_DAYS, minutes=1))
    due = retention_apply(timezone.now())

    assert login_records() == [0, 0]
    assert not AccessFailureLog.objects.exists()
    assert due.login_records == 3


@override_settings(LOGIN_RECORD_DAYS=7)
def test_the_days_login_records_are_kept_come_from_the_settings(clock):
    sign_in_and_fail(ready_volunteer().user.username)
    clock.move_to(START + datetime.timedelta(days=8))

    retention_apply(timezone.now())

    assert login_records() == [0, 0]


def test_a_dry_run_counts_old_login_records_and_keeps_them(clock):
    sign_in_and_fail(ready_volunteer().user.username)
    clock.move_to(START + datetime.timedelta(days=91))
    out = io.StringIO()

    call_command("apply_retention", "--dry-run", stdout=out)

    assert "Would delete: 2 sign-in records older than 90 days." in out.getvalue()
    assert login_records() == [1, 1]
