"""A run left a referral waiting: the coordinator reads why on the run page, proposes the volunteer
who nearly fits by hand with a reason, and approves the proposal like any other. In bokmål and in
English, with axe on the pages this adds to."""

import pytest
from playwright.sync_api import expect

from matching.models import Match, Proposal
from tests.e2e.test_check_ins import blocking_violations, in_language
from tests.matching.test_hand_proposals import near_miss_case, only_near_miss

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORDS = {
    "nb": {
        "why": "Ingen frivillig bor innen 40 km. Nærmeste bor 99 km unna, i Hamar.",
        "shortfall": "59 km utenfor grensen",
        "propose": "Foreslå frivillige for {alias} for hånd",
        "reason": "Hvorfor foreslår du dem for hånd?",
        "send": "Foreslå for hånd",
        "missing": "Skriv hvorfor du foreslår dem for hånd.",
        "saved": "Forslaget for {alias} er lagret. Vurder det nedenfor.",
        "by_hand": "Foreslått for hånd",
        "relaxed": "lempet på: avstandsgrensen",
        "approve": "Godkjenn koblingen for {alias}",
    },
    "en": {
        "why": "No volunteer lives within 40 km. The nearest lives 99 km away, in Hamar.",
        "shortfall": "59 km beyond the limit",
        "propose": "Propose volunteers for {alias} by hand",
        "reason": "Why propose them by hand?",
        "send": "Propose by hand",
        "missing": "Say why you propose them by hand.",
        "saved": "Proposal for {alias} is saved. Review it below.",
        "by_hand": "Proposed by hand",
        "relaxed": "rules relaxed: the distance limit",
        "approve": "Approve the match for {alias}",
    },
}


@pytest.mark.parametrize("language", ["nb", "en"])
def test_a_coordinator_proposes_a_near_miss_by_hand_and_approves_it(open_as, geodata, language):
    words = WORDS[language]
    unmatched, _staff, coordinator = near_miss_case()
    volunteer = only_near_miss(unmatched)
    volunteer.user.first_name, volunteer.user.last_name = "Åse", "Nilsen"
    volunteer.user.save()
    alias = unmatched.referral.alias

    desk = open_as(coordinator)
    in_language(desk, language)
    desk.goto(f"/coordinator/runs/{unmatched.run_id}/")
    waiting = desk.locator(f"#unmatched-{unmatched.pk}")
    expect(waiting).to_contain_text(words["why"])
    expect(waiting).to_contain_text("Åse Nilsen")
    expect(waiting).to_contain_text(words["shortfall"])
    found = blocking_violations(desk, "section[aria-labelledby=unmatched-h]")

    desk.get_by_role("link", name=words["propose"].format(alias=alias)).click()
    desk.get_by_label(f"Åse Nilsen, Hamar: {words['shortfall']}").check()
    desk.get_by_role("button", name=words["send"]).click()
    expect(desk.locator("#error-summary")).to_contain_text(words["missing"])
    found += blocking_violations(desk)
    assert not Proposal.objects.exists()

    desk.get_by_label(words["reason"]).fill("Hun pendler til Oslo hver dag.")
    desk.get_by_role("button", name=words["send"]).click()

    expect(desk.locator(".messages")).to_contain_text(words["saved"].format(alias=alias))
    proposal = desk.locator("tr.proposal")
    expect(proposal).to_contain_text(words["by_hand"])
    expect(proposal).to_contain_text("Hun pendler til Oslo hver dag.")
    expect(proposal).to_contain_text(words["relaxed"])
    expect(proposal).to_contain_text("Åse Nilsen")
    found += blocking_violations(desk, "section[aria-labelledby=proposals-h]")

    desk.get_by_role("button", name=words["approve"].format(alias=alias)).click()
    expect(desk.locator(".messages")).to_be_visible()
    assert Match.objects.get().volunteers.get().volunteer == volunteer
    assert found == []
