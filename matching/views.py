"""Agreement pages: the printable copy, and the signatures of volunteer, crisis centre and
coordinator; the coordinator's dashboard, match runs and the review of their proposals. Each
view reads through a scoped selector and calls one service."""

from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, QuerySet, Window
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.roles import COORDINATING_ROLES, require_role, sites_coordinated_by, user_coordinates
from matching import charts, check_ins, lifecycle, proposing, reasons, runs, services, wording
from matching.forms import (
    END_REQUEST_REASONS,
    ApproveForm,
    ApproveSelectedForm,
    CheckInForm,
    CheckInHandledForm,
    EndMatchForm,
    EndRequestForm,
    HandProposalForm,
    MatchRunForm,
    RejectForm,
    ReleaseForm,
)
from matching.models import CheckIn, Match, MatchRun, MatchVolunteer, Proposal, UnmatchedReferral
from matching.selectors import (
    agreements_visible_to,
    dashboard_figures_for,
    match_runs_visible_to,
    matches_managed_by,
    participant_view_for,
    proposals_visible_to,
)
from programmes.activities import activities_by_code, activity_names, activity_names_of
from programmes.audit import referral_ids_of, referrals_log_read
from programmes.languages import levels_in_words
from programmes.models import Referral
from programmes.selectors import (
    referral_waiting_by_site,
    referrals_coordinated_by,
    referrals_visible_to,
)
from volunteers.models import VettingRecord, Volunteer
from volunteers.selectors import (
    VETTING_WARNING_DAYS,
    vetting_expiring_soon,
    volunteers_managed_by,
    volunteers_visible_to,
)

RECENT_RUNS = 10
# Rows each of the dashboard's lists shows; the rest are in the full list it links to.
DASHBOARD_LIST_SIZE = 20
# Proposals on one page of a run's review (a programme-wide run can propose hundreds).
RUN_PAGE_SIZE = 50
REQUEST_WORDS = dict(END_REQUEST_REASONS)


@login_required
def agreement_detail(request, pk):
    agreement = get_object_or_404(agreements_visible_to(request.user), pk=pk)
    return _agreement_page(request, agreement)


def _agreement_page(request, agreement, *, end_form=None, status=200):
    """Managers (coordinators, centre staff, admins) see the whole agreement and its state; a
    volunteer sees it while their place is current in an open match, and afterwards only the
    alias and that it ended."""
    match, user = agreement.match, request.user
    places = list(
        match.volunteers.select_related(
            "volunteer__user", "volunteer__home_postal_code__municipality"
        ).order_by("pk")
    )
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
        "linked": _volunteers_linked_for(user, places),
        "own_place": own if taking_part else None,
        "end_form": end_form or EndRequestForm(prefix="end"),
    }
    context |= _signing_context(user, agreement, own if taking_part else None)
    referrals_log_read(user, [match.referral_id], "portal")
    return render(request, "matching/agreement.html", context, status=status)


def _volunteers_linked_for(user, places) -> set[int]:
    """The volunteers this reader may open the page of (their coordinators): others, such as
    the centre's staff or the other volunteer, see the name alone."""
    managed = volunteers_managed_by(user).filter(
        pk__in=[place.volunteer_id for place in places], erased_at__isnull=True
    )
    return set(managed.values_list("pk", flat=True))


def _signing_context(user, agreement, own) -> dict:
    """Which signature this user may give now, and, for the coordinator, whom the
    countersignature still waits for (it comes last)."""
    match, site = agreement.match, agreement.match.referral.site
    awaiting = match.status == Match.Status.AWAITING_AGREEMENT
    coordinator = user_coordinates(user, site)
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


@login_required
def check_in(request, pk):
    """A volunteer answers a due check-in. One already answered (by the other volunteer of a
    pair, or in another tab), or of a match that ended or the volunteer left, says so instead."""
    due = get_object_or_404(check_ins.check_ins_reachable_by(request.user), pk=pk)
    refusal = check_ins.check_in_refusal(due, request.user)
    if refusal:
        messages.info(request, refusal)
        return redirect("home")
    form = CheckInForm(request.POST or None)
    if request.method == "POST":
        status = _attempt(request, form, partial(check_ins.check_in_answer, due, by=request.user))
        if status is None:
            messages.success(request, _check_in_thanks(form.cleaned_data))
        if status != 400:
            return redirect("home")
    referrals_log_read(request.user, [due.match.referral_id], "portal")
    context = {"form": form, "check_in": due}
    return render(request, "matching/check_in.html", context, status=form.http_status)


