"""The referral's steps in matching/lifecycle.py: the table says where each status may go, and the
lifecycle's own functions refuse, in words and changing nothing, every step the table leaves out."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from matching import lifecycle
from matching.models import Match
from programmes.models import Referral
from tests.matching.factories import (
    pending_proposal,
    ready_volunteer,
    referral_at,
    site_with_people,
)
from tests.programmes.factories import ReferralFactory

pytestmark = pytest.mark.django_db
Status = Referral.Status
OPEN = (Status.SUBMITTED, Status.WAITING, Status.PROPOSED, Status.MATCHED, Status.ACTIVE)


def test_the_table_allows_exactly_the_documented_moves():
    assert lifecycle.referral_transitions() == {
        Status.SUBMITTED: {Status.WAITING, Status.WITHDRAWN},
        Status.WAITING: {Status.PROPOSED, Status.WITHDRAWN},
        Status.PROPOSED: {Status.MATCHED, Status.WAITING, Status.WITHDRAWN},
        Status.MATCHED: {Status.ACTIVE, Status.WAITING, Status.CLOSED, Status.WITHDRAWN},
        Status.ACTIVE: {Status.WAITING, Status.CLOSED, Status.WITHDRAWN},
        Status.CLOSED: set(),
        Status.WITHDRAWN: set(),
    }


def test_closed_and_withdrawn_are_final_in_the_table():
    for starts, _to, _refusal in lifecycle.REFERRAL_STEPS.values():
        assert not starts & {Status.CLOSED, Status.WITHDRAWN}


def test_referral_walks_its_whole_lifecycle_to_closed():
    site, staff, coordinator = site_with_people()
    referral = ReferralFactory(site=site, languages=["ar"])
    volunteer = ready_volunteer()

    referral = lifecycle.referral_accept(referral, by=coordinator)
    assert referral.status == Status.WAITING
    match = lifecycle.proposal_approve(
        pending_proposal(site, coordinator, [volunteer], referral), by=coordinator
    )
    assert Referral.objects.get(pk=referral.pk).status == Status.MATCHED
    lifecycle.agreement_accept(match.agreement, by=volunteer.user)
    lifecycle.agreement_record_consent(match.agreement, by=staff)
    lifecycle.agreement_countersign(match.agreement, by=coordinator)
    assert Referral.objects.get(pk=referral.pk).status == Status.ACTIVE
    lifecycle.match_complete(match)

    referral.refresh_from_db()
    assert (referral.status, referral.closure_reason) == (Status.CLOSED, "completed")


def test_accepting_a_referral_starts_its_wait():
    site, _staff, coordinator = site_with_people()
    referral = lifecycle.referral_accept(ReferralFactory(site=site), by=coordinator)
    assert referral.status == Status.WAITING
    assert referral.waiting_since is not None


def test_only_a_coordinator_of_the_site_accepts_into_the_queue():
    site, staff, _coordinator = site_with_people()
    _other, _s, other_coordinator = site_with_people(name="Bergen")
    referral = ReferralFactory(site=site)
    for outsider in (staff, other_coordinator):
        with pytest.raises(PermissionDenied):
            lifecycle.referral_accept(referral, by=outsider)
    assert Referral.objects.get(pk=referral.pk).status == Status.SUBMITTED


@pytest.mark.parametrize(
    "status", [Status.WAITING, Status.PROPOSED, Status.MATCHED, Status.ACTIVE, Status.WITHDRAWN]
)
def test_only_a_submitted_referral_is_accepted_into_the_queue(status):
    site, staff, coordinator = site_with_people()
    referral = referral_at(status, site, staff, coordinator)

    with pytest.raises(ValidationError) as refused:
        lifecycle.referral_accept(referral, by=coordinator)

    message = refused.value.message_dict["status"][0]
    assert "Only a submitted referral can be accepted" in message
    assert referral.get_status_display().lower() in message
    assert Referral.objects.get(pk=referral.pk).status == status


@pytest.mark.parametrize("status", OPEN)
def test_staff_withdraw_a_referral_from_every_open_state(status):
    site, staff, coordinator = site_with_people()
    referral = referral_at(status, site, staff, coordinator)

    lifecycle.referral_withdraw(
        referral, by=staff, reason=Referral.WithdrawalReason.MOVED, note="Flyttet til Bergen"
    )

    referral.refresh_from_db()
    assert referral.status == Status.WITHDRAWN
    assert (referral.withdrawal_reason, referral.withdrawal_note) == ("moved", "Flyttet til Bergen")
    assert not Match.objects.filter(referral=referral, status__in=Match.OPEN_STATUSES).exists()


@pytest.mark.parametrize("status", [Status.CLOSED, Status.WITHDRAWN])
def test_a_closed_or_withdrawn_referral_cannot_be_withdrawn(status):
    site, staff, coordinator = site_with_people()
    referral = referral_at(status, site, staff, coordinator)

    with pytest.raises(ValidationError) as refused:
        lifecycle.referral_withdraw(referral, by=staff, reason=Referral.WithdrawalReason.OTHER)

    assert "cannot be withdrawn" in refused.value.message_dict["status"][0]
    assert Referral.objects.get(pk=referral.pk).status == status


def test_closing_needs_a_reason():
    site, staff, coordinator = site_with_people()
    referral = referral_at(Status.ACTIVE, site, staff, coordinator)
    match = Match.objects.get(referral=referral)

    with pytest.raises(ValidationError) as refused:
        lifecycle.match_end(match, by=coordinator, reason="", requeue=False)

    assert "reason" in refused.value.message_dict
    assert Referral.objects.get(pk=referral.pk).status == Status.ACTIVE
    assert Match.objects.get(pk=match.pk).status == Match.Status.ACTIVE
