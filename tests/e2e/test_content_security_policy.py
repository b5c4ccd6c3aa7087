"""The strict Content Security Policy (our own origin only, nothing inline) breaks nothing:
each role's pages, the run progress and the API documentation load and work in Chromium
without a single violation."""

from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client

from matching.models import Agreement, MatchRun
from programmes.models import Referral
from tests.auth import login_verified
from tests.e2e.conftest import PASSWORD
from tests.e2e.test_accessibility import portal_with_people
from tests.matching.factories import MatchRunFactory, site_with_people
from tests.programmes.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs before any page script; the browser reports each blocked script, style or connection
# here as well as on the console.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""


@pytest.fixture
def open_page(browser, live_server):
    """``open_page(user=None)`` gives a page in its own context that records CSP violations
    in ``page.violations``. A user is signed in with a verified second factor through a
    session cookie, so this test does not depend on how the login form works."""
    contexts = []

    def open_for(user=None):
        context = browser.new_context(base_url=live_server.url, locale="nb-NO")
        contexts.append(context)
        if user is not None:
            context.add_cookies([session_cookie(user, live_server.url)])
        context.add_init_script(RECORD_VIOLATIONS)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.violations = []
        page.on("console", lambda message: record_console(page, message))
        return page

    yield open_for
    for context in contexts:
        context.close()


def session_cookie(user, url: str) -> dict:
    client = Client()
    login_verified(client, user)
    return {"name": settings.SESSION_COOKIE_NAME, "value": client.session.session_key, "url": url}


def record_console(page, message) -> None:
    if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
        page.violations.append(f"{page.url}: {message.text}")


def violations_on(page, paths) -> list[str]:
    found = []
    for path in paths:
        response = page.goto(path)
        assert response.ok, f"{path}: {response.status}"
        assert urlsplit(page.url).path == path, f"{path} went to {page.url}"
        page.wait_for_load_state("networkidle")
        found += [f"{path}: {v}" for v in page.evaluate("window.cspViolations")]
    return found + page.violations


def test_every_roles_pages_load_without_a_csp_violation(open_page, geodata):
    pages = portal_with_people()
    (staff, staff_pages), (coordinator, desk_pages), (volunteer, own_pages) = pages.items()
    agreement = f"/agreements/{Agreement.objects.get().pk}/"
    staff_pages = [*staff_pages, agreement, "/accounts/security/"]
    desk_pages = [*desk_pages, agreement, "/coordinator/volunteers/", "/admin/"]
    own_pages = [*own_pages, "/my-data/", "/accounts/security/"]
    coordinator.is_staff = True
    coordinator.save(update_fields=["is_staff"])

    found = violations_on(open_page(), ["/accounts/login/", "/about/"])
    found += violations_on(open_page(staff), staff_pages)
    desk = open_page(coordinator)
    found += violations_on(desk, desk_pages)
    found += violations_on(open_page(volunteer), own_pages)
    assert found == []

    desk.goto(agreement)
    assert desk.locator("button[data-print]").is_visible()


def test_the_recorder_sees_inline_code_the_policy_blocks(open_page, geodata):
    """Proves the checks above can fail: inline style and script on our page are reported."""
    page = open_page()
    page.goto("/about/")
    page.evaluate(
        """() => {
        const style = document.createElement("style");
        style.textContent = "body { color: red }";
        document.head.append(style);
        const script = document.createElement("script");
        script.textContent = "window.ranInline = true";
        document.head.append(script);
    }"""
    )
    page.wait_for_function("window.cspViolations.length >= 2")

    directives = " ".join(page.evaluate("window.cspViolations"))
    assert "style-src" in directives and "script-src" in directives
    assert page.evaluate("window.ranInline") is None


def test_a_missing_page_shows_without_a_csp_violation(open_page, geodata):
    page = open_page()
    response = page.goto("/no-such-page/")
    assert response.status == 404
    assert page.evaluate("window.cspViolations") == []
    assert page.violations == []


def test_run_progress_updates_itself_under_the_policy(open_page, geodata):
    site, _staff, coordinator = site_with_people()
    run = MatchRunFactory(site=site, started_by=coordinator)
    page = open_page(coordinator)
    page.goto(f"/coordinator/runs/{run.pk}/")
    assert page.locator("#run-status[data-in-progress]").count() == 1

    MatchRun.objects.filter(pk=run.pk).update(status=MatchRun.Status.SUCCEEDED, progress=100)
    page.wait_for_selector("#proposals-h", timeout=10_000)
    assert page.evaluate("window.cspViolations") == []
    assert page.violations == []


def test_api_docs_show_every_operation_under_the_policy(open_page, geodata):
    _site, _staff, coordinator = site_with_people()
    page = open_page(coordinator)
    page.goto("/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "Kobling API" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(".opblock")
    assert page.locator(".opblock").count() > 10
    assert page.evaluate("window.cspViolations") == []
    assert page.violations == []


def test_the_login_steps_run_without_a_csp_violation(open_page, geodata):
    """Up to the second factor for staff: whatever page the password leads to obeys it too."""
    _site, staff, _coordinator = site_with_people()
    page = open_page()
    page.goto("/accounts/login/")
    page.fill("#id_username", staff.username)
    page.fill("#id_password", PASSWORD)
    page.click("form:has(#id_password) button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/accounts/login/" not in page.url
    assert page.evaluate("window.cspViolations") == []
    assert page.violations == []


def test_the_back_office_runs_without_a_csp_violation(open_page, geodata):
    portal_with_people()
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    referral = Referral.objects.first()
    pages = [
        "/admin/",
        "/admin/programmes/referral/",
        f"/admin/programmes/referral/{referral.pk}/change/",
        "/admin/volunteers/volunteer/",
        "/admin/matching/matchrun/",
        "/admin/matching/agreement/",
    ]
    assert violations_on(open_page(admin), pages) == []
