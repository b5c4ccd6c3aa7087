"""The breaks issue 11 found where the referral, proposal and match lifecycles meet, each replayed
as it was reported, and the exceptions coordinators live in: withdrawal in every state, one of two
volunteers leaving, a match ending early, signing order, vetting that runs out during the
agreement, and a run whose worker died."""

import datetime

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from core.celery_app import app as celery_app
from matching import lifecycle, runs, services
from matching.followup import vetting_warn_expiring
from matching.models import Match, MatchRun, Proposal
from matching.selectors import participant_view_for
from programmes.models import Referral, VettingKind
from tests.auth import login_verified
from tests.matching.factories import (
    MatchRunFactory,
    agreement_signed,
    ready_volunteer,
    site_with_people,
    waiting_referral,
)
from volunteers.models import VettingRecord, Volunteer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]
WithdrawalReason = Referral.WithdrawalReason


@pytest.fixture
def run_now(django_capture_on_commit_callbacks):
    """Start a site run and let it execute as the worker would, after the commit."""

    def start(site, coordinator) -> MatchRun:
        with django_capture_on_commit_callbacks(execute=True):
            run = services.match_run_start(
                programme=site.programme, started_by=coordinator, scope="site", site=site
            )
        run.refresh_from_db()
        return run

    return start


@pytest.fixture
def replacement_now(django_capture_on_commit_callbacks):
    def start(match, coordinator) -> MatchRun:
        with django_capture_on_commit_callbacks(execute=True):
            run = services.replacement_search_start(match, by=coordinator)
        run.refresh_from_db()
        return run

    return start


def queued_run(site, coordinator, **fields) -> MatchRun:
    """A site run as match_run_start records it, without queueing a task."""
    return MatchRunFactory(
        site=site, rules=services.rules_for(site.programme), started_by=coordinator, **fields
    )


def with_email(user, address):
    user.email = address
    user.save(update_fields=["email"])
    return user


def fresh(obj):
    obj.refresh_from_db()
    return obj


