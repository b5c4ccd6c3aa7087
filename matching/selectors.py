"""Reads for matching: gathering a run's inputs into the engine's plain records, and the
role-scoped views of runs, proposals and matches."""

import datetime
import hashlib
import statistics
from typing import TYPE_CHECKING, Any, TypedDict

from dateutil.relativedelta import relativedelta
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as UserModel
from django.core.cache import cache
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from matching import engine
from matching.engine_keys import referral_key, volunteer_key
from matching.models import (
    Agreement,
    CheckIn,
    Match,
    MatchRun,
    MatchVolunteer,
    Proposal,
    RejectedPair,
)
from programmes.models import Municipality, ProgrammeSite, Referral
from programmes.selectors import (
    User,
    is_admin,
    referrals_visible_to,
    site_ids_coordinated_by,
    site_ids_staffed_by,
    site_ids_visible_to,
)
from volunteers.models import Volunteer
from volunteers.selectors import volunteers_eligible_for, volunteers_visible_to

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

DEFAULT_RULES: dict[str, Any] = {
    "min_overlap_hours": 1.0,
    "overlap_target_hours": 4.0,
    "km_per_overlap_hour": 2.5,
    # Each activity a family wishes for and a volunteer can do counts as 4 km less travel, for
    # at most three of them.
    "km_per_shared_activity": 4.0,
    "max_shared_activities": 3,
}


def rules_for(programme) -> dict[str, Any]:
    """The engine's rules for a run of ``programme`` (engine.Rules' fields; JSON for MatchRun)."""
    return {
        "max_distance_km": float(programme.default_max_distance_km),
        "min_language_level": programme.min_language_level,
        **DEFAULT_RULES,
    }


def referrals_for_run(run: MatchRun) -> QuerySet[Referral]:
    """Waiting referrals in the run's scope; for a replacement search, the match's referral."""
    if run.scope == MatchRun.Scope.REPLACEMENT:
        referrals = Referral.objects.filter(matches=run.match_id)
    else:
        referrals = Referral.objects.filter(
            site__programme=run.programme, status=Referral.Status.WAITING
        )
    if run.scope == MatchRun.Scope.SITE:
        referrals = referrals.filter(site=run.site)
    elif run.scope == MatchRun.Scope.CRISIS_CENTRE:
        referrals = referrals.filter(site__crisis_centre=run.crisis_centre)
    return referrals.select_related("postal_code", "municipality").prefetch_related(
        "avoid_municipalities", "wished_activities"
    )


class PendingProposals(TypedDict):
    pending: int


def volunteers_for_run(run: MatchRun) -> "QuerySet[WithAnnotations[Volunteer, PendingProposals]]":
    """Volunteers eligible on the run's date and still a month later (a politiattest that expires
    within an agreement's first month does not count), annotated with their free capacity."""
    month_later = run.on_date + relativedelta(months=1)
    still_eligible = volunteers_eligible_for(run.programme, month_later).values("pk")
    awaiting_review = Q(proposal_pairs__proposal__status=Proposal.Status.PENDING)
    return (
        volunteers_eligible_for(run.programme, run.on_date)
        .filter(pk__in=still_eligible)
        .annotate(pending=Count("proposal_pairs", filter=awaiting_review))
        .select_related("home_postal_code__municipality")
        .prefetch_related("avoid_municipalities", "activities")
    )


def engine_instance_for(run: MatchRun) -> engine.Instance:
    referrals = list(referrals_for_run(run))
    volunteers = [v for v in volunteers_for_run(run) if _free_capacity(v) > 0]
    rejected = RejectedPair.objects.filter(referral__in=[r.pk for r in referrals])
    forbidden = set(rejected.values_list("referral_id", "volunteer_id"))
    if run.scope == MatchRun.Scope.REPLACEMENT:
        # Nobody who is, or was, in the match is proposed to join it.
        in_match = _replaced_match(run).volunteers.values_list("match__referral_id", "volunteer_id")
        forbidden |= set(in_match)
    # A run saved before a rule existed takes the programme's value of it.
    rules = {**rules_for(run.programme), **run.rules}
    return engine.Instance(
        rules=engine.Rules(**rules),
        volunteers=tuple(_engine_volunteer(v) for v in volunteers),
        referrals=tuple(_engine_referral(r, run) for r in referrals),
        forbidden_pairs=tuple(
            (referral_key(pk), volunteer_key(vk)) for pk, vk in sorted(forbidden)
        ),
    )


