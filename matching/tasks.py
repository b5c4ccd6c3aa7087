"""Celery tasks: thin shells that take ids (or nothing) and call a service."""

from celery import shared_task
from django.utils import timezone

from matching import followup
from matching.runs import RUN_TASK, match_run_execute, match_runs_fail_stale


@shared_task(name=RUN_TASK, acks_late=True)
def match_run_task(run_id: int) -> str:
    return match_run_execute(run_id).status


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
