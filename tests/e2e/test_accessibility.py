"""Every page of the three journeys (tests/journeys.py) passes axe-core with no violations at
all, in bokmål and in English, at 1280 and at 360 px wide; a run in progress passes too, and the
weekly availability editor works by keyboard alone on a 360 px wide screen.

The journeys' pages share one world of data and one signed-in tab per reader and language for
the module (tests/e2e/journeys.py); the other tests build their own rows. ``blocking_violations``
and ``scan`` are the serious and critical findings other modules check their own pages for."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from matching.lifecycle import proposal_approve
from matching.models import MatchRun
from tests.e2e.journeys import (
    journeys_served,
    test_every_journey_page_is_a_page_of_the_portal,  # noqa: F401  (runs here too)
)
from tests.journeys import PAGES
from tests.matching.factories import (
    MatchRunFactory,
    municipality,
    pending_proposal,
    ready_volunteer,
    site_with_people,
    waiting_referral,
)
from tests.programmes.factories import ReferralFactory
from volunteers.models import Volunteer

pytestmark = pytest.mark.browser

BLOCKING = {"serious", "critical"}
WIDTHS = (1280, 360)


def blocking_violations(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{page.url} {v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in BLOCKING
    ]


def violations(page) -> list[str]:
    """Every finding, whatever its impact."""
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]


def scan(page, paths) -> list[str]:
    found = []
    for path in paths:
        page.goto(path)
        found += blocking_violations(page)
    return found


def portal_with_people():
    """A site with a submitted and a waiting referral, a pending proposal and an approved
    match: every portal page, the dashboard's map and charts too, has something to show.
    Returns each role's user and the pages they see (tests/e2e/test_content_security_policy.py
    visits them)."""
    site, staff, coordinator = site_with_people()
    ReferralFactory(site=site)
    volunteer = ready_volunteer(organisation=site.organisation)
    proposal = pending_proposal(site, coordinator, [volunteer])
    waiting = waiting_referral(site, languages=["so"])
    waiting_referral(site, municipality=municipality("4601"))
    matched = ready_volunteer(organisation=site.organisation, code="5003")
    proposal_approve(pending_proposal(site, coordinator, [matched]), by=coordinator)
    return {
        staff: ["/", "/referrals/", f"/referrals/{waiting.pk}/edit/", "/referrals/new/"],
        coordinator: [
            "/",
            "/coordinator/",
            f"/coordinator/runs/{proposal.run_id}/",
            f"/referrals/{proposal.referral_id}/",
        ],
        volunteer.user: ["/", "/me/"],
    }


def journey_cases():
    for journey_page in PAGES:
        for language in ("nb", "en"):
            for width in WIDTHS:
                case = f"{journey_page.id}-{language}-{width}"
                yield pytest.param(journey_page, language, width, id=case)


@pytest.fixture(scope="module")
def journeys(django_db_setup, django_db_blocker, browser):
    with journeys_served(browser, django_db_blocker) as served:
        yield served


@pytest.mark.parametrize(("journey_page", "language", "width"), list(journey_cases()))
def test_a_journey_page_passes_axe(journeys, journey_page, language, width):
    page = journeys.open(journey_page, language, width)
    assert violations(page) == [], page.url


@pytest.mark.django_db(transaction=True)
def test_a_run_in_progress_passes_axe_and_shows_the_result_when_done(open_as, geodata):
    site, _staff, coordinator = site_with_people()
    run = MatchRunFactory(site=site, started_by=coordinator)
    page = open_as(coordinator)
    assert scan(page, [f"/coordinator/runs/{run.pk}/"]) == []

    MatchRun.objects.filter(pk=run.pk).update(status=MatchRun.Status.SUCCEEDED, progress=100)
    page.wait_for_selector("#proposals-h", timeout=10_000)


@pytest.mark.django_db(transaction=True)
def test_availability_editor_works_by_keyboard_alone_at_360_px(open_as, geodata):
    volunteer = ready_volunteer(availability=[])
    page = open_as(volunteer.user, width=360)
    page.goto("/me/")

    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    tab_to(page, "id_day_0")
    page.keyboard.type("Fre")
    page.keyboard.press("Tab")
    # Time boxes (type="time") take the digits; Chromium takes its clock from the system's
    # locale, which here (C) has an AM/PM part that "A" fills. A 24-hour clock ignores it.
    page.keyboard.type("0930A")
    tab_to(page, "id_end_0")
    page.keyboard.type("1130A")
    page.keyboard.press("Enter")
    page.wait_for_selector(".messages")

    saved = Volunteer.objects.get(pk=volunteer.pk).availability
    assert saved == [{"day": 4, "start": "09:30", "end": "11:30"}]

    # A day without its times: the page with its errors passes axe too.
    page.select_option("#id_day_1", "1")
    page.click("form[method=post]:has(#id_day_0) button[type=submit]")
    page.wait_for_selector("[aria-invalid=true]")
    assert blocking_violations(page) == []


def tab_to(page, element_id: str, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == element_id:
            return
    raise AssertionError(f"Tab never reached #{element_id}")