def _free_capacity(volunteer: "WithAnnotations[Volunteer, PendingProposals]") -> int:
    return volunteer.capacity - volunteer.commitments - volunteer.pending


def _slots(availability: list[dict]) -> tuple[engine.Slot, ...]:
    def minutes(clock: str) -> int:
        hours, mins = clock.split(":")
        return int(hours) * 60 + int(mins)

    return tuple(
        engine.Slot(day=slot["day"], start=minutes(slot["start"]), end=minutes(slot["end"]))
        for slot in availability
    )


def _engine_volunteer(
    volunteer: "WithAnnotations[Volunteer, PendingProposals]",
) -> engine.Volunteer:
    lat, lon = volunteer.point
    return engine.Volunteer(
        id=volunteer_key(volunteer.pk),
        lat=lat,
        lon=lon,
        municipality=volunteer.municipality.number,
        languages=tuple(volunteer.language_codes),
        language_levels=tuple(entry["level"] for entry in volunteer.languages),
        availability=_slots(volunteer.availability),
        gender=volunteer.gender,
        capacity=_free_capacity(volunteer),
        excluded_municipalities=tuple(m.number for m in volunteer.avoid_municipalities.all()),
        activities=tuple(sorted(a.code for a in volunteer.activities.all())),
    )


def _engine_referral(referral: Referral, run: MatchRun) -> engine.Referral:
    lat, lon = referral.point
    waited_since = (referral.waiting_since or referral.submitted_at).date()
    return engine.Referral(
        id=referral_key(referral.pk),
        lat=lat,
        lon=lon,
        municipality=referral.municipality.number,
        languages=tuple(referral.languages),
        availability=_slots(referral.availability),
        volunteers_needed=_volunteers_needed(run),
        volunteer_gender=referral.volunteer_gender or None,
        excluded_municipalities=tuple(m.number for m in referral.avoid_municipalities.all()),
        max_distance_km=float(referral.max_distance_km) if referral.max_distance_km else None,
        waiting_days=max(0, (run.on_date - waited_since).days),
        activities=tuple(sorted(a.code for a in referral.wished_activities.all())),
    )


def _volunteers_needed(run: MatchRun) -> int:
    needed = run.programme.volunteers_per_referral
    if run.scope != MatchRun.Scope.REPLACEMENT:
        return needed
    return needed - _replaced_match(run).volunteers.filter(left_at__isnull=True).count()


def _replaced_match(run: MatchRun) -> Match:
    """A replacement run's match: the constraint match_run_scope_has_its_target gives it one."""
    assert run.match is not None
    return run.match


def match_runs_visible_to(user: User) -> QuerySet[MatchRun]:
    runs = MatchRun.objects.select_related(
        "programme", "site__programme", "site__crisis_centre", "crisis_centre", "started_by"
    )
    if is_admin(user):
        return runs
    if not user.is_authenticated:
        return runs.none()
    # A run's own rows are counts; its proposals and unmatched referrals are scoped again.
    site_ids = site_ids_coordinated_by(user)
    coordinated = ProgrammeSite.objects.filter(pk__in=site_ids)
    centres = coordinated.values("crisis_centre")
    return runs.filter(
        Q(started_by=user)
        | Q(scope=MatchRun.Scope.SITE, site__in=site_ids)
        | Q(scope=MatchRun.Scope.CRISIS_CENTRE, crisis_centre__in=centres)
        | Q(scope=MatchRun.Scope.PROGRAMME, programme__in=coordinated.values("programme"))
        | Q(scope=MatchRun.Scope.REPLACEMENT, match__referral__site__in=site_ids)
    )


def proposals_visible_to(user: User) -> QuerySet[Proposal]:
    """Coordinators review the proposals for referrals of their own sites."""
    proposals = Proposal.objects.select_related("referral__site", "run").prefetch_related(
        "pairs__volunteer__user"
    )
    if is_admin(user):
        return proposals
    if not user.is_authenticated:
        return proposals.none()
    return proposals.filter(referral__site__in=site_ids_coordinated_by(user))