def _check_in_thanks(answer: dict) -> str:
    if answer["wants_contact"]:
        return _("Thank you. Your coordinator is told and will get in touch with you.")
    if answer["wellbeing"] == CheckIn.Wellbeing.POOR:
        return _("Thank you. Your coordinator is told that it is not working.")
    return _("Thank you, your answers are saved.")


@login_required
@require_POST
def check_in_handled(request, pk):
    """A coordinator marks a check-in followed up, from the match page or the dashboard."""
    match_ids = _coordinated_matches(request.user).values("pk")
    due = get_object_or_404(CheckIn.objects.filter(match__in=match_ids), pk=pk)
    form = CheckInHandledForm(request.POST, prefix=f"handled-{due.pk}")
    step = partial(check_ins.check_in_mark_handled, due, by=request.user)
    status = _attempt(request, form, step)
    if status == 400:
        match = _coordinated_match(request, due.match_id)
        return _match_page(request, match, handled_form=form, status=status)
    if status is None:
        messages.success(request, _("The check-in is marked handled."))
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        return redirect(back)
    return redirect("coordinator_match", pk=due.match_id)


def _coordinated_matches(user):
    return matches_managed_by(user).filter(referral__site__in=sites_coordinated_by(user))


@login_required
def dashboard(request):
    require_role(request.user, *COORDINATING_ROLES)
    runs.match_runs_fail_stale()
    today = timezone.localdate()
    user = request.user
    sites = _with_waiting_days(
        referral_waiting_by_site(user).filter(pk__in=sites_coordinated_by(user)), today
    )
    volunteers = volunteers_visible_to(user)
    to_accept = referrals_coordinated_by(user).filter(status=Referral.Status.SUBMITTED)
    expiring = _vetting_expiring_among(volunteers, today)
    attention = check_ins.check_ins_needing_attention(user, today)
    to_accept_shown, to_accept_count = _first_rows_and_count(to_accept)
    expiring_shown, expiring_count = _first_rows_and_count(expiring)
    attention_shown, attention_count = _first_rows_and_count(attention)
    context = {
        "sites": sites,
        "to_accept": to_accept_shown,
        "to_accept_count": to_accept_count,
        "volunteers_by_status": _count_by_status(volunteers),
        "expiring": expiring_shown,
        "expiring_count": expiring_count,
        "warning_days": VETTING_WARNING_DAYS,
        "needs_attention": _needs_attention(attention_shown, today),
        "needs_attention_count": attention_count,
        "runs": match_runs_visible_to(user).select_related("match__referral")[:RECENT_RUNS],
        "today": today,
    }
    context |= _matches_context(user)
    figures = dashboard_figures_for(user, today)
    context |= _map_context(figures["map"]) | _charts_context(figures["months"])
    context["figures_as_of"] = figures["as_of"]
    shown = [context[key] for key in ("to_accept", "needs_attention", "open_matches")]
    referrals_log_read(user, referral_ids_of(*shown), "portal")
    return render(request, "matching/dashboard.html", context)


def _matches_context(user) -> dict:
    """Open matches, those that lost a volunteer, and volunteers who ask to end: the first
    DASHBOARD_LIST_SIZE of each, and how many there are."""
    open_matches = _coordinated_matches(user).filter(status__in=Match.OPEN_STATUSES)
    end_requests = MatchVolunteer.objects.filter(
        match__in=open_matches, left_at__isnull=True, end_requested_at__isnull=False
    )
    replacing = open_matches.filter(needs_replacement=True)
    open_matches = open_matches.select_related("referral__site__programme").order_by(
        "-created_at", "-pk"
    )
    end_requests = end_requests.select_related(
        "volunteer__user", "volunteer__home_postal_code__municipality", "match__referral"
    ).order_by("end_requested_at", "pk")
    replacing = replacing.select_related(
        "referral__site__programme", "referral__site__crisis_centre"
    ).order_by("-created_at", "-pk")
    open_shown, open_count = _first_rows_and_count(open_matches)
    replacing_shown, replacing_count = _first_rows_and_count(replacing)
    requests_shown, requests_count = _first_rows_and_count(end_requests)
    return {
        "open_matches": open_shown,
        "open_matches_count": open_count,
        "needing_replacement": replacing_shown,
        "needing_replacement_count": replacing_count,
        "end_requests": [
            {"place": place, "words": REQUEST_WORDS.get(place.end_request_reason, "")}
            for place in requests_shown
        ],
        "end_requests_count": requests_count,
    }


