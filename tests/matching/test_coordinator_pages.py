"""The coordinator's pages: the dashboard, match runs and the review of proposals."""

import datetime

import pytest
from django.utils import timezone

from matching.models import CheckIn, Match, MatchRun, Proposal
from programmes.models import Referral, VettingKind
from tests.auth import login_verified
from tests.matching.factories import (
    MatchRunFactory,
    pending_proposal,
    ready_volunteer,
    site_with_people,
    waiting_referral,
)
from tests.matching.test_agreements import approved_match
from tests.programmes.factories import ReferralFactory
from tests.volunteers.factories import VettingRecordFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english_pages(client):
    """Messages below are asserted in English; the pages default to bokmål."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


def test_dashboard_shows_waiting_referrals_volunteers_and_expiring_vetting(client):
    site, _staff, coordinator = site_with_people()
    waiting_referral(site)
    volunteer = ready_volunteer(organisation=site.organisation)
    soon = timezone.localdate() + datetime.timedelta(days=5)
    VettingRecordFactory(volunteer=volunteer, kind=VettingKind.FIRST_AID, expires_on=soon)
    login_verified(client, coordinator)

    response = client.get("/coordinator/")

    assert response.status_code == 200
    (row,) = response.context["sites"]
    assert row.waiting_count == 1 and row.waiting_days >= 1
    counts = {row["status"]: row["count"] for row in response.context["volunteers_by_status"]}
    assert counts["active"] == 1
    assert [r.volunteer for r in response.context["expiring"]] == [volunteer]


def test_a_volunteer_or_crisis_centre_staff_cannot_open_the_dashboard(client):
    _site, staff, _coordinator = site_with_people()
    client.force_login(ready_volunteer().user)
    assert client.get("/coordinator/").status_code == 403
    login_verified(client, staff)
    assert client.get("/coordinator/").status_code == 403


def test_coordinator_accepts_a_submitted_referral_into_the_queue(client):
    site, _staff, coordinator = site_with_people()
    referral = ReferralFactory(site=site)
    login_verified(client, coordinator)
    assert referral.alias in client.get("/coordinator/").content.decode()

    client.post(f"/coordinator/referrals/{referral.pk}/accept/")

    assert Referral.objects.get(pk=referral.pk).status == Referral.Status.WAITING


def test_another_sites_referral_cannot_be_accepted(client):
    _site, _staff, coordinator = site_with_people()
    other_site, _s, _c = site_with_people(name="Bergen")
    referral = ReferralFactory(site=other_site)
    login_verified(client, coordinator)
    assert client.post(f"/coordinator/referrals/{referral.pk}/accept/").status_code == 404


def test_starting_a_run_shows_its_proposals_with_their_explanation(
    client, eager_celery, django_capture_on_commit_callbacks
):
    site, _staff, coordinator = site_with_people()
    referral = waiting_referral(site, languages=["ar"])
    ready_volunteer(organisation=site.organisation)
    login_verified(client, coordinator)

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post("/coordinator/runs/", {"site": site.pk})
    response = client.get(started.url)

    run = MatchRun.objects.get()
    assert started.url == f"/coordinator/runs/{run.pk}/"
    assert run.status == MatchRun.Status.SUCCEEDED
    page = response.content.decode()
    assert referral.alias in page
    assert "km" in page and "ar" in page
    assert "data-in-progress" not in page


def test_a_run_in_progress_refreshes_itself(client):
    site, _staff, coordinator = site_with_people()
    run = MatchRunFactory(site=site, started_by=coordinator)
    login_verified(client, coordinator)
    assert "data-in-progress" in client.get(f"/coordinator/runs/{run.pk}/").content.decode()


def test_a_coordinator_cannot_start_a_run_for_another_site(client):
    _site, _staff, coordinator = site_with_people()
    other_site, _s, _c = site_with_people(name="Bergen")
    login_verified(client, coordinator)
    assert client.post("/coordinator/runs/", {"site": other_site.pk}).status_code == 404
    assert not MatchRun.objects.exists()


def test_approving_from_the_run_page_makes_a_match(client):
    site, _staff, coordinator = site_with_people()
    proposal = pending_proposal(site, coordinator, [ready_volunteer()])
    login_verified(client, coordinator)

    client.post(f"/coordinator/proposals/{proposal.pk}/approve/")

    assert Match.objects.get().proposal == proposal


def test_approving_twice_says_someone_got_there_first(client):
    site, _staff, coordinator = site_with_people()
    proposal = pending_proposal(site, coordinator, [ready_volunteer()])
    login_verified(client, coordinator)
    client.post(f"/coordinator/proposals/{proposal.pk}/approve/")

    response = client.post(f"/coordinator/proposals/{proposal.pk}/approve/", follow=True)

    assert "Someone else got there first" in response.content.decode()
    assert Match.objects.count() == 1


def test_rejecting_needs_a_reason(client):
    site, _staff, coordinator = site_with_people()
    proposal = pending_proposal(site, coordinator, [ready_volunteer()])
    login_verified(client, coordinator)

    response = client.post(
        f"/coordinator/proposals/{proposal.pk}/reject/", {"reason": " "}, follow=True
    )
    assert "Give a reason" in response.content.decode()
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.PENDING

    client.post(f"/coordinator/proposals/{proposal.pk}/reject/", {"reason": "Kjenner hverandre"})
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.REJECTED


def test_another_sites_proposal_and_run_are_not_found(client):
    site, _staff, coordinator = site_with_people()
    proposal = pending_proposal(site, coordinator, [ready_volunteer()])
    _other, _s, other_coordinator = site_with_people(name="Bergen")
    login_verified(client, other_coordinator)
    assert client.post(f"/coordinator/proposals/{proposal.pk}/approve/").status_code == 404
    assert client.get(f"/coordinator/runs/{proposal.run_id}/").status_code == 404
    assert not Match.objects.exists()


def test_unmatched_referrals_are_grouped_by_reason(
    client, eager_celery, django_capture_on_commit_callbacks
):
    site, _staff, coordinator = site_with_people()
    referral = waiting_referral(site, languages=["so"])
    ready_volunteer(organisation=site.organisation)
    login_verified(client, coordinator)

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post("/coordinator/runs/", {"site": site.pk})
    response = client.get(started.url)

    ((reason, rows),) = response.context["unmatched_groups"]
    assert str(reason) == "No volunteer with a shared language"
    assert [row.referral for row in rows] == [referral]


def test_dashboard_lists_overdue_check_ins_of_the_coordinators_sites(client):
    match, _staff, coordinator, _volunteers = approved_match()
    Match.objects.filter(pk=match.pk).update(status=Match.Status.ACTIVE)
    overdue = CheckIn.objects.create(
        match=match, months_after_start=1, due_on=timezone.localdate() - datetime.timedelta(3)
    )
    login_verified(client, coordinator)
    assert list(client.get("/coordinator/").context["needs_attention"]) == [overdue]


def test_dashboard_draws_the_map_and_both_charts_with_their_tables(client):
    match, _staff, coordinator, _volunteers = approved_match()
    waiting_referral(match.referral.site)
    login_verified(client, coordinator)

    page = client.get("/coordinator/").content.decode()

    assert page.count('role="img"') == 3
    assert 'id="map-title"' in page and 'id="map-desc"' in page
    # Only the coordinator's catchment is framed (tests/matching/test_charts.py tests the frame).
    assert 10 <= page.count("<circle") < 357
    assert 'id="matches-chart"' in page and 'id="wait-chart"' in page
    assert '<title id="matches-chart-title">Matches made per month</title>' in page
    assert "Municipalities with the most waiting referrals" in page
    assert "<td>Oslo</td><td>1</td>" in page
    assert "<details>" in page and "Matches and median waiting time per month" in page
    assert "https://" not in page.split("<main")[1]
