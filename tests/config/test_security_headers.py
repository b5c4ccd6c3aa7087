"""Every answer carries the browser protections (CSP, frame and sniffing rules, referrer
policy); API answers and pages for a signed-in person are never stored by a cache; production
adds HSTS and secure cookies."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings

from core.security_headers import NoStoreMiddleware
from tests.auth import login_verified
from tests.matching.factories import ready_volunteer, site_with_people

pytestmark = pytest.mark.django_db

STRICT_DIRECTIVES = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}


def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    parts = (part.split() for part in policy.split(";") if part.strip())
    return {name: values for name, *values in parts}


def assert_browser_protections(response) -> None:
    directives = csp_directives(response)
    for name, values in STRICT_DIRECTIVES.items():
        assert directives[name] == values, name
    assert not any("unsafe" in value for values in directives.values() for value in values)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def assert_not_stored(response) -> None:
    cache_control = {part.strip() for part in response.headers["Cache-Control"].split(",")}
    assert {"no-store", "private", "max-age=0"} <= cache_control


@pytest.fixture
def coordinator_client(client):
    _, _, coordinator = site_with_people()
    login_verified(client, coordinator)
    return client


def test_login_page_carries_the_browser_protections(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert_browser_protections(response)


def test_a_signed_in_portal_page_is_protected_and_never_stored(coordinator_client):
    response = coordinator_client.get("/coordinator/")
    assert response.status_code == 200
    assert_browser_protections(response)
    assert_not_stored(response)


def test_an_api_answer_is_protected_and_never_stored(coordinator_client):
    response = coordinator_client.get("/api/v1/referrals/")
    assert response.status_code == 200
    assert_browser_protections(response)
    assert_not_stored(response)


def test_even_an_anonymous_api_refusal_is_never_stored(client):
    response = client.get("/api/v1/referrals/")
    assert response.status_code == 401
    assert_not_stored(response)


def test_the_public_about_page_may_be_cached(client):
    response = client.get("/about/")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_static_assets_stay_cacheable_for_a_signed_in_person():
    request = RequestFactory().get("/static/kobling/kobling.css")
    request.user = ready_volunteer().user
    response = NoStoreMiddleware(lambda request: HttpResponse("body {}"))(request)
    assert "Cache-Control" not in response.headers


def test_the_no_store_rule_needs_no_user_on_the_request():
    request = RequestFactory().get("/api/v1/programmes/")
    request.user = AnonymousUser()
    response = NoStoreMiddleware(lambda request: HttpResponse("{}"))(request)
    assert_not_stored(response)


@override_settings(
    SECURE_HSTS_SECONDS=31536000,
    SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
    SECURE_HSTS_PRELOAD=True,
    SESSION_COOKIE_SECURE=True,
    CSRF_COOKIE_SECURE=True,
)
def test_over_https_production_sends_hsts_and_secure_cookies(client):
    volunteer = ready_volunteer()
    login_page = client.get("/accounts/login/", secure=True)
    assert (
        login_page.headers["Strict-Transport-Security"]
        == "max-age=31536000; includeSubDomains; preload"
    )
    csrf = login_page.cookies["csrftoken"]
    assert csrf["secure"] and csrf["httponly"] and csrf["samesite"] == "Lax"

    signed_in = client.post(
        "/accounts/login/",
        {"username": volunteer.user.username, "password": "kobling-test"},
        secure=True,
    )
    session = signed_in.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"


@override_settings(SECURE_SSL_REDIRECT=True)
def test_plain_http_is_redirected_except_the_health_check():
    client = Client()

    assert client.get("/accounts/login/").status_code == 301
    assert client.get("/health/").status_code == 200
