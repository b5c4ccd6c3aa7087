"""What the dashboard's map and charts count: only what the coordinator may see."""

import datetime

import pytest
from django.utils import timezone

from matching.lifecycle import proposal_approve
from matching.models import Match
from matching.selectors import dashboard_map_for, matches_per_month_for
from programmes.models import Referral
from tests.matching.factories import (
    municipality,
    pending_proposal,
    ready_volunteer,
    site_with_people,
    waiting_referral,
)
from tests.matching.test_agreements import approved_match
from tests.programmes.factories import ReferralFactory
from volunteers.models import Volunteer

pytestmark = pytest.mark.django_db


def places_by_name(user) -> dict[str, dict]:
    return {place["name"]: place for place in dashboard_map_for(user)["places"]}


def test_the_map_counts_only_the_coordinators_waiting_referrals_and_active_volunteers():
    site, _staff, coordinator = site_with_people()
    waiting_referral(site)
    waiting_referral(site, municipality=municipality("4601"))
    ReferralFactory(site=site)  # submitted, not yet waiting
    ready_volunteer(organisation=site.organisation)
    paused = ready_volunteer(organisation=site.organisation)
    Volunteer.objects.filter(pk=paused.pk).update(status=Volunteer.Status.PAUSED)

    places = places_by_name(coordinator)

    assert places["Oslo"] == places["Oslo"] | {"waiting": 1, "volunteers": 1}
    assert places["Bergen"] == places["Bergen"] | {"waiting": 1, "volunteers": 0}
    assert len(places) == 2


def test_another_centres_referrals_and_volunteers_never_appear_on_the_map():
    _site, _staff, coordinator = site_with_people()
    other_site, _s, _c = site_with_people(name="Bergen")
    waiting_referral(other_site, municipality=municipality("4601"))
    ready_volunteer(organisation=other_site.organisation, code="5003")

    assert places_by_name(coordinator) == {}


def test_the_map_outlines_every_municipality():
    _site, _staff, coordinator = site_with_people()
    assert len(dashboard_map_for(coordinator)["outline"]) == 357


def test_places_are_ordered_by_waiting_referrals():
    site, _staff, coordinator = site_with_people()
    waiting_referral(site)
    waiting_referral(site, municipality=municipality("4601"))
    waiting_referral(site, municipality=municipality("4601"))

    names = [place["name"] for place in dashboard_map_for(coordinator)["places"]]

    assert names == ["Bergen", "Oslo"]


def test_matches_per_month_counts_this_months_match_and_its_median_wait():
    match, _staff, coordinator, _volunteers = approved_match()
    today = timezone.localdate()

    months = matches_per_month_for(coordinator, today)

    assert len(months) == 12 and months[-1]["month"] == today.replace(day=1)
    waited = (match.created_at - match.referral.waiting_since).days
    assert (months[-1]["matches"], months[-1]["median_wait_days"]) == (1, waited)
    assert all(row["matches"] == 0 and row["median_wait_days"] is None for row in months[:-1])


def test_the_median_wait_is_the_middle_of_a_months_matches():
    site, _staff, coordinator = site_with_people()
    for days in (10, 20, 60):
        proposal = pending_proposal(site, coordinator, [ready_volunteer()])
        since = timezone.now() - datetime.timedelta(days=days, hours=1)
        Referral.objects.filter(pk=proposal.referral_id).update(waiting_since=since)
        proposal_approve(proposal, by=coordinator)

    months = matches_per_month_for(coordinator, timezone.localdate())

    assert (months[-1]["matches"], months[-1]["median_wait_days"]) == (3, 20)


def test_another_centres_matches_are_not_counted():
    _match, _staff, _coordinator, _volunteers = approved_match()
    _site, _s, other_coordinator = site_with_people(name="Bergen")

    months = matches_per_month_for(other_coordinator, timezone.localdate())

    assert sum(row["matches"] for row in months) == 0


def test_matches_older_than_the_window_are_left_out():
    match, _staff, coordinator, _volunteers = approved_match()
    year_ago = timezone.now() - datetime.timedelta(days=400)
    Match.objects.filter(pk=match.pk).update(created_at=year_ago)

    months = matches_per_month_for(coordinator, timezone.localdate())

    assert sum(row["matches"] for row in months) == 0


def test_a_coordinators_map_starts_on_the_municipalities_their_centre_serves():
    site, _staff, coordinator = site_with_people()
    served = [municipality(n) for n in ("0301", "3201", "3205")]  # Oslo, Bærum, Lillestrøm
    site.crisis_centre.municipalities_served.set(served)
    ready_volunteer(organisation=site.organisation, code="1400")  # Ski, in Nordre Follo

    data = dashboard_map_for(coordinator)

    assert sorted(data["served"]) == sorted((m.lat, m.lon) for m in served)
    assert set(data["catchment"]) == {(m.lat, m.lon) for m in served} | {
        (p["lat"], p["lon"]) for p in data["places"]
    }


def test_an_admins_map_is_all_of_norway(django_user_model):
    admin = django_user_model.objects.create_superuser("admin-map", "a@example.invalid", "x")
    assert dashboard_map_for(admin)["catchment"] == []