def matches_visible_to(user: User) -> QuerySet[Match]:
    matches = Match.objects.select_related("referral__site", "agreement")
    if is_admin(user):
        return matches
    if not user.is_authenticated:
        return matches.none()
    return matches.filter(Q(referral__site__in=site_ids_visible_to(user)) | _taken_part_in(user))


def _taken_part_in(user: UserModel) -> Q:
    return Q(pk__in=MatchVolunteer.objects.filter(volunteer__user=user).values("match"))


def agreements_visible_to(user: User) -> QuerySet:
    return Agreement.objects.filter(match__in=matches_visible_to(user)).select_related(
        "terms", "match__referral__site__programme", "match__referral__municipality"
    )


def check_ins_due_for(user: User, on) -> QuerySet:
    """A volunteer's unanswered check-ins that are due, oldest first."""
    if not user.is_authenticated:
        return CheckIn.objects.none()
    return CheckIn.objects.filter(
        match__volunteers__volunteer__user=user,
        match__volunteers__left_at__isnull=True,
        match__status=Match.Status.ACTIVE,
        answered_at__isnull=True,
        due_on__lte=on,
    ).select_related("match__referral")


def agreements_awaiting(user: User) -> QuerySet:
    """Agreements still waiting for something this user signs: a volunteer's acceptance (also a
    replacement's, in an active match), the centre's consent, the coordinator's countersignature."""
    agreements = agreements_visible_to(user)
    if isinstance(user, AnonymousUser):
        return agreements  # none
    awaiting = Q(match__status=Match.Status.AWAITING_AGREEMENT)
    places_to_accept = MatchVolunteer.objects.filter(
        volunteer__user=user, accepted_at__isnull=True, left_at__isnull=True
    )
    own_place = Q(match__in=places_to_accept.values("match"), match__status__in=Match.OPEN_STATUSES)
    staffed = Q(match__referral__site__in=site_ids_staffed_by(user))
    coordinated = Q(match__referral__site__in=site_ids_coordinated_by(user))
    return agreements.filter(
        own_place
        | awaiting & staffed & Q(consent_recorded_at=None)
        | awaiting & coordinated & Q(countersigned_at__isnull=True)
    )


def matches_managed_by(user: User) -> QuerySet[Match]:
    """Matches a user sees as admin, as the site's coordinator or as the referring centre's staff
    (not those they only take part in as a volunteer)."""
    matches = matches_visible_to(user)
    if is_admin(user) or not user.is_authenticated:
        return matches
    return matches.filter(referral__site__in=site_ids_visible_to(user))


def matches_taken_part_in(user: User) -> QuerySet[Match]:
    """The matches a user is one of the volunteers of."""
    if not user.is_authenticated:
        return Match.objects.none()
    return matches_visible_to(user).filter(_taken_part_in(user))


def participant_view_for(match: Match, volunteer) -> dict:
    """What a volunteer may know of the participant: the alias and municipality while their
    place in the match is current and the agreement awaits signatures; also the languages they
    share and the weekly availability once it is active and they have accepted it; only the
    alias once the match has ended or they have left it (for safety, at once)."""
    referral = match.referral
    place = next((p for p in match.volunteers.all() if p.volunteer_id == volunteer.pk), None)
    current = place is not None and place.left_at is None and match.is_open
    view: dict[str, Any] = {
        "alias": referral.alias,
        "municipality": None,
        "municipality_name": None,
    }
    view |= {"shared_languages": None, "availability": None}
    if current:
        view |= {"municipality": referral.municipality.number}
        view |= {"municipality_name": referral.municipality.name}
    if current and place is not None and match.status == Match.Status.ACTIVE and place.accepted_at:
        shared = [code for code in referral.languages if code in volunteer.language_codes]
        view |= {"shared_languages": shared, "availability": referral.availability}
    return view


# The dashboard's map and charts count every waiting referral, active volunteer and match of a
# year for the user's sites: about a fifth of the page's time, and the figures of an overview,
# so they are counted at most once a minute for each person.
DASHBOARD_FIGURES_SECONDS = 60


