"""The agreement on paper, in Chromium with print media: the portal around it (skip link,
header, navigation with the log-out button and the language picker, footer) and every button
and form are gone, and the document stays: heading, status, parties, terms and signatures, in
every state. On screen, the "Skriv ut" button prints."""

import pytest
from playwright.sync_api import expect

from tests.matching.test_agreement_print import STATES, match_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PORTAL_ONLY = [
    ".ds-skip-link",
    "body > header",
    "nav",
    "#language",
    "form[action$='/logout/']",
    "body > footer",
    "button",
    "form",
    "main input:not([type=hidden])",
]
DOCUMENT = ["Avtale for Ressursvenn", "Status", "Deltaker", "Vilkår", "Taushetsplikt", "Signaturer"]


def visible(page, selector: str) -> list[str]:
    """The elements matching ``selector`` that take up room on the page."""
    return [
        selector
        for element in page.locator(selector).all()
        if element.is_visible() and element.bounding_box()
    ]


@pytest.mark.parametrize("state", STATES)
def test_the_agreement_prints_as_a_document_without_the_portal_around_it(open_as, geodata, state):
    match, readers = match_in(state)
    for role in ("coordinator", "volunteer"):
        page = open_as(readers[role])
        page.goto(f"/agreements/{match.agreement.pk}/")
        expect(page.get_by_role("button", name="Skriv ut")).to_be_visible()
        assert visible(page, "body > header")

        page.emulate_media(media="print")

        shown = [found for selector in PORTAL_ONLY for found in visible(page, selector)]
        assert shown == [], (state, role)
        text = page.inner_text("main")
        for words in DOCUMENT if role == "coordinator" or state != "ended" else DOCUMENT[:3]:
            assert words in text, (state, role, words)
        assert match.referral.alias in text


def test_the_print_button_opens_the_browsers_print_dialog(open_as, geodata):
    match, readers = match_in("active")
    page = open_as(readers["volunteer"])
    page.goto(f"/agreements/{match.agreement.pk}/")
    page.evaluate("window.print = () => { window.printed = true; }")

    page.get_by_role("button", name="Skriv ut").click()

    assert page.evaluate("window.printed") is True
