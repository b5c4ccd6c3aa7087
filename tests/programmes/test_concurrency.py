import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from programmes.models import Referral
from programmes.services import referral_transition
from tests.programmes.factories import ReferralFactory

Status = Referral.Status


@pytest.mark.postgres
def test_two_coordinators_approving_one_proposal_at_once_cannot_both_succeed(geodata):
    """Both read the referral as proposed; the row lock makes the second see it matched."""
    referral = ReferralFactory(status=Status.PROPOSED)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def move(to: str) -> None:
        barrier.wait()
        try:
            referral_transition(Referral.objects.get(pk=referral.pk), to)
            outcomes.append(f"moved to {to}")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=(Status.MATCHED,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["moved to matched", "refused"]
