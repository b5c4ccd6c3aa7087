"""Agreement pages: the printable copy, and the signatures of volunteer, crisis centre and
coordinator; the coordinator's dashboard, match runs and the review of their proposals. Each
view reads through a scoped selector and calls one service."""

import datetime
from functools import partial

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from matching import agreements, charts, lifecycle, services, wording
from matching.followup import VETTING_WARNING_DAYS
from matching.forms import (
    END_REQUEST_REASONS,
    ApproveForm,
    EndMatchForm,
    EndRequestForm,
    MatchRunForm,
    RejectForm,
    ReleaseForm,
)
from matching.models import CheckIn, Match, MatchRun, MatchVolunteer, Proposal
from matching.selectors import (
    agreements_visible_to,
    check_ins_due_for,
    dashboard_map_for,
    match_runs_visible_to,
    matches_managed_by,
    matches_per_month_for,
    participant_view_for,
    proposals_visible_to,
)
from programmes.audit import referral_ids_of, referrals_log_read
from programmes.models import Referral
from programmes.selectors import (
    referral_waiting_by_site,
    referrals_coordinated_by,
    referrals_visible_to,
    sites_visible_to,
)
from volunteers.models import VettingRecord, Volunteer
from volunteers.selectors import volunteers_visible_to

RECENT_RUNS = 10
REQUEST_WORDS = dict(END_REQUEST_REASONS)
UNMATCHED_REASONS = {
    "no_volunteer_within_distance": gettext_lazy("No volunteer within travel distance"),
    "no_shared_language": gettext_lazy("No volunteer with a shared language"),
    "no_availability_overlap": gettext_lazy("No overlap in weekly availability"),
    "gender_preference": gettext_lazy("No volunteer of the preferred gender"),
    "safety_exclusion": gettext_lazy("Excluded for safety"),
    "rejected_before": gettext_lazy("Only candidates already rejected"),
    "not_enough_volunteers": gettext_lazy("Not enough volunteers"),
    "capacity_taken": gettext_lazy("Volunteers' capacity taken by other referrals"),
}


@login_required
def agreement_detail(request, pk):
    agreement = get_object_or_404(agreements_visible_to(request.user), pk=pk)
    return _agreement_page(request, agreement)


def _agreement_page(request, agreement, *, end_form=None, status=200):
    """Managers (coordinators, centre staff, admins) see the whole agreement and its state; a
    volunteer sees it while their place is current in an open match, and afterwards only the
    alias and that it ended."""
    match, user = agreement.match, request.user
    places = list(match.volunteers.select_related("volunteer__user").order_by("pk"))
    own = next((place for place in places if place.volunteer.user_id == user.pk), None)
    managing = matches_managed_by(user).filter(pk=match.pk).exists()
    taking_part = own is not None and own.is_current and match.is_open
    context = {
        "agreement": agreement,
        "referral": match.referral,
        "match": match,
        "managing": managing,
        "full_view": managing or taking_part,
        "state": wording.match_state(match) if managing or taking_part else [],
        "own_part": wording.own_part(match, own) if own and not (managing or taking_part) else "",
        "participant": participant_view_for(match, own.volunteer) if own else None,
        "signatures": [(place, wording.place_signature(place)) for place in places],
        "own_place": own if taking_part else None,
        "end_form": end_form or EndRequestForm(prefix="end"),
    }
    context |= _signing_context(user, agreement, own if taking_part else None)
    referrals_log_read(user, [match.referral_id], "portal")
    return render(request, "matching/agreement.html", context, status=status)


def _signing_context(user, agreement, own) -> dict:
    """Which signature this user may give now, and, for the coordinator, whom the
    countersignature still waits for (it comes last)."""
    match, site = agreement.match, agreement.match.referral.site
    awaiting = match.status == Match.Status.AWAITING_AGREEMENT
    coordinator = user.is_superuser or site.coordinators.filter(pk=user.pk).exists()
    staff = site.crisis_centre.staff.filter(pk=user.pk).exists()
    return {
        "can_accept": own is not None and own.accepted_at is None,
        "can_decline": own is not None and awaiting,
        "can_ask_to_end": own is not None and match.status == Match.Status.ACTIVE,
        "can_record_consent": staff and awaiting and agreement.consent_recorded_at is None,
        "countersigning": coordinator and awaiting and agreement.countersigned_at is None,
        "countersign_waits_for": lifecycle.agreement_waiting_for(agreement) if awaiting else [],
    }


