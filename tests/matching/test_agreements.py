import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from matching.lifecycle import (
    MatchConflict,
    agreement_accept,
    agreement_countersign,
    agreement_decline,
    agreement_record_consent,
    proposal_approve,
)
from matching.models import Match, RejectedPair
from programmes.models import Referral
from tests.matching.factories import pending_proposal, ready_volunteer, site_with_people
from volunteers.models import Volunteer

pytestmark = pytest.mark.django_db


def approved_match(programme_slug="ressursvenn", volunteers=1):
    site, staff, coordinator = site_with_people(programme_slug)
    people = [ready_volunteer(programme_slug, code=f"015{i}") for i in range(volunteers)]
    match = proposal_approve(pending_proposal(site, coordinator, people), by=coordinator)
    return match, staff, coordinator, people


def test_agreement_becomes_active_after_volunteer_consent_and_countersignature():
    match, staff, coordinator, (volunteer,) = approved_match()
    agreement = match.agreement
    with pytest.raises(ValidationError, match="Countersign last"):
        agreement_countersign(agreement, by=coordinator)

    agreement_accept(agreement, by=volunteer.user)
    agreement_record_consent(agreement, by=staff)
    assert Match.objects.get(pk=match.pk).status == Match.Status.AWAITING_AGREEMENT

    agreement_countersign(agreement, by=coordinator)

    match.refresh_from_db()
    assert match.status == Match.Status.ACTIVE
    assert match.agreement.activated_at is not None
    assert match.referral.__class__.objects.get(pk=match.referral_id).status == "active"


def test_fritidsvenn_agreement_waits_for_both_volunteers_and_lasts_a_year():
    match, staff, coordinator, (first, second) = approved_match("fritidsvenn", volunteers=2)
    agreement = match.agreement
    assert (agreement.ends_on.year - agreement.starts_on.year) * 12 + (
        agreement.ends_on.month - agreement.starts_on.month
    ) >= 12

    agreement_record_consent(agreement, by=staff)
    agreement_accept(agreement, by=first.user)
    with pytest.raises(ValidationError, match=str(second)):
        agreement_countersign(agreement, by=coordinator)
    assert Match.objects.get(pk=match.pk).status == Match.Status.AWAITING_AGREEMENT

    agreement_accept(agreement, by=second.user)
    agreement_countersign(agreement, by=coordinator)
    assert Match.objects.get(pk=match.pk).status == Match.Status.ACTIVE


def test_declining_frees_capacity_and_returns_the_referral_to_the_queue():
    match, _staff, _coordinator, (volunteer,) = approved_match()

    agreement_decline(match.agreement, by=volunteer.user, reason="Flytter bort")

    match.refresh_from_db()
    assert (match.status, match.end_reason) == (Match.Status.DECLINED, "Flytter bort")
    assert Volunteer.objects.get(pk=volunteer.pk).commitments == 0
    assert Referral.objects.get(pk=match.referral_id).status == Referral.Status.WAITING
    assert RejectedPair.objects.filter(referral=match.referral, volunteer=volunteer).exists()


def test_only_the_right_people_can_sign():
    match, staff, coordinator, _volunteers = approved_match()
    stranger = ready_volunteer(code="0160")
    with pytest.raises(PermissionDenied):
        agreement_accept(match.agreement, by=stranger.user)
    with pytest.raises(PermissionDenied):
        agreement_record_consent(match.agreement, by=coordinator)
    with pytest.raises(PermissionDenied):
        agreement_countersign(match.agreement, by=staff)


def test_a_declined_agreement_cannot_be_accepted_afterwards():
    match, _staff, _coordinator, (volunteer,) = approved_match()
    agreement_decline(match.agreement, by=volunteer.user, reason="Har ikke tid")
    with pytest.raises(MatchConflict):
        agreement_accept(match.agreement, by=volunteer.user)
