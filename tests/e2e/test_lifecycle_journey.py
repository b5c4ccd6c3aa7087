"""The exceptions of a match, driven in a browser the way people meet them: a Fritidsvenn
family whose volunteer declines gets a replacement, and a crisis centre withdraws a matched
referral, after which the volunteer sees nothing but the alias. Every page is read in bokmål,
as the people using it read it, and none may show an error or log one to the console."""

import re

import pytest
from playwright.sync_api import expect

from matching import lifecycle
from matching.models import Match
from programmes.models import Referral
from tests.matching.factories import (
    pending_proposal,
    ready_volunteer,
    site_with_people,
    waiting_referral,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Chromium logs a blocked script, style or connection on the console as an error too; this makes
# sure each one is, whatever the browser version says about it.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error("CSP violation: " + event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""


def watched(page):
    """Record every console error, uncaught script error, CSP violation and failed request on
    ``page.problems`` from here on."""
    page.problems = []
    page.add_init_script(REPORT_CSP_VIOLATIONS)

    def console(message):
        if message.type == "error":
            page.problems.append(f"{page.url}: console: {message.text}")

    def response(answer):
        if answer.status >= 400:
            page.problems.append(f"{answer.url}: HTTP {answer.status}")

    page.on("console", console)
    page.on("pageerror", lambda error: page.problems.append(f"{page.url}: script: {error}"))
    page.on("response", response)
    return page


def arrive(page, heading: str) -> None:
    """Wait until the page the click led to is there, by its main heading."""
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)


def main_text(page) -> str:
    """What the person reads in the page's main area, after checking it shows no error: no error
    message, no field marked invalid, and nothing wrong on the console."""
    page.wait_for_load_state("load")
    assert page.locator("main .error, main [aria-invalid=true]").all_inner_texts() == []
    assert page.problems == []
    return page.inner_text("main")


def open_watched(open_as, user):
    return watched(open_as(user))


def region(page, heading: str):
    return page.get_by_role("region", name=heading)


def button(page, name: str):
    return page.get_by_role("button", name=name, exact=True)


def say_saved(page, words: str) -> None:
    expect(page.locator(".messages")).to_contain_text(words)


def open_agreement_from_home(page, alias: str) -> None:
    page.goto("/")
    region(page, "Avtaler som venter på deg").get_by_role("link", name=alias).click()
    arrive(page, "Avtale for Fritidsvenn")


