"""Celery tasks: thin shells that take ids (or nothing) and call a service."""

import logging

from celery import shared_task
from django.utils import timezone

from matching import followup, recruitment
from matching.models import MatchRun, RecruitmentSweep
from matching.runs import RUN_TASK, match_run_execute, match_runs_fail_stale
from outbox.services import task_send_after_commit

log = logging.getLogger("kobling.matching")


@shared_task(name=RUN_TASK, acks_late=True)
def match_run_task(run_id: int) -> str:
    run = match_run_execute(run_id)
    if run.status == MatchRun.Status.SUCCEEDED:
        _recalculate_recruitment(run)
    return run.status


@shared_task(name=recruitment.SWEEP_TASK, acks_late=True)
def recruitment_sweep_task(sweep_id: int) -> str:
    return recruitment.sweep_execute(sweep_id).status


def recruitment_sweep_queue(programme, site, by=None) -> RecruitmentSweep:
    """Queue a calculation of where one more volunteer would help (matching/recruitment.py),
    unless one already waits or runs for the same scope."""
    sweep, opened = recruitment.sweep_open(programme, site, by)
    if opened:
        task_send_after_commit(recruitment_sweep_task, sweep.pk)
    return sweep


def _recalculate_recruitment(run: MatchRun) -> None:
    """The queue has changed, so where volunteers are missing may have too. The run's
    proposals are saved whatever happens here."""
    try:
        for programme, site in recruitment.scopes_after(run):
            recruitment_sweep_queue(programme, site)
    except Exception:
        log.exception("Recruitment calculation after run %s was not queued", run.pk)


@shared_task(name="matching.check_ins_flag_overdue")
def check_ins_flag_overdue_task() -> int:
    return followup.check_ins_flag_overdue(timezone.localdate())


@shared_task(name="matching.vetting_warn_expiring")
def vetting_warn_expiring_task() -> int:
    return followup.vetting_warn_expiring(timezone.localdate())


@shared_task(name="matching.agreements_close_ended")
def agreements_close_ended_task() -> int:
    return followup.agreements_close_ended(timezone.localdate())


@shared_task(name="matching.referrals_flag_long_waits")
def referrals_flag_long_waits_task() -> int:
    return followup.referrals_flag_long_waits(timezone.localdate())


@shared_task(name="matching.match_runs_fail_stale")
def match_runs_fail_stale_task() -> int:
    return match_runs_fail_stale()