def test_accepting_an_approved_referral_into_the_queue_again_is_refused(run_now):
    """Was: accept put a matched referral back to waiting, the next run proposed it again and
    approving that was a 500."""
    site, _staff, coordinator = site_with_people()
    referral = waiting_referral(site, languages=["ar"])
    ready_volunteer()
    ready_volunteer(code="0151")
    lifecycle.proposal_approve(run_now(site, coordinator).proposals.get(), by=coordinator)
    client = APIClient()
    login_verified(client, coordinator)

    response = client.post(f"/api/v1/referrals/{referral.pk}/accept/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert "matched" in response.json()["status"][0].lower()
    assert fresh(referral).status == Referral.Status.MATCHED
    assert run_now(site, coordinator).proposals.count() == 0


def test_withdrawing_a_matched_referral_ends_the_match_and_frees_the_volunteer(run_now):
    site, staff, coordinator = site_with_people()
    referral = waiting_referral(site, languages=["ar"])
    volunteer = ready_volunteer(capacity=1)
    match = lifecycle.proposal_approve(run_now(site, coordinator).proposals.get(), by=coordinator)

    lifecycle.referral_withdraw(referral, by=staff, reason=WithdrawalReason.MOVED)

    match = fresh(match)
    assert (match.status, match.closure_reason) == ("closed", Match.EndReason.WITHDRAWN)
    assert fresh(volunteer).commitments == 0
    assert participant_view_for(match, volunteer)["municipality"] is None
    with pytest.raises(lifecycle.MatchConflict):
        lifecycle.agreement_decline(match.agreement, by=volunteer.user, reason="Too far")


def test_withdrawing_a_proposed_referral_frees_its_volunteer_for_the_next_run(run_now):
    site, staff, coordinator = site_with_people()
    first = waiting_referral(site, languages=["ar"])
    volunteer = ready_volunteer(capacity=1)
    proposal = run_now(site, coordinator).proposals.get()
    second = waiting_referral(site, languages=["ar"])

    lifecycle.referral_withdraw(first, by=staff, reason=WithdrawalReason.HELP_ELSEWHERE)

    assert fresh(proposal).status == Proposal.Status.WITHDRAWN
    with pytest.raises(lifecycle.MatchConflict):
        lifecycle.proposal_approve(proposal, by=coordinator)
    again = run_now(site, coordinator).proposals.get()
    assert (again.referral, again.pairs.get().volunteer) == (second, volunteer)


def test_withdrawing_needs_a_reason_and_changes_nothing_without_one(run_now):
    site, staff, _coordinator = site_with_people()
    referral = waiting_referral(site)

    with pytest.raises(ValidationError) as refused:
        lifecycle.referral_withdraw(referral, by=staff, reason="")

    assert "reason" in refused.value.message_dict
    assert fresh(referral).status == Referral.Status.WAITING


def test_withdrawing_an_active_match_tells_the_volunteer_without_the_reason(
    run_now, django_capture_on_commit_callbacks
):
    site, staff, coordinator = site_with_people()
    referral = waiting_referral(site, languages=["ar"])
    volunteer = ready_volunteer()
    with_email(volunteer.user, "frivillig@example.no")
    match = lifecycle.proposal_approve(run_now(site, coordinator).proposals.get(), by=coordinator)
    agreement_signed(match, staff, coordinator, [volunteer])
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.referral_withdraw(
            referral, by=staff, reason=WithdrawalReason.SAFETY, note="Flyttet til annen by"
        )

    (message,) = [m for m in mail.outbox if m.to == ["frivillig@example.no"]]
    assert referral.alias in message.subject
    assert "Flyttet" not in message.body
    assert "afety" not in message.body
    assert fresh(referral).status == Referral.Status.WITHDRAWN


def family_match(run_now, staff_email=None):
    site, staff, coordinator = site_with_people("fritidsvenn")
    referral = waiting_referral(site, languages=["ar"])
    first = ready_volunteer("fritidsvenn", code="0150")
    second = ready_volunteer("fritidsvenn", code="0151")
    match = lifecycle.proposal_approve(run_now(site, coordinator).proposals.get(), by=coordinator)
    return site, staff, coordinator, referral, match, first, second


def test_when_one_of_two_volunteers_declines_the_family_match_needs_a_replacement(
    run_now, django_capture_on_commit_callbacks
):
    _site, _staff, coordinator, referral, match, first, second = family_match(run_now)
    lifecycle.agreement_accept(match.agreement, by=second.user)
    with_email(second.user, "blir@example.no")
    with_email(coordinator, "koordinator@example.no")

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.agreement_decline(match.agreement, by=first.user, reason="Flytter")

    match = fresh(match)
    assert match.status == Match.Status.AWAITING_AGREEMENT
    assert match.needs_replacement
    assert fresh(referral).status == Referral.Status.MATCHED
    assert (fresh(first).commitments, fresh(second).commitments) == (0, 1)
    left = match.volunteers.get(volunteer=first)
    assert (left.left_reason, left.accepted_at) == (Match.EndReason.DECLINED, None)
    told = {address for m in mail.outbox for address in m.to}
    assert {"blir@example.no", "koordinator@example.no"} <= told
    with pytest.raises(ValidationError) as refused:
        lifecycle.agreement_countersign(match.agreement, by=coordinator)
    assert "replacement" in refused.value.message_dict["agreement"][0]


def test_a_replacement_joins_the_family_match_and_the_agreement_records_who_left(
    run_now, replacement_now
):
    _site, staff, coordinator, referral, match, first, second = family_match(run_now)
    lifecycle.agreement_decline(match.agreement, by=first.user, reason="Flytter")
    newcomer = ready_volunteer("fritidsvenn", code="0152")

    run = replacement_now(fresh(match), coordinator)
    proposal = run.proposals.get()
    assert (proposal.replacement_for, proposal.pairs.get().volunteer) == (match, newcomer)
    lifecycle.proposal_approve(proposal, by=coordinator)
    match = agreement_signed(fresh(match), staff, coordinator, [second, newcomer])

    assert match.status == Match.Status.ACTIVE
    assert not match.needs_replacement
    places = {p.volunteer_id: p for p in match.volunteers.all()}
    assert places[first.pk].left_at and not places[first.pk].accepted_at
    assert places[second.pk].accepted_at and places[newcomer.pk].accepted_at
    assert fresh(referral).status == Referral.Status.ACTIVE


def test_the_last_volunteer_leaving_a_family_match_sends_the_family_back_to_the_queue(run_now):
    _site, _staff, _coordinator, referral, match, first, second = family_match(run_now)

    lifecycle.agreement_decline(match.agreement, by=first.user, reason="Flytter")
    lifecycle.agreement_decline(match.agreement, by=second.user, reason="Syk")

    assert fresh(match).status == Match.Status.DECLINED
    assert fresh(referral).status == Referral.Status.WAITING
    assert (fresh(first).commitments, fresh(second).commitments) == (0, 0)


@pytest.mark.parametrize("requeue, status", [(True, "waiting"), (False, "closed")])
def test_a_coordinator_ends_an_active_match_early(run_now, requeue, status):
    site, staff, coordinator = site_with_people()
    referral = waiting_referral(site, languages=["ar"])
    volunteer = ready_volunteer()
    match = lifecycle.proposal_approve(run_now(site, coordinator).proposals.get(), by=coordinator)
    agreement_signed(match, staff, coordinator, [volunteer])

    lifecycle.match_end(match, by=coordinator, reason=Match.EndReason.MOVED, requeue=requeue)

    referral = fresh(referral)
    assert referral.status == status
    assert referral.closure_reason == ("" if requeue else "moved")
    assert (fresh(match).status, fresh(match).closure_reason) == ("closed", "moved")
    assert fresh(volunteer).commitments == 0
    with pytest.raises(lifecycle.MatchConflict):
        lifecycle.match_end(match, by=coordinator, reason=Match.EndReason.OTHER, requeue=True)


def test_a_volunteer_asking_to_end_waits_for_the_coordinator_but_safety_ends_it_at_once(
    run_now,
):
    site, staff, coordinator = site_with_people()
    referral = waiting_referral(site, languages=["ar"])
    volunteer = ready_volunteer()
    match = lifecycle.proposal_approve(run_now(site, coordinator).proposals.get(), by=coordinator)
    agreement_signed(match, staff, coordinator, [volunteer])

    lifecycle.match_end_request(match, by=volunteer.user, reason=Match.EndReason.VOLUNTEER_ENDED)
    assert fresh(match).status == Match.Status.ACTIVE
    assert participant_view_for(fresh(match), volunteer)["availability"] is not None

    lifecycle.match_end_request(match, by=volunteer.user, reason=Match.EndReason.SAFETY)
    match = fresh(match)
    assert (match.status, match.closure_reason) == ("closed", "safety")
    view = participant_view_for(match, volunteer)
    assert view["alias"] == referral.alias
    assert view["municipality"] is None and view["availability"] is None
    assert fresh(referral).status == Referral.Status.WAITING


def test_the_coordinator_countersigns_only_after_the_volunteer_and_the_centre(run_now):
    site, staff, coordinator = site_with_people()
    waiting_referral(site, languages=["ar"])
    volunteer = ready_volunteer()
    match = lifecycle.proposal_approve(run_now(site, coordinator).proposals.get(), by=coordinator)

    with pytest.raises(ValidationError) as refused:
        lifecycle.agreement_countersign(match.agreement, by=coordinator)

    message = refused.value.message_dict["agreement"][0]
    assert str(volunteer) in message and "consent" in message
    assert fresh(match.agreement).countersigned_at is None
    assert agreement_signed(match, staff, coordinator, [volunteer]).status == Match.Status.ACTIVE


def politiattest_expires(volunteer: Volunteer, on: datetime.date) -> None:
    VettingRecord.objects.filter(volunteer=volunteer, kind=VettingKind.POLITIATTEST).update(
        expires_on=on
    )


def test_a_politiattest_expiring_during_the_agreement_is_flagged_and_must_be_acknowledged(
    run_now,
):
    site, _staff, coordinator = site_with_people()
    waiting_referral(site, languages=["ar"])
    volunteer = ready_volunteer()
    expires = timezone.localdate() + datetime.timedelta(days=60)
    politiattest_expires(volunteer, expires)
    proposal = run_now(site, coordinator).proposals.get()

    assert proposal.vetting_expires_during_agreement
    assert proposal.pairs.get().vetting_expires_on == expires
    with pytest.raises(ValidationError) as refused:
        lifecycle.proposal_approve(proposal, by=coordinator)
    assert "acknowledge_vetting_expiry" in refused.value.message_dict
    assert fresh(proposal).status == Proposal.Status.PENDING
    assert fresh(volunteer).commitments == 0

    lifecycle.proposal_approve(proposal, by=coordinator, acknowledge_vetting_expiry=True)
    assert fresh(proposal).vetting_expiry_acknowledged_at is not None


def test_volunteers_are_reminded_to_renew_sixty_days_before_expiry():
    volunteer = ready_volunteer()
    with_email(volunteer.user, "frivillig@example.no")
    today = timezone.localdate()
    politiattest_expires(volunteer, today + datetime.timedelta(days=60))

    assert vetting_warn_expiring(today) == 1
    assert vetting_warn_expiring(today) == 0


def test_a_run_whose_worker_died_is_marked_failed_and_can_be_started_again(
    django_capture_on_commit_callbacks,
):
    site, _staff, coordinator = site_with_people()
    waiting_referral(site, languages=["ar"])
    ready_volunteer()
    run = queued_run(
        site,
        coordinator,
        status=MatchRun.Status.RUNNING,
        attempt=1,
        heartbeat_at=timezone.now() - datetime.timedelta(minutes=30),
    )

    assert runs.match_runs_fail_stale() == 1
    run = fresh(run)
    assert run.status == MatchRun.Status.FAILED and "stopped" in run.failure_text
    assert runs.match_runs_fail_stale() == 0

    with django_capture_on_commit_callbacks(execute=True):
        services.match_run_restart(run, by=coordinator)
    run = fresh(run)
    assert (run.status, run.attempt, run.proposals_made) == ("succeeded", 2, 1)
    with pytest.raises(lifecycle.MatchConflict):
        services.match_run_restart(run, by=coordinator)


def test_a_dead_attempt_that_wakes_up_saves_nothing(monkeypatch):
    """The worker was only slow: by the time it saves, its run was marked failed."""
    site, _staff, coordinator = site_with_people()
    referral = waiting_referral(site, languages=["ar"])
    ready_volunteer()
    run = queued_run(site, coordinator)
    solve = runs.engine.solve

    def slow_solve(instance):
        MatchRun.objects.filter(pk=run.pk).update(
            heartbeat_at=timezone.now() - datetime.timedelta(hours=1)
        )
        runs.match_runs_fail_stale()
        return solve(instance)

    monkeypatch.setattr(runs.engine, "solve", slow_solve)
    runs.match_run_execute(run.pk)

    run = fresh(run)
    assert (run.status, run.proposals.count()) == ("failed", 0)
    assert fresh(referral).status == Referral.Status.WAITING


def test_a_redelivered_task_does_not_run_a_run_twice(run_now):
    site, _staff, coordinator = site_with_people()
    waiting_referral(site, languages=["ar"])
    ready_volunteer()
    run = run_now(site, coordinator)

    again = runs.match_run_execute(run.pk)

    assert (again.status, again.attempt, again.proposals.count()) == ("succeeded", 1, 1)


def test_a_volunteer_proposed_by_another_run_meanwhile_is_not_proposed_twice(monkeypatch):
    """Two coordinators' runs overlap: the one that saves last finds the volunteer's capacity
    taken and says so, instead of holding the volunteer in two proposals."""
    site, _staff, coordinator = site_with_people()
    other_site, _other_staff, other_coordinator = site_with_people(name="Bærum")
    mine = waiting_referral(site, languages=["ar"])
    theirs = waiting_referral(other_site, languages=["ar"])
    volunteer = ready_volunteer(capacity=1)
    first, second = queued_run(site, coordinator), queued_run(other_site, other_coordinator)
    solve = runs.engine.solve

    def other_run_saves_first(instance):
        monkeypatch.setattr(runs.engine, "solve", solve)
        runs.match_run_execute(second.pk)
        return solve(instance)

    monkeypatch.setattr(runs.engine, "solve", other_run_saves_first)
    runs.match_run_execute(first.pk)

    assert fresh(second).proposals.get().pairs.get().volunteer == volunteer
    assert fresh(first).proposals.count() == 0
    assert first.unmatched.get().reason == "capacity_taken"
    assert (fresh(mine).status, fresh(theirs).status) == ("waiting", "proposed")


def test_a_volunteer_ending_for_safety_stops_the_other_family_volunteer_too(
    run_now, django_capture_on_commit_callbacks
):
    _site, _staff, _coordinator, referral, match, first, second = family_match(run_now)
    with_email(second.user, "andre@example.no")

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.match_end_request(match, by=first.user, reason=Match.EndReason.SAFETY)

    (message,) = [m for m in mail.outbox if m.to == ["andre@example.no"]]
    assert referral.alias in message.subject and "not contact" in message.body
    assert participant_view_for(fresh(match), second)["municipality"] is None
    assert (fresh(first).commitments, fresh(second).commitments) == (0, 0)


def test_a_note_on_ending_a_match_that_holds_an_id_number_is_refused(run_now):
    site, _staff, coordinator = site_with_people()
    waiting_referral(site, languages=["ar"])
    ready_volunteer()
    match = lifecycle.proposal_approve(run_now(site, coordinator).proposals.get(), by=coordinator)

    with pytest.raises(ValidationError) as refused:
        lifecycle.match_end(
            match, by=coordinator, reason="other", note="Fnr 01017012345", requeue=True
        )

    assert "note" in refused.value.message_dict
    assert fresh(match).status == Match.Status.AWAITING_AGREEMENT


def test_the_broker_redelivers_a_dead_workers_run_only_after_it_is_marked_failed():
    stale_seconds = settings.MATCH_RUN_STALE_MINUTES * 60
    assert celery_app.conf.broker_transport_options["visibility_timeout"] > 2 * stale_seconds
    assert celery_app.conf.task_acks_late and celery_app.conf.task_reject_on_worker_lost
    assert "matching.match_runs_fail_stale" in {
        entry["task"] for entry in celery_app.conf.beat_schedule.values()
    }


def test_every_closure_reason_of_a_referral_is_a_reason_a_match_can_end_with():
    """match_end closes the referral with the match's reason: the two lists must not drift."""
    closure = dict(Referral.ClosureReason.choices)
    ending = dict(Match.EndReason.choices)
    assert {code: ending.get(code) for code in closure} == closure


def test_each_volunteer_of_a_family_pair_gets_their_own_approval_email(
    run_now, django_capture_on_commit_callbacks
):
    site, _staff, coordinator = site_with_people("fritidsvenn")
    waiting_referral(site, languages=["ar"])
    first = ready_volunteer("fritidsvenn", code="0150")
    second = ready_volunteer("fritidsvenn", code="0151")
    with_email(first.user, "en@example.no")
    with_email(second.user, "to@example.no")
    proposal = run_now(site, coordinator).proposals.get()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.proposal_approve(proposal, by=coordinator)

    to_volunteers = [m.to for m in mail.outbox if set(m.to) & {"en@example.no", "to@example.no"}]
    assert sorted(to_volunteers) == [["en@example.no"], ["to@example.no"]]


def test_a_volunteer_cannot_decline_an_agreement_that_is_already_active(run_now):
    site, staff, coordinator = site_with_people()
    waiting_referral(site, languages=["ar"])
    volunteer = ready_volunteer()
    match = lifecycle.proposal_approve(run_now(site, coordinator).proposals.get(), by=coordinator)
    agreement_signed(match, staff, coordinator, [volunteer])

    with pytest.raises(lifecycle.MatchConflict):
        lifecycle.agreement_decline(match.agreement, by=volunteer.user, reason="Angret")

    assert fresh(match).status == Match.Status.ACTIVE
    assert fresh(volunteer).commitments == 1
