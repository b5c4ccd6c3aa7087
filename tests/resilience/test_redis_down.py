"""The fault test: Redis gone (broker and cache pointed at a port where nothing listens) while
people use Kobling. Pages and the API answer, every change is saved once and answered with
its success page, and what had to be queued (e-mails, a match run) waits in the outbox. When
the broker is back the outbox is flushed and a real worker delivers it all.

Runs on the real stack: PostgreSQL, the Redis broker and a Celery worker process."""

import datetime
import json
import time

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from matching.models import Match, MatchRun
from matching.runs import match_runs_fail_stale
from outbox.models import OutboxTask
from outbox.services import outbox_flush
from programmes.models import Referral
from tests.auth import login_verified
from tests.matching.factories import (
    pending_proposal,
    ready_volunteer,
    site_with_people,
    waiting_referral,
)
from tests.programmes.test_referral_pages import valid_post
from tests.resilience.faults import redis_down
from tests.resilience.test_idempotent_submission import form_key
from tests.worker import celery_worker, mails, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.broker, pytest.mark.slow]

SLOWEST_ANSWER_SECONDS = 2.0


class Timed:
    """Sends requests through a client and keeps the slowest answer's time."""

    def __init__(self, client):
        self.client, self.slowest = client, 0.0

    def __getattr__(self, method):
        call = getattr(self.client, method)

        def timed(*args, **kwargs):
            started = time.monotonic()
            response = call(*args, **kwargs)
            self.slowest = max(self.slowest, time.monotonic() - started)
            return response

        return timed


def signed_in(client, user) -> Timed:
    login_verified(client, user)
    return Timed(client)


def test_with_redis_down_people_are_answered_and_nothing_is_lost(geodata, tmp_path):
    site, staff, coordinator = site_with_people()
    staff.email, coordinator.email = "stab@example.no", "koord@example.no"
    staff.save()
    coordinator.save()
    volunteer = ready_volunteer(organisation=site.organisation)
    volunteer.user.email = "frivillig@example.no"
    volunteer.user.save()
    proposal = pending_proposal(site, coordinator, [volunteer])
    to_withdraw = waiting_referral(site)
    portal, api = signed_in(Client(), staff), signed_in(APIClient(), staff)
    coordinator_portal = signed_in(Client(), coordinator)
    coordinator_api = signed_in(APIClient(), coordinator)

    with redis_down():
        for path in ("/", "/referrals/", "/referrals/new/"):
            assert portal.get(path).status_code == 200, path
        for path in ("/coordinator/", f"/coordinator/runs/{proposal.run_id}/"):
            assert coordinator_portal.get(path).status_code == 200, path
        assert api.get("/api/v1/referrals/").status_code == 200

        form = valid_post(site, submission_key=form_key(portal.client))
        for _ in range(2):
            response = portal.post("/referrals/new/", form)
            assert (response.status_code, response.url) == (302, "/referrals/"), response

        body = json.dumps(
            {
                "site": site.pk,
                "languages": ["ar"],
                "postal_code": "0150",
                "availability": [{"day": 2, "start": "17:00", "end": "20:00"}],
                "consent_given_on": "2026-11-01",
            }
        )
        answers = [
            api.post(
                "/api/v1/referrals/",
                body,
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY="resilience-1",
            )
            for _ in range(2)
        ]
        assert [answer.status_code for answer in answers] == [201, 201]
        assert answers[0].json()["id"] == answers[1].json()["id"]

        withdrawn = portal.post(f"/referrals/{to_withdraw.pk}/withdraw/", {"reason": "mistake"})
        assert withdrawn.status_code == 302
        approved = coordinator_portal.post(f"/coordinator/proposals/{proposal.pk}/approve/")
        run_page = f"/coordinator/runs/{proposal.run_id}/"
        assert (approved.status_code, approved.url) == (302, run_page)
        started = coordinator_api.post(
            "/api/v1/match-runs/",
            {"programme": site.programme.slug, "scope": "site", "site": site.pk},
            format="json",
        )
        assert started.status_code == 202, started.content

        health = Client().get("/health/")
        assert health.status_code == 200
        assert health.json()["degraded"] == ["cache", "broker", "outbox"]

    for client in (portal, api, coordinator_portal, coordinator_api):
        assert client.slowest < SLOWEST_ANSWER_SECONDS, client.slowest

    # Each referral was sent twice and exists once.
    made = Referral.objects.filter(site=site).exclude(pk__in=[to_withdraw.pk, proposal.referral_id])
    assert sorted(made.values_list("submission_key", flat=True)) == sorted(
        [form["submission_key"], "resilience-1"]
    )
    new = made.filter(submission_key=form["submission_key"])
    assert Referral.objects.get(pk=to_withdraw.pk).status == Referral.Status.WITHDRAWN
    match = Match.objects.get(proposal=proposal)
    run = MatchRun.objects.get(pk=started.json()["id"])
    assert run.status == MatchRun.Status.QUEUED

    waiting = OutboxTask.objects.filter(sent_at__isnull=True)
    tasks = sorted(waiting.values_list("task", flat=True))
    # Two new referrals and one withdrawal for the coordinator, the approval for the
    # volunteer, and the run.
    assert tasks.count("matching.run") == 1
    assert tasks.count("kobling.send_email") >= 4, tasks
    later = timezone.now() + datetime.timedelta(minutes=settings.MATCH_RUN_STALE_MINUTES + 1)
    assert match_runs_fail_stale(later) == 0

    # The broker is back: the outbox is flushed and a worker delivers what waited.
    expected = [new.get().alias, match.referral.alias, to_withdraw.alias, "frivillig@example.no"]
    expected.append(made.get(submission_key="resilience-1").alias)
    with celery_worker(EMAIL_URL=f"filemail://{tmp_path}"):
        assert outbox_flush() == len(tasks)
        wait_for(lambda: MatchRun.objects.get(pk=run.pk).status == MatchRun.Status.SUCCEEDED)
        wait_for(lambda: all(text in "\n".join(mails(tmp_path)) for text in expected))

    assert not OutboxTask.objects.filter(sent_at__isnull=True).exists()
