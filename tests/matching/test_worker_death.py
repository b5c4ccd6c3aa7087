"""A worker killed in the middle of a match run, on the real stack (PostgreSQL, the Redis broker
and real Celery worker processes): nothing it did is saved, the run is marked failed once it has
been silent too long, a task delivered again does nothing, and the coordinator's restart runs it
on a new worker exactly once."""

import datetime
import os
import signal

import psycopg
import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from matching.models import MatchRun, Proposal
from matching.runs import match_runs_fail_stale
from matching.services import match_run_restart, match_run_start
from matching.tasks import match_run_task
from programmes.models import Referral
from tests.matching.factories import ready_volunteer, site_with_people, waiting_referral
from tests.worker import celery_worker, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.broker, pytest.mark.slow]


def worker_env() -> dict:
    db = connection.settings_dict
    return {
        "KOBLING_ENV": "test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }


def hold_row_lock(referral: Referral) -> psycopg.Connection:
    """Another session locks the referral, so a worker saving proposals for it must wait."""
    db = connection.settings_dict
    locker = psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], autocommit=False
    )
    locker.execute("SELECT id FROM programmes_referral WHERE id = %s FOR UPDATE", [referral.pk])
    return locker


def run_of(pk: int) -> MatchRun:
    return MatchRun.objects.get(pk=pk)


def test_a_run_whose_worker_is_killed_while_saving_is_failed_then_restarted_once(geodata):
    site, _staff, coordinator = site_with_people()
    referral = waiting_referral(site, languages=["ar"])
    ready_volunteer()
    locker = hold_row_lock(referral)
    try:
        with celery_worker(**worker_env()) as worker:
            with transaction.atomic():
                run = match_run_start(
                    programme=site.programme, started_by=coordinator, scope="site", site=site
                )
            wait_for(lambda: run_of(run.pk).phase == MatchRun.Phase.SAVING)
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
    finally:
        locker.rollback()
        locker.close()

    dead = run_of(run.pk)
    assert (dead.status, dead.attempt) == (MatchRun.Status.RUNNING, 1)
    assert Proposal.objects.filter(run=run).count() == 0
    assert Referral.objects.get(pk=referral.pk).status == Referral.Status.WAITING

    silent_for = datetime.timedelta(minutes=settings.MATCH_RUN_STALE_MINUTES + 1)
    assert match_runs_fail_stale(timezone.now() + silent_for) == 1
    assert run_of(run.pk).status == MatchRun.Status.FAILED

    with celery_worker(**worker_env()):
        # What the broker delivers again after the visibility timeout: it does nothing.
        assert match_run_task.delay(run.pk).get(timeout=60) == MatchRun.Status.FAILED
        with transaction.atomic():
            match_run_restart(run_of(run.pk), by=coordinator)
        wait_for(lambda: run_of(run.pk).status == MatchRun.Status.SUCCEEDED)

    done = run_of(run.pk)
    assert (done.attempt, done.proposals_made) == (2, 1)
    assert Proposal.objects.filter(referral=referral).count() == 1
    assert Referral.objects.get(pk=referral.pk).status == Referral.Status.PROPOSED
