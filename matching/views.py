"""Agreement pages: the printable copy, and the signatures of volunteer, crisis centre and
coordinator; the coordinator's dashboard, match runs and the review of their proposals. Each
view reads through a scoped selector and calls one service."""

import datetime

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

from matching import agreements, charts, lifecycle, services
from matching.followup import VETTING_WARNING_DAYS
from matching.forms import MatchRunForm, RejectForm
from matching.models import CheckIn, Match, MatchRun
from matching.selectors import (
    agreements_visible_to,
    check_ins_due_for,
    dashboard_map_for,
    match_runs_visible_to,
    matches_managed_by,
    matches_per_month_for,
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
    match = agreement.match
    context = {
        "agreement": agreement,
        "referral": match.referral,
        "places": match.volunteers.select_related("volunteer__user"),
        "is_own_volunteer_place": match.volunteers.filter(volunteer__user=request.user).exists(),
    }
    referrals_log_read(request.user, [match.referral_id], "portal")
    return render(request, "matching/agreement.html", context)


SIGNATURES = {
    "accept": lifecycle.agreement_accept,
    "consent": lifecycle.agreement_record_consent,
    "countersign": lifecycle.agreement_countersign,
}


@login_required
@require_POST
def agreement_sign(request, pk, step):
    agreement = get_object_or_404(agreements_visible_to(request.user), pk=pk)
    try:
        if step == "decline":
            lifecycle.agreement_decline(
                agreement, by=request.user, reason=request.POST.get("reason", "")
            )
        else:
            SIGNATURES[step](agreement, by=request.user)
    except (PermissionDenied, ValidationError) as error:
        text = error.messages[0] if isinstance(error, ValidationError) else str(error)
        messages.error(request, text)
        return redirect("agreement", pk=pk)
    messages.success(request, _("Saved."))
    return redirect("home")


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


@login_required
def dashboard(request):
    _deny_unless_coordinator(request.user)
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
        "runs": match_runs_visible_to(user)[:RECENT_RUNS],
        "today": today,
    }
    context |= _map_context(user) | _charts_context(user, today)
    referrals_log_read(user, referral_ids_of(context["to_accept"], context["overdue"]), "portal")
    return render(request, "matching/dashboard.html", context)


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
    run = get_object_or_404(match_runs_visible_to(request.user), pk=pk)
    unmatched = run.unmatched.filter(referral__in=referrals_visible_to(request.user))
    context = {
        "run": run,
        "in_progress": run.status in (MatchRun.Status.QUEUED, MatchRun.Status.RUNNING),
        "proposals": proposals_visible_to(request.user).filter(run=run),
        "unmatched_groups": _group_by_reason(unmatched.select_related("referral")),
    }
    referrals_log_read(request.user, referral_ids_of(context["proposals"], unmatched), "portal")
    return render(request, "matching/match_run.html", context)


def _group_by_reason(unmatched) -> list[tuple[str, list]]:
    groups: dict[str, list] = {}
    for row in unmatched.order_by("reason", "referral__alias"):
        groups.setdefault(row.reason, []).append(row)
    return [(UNMATCHED_REASONS.get(reason, reason), rows) for reason, rows in groups.items()]


@login_required
@require_POST
def proposal_review(request, pk, decision):
    proposal = get_object_or_404(proposals_visible_to(request.user), pk=pk)
    try:
        if decision == "approve":
            lifecycle.proposal_approve(proposal, by=request.user)
        elif decision == "reject":
            _reject(request, proposal)
        else:
            raise Http404
    except lifecycle.MatchConflict as error:
        messages.error(request, _("Someone else got there first: %s") % error)
    except (PermissionDenied, ValidationError) as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("Proposal for %s is saved.") % proposal.referral.alias)
    return redirect("match_run", pk=proposal.run_id)


def _reject(request, proposal) -> None:
    form = RejectForm(request.POST)
    if not form.is_valid():
        raise ValidationError(_("Why reject? Give a reason."))
    lifecycle.proposal_reject(proposal, by=request.user, reason=form.cleaned_data["reason"])
