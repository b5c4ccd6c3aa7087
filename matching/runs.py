"""What a worker does with a match run: (1) gather waiting referrals and eligible volunteers
with free capacity, (2) ask the engine for the best proposals, (3) save them all in one
transaction. Running it twice (a retry, a duplicate delivery) saves them once. A run that stops
reporting progress (its worker died) is marked failed by ``match_runs_fail_stale`` and can be
started again (matching/services.py). The review of the proposals is a step of the lifecycle
(matching/lifecycle.py).
"""

import datetime
import logging
import time
from collections import Counter
from contextlib import AbstractContextManager

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.heartbeat import heartbeat
from matching import engine, lifecycle
from matching.agreements import vetting_running_out_during_agreement
from matching.engine_keys import referral_pk, volunteer_pk
from matching.models import MatchRun, NearMiss, Proposal, ProposalPair, UnmatchedReferral
from matching.selectors import engine_instance_for
from outbox.services import outbox_waiting_args
from programmes.audit import objects_log_created
from volunteers.selectors import volunteers_free_capacity

CAPACITY_TAKEN = "capacity_taken"
CAPACITY_TAKEN_DETAIL = "proposed by another run while this one was solving"
# The name the run's task is queued under (matching/tasks.py).
RUN_TASK = "matching.run"

log = logging.getLogger("kobling.matching")
Phase = MatchRun.Phase
IN_PROGRESS = (MatchRun.Status.QUEUED, MatchRun.Status.RUNNING)


def match_run_execute(run_id: int) -> MatchRun:
    """Gather → solve → persist. Only a queued run is taken: one that succeeded, failed or is
    being worked on already is left as it is, so a redelivered task does nothing."""
    run = _claim(run_id)
    if run is None:
        return MatchRun.objects.get(pk=run_id)
    try:
        with _heartbeat(run):
            instance = _timed(run, Phase.GATHERING, 10, lambda: engine_instance_for(run))
            result = _timed(run, Phase.SOLVING, 40, lambda: engine.solve(instance))
            saved = _timed(run, Phase.SAVING, 80, lambda: _persist(run, instance, result))
    except Exception as error:
        _fail(run, error)
        raise
    MatchRun.objects.filter(pk=run.pk, attempt=run.attempt).update(timings=run.timings)
    saved.timings = run.timings
    return saved


def _claim(run_id: int) -> MatchRun | None:
    with transaction.atomic():
        run = MatchRun.objects.select_for_update().get(pk=run_id)
        if run.status != MatchRun.Status.QUEUED:
            return None
        run.status, run.started_at, run.error = MatchRun.Status.RUNNING, timezone.now(), ""
        run.heartbeat_at, run.attempt = run.started_at, run.attempt + 1
        run.save(update_fields=["status", "started_at", "error", "heartbeat_at", "attempt"])
    return run


def _heartbeat(run: MatchRun) -> AbstractContextManager[None]:
    """The run is alive while it works (the solve holds the main thread for minutes on a
    large instance), so ``match_runs_fail_stale`` leaves it alone."""
    mine = MatchRun.objects.filter(pk=run.pk, attempt=run.attempt, status=MatchRun.Status.RUNNING)
    return heartbeat(mine, settings.MATCH_RUN_HEARTBEAT_SECONDS, f"match-run-{run.pk}")


def _timed(run: MatchRun, phase: str, progress: int, work):
    MatchRun.objects.filter(pk=run.pk, attempt=run.attempt).update(
        phase=phase, progress=progress, heartbeat_at=timezone.now()
    )
    started = time.perf_counter()
    outcome = work()
    run.timings[phase] = round(time.perf_counter() - started, 3)
    return outcome


def _fail(run: MatchRun, error: Exception) -> None:
    log.exception("Match run %s failed", run.pk)
    MatchRun.objects.filter(pk=run.pk, attempt=run.attempt).update(
        status=MatchRun.Status.FAILED,
        error=f"{type(error).__name__}: {error}",
        finished_at=timezone.now(),
        timings=run.timings,
    )


def match_runs_fail_stale(now: datetime.datetime | None = None) -> int:
    """Mark failed every queued or running run that has shown no sign of life for
    MATCH_RUN_STALE_MINUTES: its worker (or the web process, in eager mode) died. Nothing it did
    was saved, because a run saves everything in one transaction at the end."""
    now = now or timezone.now()
    limit = now - datetime.timedelta(minutes=settings.MATCH_RUN_STALE_MINUTES)
    silent = Q(heartbeat_at__lt=limit) | Q(heartbeat_at__isnull=True, created_at__lt=limit)
    stale = MatchRun.objects.filter(silent, status__in=IN_PROGRESS)
    # A run whose task waits in the outbox, or left it lately, is not dead: no worker has it yet.
    waiting = [args[0] for args in outbox_waiting_args(RUN_TASK, sent_since=limit)]
    stale = stale.exclude(pk__in=waiting)
    return stale.update(status=MatchRun.Status.FAILED, error=MatchRun.STALE, finished_at=now)


