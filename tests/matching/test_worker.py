"""The whole workflow on the real stack: PostgreSQL, the Redis broker and a real Celery worker
process. A coordinator starts a run, the worker solves it, the coordinator approves, everyone
signs, and the e-mails go out through the worker."""

import pytest
from django.db import connection, transaction

from matching.lifecycle import (
    agreement_accept,
    agreement_countersign,
    agreement_record_consent,
    proposal_approve,
)
from matching.models import Match, MatchRun
from matching.services import match_run_start
from programmes.models import Referral
from tests.matching.factories import ready_volunteer, site_with_people, waiting_referral
from tests.worker import celery_worker, mails, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.broker, pytest.mark.slow]


@pytest.fixture
def worker(geodata, tmp_path):
    """A Celery worker process on the test database, writing its e-mails to files."""
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    with celery_worker(
        KOBLING_ENV="test", DATABASE_URL=database_url, EMAIL_URL=f"filemail://{tmp_path}"
    ):
        yield tmp_path


def test_run_approval_and_agreement_on_a_real_worker(worker):
    site, staff, coordinator = site_with_people()
    for user, address in ((staff, "stab@example.no"), (coordinator, "koord@example.no")):
        user.email = address
        user.save()
    referral = waiting_referral(site, languages=["ar"])
    volunteer = ready_volunteer()
    volunteer.user.email = "frivillig@example.no"
    volunteer.user.save()

    with transaction.atomic():
        run = match_run_start(
            programme=site.programme, started_by=coordinator, scope="site", site=site
        )
    wait_for(lambda: MatchRun.objects.get(pk=run.pk).status in ("succeeded", "failed"))
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    proposal = run.proposals.get()
    assert [p.volunteer_id for p in proposal.pairs.all()] == [volunteer.pk]

    with transaction.atomic():
        match = proposal_approve(proposal, by=coordinator)
    for person, sign in (
        (volunteer.user, agreement_accept),
        (staff, agreement_record_consent),
        (coordinator, agreement_countersign),
    ):
        with transaction.atomic():
            sign(match.agreement, by=person)

    assert Match.objects.get(pk=match.pk).status == Match.Status.ACTIVE
    assert Referral.objects.get(pk=referral.pk).status == Referral.Status.ACTIVE
    wait_for(lambda: len(mails(worker)) >= 2)
    sent = {to(message): message for message in mails(worker)}
    assert sorted(sent) == ["frivillig@example.no", "stab@example.no"]
    assert referral.alias in sent["stab@example.no"]


def to(message: str) -> str:
    (line,) = [line for line in message.splitlines() if line.startswith("To: ")]
    return line.removeprefix("To: ")