SIGNATURES = {
    "accept": lifecycle.agreement_accept,
    "consent": lifecycle.agreement_record_consent,
    "countersign": lifecycle.agreement_countersign,
}
SIGNED = {
    "accept": gettext_lazy("You have accepted the agreement."),
    "consent": gettext_lazy("The participant's consent is recorded."),
    "countersign": gettext_lazy("The agreement is countersigned and the match is active."),
    "decline": gettext_lazy(
        "You have declined the agreement. Your coordinator is told; you will not be proposed "
        "for this participant again."
    ),
}


@login_required
@require_POST
def agreement_sign(request, pk, step):
    agreement = get_object_or_404(agreements_visible_to(request.user), pk=pk)
    if step != "decline" and step not in SIGNATURES:
        raise Http404
    try:
        if step == "decline":
            lifecycle.agreement_decline(
                agreement, by=request.user, reason=request.POST.get("reason", "")
            )
        else:
            SIGNATURES[step](agreement, by=request.user)
    except (PermissionDenied, ValidationError, lifecycle.MatchConflict) as error:
        messages.error(request, _error_text(error))
        return redirect("agreement", pk=pk)
    messages.success(request, SIGNED[step])
    return redirect("home")


@login_required
@require_POST
def agreement_end_request(request, pk):
    """A volunteer asks to end their part; for safety it takes effect at once."""
    agreement = get_object_or_404(agreements_visible_to(request.user), pk=pk)
    form = EndRequestForm(request.POST, prefix="end")
    step = partial(lifecycle.match_end_request, agreement.match, by=request.user)
    status = _attempt(request, form, step)
    if status == 400:
        return _agreement_page(request, agreement, end_form=form, status=status)
    if status is None:
        messages.success(request, _end_request_said(form.cleaned_data["reason"]))
    return redirect("agreement", pk=pk)


def _end_request_said(reason: str) -> str:
    if reason == Match.EndReason.SAFETY:
        return _("The match has ended. Your coordinator will get in touch with you.")
    return _("Your coordinator is told and will confirm the ending with you.")


def _attempt(request, form, step) -> int | None:
    """Run a lifecycle step with a valid form's values. If the form or the step refuses, the
    reason goes on the form and the HTTP status to answer with is returned; a step that no
    longer fits (someone else acted first) is told as a message above the page it redirects to,
    since the form may no longer be there."""
    if not form.is_valid():
        return 400
    arguments = form.step_arguments() if hasattr(form, "step_arguments") else form.cleaned_data
    try:
        step(**arguments)
    except lifecycle.MatchConflict as error:
        messages.error(request, str(error))
        return 409
    except ValidationError as error:
        form.add_service_errors(error)
        return 400
    return None


