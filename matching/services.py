"""Writes for matching: match runs, and the review of their proposals.

A run (1) gathers waiting referrals and eligible volunteers with free capacity, (2) asks the
engine for the best proposals, (3) saves them all in one transaction. Running it twice (a retry,
a duplicate delivery) saves them once.
"""

import logging
import time

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from matching import engine
from matching.followup import notify_match_approved
from matching.models import (
    Match,
    MatchRun,
    MatchVolunteer,
    Proposal,
    ProposalPair,
    RejectedPair,
    UnmatchedReferral,
)
from matching.selectors import engine_instance_for, rules_for
from programmes.audit import objects_log_created, queryset_update_logged
from programmes.models import ProgrammeSite, Referral
from programmes.services import referral_transition, referrals_mark_proposed
from volunteers.models import Volunteer

log = logging.getLogger("kobling.matching")
Phase = MatchRun.Phase


class MatchConflict(Exception):
    """The action lost a race or no longer fits (409 Conflict): someone else got there first."""


def _require_coordinator(user, sites) -> None:
    if user.is_superuser:
        return
    if not ProgrammeSite.objects.filter(pk__in=[s.pk for s in sites], coordinators=user).exists():
        raise PermissionDenied(_("Only a coordinator of this programme site may do that."))


def match_run_start(*, programme, started_by, scope, site=None, crisis_centre=None) -> MatchRun:
    """Record a run and queue it once the transaction commits."""
    from matching.tasks import match_run_task

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
    transaction.on_commit(lambda: match_run_task.delay(run.pk))
    return run


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
    return list(sites)


def match_run_execute(run_id: int) -> MatchRun:
    """Gather → solve → persist. A run that already succeeded is left as it is."""
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
    MatchRun.objects.filter(pk=run.pk).update(timings=run.timings)
    saved.timings = run.timings
    return saved


def _claim(run_id: int) -> MatchRun | None:
    with transaction.atomic():
        run = MatchRun.objects.select_for_update().get(pk=run_id)
        if run.status == MatchRun.Status.SUCCEEDED:
            return None
        run.status, run.started_at, run.error = MatchRun.Status.RUNNING, timezone.now(), ""
        run.save(update_fields=["status", "started_at", "error"])
    return run


def _timed(run: MatchRun, phase: str, progress: int, work):
    MatchRun.objects.filter(pk=run.pk).update(phase=phase, progress=progress)
    started = time.perf_counter()
    outcome = work()
    run.timings[phase] = round(time.perf_counter() - started, 3)
    return outcome


def _fail(run: MatchRun, error: Exception) -> None:
    log.exception("Match run %s failed", run.pk)
    MatchRun.objects.filter(pk=run.pk).update(
        status=MatchRun.Status.FAILED,
        error=f"{type(error).__name__}: {error}",
        finished_at=timezone.now(),
        timings=run.timings,
    )


def _pk(key: str) -> int:
    return int(key[1:])


def _persist(run: MatchRun, instance: engine.Instance, result: engine.MatchResult) -> MatchRun:
    with transaction.atomic():
        run = MatchRun.objects.select_for_update().get(pk=run.pk)
        if run.status == MatchRun.Status.SUCCEEDED:
            return run
        moved = referrals_mark_proposed([_pk(a.referral) for a in result.assignments])
        proposals = _save_proposals(
            run, [a for a in result.assignments if _pk(a.referral) in moved]
        )
        UnmatchedReferral.objects.bulk_create(
            UnmatchedReferral(
                run=run, referral_id=_pk(u.referral), reason=u.reason, detail=u.detail
            )
            for u in result.unmatched
        )
        run.status, run.phase, run.progress = MatchRun.Status.SUCCEEDED, Phase.DONE, 100
        run.finished_at = timezone.now()
        run.referrals_considered = len(instance.referrals)
        run.volunteers_considered = len(instance.volunteers)
        run.proposals_made, run.unmatched_count = len(proposals), len(result.unmatched)
        run.save()
    return run


