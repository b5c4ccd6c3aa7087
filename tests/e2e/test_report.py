"""The programme report in the browser: the coordinator opens it from the dashboard, changes
the period and sees the tables, "< 5" where few people are behind a count; the page and its
print view pass axe at desktop and phone width."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from programmes.models import Referral
from tests.e2e.test_accessibility import violations
from tests.matching.factories import site_with_people
from tests.programmes.factories import ReferralFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def coordinator_with_referrals():
    """Seven referrals last month and two the month before, at one site."""
    site, _staff, coordinator = site_with_people()
    first_of_month = timezone.localdate().replace(day=1)
    last_month = first_of_month - datetime.timedelta(days=10)
    month_before = first_of_month - datetime.timedelta(days=40)
    for day in [last_month] * 7 + [month_before] * 2:
        made = ReferralFactory(site=site, status=Referral.Status.WAITING)
        moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
        Referral.objects.filter(pk=made.pk).update(submitted_at=moment)
    return site, coordinator, last_month, month_before


@pytest.mark.parametrize("width", [1280, 360])
def test_open_the_report_change_the_period_and_read_the_table(open_as, geodata, width):
    site, coordinator, last_month, month_before = coordinator_with_referrals()
    page = open_as(coordinator, width=width)
    page.goto("/coordinator/")
    page.click("a[href='/coordinator/report/']")
    page.wait_for_url("**/coordinator/report/")

    page.fill("#id_from_date", last_month.replace(day=1).isoformat())
    page.fill("#id_to_date", last_month.isoformat())
    page.click("form.list-filters button[type=submit]")
    received = page.locator("#report-referrals tbody tr").first.locator("td").first
    # The click returns once the next page starts to arrive; expect() waits for it.
    expect(received).to_have_text(re.compile(r"7\s*$"))
    assert violations(page) == []

    page.fill("#id_from_date", month_before.replace(day=1).isoformat())
    page.fill("#id_to_date", month_before.isoformat())
    page.click("form.list-filters button[type=submit]")
    expect(received).to_have_text(re.compile(r"< 5\s*$"))
    assert str(site) in page.locator("#report-referrals tbody").inner_text()

    page.click("a[href$='format=print']")
    page.wait_for_url(re.compile(r"format=print$"))
    assert page.locator("#report-referrals").is_visible()
    assert violations(page) == []


def test_a_bad_date_is_named_in_the_error_summary(open_as, geodata):
    _site, coordinator, _last, _before = coordinator_with_referrals()
    page = open_as(coordinator)
    page.goto("/coordinator/report/?from_date=2026-02-31&to_date=2026-03-01")
    summary = page.locator("#error-summary")
    assert summary.is_visible()
    assert "#id_from_date" in summary.locator("a").first.get_attribute("href")
    assert violations(page) == []
