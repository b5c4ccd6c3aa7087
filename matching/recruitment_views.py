"""The recruitment page: where one more volunteer would help most (matching/recruitment.py)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from accounts.roles import COORDINATING_ROLES, require_role, sites_coordinated_by
from matching import charts, recruitment
from matching.models import RecruitmentSweep
from matching.tasks import recruitment_sweep_queue
from programmes.audit import referrals_log_read
from programmes.models import Municipality, Programme
from programmes.selectors import is_admin, referrals_visible_to


class _Scope:
    """What the page is about: one site the user coordinates, or (admins) a whole programme."""

    def __init__(self, user, query) -> None:
        self.sites = list(sites_coordinated_by(user).select_related("programme", "crisis_centre"))
        self.programmes = list(Programme.objects.order_by("name")) if is_admin(user) else []
        self.site, self.programme = self._chosen(query)

    def _chosen(self, query):
        if query.get("programme") and self.programmes:
            by_slug = {p.slug: p for p in self.programmes}
            if query["programme"] not in by_slug:
                raise Http404
            return None, by_slug[query["programme"]]
        if query.get("site"):
            by_pk = {str(s.pk): s for s in self.sites}
            if query["site"] not in by_pk:
                raise Http404
            site = by_pk[query["site"]]
            return site, site.programme
        if self.sites:
            return self.sites[0], self.sites[0].programme
        if self.programmes:
            return None, self.programmes[0]
        raise Http404

    @property
    def query(self) -> str:
        if self.site is not None:
            return urlencode({"site": self.site.pk})
        return urlencode({"programme": self.programme.slug})

    @property
    def name(self) -> str:
        return str(self.site) if self.site is not None else str(self.programme)


@login_required
def recruitment_gaps(request):
    require_role(request.user, *COORDINATING_ROLES)
    recruitment.sweeps_fail_stale()
    scope = _Scope(request.user, request.GET)
    sweep = (
        RecruitmentSweep.objects.filter(programme=scope.programme, site=scope.site)
        .order_by("-created_at")
        .first()
    )
    latest = _latest_result(scope, sweep)
    gaps = recruitment.gaps_of(latest) if latest is not None else []
    visible = set(
        referrals_visible_to(request.user)
        .filter(pk__in={pk for gap in gaps for pk in gap.referral_ids})
        .values_list("pk", "alias")
    )
    aliases = dict(visible)
    referrals_log_read(request.user, sorted(aliases), "portal")
    context = {
        "scope": scope,
        "sweep": sweep,
        "latest": latest,
        "rows": [_row(gap, aliases) for gap in gaps],
        "places_helping": len({row["municipality"] for row in latest.gaps}) if latest else 0,
    }
    context |= _map(scope, gaps)
    return render(request, "matching/recruitment.html", context)


@login_required
@require_POST
def recruitment_recalculate(request):
    require_role(request.user, *COORDINATING_ROLES)
    scope = _Scope(request.user, request.POST)
    recruitment_sweep_queue(scope.programme, scope.site, by=request.user)
    return redirect(f"{reverse('recruitment_gaps')}?{scope.query}")


def _latest_result(scope: _Scope, sweep):
    """The newest calculation that finished, even while a newer one runs."""
    if sweep is not None and sweep.status == RecruitmentSweep.Status.SUCCEEDED:
        return sweep
    return (
        RecruitmentSweep.objects.filter(
            programme=scope.programme, site=scope.site, status=RecruitmentSweep.Status.SUCCEEDED
        )
        .order_by("-created_at")
        .first()
    )


def _row(gap: recruitment.Gap, aliases: dict[int, str]) -> dict:
    """The referrals a row would get matched: by alias where the reader may see them, the
    others only counted."""
    shown = [(pk, aliases[pk]) for pk in gap.referral_ids if pk in aliases]
    return {"gap": gap, "referrals": shown, "hidden": len(gap.referral_ids) - len(shown)}


def _map(scope: _Scope, gaps: list[recruitment.Gap]) -> dict:
    """Per municipality the most one volunteer would add there, on the catchment's map."""
    best: dict[str, tuple[Municipality, int]] = {}
    for gap in gaps:
        for place in gap.municipalities:
            if place.number not in best or gap.extra > best[place.number][1]:
                best[place.number] = (place, gap.extra)
    outline = list(Municipality.objects.values_list("lat", "lon"))
    served: list[tuple[float, float]] = []
    if scope.site is not None:
        centre = scope.site.crisis_centre
        served = list(centre.municipalities_served.values_list("lat", "lon"))
        served.append((centre.host_municipality.lat, centre.host_municipality.lon))
    frame = charts.frame_around(served)
    largest = max((extra for _place, extra in best.values()), default=0)
    drawn = charts.circles(((p.lat, p.lon, extra) for p, extra in best.values()), largest, frame)
    dots = [charts.project(lat, lon, frame) for lat, lon in outline if (lat, lon) not in served]
    return {
        "map": {
            "width": charts.MAP_WIDTH,
            "height": charts.MAP_HEIGHT,
            "dots": [d for d in dots if charts.in_view(d)],
            "served": [charts.project(lat, lon, frame) for lat, lon in served],
            "circles": drawn,
        },
        "map_is_norway": frame == charts.NORWAY,
    }
