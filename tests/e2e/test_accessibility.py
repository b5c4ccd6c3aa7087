"""Every portal page passes axe-core without serious or critical violations, and the weekly
availability editor works by keyboard alone on a 360 px wide screen."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from matching.lifecycle import proposal_approve
from matching.models import MatchRun
from tests.matching.factories import (
    municipality,
    pending_proposal,
    ready_volunteer,
    site_with_people,
    waiting_referral,
)
from tests.programmes.factories import ReferralFactory
from volunteers.models import Volunteer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BLOCKING = {"serious", "critical"}


def blocking_violations(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{page.url} {v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in BLOCKING
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
    Returns each role's user and the pages they see."""
    site, staff, coordinator = site_with_people()
    ReferralFactory(site=site)
    volunteer = ready_volunteer(organisation=site.organisation)
    proposal = pending_proposal(site, coordinator, [volunteer])
    waiting_referral(site, languages=["so"])
    waiting_referral(site, municipality=municipality("4601"))
    matched = ready_volunteer(organisation=site.organisation, code="5003")
    proposal_approve(pending_proposal(site, coordinator, [matched]), by=coordinator)
    return {
        staff: ["/", "/referrals/", "/referrals/new/"],
        coordinator: ["/", "/coordinator/", f"/coordinator/runs/{proposal.run_id}/"],
        volunteer.user: ["/", "/me/"],
    }


def test_every_portal_page_passes_axe(open_as, geodata, browser, live_server):
    (staff, staff_pages), (coordinator, desk_pages), (user, own_pages) = (
        portal_with_people().items()
    )

    anonymous = browser.new_page(base_url=live_server.url)
    found = scan(anonymous, ["/accounts/login/", "/about/"])
    anonymous.close()

    centre = open_as(staff)
    found += scan(centre, staff_pages)
    centre.click("form[method=post]:has(#id_site) button[type=submit]")
    found += blocking_violations(centre)

    found += scan(open_as(coordinator), desk_pages)

    me = open_as(user)
    found += scan(me, own_pages)
    me.select_option("#id_day_1", "1")
    me.click("form[method=post]:has(#id_day_0) button[type=submit]")
    found += blocking_violations(me)

    assert found == []


def test_every_portal_page_fits_a_360_px_screen(open_as, geodata):
    too_wide = []
    for user, paths in portal_with_people().items():
        page = open_as(user, width=360)
        for path in paths:
            page.goto(path)
            if page.evaluate("document.documentElement.scrollWidth") > 360:
                too_wide.append(path)
    assert too_wide == []


def test_a_run_in_progress_passes_axe_and_shows_the_result_when_done(open_as, geodata):
    site, _staff, coordinator = site_with_people()
    run = MatchRun.objects.create(
        programme=site.programme,
        scope="site",
        site=site,
        on_date=timezone.localdate(),
        rules={},
        started_by=coordinator,
    )
    page = open_as(coordinator)
    assert scan(page, [f"/coordinator/runs/{run.pk}/"]) == []

    MatchRun.objects.filter(pk=run.pk).update(status=MatchRun.Status.SUCCEEDED, progress=100)
    page.wait_for_selector("#proposals-h", timeout=10_000)


def test_availability_editor_works_by_keyboard_alone_at_360_px(open_as, geodata):
    volunteer = ready_volunteer(availability=[])
    page = open_as(volunteer.user, width=360)
    page.goto("/me/")

    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    tab_to(page, "id_day_0")
    page.keyboard.type("Fre")
    page.keyboard.press("Tab")
    page.keyboard.type("09:30")
    page.keyboard.press("Tab")
    page.keyboard.type("11.30")
    page.keyboard.press("Enter")
    page.wait_for_selector(".messages")

    saved = Volunteer.objects.get(pk=volunteer.pk).availability
    assert saved == [{"day": 4, "start": "09:30", "end": "11:30"}]


def tab_to(page, element_id: str, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == element_id:
            return
    raise AssertionError(f"Tab never reached #{element_id}")
