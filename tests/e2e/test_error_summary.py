"""A form sent back with errors in a real browser: the error summary has the focus when the page
opens, each of its links puts the focus in its field, and the page passes axe."""

import pytest

from tests.e2e.test_accessibility import blocking_violations
from tests.matching.factories import ready_volunteer, site_with_people

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def focused(page) -> str:
    return page.evaluate("document.activeElement.id")


def test_the_referral_form_opens_on_its_summary_and_each_link_reaches_its_field(open_as, geodata):
    site, staff, _coordinator = site_with_people()
    page = open_as(staff)
    page.goto("/referrals/new/")
    page.select_option("#id_site", str(site.pk))
    page.fill("#id_postal_code", "9999")
    page.check("input[name=languages][value=ar]")
    for row, (start, end) in enumerate([("17:00", "19:00"), ("18:00", "20:00")]):
        page.select_option(f"#id_day_{row}", "1")
        page.fill(f"#id_start_{row}", start)
        page.fill(f"#id_end_{row}", end)
    page.click("form[method=post]:has(#id_site) button[type=submit]")
    page.wait_for_selector("#error-summary")

    assert focused(page) == "error-summary"
    links = page.locator("#error-summary a")
    assert [links.nth(i).get_attribute("href") for i in range(links.count())] == [
        "#id_postal_code",
        "#id_day_1",
        "#id_consent_given_on",
    ]
    links.nth(1).click()
    assert focused(page) == "id_day_1"
    page.locator("#error-summary a").nth(0).click()
    assert focused(page) == "id_postal_code"
    assert blocking_violations(page) == []


def test_a_volunteer_with_an_unfinished_slot_lands_on_the_summary_at_360_px(open_as, geodata):
    volunteer = ready_volunteer(availability=[])
    page = open_as(volunteer.user, width=360)
    page.goto("/me/")
    page.select_option("#id_day_0", "4")
    page.fill("#id_start_0", "09:30")
    page.click("form[method=post]:has(#id_day_0) button[type=submit]")
    page.wait_for_selector("#error-summary")

    assert focused(page) == "error-summary"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.locator("#error-summary a").first.click()
    assert focused(page) == "id_end_0"
    assert blocking_violations(page) == []
