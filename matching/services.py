"""Writes for matching runs. The review of their proposals, agreements and the end of matches
are steps of the joint lifecycle in matching/lifecycle.py.

A run (1) gathers waiting referrals and eligible volunteers with free capacity, (2) asks the
engine for the best proposals, (3) saves them all in one transaction. Running it twice (a retry,
a duplicate delivery) saves them once. A run that stops reporting progress (its worker died) is
marked failed by ``match_runs_fail_stale`` and can be started again.
"""

import datetime
import logging
import time
from collections import Counter

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from matching import engine, lifecycle
from matching.lifecycle import MatchConflict
from matching.models import Match, MatchRun, Proposal, ProposalPair, UnmatchedReferral
from matching.selectors import engine_instance_for, rules_for
from outbox.services import outbox_waiting_args, task_send_after_commit
from programmes.audit import objects_log_created
from programmes.models import ProgrammeSite
from volunteers.selectors import vetting_valid_until, volunteers_free_capacity

CAPACITY_TAKEN = "capacity_taken"
CAPACITY_TAKEN_DETAIL = "proposed by another run while this one was solving"

log = logging.getLogger("kobling.matching")
Phase = MatchRun.Phase
IN_PROGRESS = (MatchRun.Status.QUEUED, MatchRun.Status.RUNNING)

__all__ = ["MatchConflict", "match_run_execute", "match_run_start", "match_runs_fail_stale"]


def _require_coordinator(user, sites) -> None:
    """All or nothing: a run touches every site in its scope, so the user must coordinate each
    one of them (admins may run anything)."""
    if not sites:
        raise ValidationError({"scope": _("This programme has no site there to run for.")})
    if user.is_superuser:
        return
    wanted = {site.pk for site in sites}
    coordinated = ProgrammeSite.objects.filter(pk__in=wanted, coordinators=user).count()
    if coordinated < len(wanted):
        raise PermissionDenied(
            _("Only a coordinator of every programme site in the run may start it.")
            if len(wanted) > 1
            else _("Only a coordinator of this programme site may do that.")
        )


def match_run_start(*, programme, started_by, scope, site=None, crisis_centre=None) -> MatchRun:
    """Record a run and queue it once the transaction commits."""
    sites = _sites_in_scope(programme, scope, site, crisis_centre)
    _require_coordinator(started_by, sites)
    run = MatchRun(
        programme=programme,
        scope=scope,
        site=site,
        crisis_centre=crisis_centre,
        on_date=timezone.localdate(),
        rules=rules_for(programme),
        started_by=started_by,
    )
    run.full_clean()
    run.save()
    _queue(run)
    return run


def replacement_search_start(match: Match, *, by) -> MatchRun:
    """A one-place search for a match that lost a volunteer: the volunteers still in it stay,
    every rule applies to the newcomer, and the result is reviewed like any proposal."""
    site = match.referral.site
    _require_coordinator(by, [site])
    if not (match.is_open and match.needs_replacement):
        raise MatchConflict(_("This match does not need a replacement volunteer."))
    run = MatchRun.objects.create(
        programme=site.programme,
        scope=MatchRun.Scope.REPLACEMENT,
        match=match,
        on_date=timezone.localdate(),
        rules=rules_for(site.programme),
        started_by=by,
    )
    _queue(run)
    return run


def match_run_restart(run: MatchRun, *, by) -> MatchRun:
    """Queue a failed run again, as a new attempt."""
    sites = [run.match.referral.site] if run.match_id else _sites_of(run)
    _require_coordinator(by, sites)
    with transaction.atomic():
        locked = MatchRun.objects.select_for_update().get(pk=run.pk)
        if locked.status != MatchRun.Status.FAILED:
            raise MatchConflict(_("Only a run that failed can be started again."))
        locked.status, locked.phase, locked.progress = MatchRun.Status.QUEUED, Phase.WAITING, 0
        locked.error, locked.heartbeat_at, locked.finished_at = "", timezone.now(), None
        locked.save(
            update_fields=["status", "phase", "progress", "error", "heartbeat_at", "finished_at"]
        )
        _queue(locked)
    return locked


def _queue(run: MatchRun) -> None:
    from matching.tasks import match_run_task

    task_send_after_commit(match_run_task, run.pk)


def _sites_of(run: MatchRun) -> list[ProgrammeSite]:
    return _sites_in_scope(run.programme, run.scope, run.site, run.crisis_centre)


