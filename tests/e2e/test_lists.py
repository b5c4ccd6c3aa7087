"""The coordinator's volunteer list in the browser, in bokmål and English: filter by language
and vetting due, move to the next page with the filters kept, export what is shown; every list
page passes axe."""

import datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.casework.test_lists import TODAY, bulk_vetting, bulk_volunteers
from tests.e2e.test_accessibility import scan
from tests.matching.factories import site_with_people

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def coordinator_with_many_volunteers():
    """55 Somali speakers whose vetting runs out within the warning window, 5 with vetting in
    order, and 3 Arabic speakers."""
    site, _staff, coordinator = site_with_people()
    somali = [{"code": "so", "level": "fluent"}]
    due = bulk_volunteers(site, 55, tag="due", languages=somali, vetting=False)
    bulk_vetting(due, site.programme, TODAY + datetime.timedelta(days=20))
    bulk_volunteers(site, 5, tag="ok", languages=somali)
    bulk_volunteers(site, 3, tag="ar", languages=[{"code": "ar", "level": "native"}])
    return coordinator


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("nb", {"show": "Vis", "next": "Neste side", "found": "55 funnet, side 2 av 2"}),
        ("en", {"show": "Show", "next": "Next page", "found": "55 found, page 2 of 2"}),
    ],
)
def test_filter_volunteers_by_language_and_vetting_due_page_and_export(
    open_as, geodata, language, words
):
    page = open_as(coordinator_with_many_volunteers())
    if language == "en":
        page.select_option("#language", "en")
        page.click("form:has(#language) button[type=submit]")
    page.goto("/coordinator/volunteers/")

    page.select_option("#id_language", "so")
    page.check("#id_vetting_due")
    page.click(f"form[role=search] button:text('{words['show']}')")
    # The click returns once the next page starts to arrive; expect() waits for its rows.
    expect(page.locator("tbody tr")).to_have_count(50)

    page.click(f"text={words['next']}")
    expect(page.locator("#list-count")).to_contain_text(words["found"])
    expect(page.locator("tbody tr")).to_have_count(5)
    assert page.input_value("#id_language") == "so" and page.is_checked("#id_vetting_due")

    with page.expect_download() as download:
        page.click("a.export")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert len(text.strip().splitlines()) == 1 + 55
    assert ("Due0000 Hansen" in text) and ("Ok0000" not in text) and ("Ar0000" not in text)


def test_every_list_page_passes_axe(open_as, geodata):
    page = open_as(coordinator_with_many_volunteers())
    paths = [
        "/referrals/",
        "/coordinator/volunteers/?language=so&vetting_due=on&page=2",
        "/coordinator/volunteers/?organisation=nothing",
        "/coordinator/matches/",
        "/coordinator/check-ins/",
    ]
    assert scan(page, paths) == []
