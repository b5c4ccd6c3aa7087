"""The whole journey in a browser: a crisis centre refers, a coordinator matches, everyone
signs, and the match is active."""

import pytest
from django.utils import timezone

from matching.models import Match
from programmes.models import Referral
from tests.matching.factories import ready_volunteer, site_with_people

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def submit_referral(page, site) -> str:
    page.click("a[href='/referrals/new/']")
    page.select_option("#id_site", str(site.pk))
    page.fill("#id_postal_code", "0150")
    page.check("input[name=languages][value=ar]")
    page.select_option("#id_day_0", "2")
    page.fill("#id_start_0", "17:00")
    page.fill("#id_end_0", "20:00")
    page.fill("#id_consent_given_on", timezone.localdate().isoformat())
    page.click("form[method=post]:has(#id_site) button[type=submit]")
    page.wait_for_url("**/referrals/")
    return Referral.objects.get().alias


def sign(page, referral_alias: str, step: str) -> None:
    page.goto("/")
    page.click(f"a:has-text('{referral_alias}')")
    page.click(f"form[action$='/{step}/'] button")
    page.wait_for_url("**/")


def test_a_referral_becomes_an_active_match(open_as, geodata, eager_celery):
    site, staff, coordinator = site_with_people()
    volunteer = ready_volunteer(organisation=site.organisation)

    centre = open_as(staff)
    alias = submit_referral(centre, site)
    assert alias in centre.inner_text("tbody")

    desk = open_as(coordinator)
    desk.click("a[href='/coordinator/']")
    desk.click("form[action*='/coordinator/referrals/'] button")
    desk.click(f"form[action='/coordinator/runs/']:has(input[value='{site.pk}']) button")
    desk.wait_for_selector("form[action$='/approve/']")
    assert "km" in desk.inner_text(".proposal")
    desk.click("form[action$='/approve/'] button")
    desk.wait_for_selector(".messages")
    assert Referral.objects.get().status == Referral.Status.MATCHED

    sign(open_as(volunteer.user), alias, "accept")
    sign(centre, alias, "consent")
    sign(desk, alias, "countersign")

    match = Match.objects.get()
    assert match.status == Match.Status.ACTIVE
    assert Referral.objects.get().status == Referral.Status.ACTIVE
