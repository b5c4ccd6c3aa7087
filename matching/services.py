"""Starting match runs: a coordinator starts one for a site, a crisis centre or a programme,
or a replacement search for a match that lost a volunteer, and restarts one that failed. Each is
recorded and queued once the transaction commits; what the worker then does is in
matching/runs.py. The review of their proposals, agreements and the end of matches are steps of
the joint lifecycle in matching/lifecycle.py.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import sites_coordinated_by
from matching.lifecycle import MatchConflict
from matching.models import (
    Match,
    MatchRun,
)
from matching.selectors import rules_for
from matching.tasks import match_run_task
from outbox.services import task_send_after_commit
from programmes.models import ProgrammeSite

Phase = MatchRun.Phase

__all__ = ["MatchConflict", "match_run_restart", "match_run_start", "replacement_search_start"]


def _require_coordinator(user, sites) -> None:
    """All or nothing: a run touches every site in its scope, so the user must coordinate each
    one of them (admins may run anything)."""
    if not sites:
        raise ValidationError({"scope": _("This programme has no site there to run for.")})
    wanted = {site.pk for site in sites}
    if sites_coordinated_by(user).filter(pk__in=wanted).count() < len(wanted):
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
    sites = [run.match.referral.site] if run.match is not None else _sites_of(run)
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
