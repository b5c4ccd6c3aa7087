"""The languages editor and the coordinator's volunteer pages pass axe-core without serious or
critical violations, fit a 360 px screen, and the languages editor works by keyboard alone."""

import pytest

from tests.e2e.test_accessibility import blocking_violations, scan, tab_to
from tests.matching.factories import ready_volunteer, site_with_people
from tests.volunteers.factories import VolunteerFactory
from volunteers.models import Volunteer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def coordinator_with_volunteers():
    """A coordinator with an applicant to vet and an active volunteer; returns the pages."""
    site, _staff, coordinator = site_with_people()
    applicant = VolunteerFactory(organisation=site.organisation, programmes=[site.programme])
    active = ready_volunteer(organisation=site.organisation)
    pages = ["/coordinator/volunteers/", f"/coordinator/volunteers/{applicant.pk}/vetting/"]
    return coordinator, active, pages


def test_coordinator_volunteer_pages_pass_axe_with_and_without_errors(open_as, geodata):
    coordinator, _active, pages = coordinator_with_volunteers()
    page = open_as(coordinator)
    found = scan(page, [*pages, "/"])

    page.goto(pages[1])
    page.select_option("#id_kind", "politiattest")
    page.click("form[method=post]:has(#id_kind) button[type=submit]")
    found += blocking_violations(page)
    page.click("form[method=post]:has(button) >> text=/Endre status|Change status/")
    found += blocking_violations(page)

    assert found == []


def test_languages_editor_passes_axe_with_and_without_errors(open_as, geodata):
    volunteer = ready_volunteer()
    page = open_as(volunteer.user)
    found = scan(page, ["/me/"])
    page.select_option("#id_language_1", "pl")
    page.click("form[method=post]:has(#id_language_0) button[type=submit]")
    found += blocking_violations(page)
    assert found == []


def test_new_pages_fit_a_360_px_screen(open_as, geodata):
    coordinator, active, pages = coordinator_with_volunteers()
    too_wide = []
    for user, paths in ((coordinator, pages), (active.user, ["/me/"])):
        page = open_as(user, width=360)
        for path in paths:
            page.goto(path)
            if page.evaluate("document.documentElement.scrollWidth") > 360:
                too_wide.append(path)
    assert too_wide == []


def test_languages_editor_works_by_keyboard_alone_at_360_px(open_as, geodata):
    volunteer = ready_volunteer(languages=[{"code": "ar", "level": "native"}])
    page = open_as(volunteer.user, width=360)
    page.goto("/me/")

    tab_to(page, "id_language_1", limit=80)
    page.keyboard.type("Pol")
    page.keyboard.press("Tab")
    for _ in range(4):  # past the blank, native, fluent and conversational levels to basic
        page.keyboard.press("ArrowDown")
    tab_to(page, "id_activities_1")  # swimming
    page.keyboard.press("Space")
    page.keyboard.press("Tab")  # outdoor life
    page.keyboard.press("Space")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Space")  # swimming again: unticked
    tab_to(page, "save-languages")
    page.keyboard.press("Enter")
    page.wait_for_selector(".messages")

    saved = Volunteer.objects.get(pk=volunteer.pk)
    assert saved.languages == [{"code": "ar", "level": "native"}, {"code": "pl", "level": "basic"}]
    assert [activity.code for activity in saved.activities.all()] == ["outdoor-life"]