class CheckInForm(forms.ModelForm):
    class Meta:
        model = CheckIn
        fields = ["meetings_held", "wellbeing", "wants_contact"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["wellbeing"].required = True


@login_required
def check_in(request, pk):
    due = get_object_or_404(check_ins_due_for(request.user, timezone.localdate()), pk=pk)
    form = CheckInForm(request.POST or None, instance=due)
    if request.method == "POST" and form.is_valid():
        agreements.check_in_answer(due, by=request.user, **form.cleaned_data)
        messages.success(request, _("Thank you, your answers are saved."))
        return redirect("home")
    referrals_log_read(request.user, [due.match.referral_id], "portal")
    return render(request, "matching/check_in.html", {"form": form, "check_in": due})


def _coordinated_sites(user):
    sites = sites_visible_to(user)
    return sites if user.is_superuser else sites.filter(coordinators=user)


def _deny_unless_coordinator(user):
    if not _coordinated_sites(user).exists():
        raise PermissionDenied


def _coordinated_matches(user):
    return matches_managed_by(user).filter(referral__site__in=_coordinated_sites(user))


@login_required
def dashboard(request):
    _deny_unless_coordinator(request.user)
    services.match_runs_fail_stale()
    today = timezone.localdate()
    user = request.user
    sites = _with_waiting_days(
        referral_waiting_by_site(user).filter(pk__in=_coordinated_sites(user)), today
    )
    volunteers = volunteers_visible_to(user)
    context = {
        "sites": sites,
        "to_accept": referrals_coordinated_by(user).filter(status=Referral.Status.SUBMITTED),
        "volunteers_by_status": _count_by_status(volunteers),
        "expiring": _vetting_expiring_among(volunteers, today),
        "overdue": _check_ins_overdue(user, today),
        "runs": match_runs_visible_to(user).select_related("match__referral")[:RECENT_RUNS],
        "today": today,
    }
    context |= _matches_context(user)
    context |= _map_context(user) | _charts_context(user, today)
    shown = [context[key] for key in ("to_accept", "overdue", "open_matches")]
    referrals_log_read(user, referral_ids_of(*shown), "portal")
    return render(request, "matching/dashboard.html", context)


def _matches_context(user) -> dict:
    """Open matches, those that lost a volunteer, and volunteers who ask to end."""
    open_matches = _coordinated_matches(user).filter(status__in=Match.OPEN_STATUSES)
    end_requests = MatchVolunteer.objects.filter(
        match__in=open_matches, left_at__isnull=True, end_requested_at__isnull=False
    )
    open_matches = open_matches.select_related("referral__site__programme")
    return {
        "open_matches": open_matches,
        "needing_replacement": [m for m in open_matches if m.needs_replacement],
        "end_requests": [
            {"place": place, "words": REQUEST_WORDS.get(place.end_request_reason, "")}
            for place in end_requests.select_related("volunteer__user", "match__referral")
        ],
    }


def _map_context(user) -> dict:
    data = dashboard_map_for(user)
    places = data["places"]
    counts = [(p["lat"], p["lon"], p["waiting"], p["volunteers"]) for p in places]
    return {"norway_map": charts.norway_map(data["outline"], counts), "map_places": places}


TREND_CHARTS = [
    {
        "id": "matches-chart",
        "column": "matches",
        "title": gettext_lazy("Matches made per month"),
        "y_axis": gettext_lazy("Number of matches"),
        "desc": gettext_lazy(
            "Bar chart of the matches made in each of the last 12 months. "
            "The table below gives the numbers."
        ),
    },
    {
        "id": "wait-chart",
        "column": "median_wait_days",
        "title": gettext_lazy("Median waiting time per month"),
        "y_axis": gettext_lazy("Median days waited"),
        "desc": gettext_lazy(
            "Bar chart of the median number of days matched referrals had waited, per month of "
            "the match. Months without matches have no bar. The table below gives the numbers."
        ),
    },
]


def _charts_context(user, today) -> dict:
    months = matches_per_month_for(user, today)
    labels = [row["month"] for row in months]
    drawn = [
        spec | {"chart": charts.bar_chart([row[spec["column"]] for row in months], labels)}
        for spec in TREND_CHARTS
    ]
    return {"months": months, "trend_charts": drawn}


# These two read within the role-scoped selectors' results; they belong in the selectors
# modules once those are open for edits.
def _vetting_expiring_among(volunteers, today):
    until = today + datetime.timedelta(days=VETTING_WARNING_DAYS)
    records = VettingRecord.objects.filter(volunteer__in=volunteers)
    return records.filter(expires_on__gte=today, expires_on__lte=until).select_related(
        "volunteer__user"
    )


def _check_ins_overdue(user, today):
    active = matches_managed_by(user).filter(status=Match.Status.ACTIVE)
    return CheckIn.objects.filter(
        match__in=active, answered_at__isnull=True, due_on__lt=today
    ).select_related("match__referral")


def _with_waiting_days(sites, today) -> list:
    sites = list(sites)
    for site in sites:
        since = site.waiting_since
        site.waiting_days = (today - timezone.localdate(since)).days if since else None
    return sites


def _count_by_status(volunteers) -> list[dict]:
    counted = volunteers.order_by().values_list("status").annotate(n=Count("pk", distinct=True))
    counts = dict(counted)
    return [
        {"status": value, "label": label, "count": counts.get(value, 0)}
        for value, label in Volunteer.Status.choices
    ]


@login_required
def match_detail(request, pk):
    match = get_object_or_404(_coordinated_matches(request.user), pk=pk)
    return _match_page(request, match)


def _match_page(request, match, *, end_form=None, release_form=None, status=200):
    """The coordinator's view of one match: where it stands, who is in it (and who left or asks
    to end), and the ways to act on it. A form sent back with errors replaces its blank one."""
    places = list(match.volunteers.select_related("volunteer__user").order_by("pk"))
    context = {
        "match": match,
        "referral": match.referral,
        "agreement": match.agreement,
        "state": wording.match_state(match),
        "places": [_place_row(match, place, release_form) for place in places],
        "end_form": end_form or EndMatchForm(prefix="end"),
        "withdrawable": match.referral.status in lifecycle.OPEN_REFERRAL,
    }
    context |= _replacement_context(match)
    referrals_log_read(request.user, [match.referral_id], "portal")
    return render(request, "matching/match.html", context, status=status)


def _place_row(match, place, sent_form) -> dict:
    form = None
    if match.is_open and place.is_current:
        prefix = f"release-{place.pk}"
        fresh = ReleaseForm(prefix=prefix, initial={"reason": place.end_request_reason or None})
        form = sent_form if sent_form is not None and sent_form.prefix == prefix else fresh
    return {
        "place": place,
        "signature": wording.place_signature(place),
        "request_words": REQUEST_WORDS.get(place.end_request_reason, ""),
        "release_form": form,
    }


def _replacement_context(match) -> dict:
    """A replacement already proposed or being searched for, else whether to start a search."""
    pending = match.replacement_proposals.filter(status=Proposal.Status.PENDING).first()
    searching = match.replacement_runs.filter(status__in=services.IN_PROGRESS).first()
    return {
        "replacement_proposal": pending,
        "replacement_run": searching,
        "last_replacement_run": match.replacement_runs.order_by("-created_at").first(),
        "can_search": match.is_open and match.needs_replacement and not (pending or searching),
    }


def _coordinated_match(request, pk):
    return get_object_or_404(
        _coordinated_matches(request.user).select_related("referral__site__programme"), pk=pk
    )


@login_required
@require_POST
def match_end_view(request, pk):
    match = _coordinated_match(request, pk)
    form = EndMatchForm(request.POST, prefix="end")
    status = _attempt(request, form, partial(lifecycle.match_end, match, by=request.user))
    if status == 400:
        return _match_page(request, match, end_form=form, status=status)
    if status is None:
        messages.success(request, _("The match for %s has ended.") % match.referral.alias)
    return redirect("coordinator_match", pk=pk)


@login_required
@require_POST
def match_volunteer_release_view(request, pk, place_pk):
    match = _coordinated_match(request, pk)
    place = get_object_or_404(match.volunteers.select_related("volunteer__user"), pk=place_pk)
    form = ReleaseForm(request.POST, prefix=f"release-{place.pk}")
    step = partial(
        lifecycle.match_volunteer_release, match, volunteer=place.volunteer, by=request.user
    )
    status = _attempt(request, form, step)
    if status == 400:
        return _match_page(request, match, release_form=form, status=status)
    if status is None:
        messages.success(
            request,
            _("%(name)s is no longer part of the match for %(alias)s.")
            % {"name": place.volunteer, "alias": match.referral.alias},
        )
    return redirect("coordinator_match", pk=pk)


@login_required
@require_POST
def match_replacement_search(request, pk):
    match = _coordinated_match(request, pk)
    try:
        run = services.replacement_search_start(match, by=request.user)
    except lifecycle.MatchConflict as error:
        messages.error(request, str(error))
        return redirect("coordinator_match", pk=pk)
    return redirect("match_run", pk=run.pk)


@login_required
@require_POST
def referral_accept_view(request, pk):
    referral = get_object_or_404(referrals_coordinated_by(request.user), pk=pk)
    try:
        lifecycle.referral_accept(referral, by=request.user)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("%s is now waiting for a volunteer.") % referral.alias)
    return redirect("dashboard")


