"""Coordinators approve or reject proposals; approval commits volunteers' capacity."""

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection

from matching.lifecycle import MatchConflict, proposal_approve, proposal_reject
from matching.models import Match, Proposal, RejectedPair
from programmes.models import Referral
from tests.matching.factories import pending_proposal, ready_volunteer, site_with_people
from volunteers.models import Volunteer


@pytest.mark.django_db
def test_approval_matches_the_referral_commits_capacity_and_draws_up_the_agreement():
    site, _staff, coordinator = site_with_people()
    volunteer = ready_volunteer()
    proposal = pending_proposal(site, coordinator, [volunteer])

    match = proposal_approve(proposal, by=coordinator)

    assert match.status == Match.Status.AWAITING_AGREEMENT
    assert match.agreement.terms.version == 1
    assert (match.agreement.ends_on - match.agreement.starts_on).days >= 180
    proposal.refresh_from_db()
    volunteer.refresh_from_db()
    assert (proposal.status, proposal.reviewed_by) == ("approved", coordinator)
    assert volunteer.commitments == 1
    assert Referral.objects.get(pk=proposal.referral_id).status == Referral.Status.MATCHED


@pytest.mark.django_db
def test_approving_twice_is_a_conflict():
    site, _staff, coordinator = site_with_people()
    proposal = pending_proposal(site, coordinator, [ready_volunteer(capacity=2)])
    proposal_approve(proposal, by=coordinator)
    with pytest.raises(MatchConflict):
        proposal_approve(proposal, by=coordinator)
    assert Match.objects.count() == 1


@pytest.mark.django_db
def test_approval_beyond_capacity_is_a_conflict_and_changes_nothing():
    site, _staff, coordinator = site_with_people()
    volunteer = ready_volunteer(capacity=1)
    first = pending_proposal(site, coordinator, [volunteer])
    second = pending_proposal(site, coordinator, [volunteer])
    proposal_approve(first, by=coordinator)

    with pytest.raises(MatchConflict, match="no free capacity"):
        proposal_approve(second, by=coordinator)

    second.refresh_from_db()
    assert second.status == Proposal.Status.PENDING
    assert Volunteer.objects.get(pk=volunteer.pk).commitments == 1
    assert Referral.objects.get(pk=second.referral_id).status == Referral.Status.PROPOSED


@pytest.mark.django_db
def test_database_refuses_commitments_beyond_capacity():
    volunteer = ready_volunteer(capacity=1)
    with pytest.raises(IntegrityError):
        Volunteer.objects.filter(pk=volunteer.pk).update(commitments=2)


@pytest.mark.django_db
def test_rejection_needs_a_reason_and_returns_the_referral_to_the_queue():
    site, _staff, coordinator = site_with_people()
    volunteer = ready_volunteer()
    proposal = pending_proposal(site, coordinator, [volunteer])

    with pytest.raises(ValidationError) as caught:
        proposal_reject(proposal, by=coordinator, reason="  ")
    assert "reason" in caught.value.message_dict

    proposal_reject(proposal, by=coordinator, reason="De kjenner hverandre fra før")
    proposal.refresh_from_db()
    assert (proposal.status, proposal.rejection_reason) == (
        "rejected",
        "De kjenner hverandre fra før",
    )
    assert Referral.objects.get(pk=proposal.referral_id).status == Referral.Status.WAITING
    assert RejectedPair.objects.filter(volunteer=volunteer).count() == 1


@pytest.mark.django_db
def test_coordinator_of_another_site_cannot_review():
    site, staff, coordinator = site_with_people()
    _other_site, _other_staff, other_coordinator = site_with_people(name="Bergen")
    proposal = pending_proposal(site, coordinator, [ready_volunteer()])
    for outsider in (other_coordinator, staff):
        with pytest.raises(PermissionDenied):
            proposal_approve(proposal, by=outsider)
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.PENDING


@pytest.mark.postgres
def test_two_coordinators_approving_at_once_cannot_overcommit_a_volunteer(geodata):
    site, _staff, coordinator = site_with_people()
    volunteer = ready_volunteer(capacity=1)
    proposals = [pending_proposal(site, coordinator, [volunteer]) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(proposal: Proposal) -> None:
        barrier.wait()
        try:
            proposal_approve(proposal, by=coordinator)
            outcomes.append("approved")
        except MatchConflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(p,)) for p in proposals]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["approved", "conflict"]
    assert Volunteer.objects.get(pk=volunteer.pk).commitments == 1
    assert Match.objects.count() == 1