def _first_rows_and_count(rows: QuerySet) -> tuple[list, int]:
    """A dashboard list's first DASHBOARD_LIST_SIZE rows and how many there are in all, in one
    query: each row carries the count of all of them (``COUNT(*) OVER ()``, taken before the
    LIMIT)."""
    assert not rows.query.distinct, "the count would include the rows DISTINCT removes"
    shown = list(rows.annotate(rows_in_all=Window(Count("pk")))[:DASHBOARD_LIST_SIZE])
    return shown, shown[0].rows_in_all if shown else 0


def _map_context(data: dict) -> dict:
    places = data["places"]
    counts = [(p["lat"], p["lon"], p["waiting"], p["volunteers"]) for p in places]
    frame = charts.frame_around(data["catchment"])
    drawn = charts.norway_map(data["outline"], counts, frame, served=data["served"])
    return {"norway_map": drawn, "map_places": places, "map_is_norway": frame == charts.NORWAY}


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


def _charts_context(months: list[dict]) -> dict:
    labels = [row["month"] for row in months]
    drawn = [
        spec | {"chart": charts.bar_chart([row[spec["column"]] for row in months], labels)}
        for spec in TREND_CHARTS
    ]
    return {"months": months, "trend_charts": drawn}


# These two read within the role-scoped selectors' results; they belong in the selectors
# modules once those are open for edits.
def _vetting_expiring_among(volunteers, today):
    records = VettingRecord.objects.filter(volunteer__in=volunteers)
    return (
        vetting_expiring_soon(today, records)
        .select_related("volunteer__user", "volunteer__home_postal_code__municipality")
        .order_by("expires_on", "pk")
    )


def _needs_attention(rows, today) -> list[CheckIn]:
    """Check-ins to follow up, most urgent first, each with what happened in words and its
    mark-handled form."""
    entries = _with_handled_forms(rows, today)
    for entry in entries:
        entry.words = check_ins.attention_words(entry)
        entry.days_overdue = (today - entry.due_on).days
    return entries


def _with_handled_forms(rows, today, sent_form=None) -> list[CheckIn]:
    """A mark-handled form on each check-in that needs following up; a form sent back with
    errors replaces its blank one."""
    rows = list(rows)
    for row in rows:
        prefix = f"handled-{row.pk}"
        row.handled_form = None
        if check_ins.check_in_needs_attention(row, today):
            fresh = CheckInHandledForm(prefix=prefix)
            sent = sent_form is not None and sent_form.prefix == prefix
            row.handled_form = sent_form if sent else fresh
    return rows


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


