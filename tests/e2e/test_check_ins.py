"""A volunteer answers a check-in asking the coordinator to get in touch; the coordinator finds it
under "needs attention" on the dashboard, reads it on the match page and marks it handled with a
note. In bokmål and in English, with axe on the pages this feature adds."""

import datetime

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from matching import lifecycle
from matching.models import CheckIn
from tests.matching.factories import (
    agreement_signed,
    pending_proposal,
    ready_volunteer,
    site_with_people,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORDS = {
    "nb": {
        "send": "Send svarene",
        "wellbeing": "Det fungerer ikke",
        "contact": "Jeg vil at koordinatoren tar kontakt med meg",
        "note": "Noe mer du vil at koordinatoren skal vite?",
        "thanks": "Koordinatoren din har fått beskjed og tar kontakt med deg.",
        "section": "Trenger oppfølging",
        "entry": "Ber deg ta kontakt: det fungerer ikke",
        "mark": "Merk som håndtert",
        "did": "Hva gjorde du?",
        "marked": "Oppfølgingen er merket som håndtert.",
        "empty": "Ingenting trenger oppfølging nå",
        "followed_up": "Fulgt opp",
    },
    "en": {
        "send": "Send the answers",
        "wellbeing": "It is not working",
        "contact": "I want the coordinator to get in touch with me",
        "note": "Anything else you want the coordinator to know?",
        "thanks": "Your coordinator is told and will get in touch with you.",
        "section": "Needs attention",
        "entry": "Asks you to get in touch: it is not working",
        "mark": "Mark handled",
        "did": "What did you do?",
        "marked": "The check-in is marked handled.",
        "empty": "Nothing needs attention",
        "followed_up": "Followed up",
    },
}


def blocking_violations(page, selector: str = "main") -> list[str]:
    results = Axe().run(page, context=selector)
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


def a_due_check_in():
    site, staff, coordinator = site_with_people()
    coordinator.first_name, coordinator.last_name = "Kari", "Koordinator"
    coordinator.save()
    volunteer = ready_volunteer()
    volunteer.user.first_name, volunteer.user.last_name = "Åse", "Nilsen"
    volunteer.user.save()
    match = lifecycle.proposal_approve(
        pending_proposal(site, coordinator, [volunteer]), by=coordinator
    )
    agreement_signed(match, staff, coordinator, [volunteer])
    check_in = CheckIn.objects.get(match=match, months_after_start=1)
    check_in.due_on = timezone.localdate() - datetime.timedelta(days=1)
    check_in.save()
    return check_in, volunteer, coordinator


@pytest.mark.parametrize("language", ["nb", "en"])
def test_a_contact_request_reaches_the_dashboard_and_is_marked_handled(open_as, geodata, language):
    words = WORDS[language]
    check_in, volunteer, coordinator = a_due_check_in()
    alias = check_in.match.referral.alias

    me = open_as(volunteer.user)
    in_language(me, language)
    me.click(f"a[href='/check-ins/{check_in.pk}/']")
    found = blocking_violations(me)
    me.fill("input[name=meetings_held]", "2")
    me.get_by_label(words["wellbeing"], exact=True).check()
    me.get_by_label(words["contact"]).check()
    me.get_by_label(words["note"]).fill("Vi får ikke til å møtes")
    me.get_by_role("button", name=words["send"]).click()
    expect(me.locator(".messages")).to_contain_text(words["thanks"])

    desk = open_as(coordinator)
    in_language(desk, language)
    desk.goto("/coordinator/")
    section = desk.locator("section[aria-labelledby=attention-h]")
    expect(section.get_by_role("heading", level=2)).to_have_text(words["section"])
    expect(section).to_contain_text(words["entry"])
    expect(section).to_contain_text("Åse Nilsen")
    expect(section).to_contain_text(alias)
    expect(section).to_contain_text("Vi får ikke til å møtes")
    found += blocking_violations(desk, "section[aria-labelledby=attention-h]")

    section.locator("summary").click()
    section.get_by_label(words["did"]).fill("Ringte Åse, vi møtes på fredag")
    section.get_by_role("button", name=words["mark"]).click()

    expect(desk.locator(".messages")).to_contain_text(words["marked"])
    expect(desk).to_have_url(f"{desk.url.split('/coordinator/')[0]}/coordinator/")
    expect(desk.locator("section[aria-labelledby=attention-h]")).to_contain_text(words["empty"])

    desk.goto(f"/coordinator/matches/{check_in.match_id}/")
    answers = desk.locator(f"#check-in-{check_in.pk}")
    expect(answers).to_contain_text(words["followed_up"])
    expect(answers).to_contain_text("Ringte Åse, vi møtes på fredag")
    expect(answers).to_contain_text("Kari Koordinator")
    found += blocking_violations(desk, "section[aria-labelledby=check-ins-h]")
    assert found == []