def _save_proposals(run: MatchRun, assignments) -> list[Proposal]:
    proposals = Proposal.objects.bulk_create(
        Proposal(run=run, referral_id=_pk(a.referral), cost=sum(p.cost for p in a.pairs))
        for a in assignments
    )
    objects_log_created(proposals)
    ProposalPair.objects.bulk_create(
        ProposalPair(
            proposal=proposal,
            volunteer_id=_pk(pair.volunteer),
            distance_km=pair.distance_km,
            overlap_hours=pair.overlap_hours,
            shared_languages=list(pair.shared_languages),
            cost=pair.cost,
        )
        for proposal, assignment in zip(proposals, assignments, strict=True)
        for pair in assignment.pairs
    )
    return proposals


def proposal_approve(proposal: Proposal, *, by) -> Match:
    """Approve a proposal: the volunteers commit capacity (row-locked, and a database constraint
    forbids going over it), the referral is matched and an agreement is drawn up."""
    from matching.agreements import agreement_create

    _require_coordinator(by, [proposal.referral.site])
    with transaction.atomic():
        proposal = _lock_pending(proposal)
        _commit_capacity(list(proposal.pairs.values_list("volunteer_id", flat=True)))
        referral_transition(proposal.referral, Referral.Status.MATCHED)
        match = Match.objects.create(referral=proposal.referral, proposal=proposal, approved_by=by)
        places = MatchVolunteer.objects.bulk_create(
            MatchVolunteer(match=match, volunteer_id=pair.volunteer_id)
            for pair in proposal.pairs.all()
        )
        objects_log_created(places)
        _mark_reviewed(proposal, Proposal.Status.APPROVED, by)
        agreement_create(match)
        notify_match_approved(match)
    return match


def _lock_pending(proposal: Proposal) -> Proposal:
    locked = Proposal.objects.select_for_update().select_related("referral").get(pk=proposal.pk)
    if locked.status != Proposal.Status.PENDING:
        raise MatchConflict(_("This proposal was already %s.") % locked.get_status_display())
    return locked


def _commit_capacity(volunteer_ids: list[int]) -> None:
    # Lock in a fixed order so two approvals sharing volunteers cannot deadlock.
    volunteers = Volunteer.objects.select_for_update().filter(pk__in=volunteer_ids).order_by("pk")
    for volunteer in volunteers:
        if volunteer.status != Volunteer.Status.ACTIVE:
            raise MatchConflict(_("%s is no longer active.") % volunteer)
        if volunteer.commitments >= volunteer.capacity:
            raise MatchConflict(_("%s has no free capacity any more.") % volunteer)
    try:
        with transaction.atomic():
            committing = Volunteer.objects.filter(pk__in=volunteer_ids)
            queryset_update_logged(committing, commitments=F("commitments") + 1)
    except IntegrityError as error:
        raise MatchConflict(_("A volunteer has no free capacity any more.")) from error


def capacity_release(volunteer_ids: list[int]) -> None:
    committed = Volunteer.objects.filter(pk__in=volunteer_ids, commitments__gt=0)
    queryset_update_logged(committed, commitments=F("commitments") - 1)


def _mark_reviewed(proposal: Proposal, status: str, by, reason: str = "") -> None:
    proposal.status, proposal.reviewed_by, proposal.reviewed_at = status, by, timezone.now()
    proposal.rejection_reason = reason
    proposal.save(update_fields=["status", "reviewed_by", "reviewed_at", "rejection_reason"])


def proposal_reject(proposal: Proposal, *, by, reason: str) -> Proposal:
    """Reject with a reason: the referral waits again and none of the pairs is proposed again."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the proposal is rejected.")})
    _require_coordinator(by, [proposal.referral.site])
    with transaction.atomic():
        proposal = _lock_pending(proposal)
        RejectedPair.objects.bulk_create(
            [
                RejectedPair(
                    referral=proposal.referral, volunteer_id=v, rejected_by=by, reason=reason
                )
                for v in proposal.pairs.values_list("volunteer_id", flat=True)
            ],
            ignore_conflicts=True,
        )
        _mark_reviewed(proposal, Proposal.Status.REJECTED, by, reason.strip())
        referral_transition(proposal.referral, Referral.Status.WAITING)
    return proposal