def test_a_family_gets_a_replacement_when_one_of_its_two_volunteers_declines(
    open_as, geodata, eager_celery
):
    site, staff, coordinator = site_with_people("fritidsvenn")
    alias = waiting_referral(site, languages=["ar"]).alias
    leaving = ready_volunteer("fritidsvenn", code="0150", user__first_name="Kari")
    staying = ready_volunteer("fritidsvenn", code="0151", user__first_name="Ola")

    desk = open_watched(open_as, coordinator)
    desk.get_by_role("link", name="Koordinatoroversikt").click()
    button(desk, f"Start en koblingsrunde for {site}").click()
    button(desk, f"Godkjenn koblingen for {alias}").click()
    say_saved(desk, f"Forslaget for {alias} er lagret.")
    proposed = desk.locator("tr.proposal").inner_text()
    assert "Kari" in proposed and "Ola" in proposed
    main_text(desk)

    kari = open_watched(open_as, leaving.user)
    open_agreement_from_home(kari, alias)
    kari.get_by_label("Hvorfor takker du nei?").fill("Jeg flytter til Bergen")
    button(kari, "Takk nei").click()
    say_saved(kari, "Du har takket nei til avtalen.")
    assert "Du gikk ut av denne koblingen" in region(kari, "Mine koblinger").inner_text()
    assert not region(kari, "Avtaler som venter på deg").count()

    ola = open_watched(open_as, staying.user)
    open_agreement_from_home(ola, alias)
    agreement = main_text(ola)
    assert "Trenger en ny frivillig." in agreement
    assert "Kari: gikk ut" in agreement
    button(ola, "Godta avtalen").click()
    say_saved(ola, "Du har godtatt avtalen.")

    newcomer = ready_volunteer("fritidsvenn", code="0152", user__first_name="Aisha")
    desk.get_by_role("link", name="Tilbake til oversikten").click()
    region(desk, "Koblinger som trenger en ny frivillig").get_by_role(
        "link", name=f"Kobling for {alias}"
    ).click()
    arrive(desk, f"Kobling for {alias}")
    match_page = main_text(desk)
    assert "Trenger en ny frivillig." in match_page
    # On the match page a coordinator sees each volunteer with the municipality they live in.
    assert re.search(r"Kari, [^:]+: gikk ut", match_page) and "Jeg flytter til Bergen" in match_page
    button(desk, "Finn en ny frivillig").click()
    # The run page shows each proposal as a row, headed by the referral and what it is for.
    replacement = desk.get_by_role("rowheader", name=f"Ny frivillig for {alias}, sammen med Ola")
    expect(replacement).to_be_visible()
    assert "Aisha" in desk.locator("tr.proposal").inner_text()
    button(desk, f"Godkjenn koblingen for {alias}").click()
    say_saved(desk, f"Forslaget for {alias} er lagret.")

    aisha = open_watched(open_as, newcomer.user)
    open_agreement_from_home(aisha, alias)
    button(aisha, "Godta avtalen").click()
    say_saved(aisha, "Du har godtatt avtalen.")
    centre = open_watched(open_as, staff)
    open_agreement_from_home(centre, alias)
    button(centre, "Registrer deltakerens samtykke").click()
    say_saved(centre, "Deltakerens samtykke er registrert.")

    desk.get_by_role("link", name=f"Avtale for {alias}").click()
    button(desk, "Kontrasigner").click()
    say_saved(desk, "Avtalen er kontrasignert, og koblingen er aktiv.")
    desk.get_by_role("link", name="Koordinatoroversikt").click()
    region(desk, "Pågående koblinger").get_by_role("link", name=f"Kobling for {alias}").click()
    desk.get_by_role("link", name=f"Avtale for {alias}").click()
    arrive(desk, "Avtale for Fritidsvenn")
    signed = main_text(desk)
    assert "Aktiv siden" in signed
    signatures = desk.locator("article ul").last.inner_text()
    assert "Kari: gikk ut" in signatures and "Ola: godtok" in signatures
    assert "Aisha: godtok" in signatures
    assert Match.objects.get().status == Match.Status.ACTIVE
    for page in (desk, kari, ola, aisha, centre):
        assert page.problems == []


def test_a_withdrawn_match_leaves_the_volunteer_only_the_alias(open_as, geodata):
    site, staff, coordinator = site_with_people(name="Vest")
    referral = waiting_referral(site, languages=["ar"])
    volunteer = ready_volunteer(user__first_name="Nora")
    proposal = pending_proposal(site, coordinator, [volunteer], referral)
    lifecycle.proposal_approve(proposal, by=coordinator)
    alias = referral.alias

    nora = open_watched(open_as, volunteer.user)
    before = region(nora, "Mine koblinger").inner_text()
    assert alias in before and "Oslo" in before

    centre = open_watched(open_as, staff)
    centre.get_by_role("link", name="Dine henvisninger").click()
    centre.get_by_role("link", name=f"Trekk tilbake {alias}").click()
    arrive(centre, f"Trekk tilbake {alias}")
    assert "Koblingen med Nora avsluttes med en gang" in main_text(centre)
    centre.get_by_label("Deltakeren har flyttet").check()
    button(centre, f"Trekk tilbake {alias}").click()
    say_saved(centre, f"Henvisning {alias} er trukket tilbake.")
    row = centre.get_by_role("row", name=alias)
    expect(row).to_contain_text("Trukket tilbake: Deltakeren har flyttet")
    main_text(centre)

    nora.reload()
    after = region(nora, "Mine koblinger").inner_text()
    assert alias in after and "Denne koblingen ble avsluttet" in after
    assert "Oslo" not in after
    assert not region(nora, "Avtaler som venter på deg").count()
    region(nora, "Mine koblinger").get_by_role("link", name=alias).click()
    arrive(nora, "Avtale for Ressursvenn")
    agreement = main_text(nora)
    assert alias in agreement and "Denne koblingen ble avsluttet" in agreement
    assert "Oslo" not in agreement and "Signaturer" not in agreement
    assert not button(nora, "Godta avtalen").count()
    assert Referral.objects.get().status == Referral.Status.WITHDRAWN
