"""The "Your data" pages pass axe-core and break the strict Content Security Policy nowhere."""

import pytest

from tests.e2e.conftest import browser  # noqa: F401  (the module's Chromium)
from tests.e2e.test_accessibility import blocking_violations
from tests.e2e.test_content_security_policy import open_page  # noqa: F401
from tests.matching.factories import ready_volunteer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_data_pages_pass_axe_without_csp_violations(open_page, geodata):  # noqa: F811
    volunteer = ready_volunteer()
    page = open_page(volunteer.user)
    found = []

    for path in ("/my-data/", "/my-data/delete/"):
        page.goto(path)
        found += blocking_violations(page)
    page.click("main form button[type=submit]")
    found += blocking_violations(page)
    page.goto("/me/")
    page.click("a[href='/my-data/']")

    assert found == []
    assert page.violations == []
    assert page.url.endswith("/my-data/")
