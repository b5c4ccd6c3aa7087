"""Lockout after repeated failed logins (django-axes, per username): while locked even the right
password is refused, with a page that says so; after the cool-off the password works again."""

import datetime

import pytest
import time_machine
from django.conf import settings

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