def _sites_in_scope(programme, scope, site, crisis_centre) -> list[ProgrammeSite]:
    sites = ProgrammeSite.objects.filter(programme=programme)
    if scope == MatchRun.Scope.SITE:
        if site is None or site.programme_id != programme.pk:
            raise ValidationError({"site": _("Choose a site of %s.") % programme})
        return [site]
    if scope == MatchRun.Scope.CRISIS_CENTRE:
        if crisis_centre is None:
            raise ValidationError({"crisis_centre": _("Choose a crisis centre.")})
        return list(sites.filter(crisis_centre=crisis_centre))
    if scope == MatchRun.Scope.REPLACEMENT:
        raise ValidationError({"scope": _("Start a replacement search from the match.")})
    return list(sites)


def match_run_execute(run_id: int) -> MatchRun:
    """Gather → solve → persist. Only a queued run is taken: one that succeeded, failed or is
    being worked on already is left as it is, so a redelivered task does nothing."""
    run = _claim(run_id)
    if run is None:
        return MatchRun.objects.get(pk=run_id)
    try:
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
    waiting = [args[0] for args in outbox_waiting_args("matching.run", sent_since=limit)]
    stale = stale.exclude(pk__in=waiting)
    return stale.update(status=MatchRun.Status.FAILED, error=MatchRun.STALE, finished_at=now)


def _pk(key: str) -> int:
    return int(key[1:])


def _persist(run: MatchRun, instance: engine.Instance, result: engine.MatchResult) -> MatchRun:
    with transaction.atomic():
        locked = MatchRun.objects.select_for_update().get(pk=run.pk)
        if locked.status != MatchRun.Status.RUNNING or locked.attempt != run.attempt:
            # Marked dead and perhaps restarted meanwhile: this attempt's work is discarded.
            return locked
        assignments, taken = _still_open(locked, result.assignments)
        proposals = _save_proposals(locked, assignments)
        unmatched = [(_pk(u.referral), u.reason, u.detail) for u in result.unmatched]
        unmatched += [(_pk(a.referral), CAPACITY_TAKEN, CAPACITY_TAKEN_DETAIL) for a in taken]
        UnmatchedReferral.objects.bulk_create(
            UnmatchedReferral(run=locked, referral_id=pk, reason=reason, detail=detail)
            for pk, reason, detail in unmatched
        )
        locked.status, locked.phase, locked.progress = MatchRun.Status.SUCCEEDED, Phase.DONE, 100
        locked.finished_at = locked.heartbeat_at = timezone.now()
        locked.referrals_considered = len(instance.referrals)
        locked.volunteers_considered = len(instance.volunteers)
        locked.proposals_made, locked.unmatched_count = len(proposals), len(unmatched)
        locked.save()
    return locked


def _still_open(run: MatchRun, assignments) -> tuple[list, list]:
    """The assignments that may still be proposed, and those that may not because another run
    proposed their volunteers meanwhile. An assignment whose referral was withdrawn (or whose
    match no longer needs a replacement) is in neither: there is nothing left to explain.
    Referrals (or the match) are locked before volunteers, as in matching/lifecycle.py."""
    if run.scope == MatchRun.Scope.REPLACEMENT:
        allowed = lifecycle.replacement_proposal_allowed(run.match_id)
        return _within_free_capacity(assignments if allowed else [])
    waiting = lifecycle.referrals_lock_waiting([_pk(a.referral) for a in assignments])
    kept, taken = _within_free_capacity([a for a in assignments if _pk(a.referral) in waiting])
    lifecycle.referrals_propose([_pk(a.referral) for a in kept])
    return kept, taken


def _within_free_capacity(assignments) -> tuple[list, list]:
    volunteer_ids = {_pk(pair.volunteer) for a in assignments for pair in a.pairs}
    free = volunteers_free_capacity(volunteer_ids)
    kept, taken = [], []
    for assignment in assignments:
        needs = Counter(_pk(pair.volunteer) for pair in assignment.pairs)
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
            referral_id=_pk(a.referral),
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
            volunteer_id=_pk(pair.volunteer),
            distance_km=pair.distance_km,
            overlap_hours=pair.overlap_hours,
            shared_languages=list(pair.shared_languages),
            cost=pair.cost,
            vetting_expires_on=expiring.get(_pk(pair.volunteer)),
        )
        for proposal, assignment in zip(proposals, assignments, strict=True)
        for pair in assignment.pairs
    )
    return proposals


def _vetting_expiring_during_agreement(run: MatchRun, assignments) -> dict:
    """Volunteers whose vetting runs out before an agreement made on the run's date would end."""
    volunteer_ids = {_pk(pair.volunteer) for a in assignments for pair in a.pairs}
    if not volunteer_ids:
        return {}
    ends_on = lifecycle.agreement_ends_on(run.programme, run.on_date)
    until = vetting_valid_until(volunteer_ids, run.programme, run.on_date)
    return {pk: day for pk, day in until.items() if day is not None and day < ends_on}