def _persist(run: MatchRun, instance: engine.Instance, result: engine.MatchResult) -> MatchRun:
    with transaction.atomic():
        locked = MatchRun.objects.select_for_update().get(pk=run.pk)
        if locked.status != MatchRun.Status.RUNNING or locked.attempt != run.attempt:
            # Marked dead and perhaps restarted meanwhile: this attempt's work is discarded.
            return locked
        assignments, taken = _still_open(locked, result.assignments)
        proposals = _save_proposals(locked, assignments)
        unmatched = _save_unmatched(locked, result.unmatched, taken)
        locked.status, locked.phase, locked.progress = MatchRun.Status.SUCCEEDED, Phase.DONE, 100
        locked.finished_at = locked.heartbeat_at = timezone.now()
        locked.referrals_considered = len(instance.referrals)
        locked.volunteers_considered = len(instance.volunteers)
        locked.proposals_made, locked.unmatched_count = len(proposals), len(unmatched)
        locked.save()
    return locked


def _save_unmatched(run: MatchRun, unmatched, taken) -> list[UnmatchedReferral]:
    """Each unmatched referral with the engine's figures, and its near misses, in two inserts."""
    rows = [
        UnmatchedReferral(
            run=run,
            referral_id=referral_pk(u.referral),
            reason=u.reason,
            detail=u.detail,
            facts=dict(u.facts),
        )
        for u in unmatched
    ]
    rows += [
        UnmatchedReferral(
            run=run,
            referral_id=referral_pk(a.referral),
            reason=CAPACITY_TAKEN,
            detail=CAPACITY_TAKEN_DETAIL,
            facts={"by_another_run": True},
        )
        for a in taken
    ]
    saved = UnmatchedReferral.objects.bulk_create(rows)
    NearMiss.objects.bulk_create(
        NearMiss(
            unmatched=row,
            volunteer_id=volunteer_pk(miss.volunteer),
            rule=miss.rule,
            shortfall=miss.shortfall,
            distance_km=miss.distance_km,
            overlap_minutes=miss.overlap_minutes,
        )
        for row, u in zip(saved[: len(unmatched)], unmatched, strict=True)
        for miss in u.near_misses
    )
    return saved


def _still_open(run: MatchRun, assignments) -> tuple[list, list]:
    """The assignments that may still be proposed, and those that may not because another run
    proposed their volunteers meanwhile. An assignment whose referral was withdrawn (or whose
    match no longer needs a replacement) is in neither: there is nothing left to explain.
    Referrals (or the match) are locked before volunteers, as in matching/lifecycle.py."""
    if run.scope == MatchRun.Scope.REPLACEMENT:
        assert run.match_id is not None  # match_run_scope_has_its_target: it has its match
        allowed = lifecycle.replacement_proposal_allowed(run.match_id)
        return _within_free_capacity(assignments if allowed else [])
    waiting = lifecycle.referrals_lock_waiting([referral_pk(a.referral) for a in assignments])
    kept, taken = _within_free_capacity(
        [a for a in assignments if referral_pk(a.referral) in waiting]
    )
    lifecycle.referrals_propose([referral_pk(a.referral) for a in kept])
    return kept, taken


def _within_free_capacity(assignments) -> tuple[list, list]:
    volunteer_ids = {volunteer_pk(pair.volunteer) for a in assignments for pair in a.pairs}
    free = volunteers_free_capacity(volunteer_ids)
    kept, taken = [], []
    for assignment in assignments:
        needs = Counter(volunteer_pk(pair.volunteer) for pair in assignment.pairs)
        if all(free.get(pk, 0) >= n for pk, n in needs.items()):
            free.update({pk: free[pk] - n for pk, n in needs.items()})
            kept.append(assignment)
        else:
            taken.append(assignment)
    return kept, taken


def _save_proposals(run: MatchRun, assignments) -> list[Proposal]:
    proposals = Proposal.objects.bulk_create(
        Proposal(
            run=run,
            referral_id=referral_pk(a.referral),
            cost=sum(p.cost for p in a.pairs),
            replacement_for_id=run.match_id,
        )
        for a in assignments
    )
    objects_log_created(proposals)
    expiring = _vetting_expiring_during_agreement(run, assignments)
    ProposalPair.objects.bulk_create(
        ProposalPair(
            proposal=proposal,
            volunteer_id=volunteer_pk(pair.volunteer),
            distance_km=pair.distance_km,
            overlap_hours=pair.overlap_hours,
            shared_languages=list(pair.shared_languages),
            shared_activities=list(pair.shared_activities),
            cost=pair.cost,
            vetting_expires_on=expiring.get(volunteer_pk(pair.volunteer)),
        )
        for proposal, assignment in zip(proposals, assignments, strict=True)
        for pair in assignment.pairs
    )
    return proposals


def _vetting_expiring_during_agreement(run: MatchRun, assignments) -> dict:
    """Volunteers whose vetting runs out before an agreement made on the run's date would end."""
    volunteer_ids = {volunteer_pk(pair.volunteer) for a in assignments for pair in a.pairs}
    if not volunteer_ids:
        return {}
    return vetting_running_out_during_agreement(run.programme, volunteer_ids, run.on_date)
