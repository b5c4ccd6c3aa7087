"""Lockout after repeated failed logins (django-axes, per username and address, and per address):
while locked even the right password is refused, with a page that says so; after the cool-off the
password works again. A stranger elsewhere cannot lock anyone out."""

import datetime

import pytest
import time_machine
from axes.models import AccessAttempt, AccessLog
from django.conf import settings
from django.test import Client

from tests.accounts.conftest import log_in
from tests.programmes.factories import UserFactory

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 11, 20, 9, 0, tzinfo=datetime.UTC)


def fail_until_locked(client, username: str):
    responses = [log_in(client, username, "wrong") for _ in range(settings.AXES_FAILURE_LIMIT)]
    return responses[-1]


def is_signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_right_password_is_refused_while_the_username_is_locked(english_client):
    UserFactory(username="kari")

    with time_machine.travel(START, tick=False):
        fail_until_locked(english_client, "kari")
        response = log_in(english_client, "kari")

    assert response.status_code == 429
    assert not is_signed_in(english_client)
    page = response.content.decode()
    assert "Login locked" in page
    assert f"Try again in {settings.AXES_COOLOFF_TIME.seconds // 60} minutes" in page


def test_the_last_failed_attempt_already_shows_the_lockout_page(english_client):
    UserFactory(username="kari")

    response = fail_until_locked(english_client, "kari")

    assert response.status_code == 429
    assert "accounts/locked_out.html" in {template.name for template in response.templates}


def test_the_password_works_again_after_the_cool_off(client):
    UserFactory(username="kari")

    with time_machine.travel(START, tick=False) as clock:
        fail_until_locked(client, "kari")
        clock.shift(settings.AXES_COOLOFF_TIME + datetime.timedelta(minutes=1))
        response = log_in(client, "kari")
        signed_in = is_signed_in(client)

    assert response.status_code == 302
    assert signed_in


def test_trying_again_while_locked_starts_the_cool_off_again(client):
    """django-axes' default: someone who keeps guessing stays locked out."""
    UserFactory(username="kari")

    with time_machine.travel(START, tick=False) as clock:
        fail_until_locked(client, "kari")
        clock.shift(settings.AXES_COOLOFF_TIME - datetime.timedelta(minutes=1))
        refused = log_in(client, "kari")
        clock.shift(datetime.timedelta(minutes=2))
        still_refused = log_in(client, "kari")

    assert (refused.status_code, still_refused.status_code) == (429, 429)
    assert not is_signed_in(client)


def test_one_persons_typos_do_not_lock_a_colleague_at_the_same_address(client):
    UserFactory(username="kari")
    UserFactory(username="ola")

    fail_until_locked(client, "kari")
    response = log_in(client, "ola")

    assert response.status_code == 302
    assert is_signed_in(client)


def test_a_successful_login_starts_the_count_again(client):
    UserFactory(username="kari")

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "kari", "wrong")
    log_in(client, "kari")
    client.post("/accounts/logout/")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "kari", "wrong")

    assert log_in(client, "kari").status_code == 302


def test_a_wrong_password_is_named_on_the_login_page(english_client):
    UserFactory(username="kari")

    response = log_in(english_client, "kari", "wrong")

    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()
    assert not is_signed_in(english_client)


# Issue 12, finding 3: anyone could lock out anyone, because the lock was by username alone.

STRANGER = "198.51.100.7"
CENTRE = "203.0.113.5"
PROXY = "10.0.0.2"


def log_in_from(address: str, username: str, password: str = "kobling-test", **headers):
    client = Client(headers={"accept-language": "en"})
    data = {"username": username, "password": password}
    return client.post("/accounts/login/", data, REMOTE_ADDR=address, **headers)


def test_a_stranger_elsewhere_cannot_lock_out_a_coordinator():
    UserFactory(username="koordinator-alta")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in_from(STRANGER, "koordinator-alta", "wrong")

    assert log_in_from(CENTRE, "koordinator-alta").status_code == 302
    assert log_in_from(STRANGER, "koordinator-alta").status_code == 429


def test_one_persons_typos_never_lock_out_colleagues_at_the_same_address():
    UserFactory(username="kari")
    UserFactory(username="ola")

    for _ in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT + 5):
        log_in_from(CENTRE, "kari", "wrong")

    assert log_in_from(CENTRE, "ola").status_code == 302


def test_failures_for_many_usernames_lock_the_address_but_nowhere_else():
    UserFactory(username="ola")
    per_username = settings.AXES_FAILURE_LIMIT
    for n in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT // per_username):
        for _ in range(per_username):
            log_in_from(STRANGER, f"guess-{n}", "wrong")

    locked = log_in_from(STRANGER, "ola")

    assert locked.status_code == 429
    assert "too many failed logins from the network you are on" in locked.content.decode()
    assert log_in_from(CENTRE, "ola").status_code == 302


def test_the_address_limit_comes_from_the_settings(settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 3
    UserFactory(username="ola")
    for n in range(3):
        log_in_from(STRANGER, f"guess-{n}", "wrong")

    assert log_in_from(STRANGER, "ola").status_code == 429


def test_the_lockout_page_says_the_username_is_locked_here():
    UserFactory(username="kari")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page = log_in_from(STRANGER, "kari", "wrong")

    text = page.content.decode()
    assert "for this username from the network you are on" in text
    assert "even the right password is refused here" in text


def test_behind_the_proxy_the_clients_own_address_counts_and_a_forged_one_does_not(settings):
    """The proxy appends the address it saw; what a client writes into X-Forwarded-For itself
    can neither hide it nor lock out the address it names."""
    settings.TRUSTED_PROXY_COUNT = 1
    UserFactory(username="koordinator-alta")
    forged = {"HTTP_X_FORWARDED_FOR": f"{CENTRE}, {STRANGER}"}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in_from(PROXY, "koordinator-alta", "wrong", **forged)

    from_centre = {"HTTP_X_FORWARDED_FOR": CENTRE}
    assert log_in_from(PROXY, "koordinator-alta", **from_centre).status_code == 302
    assert AccessAttempt.objects.get().ip_address == STRANGER
    assert AccessLog.objects.get().ip_address == CENTRE
