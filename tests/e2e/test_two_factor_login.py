"""Two-factor login in a real browser: a coordinator types the password and then the code of the
authenticator app, or sets the app up first from the key on the page. The pages on the way pass
axe-core."""

from base64 import b32decode

import pytest
from django_otp.oath import totp

from tests.auth import totp_code, totp_device_for
from tests.e2e.conftest import PASSWORD
from tests.e2e.test_accessibility import blocking_violations
from tests.matching.factories import site_with_people

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def new_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="nb-NO")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def type_password(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form:has(#id_password) button[type=submit]")


def test_a_coordinator_logs_in_with_password_and_authenticator_code(new_page, live_server, geodata):
    _site, _staff, coordinator = site_with_people()
    device = totp_device_for(coordinator)

    type_password(new_page, coordinator.username)
    new_page.wait_for_url("**/accounts/two-factor/?next=*")
    found = blocking_violations(new_page)
    new_page.fill("#id_code", totp_code(device))
    new_page.click("form:has(#id_code) button[type=submit]")

    new_page.wait_for_url(f"{live_server.url}/")
    new_page.goto("/coordinator/")
    assert new_page.url == f"{live_server.url}/coordinator/"
    assert found == []


def test_a_coordinator_sets_up_the_authenticator_from_the_key_on_the_page(
    new_page, live_server, geodata
):
    _site, _staff, coordinator = site_with_people()

    type_password(new_page, coordinator.username)
    new_page.wait_for_url("**/accounts/two-factor/setup/?next=*")
    found = blocking_violations(new_page)
    secret = new_page.inner_text("#secret").replace(" ", "")
    code = totp(b32decode(secret + "=" * (-len(secret) % 8)))
    new_page.fill("#id_code", f"{code:06d}")
    new_page.click("form:has(#id_code) button[type=submit]")

    new_page.wait_for_url("**/accounts/two-factor/recovery-codes/**")
    assert new_page.locator(".recovery-codes li").count() == 10
    found += blocking_violations(new_page)
    new_page.goto("/accounts/security/")
    found += blocking_violations(new_page)
    assert found == []