def dashboard_figures_for(user: UserModel, today: datetime.date) -> dict:
    """``dashboard_map_for`` and ``matches_per_month_for``, and when they were counted
    (``as_of``): kept for DASHBOARD_FIGURES_SECONDS under the user, the day and the sites they
    see, so a person who gains or loses a site gets new figures at once."""
    sites = site_ids_visible_to(user)
    seen = hashlib.sha256(f"{is_admin(user)}:{sites}".encode()).hexdigest()[:16]
    key = f"dashboard-figures:{user.pk}:{today.isoformat()}:{seen}"
    figures = cache.get(key)
    if figures is None:
        figures = {
            "map": dashboard_map_for(user),
            "months": matches_per_month_for(user, today),
            "as_of": timezone.now(),
        }
        cache.set(key, figures, DASHBOARD_FIGURES_SECONDS)
    return figures


def dashboard_map_for(user: User) -> dict:
    """For the dashboard's map: every municipality's point (the faint outline of the country),
    per municipality the waiting referrals and active volunteers this user may see (most
    waiting referrals first), the points of the municipalities the user's centres serve, and
    the points the map must show at first (``catchment``; empty: all of Norway)."""
    waiting = referrals_visible_to(user).filter(status=Referral.Status.WAITING)
    active = volunteers_visible_to(user).filter(status=Volunteer.Status.ACTIVE)
    referral_counts = _count_per_municipality(waiting, "municipality")
    volunteer_counts = _count_per_municipality(active, "home_postal_code__municipality")
    municipalities = Municipality.objects.order_by("number")
    places: list[dict[str, Any]] = [
        {
            "name": m.name,
            "lat": m.lat,
            "lon": m.lon,
            "waiting": referral_counts.get(m.pk, 0),
            "volunteers": volunteer_counts.get(m.pk, 0),
        }
        for m in municipalities.filter(pk__in={*referral_counts, *volunteer_counts})
    ]
    places.sort(key=lambda place: (-place["waiting"], -place["volunteers"], place["name"]))
    served = _municipalities_served_for(user)
    return {
        "outline": list(municipalities.values_list("lat", "lon")),
        "places": places,
        "served": list(served.values_list("lat", "lon")),
        "catchment": _catchment_points(user, served, places),
    }


def _municipalities_served_for(user: User) -> QuerySet[Municipality]:
    """The municipalities served by the crisis centres of the sites this user coordinates."""
    if not user.is_authenticated:
        return Municipality.objects.none()
    return Municipality.objects.filter(
        crisis_centres_serving__programme_sites__coordinators=user
    ).distinct()


def _catchment_points(user: User, served, places: list[dict]) -> list[tuple[float, float]]:
    """Where the map starts: the municipalities the user's centres serve and every place with a
    waiting referral or volunteer of theirs (volunteers may live outside). Nothing for an
    admin, whose map is all of Norway."""
    if is_admin(user):
        return []
    return [*served.values_list("lat", "lon"), *((p["lat"], p["lon"]) for p in places)]


def _count_per_municipality(rows: QuerySet, municipality_field: str) -> dict[int, int]:
    counted = rows.order_by().values_list(municipality_field).annotate(n=Count("pk", distinct=True))
    return dict(counted)


def matches_per_month_for(user: User, today: datetime.date, months: int = 12) -> list[dict]:
    """For each of the last ``months`` calendar months up to ``today``'s, oldest first: the
    matches made for referrals this user may see, and the median days those referrals waited
    (from ``waiting_since`` to the match)."""
    first = today.replace(day=1) - relativedelta(months=months - 1)
    matches = Match.objects.filter(
        referral__in=referrals_visible_to(user).values("pk"),
        created_at__date__gte=first,
    ).select_related("referral")
    waits: dict[datetime.date, list[int]] = {
        first + relativedelta(months=i): [] for i in range(months)
    }
    for match in matches:
        month = timezone.localdate(match.created_at).replace(day=1)
        if month in waits:
            waits[month].append(_days_waited(match))
    return [
        {"month": month, "matches": len(days), "median_wait_days": _median(days)}
        for month, days in waits.items()
    ]


def _days_waited(match: Match) -> int:
    since = match.referral.waiting_since or match.referral.submitted_at
    return max(0, (match.created_at - since).days)


def _median(values: list[int]) -> float | None:
    return statistics.median(values) if values else None
