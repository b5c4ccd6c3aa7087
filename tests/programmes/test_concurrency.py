import threading

import pytest
from django.db import connection

from matching.lifecycle import MatchConflict, proposal_approve
from matching.models import Match
from programmes.models import Referral
from tests.matching.factories import pending_proposal, ready_volunteer, site_with_people


@pytest.mark.postgres
def test_two_coordinators_approving_one_proposal_at_once_cannot_both_succeed(geodata):
    """Both read the proposal as pending; the row locks make the second see it approved."""
    site, _staff, coordinator = site_with_people()
    proposal = pending_proposal(site, coordinator, [ready_volunteer(capacity=2)])
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve() -> None:
        barrier.wait()
        try:
            proposal_approve(proposal, by=coordinator)
            outcomes.append("approved")
        except MatchConflict:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=approve) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["approved", "refused"]
    assert Match.objects.filter(referral=proposal.referral).count() == 1
    assert Referral.objects.get(pk=proposal.referral_id).status == Referral.Status.MATCHED
