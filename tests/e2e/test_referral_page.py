"""The referral page in a browser, in bokmål and in English: crisis-centre staff open a referral
from the overview, correct it and record that the participant accepts a volunteer of another
gender; the coordinator opens it and reads what happened, newest first. Axe finds no serious or
critical problem on the page or the form."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from matching import lifecycle
from programmes.models import Referral
from tests.matching.factories import (
    agreement_signed,
    pending_proposal,
    ready_volunteer,
    site_with_people,
    waiting_referral,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORDS = {
    "nb": {
        "heading": "Henvisning {alias}",
        "change": "Endre {alias}",
        "save": "Lagre endringene",
        "changed": "{alias} er endret.",
        "edited": "Endret av Kari Krise: språk",
        "languages": "Arabisk, somali",
        "consent": "Deltakeren har sagt at en frivillig av et annet kjønn enn ønsket er greit.",
        "record": "Registrer deltakerens samtykke",
        "recorded": "Registrert: {alias} godtar en frivillig av et annet kjønn.",
        "accepts": "Godtar en frivillig av et annet kjønn: registrert av Kari Krise",
        "timeline": "Dette har skjedd",
        "story": [
            "Ola Koordinator godkjente koblingen med Berit Bergersen, Oslo.",
            "Ola Koordinator avslo forslaget om Anne Avslått, Oslo.",
            "En koblingsrunde foreslo Anne Avslått, Oslo.",
            "Sendt inn av Kari Krise, Krisesenteret Oslo.",
        ],
    },
    "en": {
        "heading": "Referral {alias}",
        "change": "Change {alias}",
        "save": "Save the changes",
        "changed": "{alias} is changed.",
        "edited": "Changed by Kari Krise: languages",
        "languages": "Arabic, Somali",
        "consent": (
            "The participant has told us that a volunteer of another gender than the one wished "
            "for is acceptable."
        ),
        "record": "Record the participant's consent",
        "recorded": "Recorded: {alias} accepts a volunteer of another gender.",
        "accepts": "Accepts a volunteer of another gender: recorded by Kari Krise",
        "timeline": "What has happened",
        "story": [
            "Ola Koordinator approved the match with Berit Bergersen, Oslo.",
            "Ola Koordinator turned down the proposal of Anne Avslått, Oslo.",
            "A match run proposed Anne Avslått, Oslo.",
            "Submitted by Kari Krise, Krisesenteret Oslo.",
        ],
    },
}


def blocking_violations(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{page.url} {v['id']}: {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


def in_language(page, language: str) -> None:
    if language != "nb":
        page.select_option("#language", language)
        page.click("form:has(#language) button[type=submit]")
        page.wait_for_load_state("load")


def named(user, first, last):
    user.first_name, user.last_name = first, last
    user.save()
    return user


def people():
    site, staff, coordinator = site_with_people()
    return site, named(staff, "Kari", "Krise"), named(coordinator, "Ola", "Koordinator")


@pytest.mark.parametrize("language", ["nb", "en"])
def test_centre_staff_open_a_referral_change_it_and_record_consent(open_as, geodata, language):
    words = WORDS[language]
    site, staff, _coordinator = people()
    referral = waiting_referral(
        site, consent_recorded_by=staff, languages=["ar"], volunteer_gender="female"
    )
    alias = referral.alias

    page = open_as(staff)
    in_language(page, language)
    page.click(f"main a[href='/referrals/{referral.pk}/']")
    expect(page.get_by_role("heading", level=1)).to_have_text(words["heading"].format(alias=alias))
    found = blocking_violations(page)

    page.get_by_role("link", name=words["change"].format(alias=alias)).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["change"].format(alias=alias))
    found += blocking_violations(page)
    page.check("input[name=languages][value=so]")
    page.get_by_role("button", name=words["save"]).click()

    expect(page.locator(".messages")).to_contain_text(words["changed"].format(alias=alias))
    known = page.locator("section[aria-labelledby=known-h]")
    expect(known).to_contain_text(words["languages"])
    expect(page.locator("section[aria-labelledby=timeline-h]")).to_contain_text(words["edited"])

    page.get_by_label(words["consent"]).check()
    page.get_by_role("button", name=words["record"]).click()
    expect(page.locator(".messages")).to_contain_text(words["recorded"].format(alias=alias))
    expect(known).to_contain_text(words["accepts"])
    assert Referral.objects.get(pk=referral.pk).any_gender_consent_recorded_by == staff
    assert found == []


@pytest.mark.parametrize("language", ["nb", "en"])
def test_the_coordinator_reads_what_happened_newest_first(open_as, geodata, language):
    words = WORDS[language]
    site, staff, coordinator = people()
    referral = waiting_referral(site, consent_recorded_by=staff, languages=["ar"])
    anne = ready_volunteer(organisation=site.organisation, code="0151")
    named(anne.user, "Anne", "Avslått")
    berit = ready_volunteer(organisation=site.organisation, code="0152")
    named(berit.user, "Berit", "Bergersen")
    turned_down = pending_proposal(site, coordinator, [anne], referral)
    lifecycle.proposal_reject(turned_down, by=coordinator, reason="Kjenner familien fra før.")
    match = lifecycle.proposal_approve(
        pending_proposal(site, coordinator, [berit], referral), by=coordinator
    )
    agreement_signed(match, staff, coordinator, [berit])

    page = open_as(coordinator)
    in_language(page, language)
    page.goto(f"/referrals/{referral.pk}/")

    timeline = page.locator("section[aria-labelledby=timeline-h]")
    expect(timeline.get_by_role("heading", level=2)).to_have_text(words["timeline"])
    events = timeline.locator("li").all_inner_texts()
    positions = [
        next(i for i, text in enumerate(events) if sentence in text) for sentence in words["story"]
    ]
    assert positions == sorted(positions)
    expect(timeline.locator(f"a[href='/coordinator/volunteers/{berit.pk}/']").first).to_be_visible()
    assert blocking_violations(page) == []
