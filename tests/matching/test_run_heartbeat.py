"""A run whose solve takes longer than MATCH_RUN_STALE_MINUTES is still alive: its worker says
so while it solves, so the stale-run sweep does not fail it and throw its proposals away. The
same for a recruitment calculation ("where would one more volunteer help") while the engine
works."""

import datetime
import time

import pytest
from django.conf import settings

from matching import recruitment, runs
from matching.models import MatchRun, RecruitmentSweep
from tests.matching.factories import (
    MatchRunFactory,
    ready_volunteer,
    site_with_people,
    waiting_referral,
)

SOLVE_SECONDS = 1.0


@pytest.mark.postgres
def test_a_run_solving_past_the_stale_window_is_not_swept_and_saves_its_proposals(
    geodata, settings, monkeypatch
):
    settings.MATCH_RUN_HEARTBEAT_SECONDS = 0.2
    site, _staff, coordinator = site_with_people()
    waiting_referral(site, languages=["ar"])
    ready_volunteer()
    run = MatchRunFactory(site=site, started_by=coordinator)
    swept: list[int] = []
    solve = runs.engine.solve

    def long_solve(instance):
        started = MatchRun.objects.get(pk=run.pk).started_at
        swept.append(_swept_after_a_long_wait(runs.match_runs_fail_stale, started))
        return solve(instance)

    monkeypatch.setattr(runs.engine, "solve", long_solve)
    done = runs.match_run_execute(run.pk)

    assert swept == [0]
    assert (done.status, done.proposals_made) == (MatchRun.Status.SUCCEEDED, 1)


@pytest.mark.postgres
def test_a_recruitment_calculation_working_past_the_stale_window_is_not_swept_and_saves(
    geodata, settings, monkeypatch
):
    settings.MATCH_RUN_HEARTBEAT_SECONDS = 0.2
    site, _staff, _coordinator = site_with_people()
    waiting_referral(site, languages=["ar"])
    sweep, _opened = recruitment.sweep_open(site.programme, site)
    swept: list[int] = []
    what_if = recruitment.engine.what_if

    def long_what_if(instance, hypotheticals):
        started = RecruitmentSweep.objects.get(pk=sweep.pk).created_at
        swept.append(_swept_after_a_long_wait(recruitment.sweeps_fail_stale, started))
        return what_if(instance, hypotheticals)

    monkeypatch.setattr(recruitment.engine, "what_if", long_what_if)
    done = recruitment.sweep_execute(sweep.pk)

    assert swept == [0]
    assert done.status == RecruitmentSweep.Status.SUCCEEDED
    assert done.waiting == 1


def _swept_after_a_long_wait(sweep, started: datetime.datetime) -> int:
    """Work for SOLVE_SECONDS, then sweep as the sweep would run a stale window after the work
    started, had it taken that long: only a heartbeat since then keeps the work alive."""
    time.sleep(SOLVE_SECONDS)
    stale_window = datetime.timedelta(minutes=settings.MATCH_RUN_STALE_MINUTES)
    return sweep(started + stale_window + _half_solve())


def _half_solve() -> datetime.timedelta:
    return datetime.timedelta(seconds=SOLVE_SECONDS / 2)
