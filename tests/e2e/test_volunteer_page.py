"""A coordinator goes from the volunteer list to a volunteer's page and sees who they are, where
they live, when their vetting runs out and the match they are in; in bokmål and in English, and
the page passes axe-core."""

import datetime

import pytest
from django.utils import timezone

from matching import lifecycle
from programmes.models import VettingKind
from tests.dates import short_date
from tests.e2e.test_accessibility import blocking_violations
from tests.matching.factories import (
    agreement_signed,
    pending_proposal,
    ready_volunteer,
    site_with_people,
)
from tests.programmes.factories import UserFactory
from tests.volunteers.factories import VettingRecordFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def volunteer_in_a_match():
    site, staff, coordinator = site_with_people()
    user = UserFactory(first_name="Tone", last_name="Haugland")
    volunteer = ready_volunteer(organisation=site.organisation, user=user, code="0150")
    expires = timezone.localdate() + datetime.timedelta(days=12)
    VettingRecordFactory(volunteer=volunteer, kind=VettingKind.FIRST_AID, expires_on=expires)
    match = lifecycle.proposal_approve(
        pending_proposal(site, coordinator, [volunteer]), by=coordinator
    )
    agreement_signed(match, staff, coordinator, [volunteer])
    return coordinator, volunteer, match, expires


def test_coordinator_finds_the_volunteer_and_reads_their_page(open_as, geodata):
    coordinator, volunteer, match, expires = volunteer_in_a_match()
    page = open_as(coordinator)

    page.goto("/coordinator/volunteers/")
    page.get_by_role("link", name="Tone Haugland", exact=True).click()
    page.wait_for_url(f"**/coordinator/volunteers/{volunteer.pk}/")

    assert page.locator("h1").inner_text() == "Tone Haugland"
    body = page.locator("main").inner_text()
    assert "Oslo" in body
    assert f"Utløper snart, {short_date(expires)}" in body
    assert match.referral.alias in body and "Aktiv siden" in body
    assert blocking_violations(page) == []

    page.select_option("#language", "en")
    page.click("form:has(#language) button[type=submit]")
    page.wait_for_selector("html[lang=en]")
    body = page.locator("main").inner_text()
    assert "Expires soon, on" in body
    assert "Active since" in body and "Municipality" in body


def test_the_page_fits_a_360_px_screen(open_as, geodata):
    coordinator, volunteer, _match, _expires = volunteer_in_a_match()
    page = open_as(coordinator, width=360)
    page.goto(f"/coordinator/volunteers/{volunteer.pk}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
