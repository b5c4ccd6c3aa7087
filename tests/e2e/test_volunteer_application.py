"""Recruiting in a browser: a stranger applies on a phone in bokmål (and another in English),
confirms the e-mail address from the link mailed to them, a coordinator takes the applicant
through the pipeline to active, and the next match run proposes the new volunteer."""

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import translation

from tests.e2e.test_narrow_screens import PAGE_SCROLLS_SIDEWAYS, WIDER_THAN_THE_SCREEN
from tests.matching.factories import site_with_people, waiting_referral
from tests.volunteers.factories import give_full_vetting
from volunteers.models import ApplicationStage, Volunteer, VolunteerApplication

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 800}


@pytest.fixture(autouse=True)
def empty_counts():
    cache.clear()
    yield
    cache.clear()


def stranger(browser, live_server, locale: str, viewport: dict):
    context = browser.new_context(base_url=live_server.url, locale=locale, viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def fill_application(page, *, first: str, email: str) -> None:
    page.fill("#id_first_name", first)
    page.fill("#id_last_name", "Berg")
    page.fill("#id_email", email)
    page.fill("#id_phone", "412 34 567")
    page.fill("#id_postal_code", "0150")
    page.check("#id_gender_0")
    page.select_option("#id_language_0", "ar")
    page.select_option("#id_level_0", "native")
    page.check("input[name=activities][value=football]")
    page.select_option("#id_day_0", "2")
    page.fill("#id_start_0", "17:00")
    page.fill("#id_end_0", "20:00")
    page.fill("#id_motivation", "Jeg har tid på kveldene.")
    page.check("#id_consent")
    page.click("#send-application")
    page.wait_for_url("**/apply/sent/")


def confirm_from_mail(page, email: str) -> None:
    (message,) = [m for m in mail.outbox if m.to == [email]]
    # The link points at SITE_URL; the test server has an address of its own.
    path = re.search(r"/apply/confirm/\S+/", message.body).group(0)
    page.goto(path)
    page.click("#confirm-application")
    page.wait_for_selector("h1")


def step(desk, expected: ApplicationStage) -> None:
    desk.click("#advance")
    desk.wait_for_selector(".messages")
    with translation.override("nb"):
        assert str(expected.label) in desk.inner_text("dl.facts")


def test_a_stranger_becomes_a_volunteer_who_is_proposed(
    browser, live_server, open_as, geodata, eager_celery
):
    site, _staff, coordinator = site_with_people()
    referral = waiting_referral(site, languages=["ar"])
    address = f"/apply/ressursvenn/{site.organisation.name.lower().replace(' ', '-')}/"

    phone_context, phone = stranger(browser, live_server, "nb-NO", PHONE)
    phone.goto(address)
    assert phone.locator("html").get_attribute("lang") == "nb"
    assert not phone.evaluate(PAGE_SCROLLS_SIDEWAYS), phone.evaluate(WIDER_THAN_THE_SCREEN)
    assert site.crisis_centre.name not in phone.content()
    # Sent empty, every problem is in the summary, and nothing is saved.
    phone.click("#send-application")
    phone.wait_for_selector("#error-summary a")
    assert phone.locator("#error-summary a").count() >= 6
    assert not phone.evaluate(PAGE_SCROLLS_SIDEWAYS), phone.evaluate(WIDER_THAN_THE_SCREEN)
    fill_application(phone, first="Ingrid", email="ingrid@example.no")
    confirm_from_mail(phone, "ingrid@example.no")
    phone_context.close()

    english_context, english = stranger(
        browser, live_server, "en-GB", {"width": 1280, "height": 800}
    )
    english.goto(address)
    assert english.locator("html").get_attribute("lang") == "en"
    assert "Volunteer in Ressursvenn" in english.inner_text("h1")
    fill_application(english, first="Amina", email="amina@example.no")
    confirm_from_mail(english, "amina@example.no")
    english_context.close()

    desk = open_as(coordinator)
    desk.goto("/coordinator/applications/")
    assert "Amina" in desk.inner_text("tbody")
    desk.click("a:has-text('Ingrid Berg')")
    step(desk, ApplicationStage.CONTACTED)
    step(desk, ApplicationStage.INTERVIEWED)
    step(desk, ApplicationStage.TRAINING)

    volunteer = Volunteer.objects.get(user__email="ingrid@example.no")
    assert volunteer.status == Volunteer.Status.APPLICANT
    invitation = [m for m in mail.outbox if m.to == ["ingrid@example.no"]][-1]
    assert "/accounts/reset/" in invitation.body
    # The vetting page has tests of its own; here the papers are in order.
    give_full_vetting(volunteer, site.programme)
    desk.reload()
    step(desk, ApplicationStage.VETTED)
    step(desk, ApplicationStage.ACTIVE)
    assert VolunteerApplication.objects.get(volunteer=volunteer).stage == ApplicationStage.ACTIVE

    desk.goto("/coordinator/")
    desk.click(f"form[action='/coordinator/runs/']:has(input[value='{site.pk}']) button")
    desk.wait_for_selector("form[action$='/approve/']")
    proposal = desk.inner_text(".proposal")
    assert "Ingrid Berg" in proposal
    assert referral.alias in desk.content()
