"""Staff sessions end after STAFF_SESSION_IDLE_MINUTES without a request; each request starts
the idle time again. Volunteers are not subject to it."""

import datetime

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

from tests.accounts.conftest import log_in
from tests.auth import login_verified, totp_device_for

pytestmark = pytest.mark.django_db


def idle(minutes: float) -> datetime.timedelta:
    return datetime.timedelta(minutes=minutes)


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def test_a_staff_session_ends_after_the_idle_time(world, english_client, clock):
    login_verified(english_client, world.users["coord_x"])
    english_client.get("/coordinator/")

    clock.shift(idle(settings.STAFF_SESSION_IDLE_MINUTES + 1))
    response = english_client.get("/coordinator/")

    assert response.url == "/accounts/login/?next=/coordinator/"
    assert "_auth_user_id" not in english_client.session
    login_page = english_client.get(response.url).content.decode()
    assert "signed out after 15 minutes without activity" in login_page


def test_each_request_starts_the_idle_time_again(world, client, clock):
    login_verified(client, world.users["staff_a"])

    for _ in range(4):
        clock.shift(idle(settings.STAFF_SESSION_IDLE_MINUTES - 1))
        assert client.get("/referrals/").status_code == 200


def test_an_idle_api_session_answers_401(world, clock):
    client = Client(headers={"accept-language": "en"})
    login_verified(client, world.users["admin"])
    client.get("/api/v1/referrals/")

    clock.shift(idle(settings.STAFF_SESSION_IDLE_MINUTES + 1))
    response = client.get("/api/v1/referrals/")

    assert response.status_code == 401
    assert "without activity" in response.json()["detail"]
    assert client.get("/api/v1/referrals/").status_code == 401


def test_the_admin_ends_with_the_idle_time_too(world, client, clock):
    login_verified(client, world.users["admin"])
    client.get("/admin/")

    clock.shift(idle(settings.STAFF_SESSION_IDLE_MINUTES + 1))

    assert client.get("/admin/").url.startswith("/accounts/login/")


def test_volunteers_keep_their_session_while_idle(world, client, clock):
    client.force_login(world.users["volunteer"])
    client.get("/me/")

    clock.shift(idle(3 * settings.STAFF_SESSION_IDLE_MINUTES))

    assert client.get("/me/").status_code == 200


def test_everyone_is_signed_out_after_the_session_age(world, client, clock):
    client.force_login(world.users["volunteer"])

    clock.shift(datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE + 60))

    assert client.get("/me/").status_code == 302


def test_the_idle_time_counts_from_the_password_step(world, client, clock):
    totp_device_for(world.users["coord_x"])
    login = log_in(client, "coordinator-A")

    clock.shift(idle(settings.STAFF_SESSION_IDLE_MINUTES + 1))

    assert client.get(login.url).url.startswith("/accounts/login/")
