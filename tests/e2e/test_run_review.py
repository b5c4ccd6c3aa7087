"""The run page in a browser: its proposals read as a table on a desk and as one card per
proposal on a 360 px phone, without the page scrolling sideways and without axe violations, in
both languages; a coordinator ticks every row at once and approves them, and rejects one with a
reason from its panel."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from matching.models import Match, Proposal
from tests.e2e.test_check_ins import in_language
from tests.matching.factories import site_with_people
from tests.matching.test_run_review import run_with_proposals

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def violations(page) -> list[str]:
    results = Axe().run(page, context="main")
    return [
        f"{v['id']}: {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]


def too_wide(page, width: int) -> list[str]:
    """What in the page's main part would make the page scroll sideways. (The header is the
    layout's, tested with every page.)"""
    return page.evaluate(
        """width => Array.from(document.querySelectorAll("main *"))
            .filter(element => element.getBoundingClientRect().right > width
                && !element.closest(".run-proposals > thead"))
            .map(element => element.outerHTML.slice(0, 80))""",
        width,
    )


@pytest.mark.parametrize("language", ["nb", "en"])
def test_the_run_page_fits_a_phone_and_a_desk_and_passes_axe(open_as, geodata, language):
    site, _staff, coordinator = site_with_people()
    run, _proposals = run_with_proposals(site, coordinator, 3)
    found = []
    for width in (1280, 360):
        page = open_as(coordinator, width=width)
        in_language(page, language)
        page.goto(f"/coordinator/runs/{run.pk}/")
        page.locator("tr.proposal details summary").first.click()
        found += [f"{width} px: {violation}" for violation in violations(page)]
        found += [f"{width} px: {wide} reaches beyond the screen" for wide in too_wide(page, width)]
    assert found == []


def test_a_coordinator_ticks_every_row_at_once_and_approves_them_on_a_phone(open_as, geodata):
    site, _staff, coordinator = site_with_people()
    run, proposals = run_with_proposals(site, coordinator, 3)
    page = open_as(coordinator, width=360)
    page.goto(f"/coordinator/runs/{run.pk}/")

    page.locator("#select-all").check()
    expect(page.locator("input[name=proposals]:checked")).to_have_count(3)
    page.locator("#approve-selected button").click()

    expect(page.locator(".messages")).to_contain_text(proposals[0].referral.alias)
    assert Match.objects.count() == 3


def test_a_coordinator_rejects_a_proposal_with_a_reason_from_its_panel(open_as, geodata):
    site, _staff, coordinator = site_with_people()
    run, (proposal,) = run_with_proposals(site, coordinator, 1)
    alias = proposal.referral.alias
    page = open_as(coordinator)
    page.goto(f"/coordinator/runs/{run.pk}/")
    reason = page.get_by_label(f"Hvorfor avvises forslaget for {alias}? (må fylles ut)")
    expect(reason).to_be_hidden()

    page.locator(f"#proposal-{proposal.pk} summary").click()
    reason.fill("Kjenner hverandre fra før")
    page.locator(f"#proposal-{proposal.pk} form[action$='/reject/'] button").click()

    expect(page.locator(".messages")).to_contain_text(alias)
    proposal.refresh_from_db()
    assert (proposal.status, proposal.rejection_reason) == (
        Proposal.Status.REJECTED,
        "Kjenner hverandre fra før",
    )