@login_required
@require_POST
def match_run_start_view(request):
    form = MatchRunForm(request.POST, sites=_coordinated_sites(request.user))
    if not form.is_valid():
        raise Http404
    site = form.cleaned_data["site"]
    try:
        run = services.match_run_start(
            programme=site.programme, started_by=request.user, scope=MatchRun.Scope.SITE, site=site
        )
    except (PermissionDenied, ValidationError) as error:
        messages.error(request, _error_text(error))
        return redirect("dashboard")
    return redirect("match_run", pk=run.pk)


def _error_text(error: Exception) -> str:
    return error.messages[0] if isinstance(error, ValidationError) else str(error)


@login_required
def match_run_detail(request, pk):
    # Without celery beat (the eager demo) a run whose worker died is only found out here.
    services.match_runs_fail_stale()
    run = get_object_or_404(match_runs_visible_to(request.user), pk=pk)
    return _run_page(request, run)


def _run_page(request, run, *, approve_errors=None, status=200):
    unmatched = run.unmatched.filter(referral__in=referrals_visible_to(request.user))
    proposals = _with_replacement_words(
        proposals_visible_to(request.user)
        .filter(run=run)
        .select_related(
            "replacement_for__referral", "replacement_for__agreement", "match__agreement"
        )
    )
    for proposal in proposals:
        proposal.approve_errors = (approve_errors or {}).get(proposal.pk, [])
    context = {
        "run": run,
        "in_progress": run.status in services.IN_PROGRESS,
        "proposals": proposals,
        "unmatched_groups": _group_by_reason(unmatched.select_related("referral")),
    }
    referrals_log_read(request.user, referral_ids_of(proposals, unmatched), "portal")
    return render(request, "matching/match_run.html", context, status=status)


