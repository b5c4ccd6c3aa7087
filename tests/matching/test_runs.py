"""Match runs through the service layer (Celery runs eagerly here; test_worker.py uses a real
worker and broker)."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from matching import engine
from matching.lifecycle import proposal_approve
from matching.models import MatchRun, Proposal, RejectedPair, UnmatchedReferral
from matching.runs import match_run_execute
from matching.services import match_run_start
from matching.tasks import match_run_task
from programmes.models import Referral, VettingKind
from tests.matching.factories import ready_volunteer, site_with_people, waiting_referral
from tests.programmes.factories import municipality

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]


@pytest.fixture
def run_for(django_capture_on_commit_callbacks):
    def start(site, coordinator) -> MatchRun:
        with django_capture_on_commit_callbacks(execute=True):
            run = match_run_start(
                programme=site.programme, started_by=coordinator, scope="site", site=site
            )
        run.refresh_from_db()
        return run

    return start


def proposed_pairs(run: MatchRun) -> set[tuple[int, int]]:
    return {
        (proposal.referral_id, pair.volunteer_id)
        for proposal in run.proposals.all()
        for pair in proposal.pairs.all()
    }


def test_run_proposes_the_near_volunteer_and_explains_the_far_referral(run_for):
    site, _staff, coordinator = site_with_people()
    near = waiting_referral(site, languages=["ar"])
    far = waiting_referral(site, languages=["ar"], municipality=municipality("5612"))
    volunteer = ready_volunteer()

    run = run_for(site, coordinator)

    assert (run.status, run.phase, run.progress) == ("succeeded", "done", 100)
    assert (run.referrals_considered, run.volunteers_considered) == (2, 1)
    assert proposed_pairs(run) == {(near.pk, volunteer.pk)}
    assert run.proposals.get().pairs.get().shared_languages == ["ar"]
    unmatched = UnmatchedReferral.objects.get(run=run)
    assert (unmatched.referral, unmatched.reason) == (far, "no_volunteer_within_distance")
    assert "km" in unmatched.detail
    near.refresh_from_db()
    assert near.status == Referral.Status.PROPOSED
    assert set(run.timings) == {"gathering", "solving", "saving"}


def test_run_delivered_twice_saves_its_proposals_once(run_for):
    site, _staff, coordinator = site_with_people()
    waiting_referral(site, languages=["ar"])
    ready_volunteer()
    run = run_for(site, coordinator)

    match_run_task.apply(args=[run.pk])
    match_run_execute(run.pk)

    assert Proposal.objects.filter(run=run).count() == 1
    assert UnmatchedReferral.objects.filter(run=run).count() == 0


def test_failed_run_leaves_nothing_half_written_and_says_why(run_for, monkeypatch):
    site, _staff, coordinator = site_with_people()
    referral = waiting_referral(site, languages=["ar"])
    ready_volunteer()

    def crash(instance):
        raise engine.MatchingInputError("referrals[0].lat", "not a number")

    monkeypatch.setattr(engine, "solve", crash)
    with pytest.raises(engine.MatchingInputError):
        run_for(site, coordinator)

    run = MatchRun.objects.get()
    assert run.status == "failed"
    assert "referrals[0].lat: not a number" in run.error
    assert not Proposal.objects.exists()
    referral.refresh_from_db()
    assert referral.status == Referral.Status.WAITING


def test_volunteer_with_expired_politiattest_is_never_proposed(run_for):
    site, _staff, coordinator = site_with_people()
    waiting_referral(site, languages=["ar"])
    volunteer = ready_volunteer()
    volunteer.vetting.filter(kind=VettingKind.POLITIATTEST).update(
        expires_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    run = run_for(site, coordinator)
    assert proposed_pairs(run) == set()
    assert run.volunteers_considered == 0


def test_politiattest_expiring_within_the_first_month_does_not_count(run_for):
    site, _staff, coordinator = site_with_people()
    waiting_referral(site, languages=["ar"])
    volunteer = ready_volunteer()
    volunteer.vetting.filter(kind=VettingKind.POLITIATTEST).update(
        expires_on=timezone.localdate() + datetime.timedelta(days=20)
    )
    assert proposed_pairs(run_for(site, coordinator)) == set()


def test_capacity_held_by_a_pending_proposal_is_not_offered_again(run_for):
    site, _staff, coordinator = site_with_people()
    first = waiting_referral(site, languages=["ar"])
    volunteer = ready_volunteer(capacity=1)
    assert proposed_pairs(run_for(site, coordinator)) == {(first.pk, volunteer.pk)}

    waiting_referral(site, languages=["ar"])
    assert proposed_pairs(run_for(site, coordinator)) == set()


def test_approved_matches_are_not_reshuffled_by_a_later_run(run_for):
    site, _staff, coordinator = site_with_people()
    first = waiting_referral(site, languages=["ar"])
    volunteer = ready_volunteer(capacity=2)
    proposal_approve(run_for(site, coordinator).proposals.get(), by=coordinator)

    second = waiting_referral(site, languages=["ar"])
    later = run_for(site, coordinator)

    assert proposed_pairs(later) == {(second.pk, volunteer.pk)}
    first.refresh_from_db()
    assert first.status == Referral.Status.MATCHED


def test_rejected_pair_is_never_proposed_again(run_for):
    from matching.lifecycle import proposal_reject

    site, _staff, coordinator = site_with_people()
    referral = waiting_referral(site, languages=["ar"])
    volunteer = ready_volunteer()
    proposal_reject(
        run_for(site, coordinator).proposals.get(), by=coordinator, reason="Kjenner hverandre"
    )

    assert RejectedPair.objects.filter(referral=referral, volunteer=volunteer).exists()
    later = run_for(site, coordinator)
    assert proposed_pairs(later) == set()
    assert later.unmatched.get().referral == referral


def test_fritidsvenn_family_gets_two_volunteers_or_none(run_for):
    site, _staff, coordinator = site_with_people("fritidsvenn")
    family = waiting_referral(site, languages=["ar"])
    one = ready_volunteer("fritidsvenn")
    run = run_for(site, coordinator)
    assert proposed_pairs(run) == set()
    assert run.unmatched.get().reason == "not_enough_volunteers"

    two = ready_volunteer("fritidsvenn", code="0151")
    assert proposed_pairs(run_for(site, coordinator)) == {(family.pk, one.pk), (family.pk, two.pk)}


def test_only_a_coordinator_of_the_site_may_start_a_run():
    site, staff, _coordinator = site_with_people()
    with pytest.raises(PermissionDenied):
        match_run_start(programme=site.programme, started_by=staff, scope="site", site=site)
    assert not MatchRun.objects.exists()
