"""Speed at scale (issue 19): every portal page, API list and back-office list named in the
issue costs the same number of queries at the demo's size and at several times it, with the data
that makes a row cost more (vetting running out, volunteers in two programmes, matches that need
a replacement or lost a volunteer who asked to end, check-ins that need attention, a run with
proposals of two volunteers each and referrals left unmatched with near misses); the lists that
can grow show a page, or the first rows and a link to the full list; who holds which role is
asked once per request, and a staff member's session row is not written on every request.

The smaller size has fewer rows than a page: a query per row then shows as growth, which it
would not if both sizes filled the page. tests/casework/test_lists.py checks the four lists and
their exports on PostgreSQL; these run on SQLite too, where the access log's rows are inserted in
batches of 999 parameters (PostgreSQL: one statement), so there its inserts are not counted."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.roles import Role, forget_roles, user_has_role, user_roles
from casework.home import RECENT_REFERRALS
from matching.models import (
    Match,
    MatchVolunteer,
    NearMiss,
    Proposal,
    ProposalPair,
    UnmatchedReferral,
)
from matching.views import DASHBOARD_LIST_SIZE, RUN_PAGE_SIZE
from programmes.models import Referral
from programmes.selectors import site_ids_coordinated_by, site_ids_visible_to
from tests.auth import login_verified
from tests.casework.test_lists import bulk_referrals, bulk_volunteers, grow
from tests.clock import TODAY
from tests.matching.factories import MatchRunFactory, site_with_people
from tests.programmes.factories import ReferralFactory, UserFactory, programme
from volunteers.models import Volunteer

batched = connection.vendor == "sqlite"
ACCESS_LOG_INSERT = 'INSERT INTO "programmes_auditlogentry"'

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock_at_noon")]

# Rows of each kind per site at the smaller size (fewer than a page) and at the larger one (more
# than two pages of each list).
FEW = 4
MANY = 2 * max(DASHBOARD_LIST_SIZE, RUN_PAGE_SIZE) + 10


def grow_everything(site, run, n, tag) -> None:
    """``grow`` (referrals, volunteers with vetting running out, matches with check-ins that
    need attention) and more at the site: volunteers in a second programme, new referrals to
    take into the queue, matches that need a replacement and volunteers who ask to end, and
    ``run``'s proposals (two volunteers each) and unmatched referrals (with near misses)."""
    grow(site, n, tag)
    volunteers = list(
        Volunteer.objects.filter(user__username__startswith=f"{tag.lower()}-volunteer-")
    )
    fritidsvenn = programme("fritidsvenn")
    Volunteer.programmes.through.objects.bulk_create(
        Volunteer.programmes.through(volunteer=v, programme=fritidsvenn) for v in volunteers[::3]
    )
    bulk_referrals(site, n, tag=f"{tag}S", status=Referral.Status.SUBMITTED)
    matches = Match.objects.filter(referral__alias__startswith=f"P-{tag}0")
    Match.objects.filter(pk__in=list(matches.values_list("pk", flat=True)[::4])).update(
        needs_replacement=True
    )
    MatchVolunteer.objects.filter(match__in=list(matches.values_list("pk", flat=True)[::3])).update(
        end_requested_at=timezone.now(), end_request_reason=Match.EndReason.MOVED
    )
    proposed = bulk_referrals(site, n, tag=f"{tag}P", status=Referral.Status.PROPOSED)
    proposals = Proposal.objects.bulk_create(
        Proposal(run=run, referral=r, cost=1.0, status=Proposal.Status.PENDING) for r in proposed
    )
    partners = bulk_volunteers(site, n, tag=f"{tag.lower()}p")
    ProposalPair.objects.bulk_create(
        ProposalPair(
            proposal=proposal,
            volunteer=volunteer,
            distance_km=3.0,
            overlap_hours=2.0,
            shared_languages=["nb"],
            cost=-4.0,
            vetting_expires_on=TODAY + datetime.timedelta(days=90) if i % 5 == 0 else None,
        )
        for i, proposal in enumerate(proposals)
        for volunteer in (volunteers[i], partners[i])
    )
    left_out = bulk_referrals(site, n // 4, tag=f"{tag}U")
    unmatched = UnmatchedReferral.objects.bulk_create(
        UnmatchedReferral(
            run=run,
            referral=r,
            reason="no_volunteer_within_distance",
            facts={"limit_km": 40, "nearest_km": 99, "nearest_municipality": "3403"},
        )
        for r in left_out
    )
    NearMiss.objects.bulk_create(
        NearMiss(
            unmatched=row,
            volunteer=volunteers[i],
            rule="distance",
            shortfall=59.0,
            distance_km=99.0,
            overlap_minutes=120,
        )
        for i, row in enumerate(unmatched)
    )


def counts(client, user, urls) -> dict[tuple[str, str], int]:
    login_verified(client, user)
    client.get(urls[0])  # the session and the content types, once
    found = {}
    for url in urls:
        cache.clear()  # the dashboard's map and charts are counted anew, not taken from the cache
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, url
        found[user.username, url] = len(
            [q for q in queries if not (batched and q["sql"].startswith(ACCESS_LOG_INSERT))]
        )
    return found


@pytest.fixture
def people():
    oslo, staff, coordinator = site_with_people()
    bergen, *_rest = site_with_people(name="Bergen")
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    # Coordinators use the back office too (the demo's group gives them these permissions).
    coordinator.is_staff = True
    coordinator.save(update_fields=["is_staff"])
    coordinator.user_permissions.add(
        Permission.objects.get(codename="view_proposal", content_type__app_label="matching")
    )
    runs = [
        MatchRunFactory(
            site=site, on_date=TODAY, started_by=site.coordinators.first(), status="succeeded"
        )
        for site in (oslo, bergen)
    ]
    return (oslo, bergen), runs, staff, coordinator, admin


def test_every_page_and_list_costs_the_same_with_a_few_rows_and_with_pages_of_them(client, people):
    sites, runs, staff, coordinator, admin = people
    pages = {
        coordinator: [
            "/",
            "/coordinator/",
            "/coordinator/volunteers/",
            "/coordinator/volunteers/?vetting_due=on&page=2",
            "/referrals/",
            "/referrals/?page=2",
            f"/coordinator/runs/{runs[0].pk}/",
            f"/coordinator/runs/{runs[0].pk}/?page=2",
            "/api/v1/matches/",
            "/api/v1/referrals/",
            "/admin/matching/proposal/",
        ],
        admin: [
            "/",
            "/coordinator/",
            "/coordinator/volunteers/",
            "/referrals/",
            f"/coordinator/runs/{runs[1].pk}/",
            "/api/v1/matches/",
            "/api/v1/referrals/",
            "/admin/matching/proposal/",
        ],
        staff: ["/", "/referrals/", "/api/v1/referrals/", "/api/v1/matches/"],
    }
    for site, run, tag in zip(sites, runs, "OB", strict=True):
        grow_everything(site, run, FEW, tag)
    small = {}
    for user, urls in pages.items():
        small |= counts(client, user, urls)

    for site, run, tag in zip(sites, runs, "PC", strict=True):
        grow_everything(site, run, MANY, tag)
    assert Volunteer.objects.count() == 2 * 2 * (FEW + MANY)
    large = {}
    for user, urls in pages.items():
        large |= counts(client, user, urls)

    grown = {page: (small[page], n) for page, n in large.items() if n > small[page]}
    assert not grown, grown
    assert max(large.values()) < 40, large


def test_the_run_page_shows_its_proposals_fifty_at_a_time_and_a_review_returns_to_its_page(
    client, people
):
    (oslo, _bergen), (run, _other), _staff, coordinator, _admin = people
    grow_everything(oslo, run, MANY, "O")
    login_verified(client, coordinator)

    first = client.get(f"/coordinator/runs/{run.pk}/").context
    second = client.get(f"/coordinator/runs/{run.pk}/?page=2").context

    aliases = [p.referral.alias for p in first["proposals"]]
    assert aliases == sorted(aliases) and len(aliases) == RUN_PAGE_SIZE
    assert second["proposals"][0].referral.alias > aliases[-1]
    assert first["page"].paginator.count == MANY
    page = client.get(f"/coordinator/runs/{run.pk}/?page=2").content.decode()
    assert 'rel="prev"' in page
    proposal = second["proposals"][0]
    assert f'action="/coordinator/proposals/{proposal.pk}/reject/?page=2"' in page

    response = client.post(f"/coordinator/proposals/{proposal.pk}/reject/?page=2", {"reason": "x"})

    assert response.url == f"/coordinator/runs/{run.pk}/?page=2"
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.REJECTED


def test_the_dashboard_shows_the_first_rows_of_each_list_and_links_to_the_full_list(client, people):
    (oslo, _bergen), (run, _other), _staff, coordinator, _admin = people
    grow_everything(oslo, run, MANY, "O")
    login_verified(client, coordinator)

    response = client.get("/coordinator/", headers={"accept-language": "en"})

    context = response.context
    assert len(context["to_accept"]) == DASHBOARD_LIST_SIZE
    assert context["to_accept_count"] == MANY
    assert len(context["open_matches"]) == DASHBOARD_LIST_SIZE
    assert context["open_matches_count"] == MANY // 2
    page = response.content.decode()
    assert f"Showing the first {DASHBOARD_LIST_SIZE} of {MANY}." in page
    assert 'href="/referrals/?status=submitted"' in page
    assert 'href="/coordinator/check-ins/?state=needs_attention"' in page
    # The full lists the links lead to show the same rows.
    listed = client.get("/referrals/?status=submitted").context["page"].paginator.count
    assert listed == MANY


def test_the_home_page_shows_the_newest_referrals_and_links_to_all_of_them(client, people):
    (oslo, _bergen), (run, _other), _staff, coordinator, _admin = people
    grow_everything(oslo, run, MANY, "O")
    login_verified(client, coordinator)

    response = client.get("/", headers={"accept-language": "en"})

    shown = list(response.context["referrals"])
    total = response.context["referrals_count"]
    assert len(shown) == RECENT_REFERRALS < total
    newest = Referral.objects.filter(site__coordinators=coordinator).order_by(
        "-submitted_at", "-pk"
    )
    assert [r.pk for r in shown] == [r.pk for r in newest[:RECENT_REFERRALS]]
    page = response.content.decode()
    assert f"Showing the first {RECENT_REFERRALS} of {total}." in page
    assert 'href="/referrals/">See the full list' in page


def test_roles_are_asked_of_the_database_once_per_user_object(django_assert_num_queries):
    oslo, _staff, coordinator = site_with_people()
    with django_assert_num_queries(3):  # coordinator, crisis-centre staff, volunteer
        assert user_has_role(coordinator, Role.COORDINATOR)
        assert not user_has_role(coordinator, Role.CRISIS_CENTRE_STAFF, Role.VOLUNTEER)
        assert user_roles(coordinator) == {Role.COORDINATOR}
        assert user_roles(coordinator) == {Role.COORDINATOR}

    oslo.crisis_centre.staff.add(coordinator)
    assert user_roles(coordinator) == {Role.COORDINATOR}
    forget_roles(coordinator)
    assert user_roles(coordinator) == {Role.COORDINATOR, Role.CRISIS_CENTRE_STAFF}


def test_the_sites_a_user_works_at_are_asked_of_the_database_once_per_user_object(
    django_assert_num_queries,
):
    oslo, _staff, coordinator = site_with_people()
    bergen, _bergen_staff, _bergen_coordinator = site_with_people(name="Bergen")
    with django_assert_num_queries(2):  # the sites seen, the sites coordinated
        assert site_ids_visible_to(coordinator) == [oslo.pk]
        assert site_ids_coordinated_by(coordinator) == [oslo.pk]
        assert site_ids_visible_to(coordinator) == [oslo.pk]
        assert site_ids_coordinated_by(coordinator) == [oslo.pk]

    bergen.coordinators.add(coordinator)
    assert site_ids_coordinated_by(coordinator) == [oslo.pk]
    forget_roles(coordinator)
    assert site_ids_coordinated_by(coordinator) == sorted([oslo.pk, bergen.pk])
    assert site_ids_visible_to(coordinator) == sorted([oslo.pk, bergen.pk])


def test_a_coordinator_given_a_site_sees_its_referrals_at_the_next_request(client):
    _oslo, _staff, coordinator = site_with_people()
    bergen, _bergen_staff, _bergen_coordinator = site_with_people(name="Bergen")
    ReferralFactory(site=bergen, alias="P-BERGEN1")
    login_verified(client, coordinator)
    assert "P-BERGEN1" not in client.get("/referrals/").content.decode()

    bergen.coordinators.add(coordinator)
    assert "P-BERGEN1" in client.get("/referrals/").content.decode()

    bergen.coordinators.remove(coordinator)
    assert "P-BERGEN1" not in client.get("/referrals/").content.decode()


def test_a_request_asks_who_the_user_is_once(client):
    _oslo, _staff, coordinator = site_with_people()
    login_verified(client, coordinator)
    client.get("/coordinator/volunteers/")

    with CaptureQueriesContext(connection) as queries:
        assert client.get("/coordinator/volunteers/").status_code == 200

    asked = [q for q in queries if 'FROM "programmes_programmesite_coordinators"' in q["sql"]]
    role_checks = [q for q in asked if "LIMIT 1" in q["sql"] and "1 AS" in q["sql"]]
    assert len(role_checks) == 1, [q["sql"] for q in role_checks]


def session_writes(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return sum(
        1
        for q in queries
        if '"django_session"' in q["sql"] and q["sql"].startswith(("UPDATE", "INSERT"))
    )


def test_a_staff_session_is_written_at_most_once_a_minute(client, clock_at_noon):
    _oslo, _staff, coordinator = site_with_people()
    login_verified(client, coordinator)
    client.get("/referrals/")

    assert session_writes(client, "/referrals/") == 0
    clock_at_noon.shift(datetime.timedelta(seconds=30))
    assert session_writes(client, "/referrals/") == 0
    clock_at_noon.shift(datetime.timedelta(seconds=45))
    assert session_writes(client, "/referrals/") == 1
    assert session_writes(client, "/referrals/") == 0