def _with_replacement_words(proposals) -> list[Proposal]:
    """Name what each proposal is for: a new match, or a volunteer to join those who stay in a
    match that lost one; and the match an approved proposal made or joined."""
    proposals = list(proposals)
    for proposal in proposals:
        joined = proposal.replacement_for
        proposal.staying = ""
        if joined is not None:
            staying = joined.volunteers.filter(left_at__isnull=True).select_related(
                "volunteer__user"
            )
            proposal.staying = ", ".join(str(place.volunteer) for place in staying)
        # A replacement joins the match it was proposed for; a new proposal makes its own.
        proposal.made_match = joined or getattr(proposal, "match", None)
    return proposals


@login_required
@require_POST
def match_run_restart_view(request, pk):
    run = get_object_or_404(match_runs_visible_to(request.user), pk=pk)
    try:
        services.match_run_restart(run, by=request.user)
    except lifecycle.MatchConflict as error:
        messages.error(request, str(error))
    return redirect("match_run", pk=pk)


def _group_by_reason(unmatched) -> list[tuple[str, list]]:
    groups: dict[str, list] = {}
    for row in unmatched.order_by("reason", "referral__alias"):
        groups.setdefault(row.reason, []).append(row)
    return [(UNMATCHED_REASONS.get(reason, reason), rows) for reason, rows in groups.items()]


@login_required
@require_POST
def proposal_review(request, pk, decision):
    proposal = get_object_or_404(proposals_visible_to(request.user), pk=pk)
    if decision not in ("approve", "reject"):
        raise Http404
    try:
        if decision == "approve":
            _approve(request, proposal)
        else:
            _reject(request, proposal)
    except lifecycle.MatchConflict as error:
        messages.error(request, _("Someone else got there first: %s") % error)
    except ValidationError as error:
        unacknowledged = getattr(error, "error_dict", {}).get("acknowledge_vetting_expiry")
        if unacknowledged:
            errors = {proposal.pk: ValidationError(unacknowledged).messages}
            return _run_page(request, proposal.run, approve_errors=errors, status=400)
        messages.error(request, _error_text(error))
    except PermissionDenied as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("Proposal for %s is saved.") % proposal.referral.alias)
    return redirect("match_run", pk=proposal.run_id)


def _approve(request, proposal) -> None:
    form = ApproveForm(request.POST)
    acknowledged = form.is_valid() and form.cleaned_data["acknowledge_vetting_expiry"]
    lifecycle.proposal_approve(proposal, by=request.user, acknowledge_vetting_expiry=acknowledged)


def _reject(request, proposal) -> None:
    form = RejectForm(request.POST)
    if not form.is_valid():
        raise ValidationError(_("Why reject? Give a reason."))
    lifecycle.proposal_reject(proposal, by=request.user, reason=form.cleaned_data["reason"])