def _match_page(request, match, *, end_form=None, release_form=None, handled_form=None, status=200):
    """The coordinator's view of one match: where it stands, who is in it (and who left or asks
    to end), and the ways to act on it. A form sent back with errors replaces its blank one."""
    places = list(
        match.volunteers.select_related(
            "volunteer__user", "volunteer__home_postal_code__municipality"
        ).order_by("pk")
    )
    context = {
        "match": match,
        "referral": match.referral,
        "agreement": match.agreement,
        "state": wording.match_state(match),
        "places": [_place_row(match, place, release_form) for place in places],
        "end_form": end_form or EndMatchForm(prefix="end"),
        "withdrawable": match.referral.status in lifecycle.OPEN_REFERRAL,
        "check_ins": _with_handled_forms(
            check_ins.check_ins_with_people(match.check_ins.all()),
            timezone.localdate(),
            handled_form,
        ),
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
    searching = match.replacement_runs.filter(status__in=runs.IN_PROGRESS).first()
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
    form = MatchRunForm(request.POST, sites=sites_coordinated_by(request.user))
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
    require_role(request.user, *COORDINATING_ROLES)
    # Without celery beat (the eager demo) a run whose worker died is only found out here.
    runs.match_runs_fail_stale()
    run = get_object_or_404(match_runs_visible_to(request.user), pk=pk)
    return _run_page(request, run)


def _run_page(request, run, *, row_errors=None, status=200):
    """The run's progress, its proposals as rows to review, and the referrals left waiting.
    ``row_errors`` maps a proposal to the approval or rejection it refused, which that row
    shows beside its form."""
    unmatched = run.unmatched.filter(referral__in=referrals_visible_to(request.user))
    paginator = Paginator(_run_proposals(request.user, run), RUN_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    proposals = _with_fit_in_words(_with_replacement_words(page.object_list))
    for proposal in proposals:
        errors = (row_errors or {}).get(proposal.pk, {})
        proposal.approve_errors = errors.get("approve", [])
        proposal.reject_errors = errors.get("reject", [])
        proposal.reject_reason = errors.get("reason", "")
    context = {
        "run": run,
        "in_progress": run.status in runs.IN_PROGRESS,
        "proposals": proposals,
        "page": page,
        "page_numbers": list(paginator.get_elided_page_range(page.number, on_ends=1)),
        "page_query": _page_query(request),
        "pending_count": sum(p.status == Proposal.Status.PENDING for p in proposals),
        "unmatched_groups": _group_by_reason(_explained(request.user, unmatched)),
    }
    referrals_log_read(request.user, referral_ids_of(proposals, unmatched), "portal")
    return render(request, "matching/match_run.html", context, status=status)


def _run_proposals(user, run):
    """The run's proposals this user reviews, by alias, with all that their rows show, in a
    fixed number of queries however many there are."""
    staying = Prefetch(
        "replacement_for__volunteers",
        queryset=MatchVolunteer.objects.filter(left_at__isnull=True)
        .select_related("volunteer__user")
        .order_by("pk"),
        to_attr="staying_places",
    )
    return (
        proposals_visible_to(user)
        .filter(run=run)
        .select_related(
            "referral__site__programme",
            "replacement_for__referral",
            "replacement_for__agreement",
            "match__agreement",
        )
        .prefetch_related(
            "pairs__volunteer__home_postal_code__municipality",
            "referral__wished_activities",
            staying,
        )
        .order_by("referral__alias", "pk")
    )


def _page_query(request) -> str:
    """``?page=N`` for the page of proposals the request came from, so a review returns there;
    empty for the first page."""
    number = request.GET.get("page", "")
    return f"?page={number}" if number.isdigit() and number != "1" else ""


def _back_to_run(request, run_id: int):
    return redirect(reverse("match_run", args=[run_id]) + _page_query(request))


def _with_fit_in_words(proposals: list) -> list:
    """Say why each volunteer fits: how well they speak each shared language ("snakker arabisk
    flytende") and the activities they share with the participant, named in one query; and
    what the participant wishes to do."""
    pairs = [pair for proposal in proposals for pair in proposal.pairs.all()]
    by_code = activities_by_code(code for pair in pairs for code in pair.shared_activities)
    for pair in pairs:
        pair.languages_in_words = levels_in_words(pair.shared_languages, pair.volunteer.languages)
        pair.activities_in_words = activity_names_of(pair.shared_activities, by_code)
    for proposal in proposals:
        proposal.wished_in_words = activity_names(proposal.referral.wished_activities.all())
    return proposals


def _with_replacement_words(proposals) -> list[Proposal]:
    """Name what each proposal is for: a new match, or a volunteer to join those who stay in a
    match that lost one; and the match an approved proposal made or joined."""
    proposals = list(proposals)
    for proposal in proposals:
        joined = proposal.replacement_for
        proposal.staying = ""
        if joined is not None:
            proposal.staying = ", ".join(str(place.volunteer) for place in joined.staying_places)
        # A replacement joins the match it was proposed for; a new proposal makes its own.
        proposal.made_match = joined or getattr(proposal, "match", None)
    return proposals


@login_required
@require_POST
def match_run_approve_selected(request, pk):
    """Approve the proposals ticked on the run page. Each is approved or left as it was; the
    coordinator is told how many were approved, and why each of the others was not."""
    require_role(request.user, *COORDINATING_ROLES)
    run = get_object_or_404(match_runs_visible_to(request.user), pk=pk)
    reviewable = proposals_visible_to(request.user).filter(run=run)
    form = ApproveSelectedForm(request.POST, proposals=reviewable)
    if form.names_others:
        raise PermissionDenied
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["proposals"]))
        return _back_to_run(request, run.pk)
    chosen = form.cleaned_data["proposals"]
    approved, refused = lifecycle.proposals_approve(chosen, by=request.user)
    _say_approved(request, approved, refused)
    return _back_to_run(request, run.pk)


def _say_approved(request, approved, refused) -> None:
    for ok, words in lifecycle.approvals_in_words(approved, refused):
        (messages.success if ok else messages.error)(request, words)


@login_required
@require_POST
def match_run_restart_view(request, pk):
    run = get_object_or_404(match_runs_visible_to(request.user), pk=pk)
    try:
        services.match_run_restart(run, by=request.user)
    except lifecycle.MatchConflict as error:
        messages.error(request, str(error))
    return redirect("match_run", pk=pk)


def _explained(user, unmatched) -> list:
    """Unmatched rows with their reasons in words, their near misses, and whether this user may
    propose some of them by hand (a coordinator of the referral's site, while it waits)."""
    rows = reasons.unmatched_explain(
        unmatched.select_related("referral")
        .prefetch_related(reasons.near_misses_prefetch())
        .order_by("reason", "referral__alias")
    )
    coordinated = set(sites_coordinated_by(user).values_list("pk", flat=True))
    for row in rows:
        row.can_propose = (
            row.referral.site_id in coordinated
            and row.referral.status == Referral.Status.WAITING
            and bool(row.near_misses.all())
        )
    return rows


