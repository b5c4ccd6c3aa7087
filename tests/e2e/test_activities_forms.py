"""The activity checkboxes and the children's ages in a real browser, in bokmål and in English
(issue 17): a crisis-centre worker picks the wished activities and birth years, is told a child
born in 2000 is too old and keeps what was ticked; a volunteer picks activities on their page."""

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from programmes.models import Referral
from tests.e2e.test_accessibility import blocking_violations
from tests.matching.factories import ready_volunteer, site_with_people
from volunteers.models import Volunteer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAMES = {
    "nb": {"football": "Fotball", "swimming": "Svømming", "library": "Bibliotek"},
    "en": {"football": "Football", "swimming": "Swimming", "library": "Library"},
}
NAMES["nb"]["climbing"], NAMES["en"]["climbing"] = "Klatring", "Climbing"


def reading_in(page, live_server, language: str) -> None:
    """The interface language as the language menu leaves it: in a cookie."""
    cookie = {"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}
    page.context.add_cookies([cookie])


@pytest.mark.parametrize("language", ["nb", "en"])
def test_a_crisis_centre_worker_picks_activities_and_is_told_a_child_is_too_old(
    open_as, geodata, live_server, language
):
    site, staff, _coordinator = site_with_people("fritidsvenn")
    page = open_as(staff)
    reading_in(page, live_server, language)
    names = NAMES[language]
    page.goto("/referrals/new/")
    page.select_option("#id_site", str(site.pk))
    page.fill("#id_postal_code", "0150")
    page.check("input[name=languages][value=ar]")
    page.select_option("#id_day_0", "2")
    page.fill("#id_start_0", "17:00")
    page.fill("#id_end_0", "19:00")
    page.fill("#id_children_birth_years", "2000, 2016")
    page.get_by_label(names["football"], exact=True).check()
    page.get_by_label(names["swimming"], exact=True).check()
    page.fill("#id_consent_given_on", "2026-11-01")
    page.click("form[method=post]:has(#id_site) button[type=submit]")
    page.wait_for_selector("#error-summary")

    link = page.locator("#error-summary a")
    assert [link.nth(i).get_attribute("href") for i in range(link.count())] == [
        "#id_children_birth_years"
    ]
    assert "2000" in link.first.inner_text()
    if language == "en":
        earliest = timezone.localdate().year - 17
        expected = f"2000: the child must be under 18 (born {earliest} or later)."
        assert link.first.inner_text().endswith(expected)
    expect(page.get_by_label(names["football"], exact=True)).to_be_checked()
    expect(page.get_by_label(names["swimming"], exact=True)).to_be_checked()
    assert blocking_violations(page) == []

    page.fill("#id_children_birth_years", "2016")
    page.click("form[method=post]:has(#id_site) button[type=submit]")
    page.wait_for_url("**/referrals/")

    referral = Referral.objects.get()
    assert referral.children_birth_years == [2016]
    assert [a.code for a in referral.wished_activities.all()] == ["football", "swimming"]


@pytest.mark.parametrize("language", ["nb", "en"])
def test_a_volunteer_picks_activities_on_their_page(open_as, geodata, live_server, language):
    volunteer = ready_volunteer(activities=["library"])
    page = open_as(volunteer.user, width=360)
    reading_in(page, live_server, language)
    names = NAMES[language]
    page.goto("/me/")

    expect(page.get_by_label(names["library"], exact=True)).to_be_checked()
    page.get_by_label(names["library"], exact=True).uncheck()
    page.get_by_label(names["climbing"], exact=True).check()
    page.click("#save-languages")
    page.wait_for_selector(".messages")

    saved = Volunteer.objects.get(pk=volunteer.pk)
    assert [activity.code for activity in saved.activities.all()] == ["climbing"]
    expect(page.get_by_label(names["climbing"], exact=True)).to_be_checked()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
