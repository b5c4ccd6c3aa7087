"""Staff sessions end after STAFF_SESSION_IDLE_MINUTES without activity; each page or API call
starts the idle time again, but not health checks, the About page, static files, the language
switch or a page's own polls. Volunteers are not subject to it."""

import datetime
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

from accounts.middleware import BACKGROUND_HEADER
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


# Issue 12, finding 9: /health/ and /about/ restarted the idle time, so an open tab that
# requested them kept a staff session alive without anyone there.
NOT_ACTIVITY = {
    "health check": lambda client: client.get("/health/"),
    "about page": lambda client: client.get("/about/"),
    "static file": lambda client: client.get("/static/kobling/kobling.css"),
    "language switch": lambda client: client.post("/i18n/setlang/", {"language": "en"}),
    "run progress poll": lambda client: client.get(
        "/coordinator/", headers={BACKGROUND_HEADER: "run-progress"}
    ),
}


@pytest.mark.parametrize("request_for", NOT_ACTIVITY.values(), ids=NOT_ACTIVITY.keys())
def test_requests_that_are_not_activity_do_not_restart_the_idle_time(
    world, client, clock, request_for
):
    login_verified(client, world.users["coord_x"])
    client.get("/coordinator/")

    clock.shift(idle(settings.STAFF_SESSION_IDLE_MINUTES - 5))
    request_for(client)
    clock.shift(idle(6))
    response = client.get("/coordinator/")

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_a_poll_still_ends_an_idle_session(world, client, clock):
    login_verified(client, world.users["coord_x"])
    client.get("/coordinator/")

    clock.shift(idle(settings.STAFF_SESSION_IDLE_MINUTES + 1))
    response = client.get("/coordinator/", headers={BACKGROUND_HEADER: "run-progress"})

    assert response.url.startswith("/accounts/login/")


def test_the_run_progress_script_marks_its_polls():
    script = Path(settings.BASE_DIR, "matching/static/matching/run_progress.js").read_text()
    assert f'"{BACKGROUND_HEADER}"' in script