def _group_by_reason(rows) -> list[tuple[str, list]]:
    groups: dict[str, list] = {}
    for row in rows:
        groups.setdefault(row.reason, []).append(row)
    return [(reasons.reason_heading(reason), rows) for reason, rows in groups.items()]


@login_required
@require_POST
def proposal_review(request, pk, decision):
    require_role(request.user, *COORDINATING_ROLES)
    proposal = get_object_or_404(proposals_visible_to(request.user), pk=pk)
    if decision not in ("approve", "reject"):
        raise Http404
    try:
        if decision == "approve":
            _approve(request, proposal)
        else:
            _reject(request, proposal)
    except lifecycle.MatchConflict as error:
        messages.error(request, lifecycle.review_refused_because(proposal, error))
    except ValidationError as error:
        errors = _row_errors(request, decision, error)
        if errors:
            return _run_page(request, proposal.run, row_errors={proposal.pk: errors}, status=400)
        messages.error(request, _error_text(error))
    except PermissionDenied as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("Proposal for %s is saved.") % proposal.referral.alias)
    return _back_to_run(request, proposal.run_id)


def _row_errors(request, decision, error: ValidationError) -> dict:
    """What a refused approval or rejection says in its own row: the missing acknowledgement of
    a vetting expiry, or the reason for rejecting, with what was typed."""
    fields = getattr(error, "error_dict", {})
    if decision == "approve" and "acknowledge_vetting_expiry" in fields:
        return {"approve": ValidationError(fields["acknowledge_vetting_expiry"]).messages}
    if decision == "reject" and "reason" in fields:
        typed = request.POST.get("reason", "")
        return {"reject": ValidationError(fields["reason"]).messages, "reason": typed}
    return {}


def _approve(request, proposal) -> None:
    form = ApproveForm(request.POST)
    acknowledged = form.is_valid() and form.cleaned_data["acknowledge_vetting_expiry"]
    lifecycle.proposal_approve(proposal, by=request.user, acknowledge_vetting_expiry=acknowledged)


def _reject(request, proposal) -> None:
    form = RejectForm(request.POST)
    if not form.is_valid():
        raise ValidationError({"reason": _("Why reject? Give a reason.")})
    lifecycle.proposal_reject(proposal, by=request.user, reason=form.cleaned_data["reason"])


def _unmatched_coordinated(user, pk):
    """An unmatched row of a referral the user coordinates, with its near misses; else 404."""
    rows = UnmatchedReferral.objects.filter(
        referral__in=referrals_coordinated_by(user)
    ).select_related("run__programme", "referral__site")
    row = get_object_or_404(rows.prefetch_related(reasons.near_misses_prefetch()), pk=pk)
    return reasons.unmatched_explain([row])[0]


@login_required
def proposal_by_hand_view(request, pk):
    """A coordinator proposes volunteers who nearly fit, by hand and with a reason; the proposal
    is then reviewed on the run page like any other."""
    unmatched = _unmatched_coordinated(request.user, pk)
    near_misses = unmatched.near_misses.all()
    form = HandProposalForm(request.POST or None, near_misses=near_misses)
    status = form.http_status
    if request.method == "POST" and form.is_valid():
        proposal, status = _propose_by_hand(request, unmatched, form)
        if proposal is not None:
            messages.success(
                request,
                _("Proposal for %s is saved. Review it below.") % unmatched.referral.alias,
            )
            run_page = reverse("match_run", args=[proposal.run_id])
            return redirect(f"{run_page}#proposal-{proposal.pk}")
    referrals_log_read(request.user, [unmatched.referral_id], "portal")
    context = {
        "unmatched": unmatched,
        "form": form,
        "needed": unmatched.run.programme.volunteers_per_referral,
    }
    return render(request, "matching/propose_by_hand.html", context, status=status)


def _propose_by_hand(request, unmatched, form) -> tuple[Proposal | None, int]:
    data = form.cleaned_data
    try:
        proposal = proposing.proposal_make_by_hand(
            unmatched, data["volunteers"], data["reason"], request.user
        )
    except ValidationError as error:
        form.add_service_errors(error)
        return None, 400
    except (lifecycle.MatchConflict, PermissionDenied) as error:
        form.add_error(None, _("Someone else got there first: %s") % error)
        return None, 409
    return proposal, 201
