"""API tokens: shown once, stored as a SHA-256, bound to one crisis centre and a scope,
revocable, expiring, dead for good once their user leaves; and throttles per token and per
user."""

import datetime
import hashlib
import io

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.api_tokens import api_token_create
from accounts.models import ApiToken
from accounts.services import user_deactivate
from tests.auth import totp_device_for

pytestmark = pytest.mark.django_db


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def token_for(world, user="staff_a", scope="read"):
    totp_device_for(world.users[user])
    return api_token_create(
        user=world.users[user],
        crisis_centre=world.site_x.crisis_centre,
        scope=scope,
        name="fagsystem",
    )


def test_command_shows_the_token_once_and_stores_only_its_hash(world):
    totp_device_for(world.users["staff_a"])
    out = io.StringIO()

    call_command(
        "create_api_token",
        "staff-A",
        "--crisis-centre",
        "Krisesenteret A",
        "--scope",
        "write",
        "--name",
        "fagsystem",
        stdout=out,
    )

    raw = out.getvalue().splitlines()[1]
    token = ApiToken.objects.get()
    assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {token.key_hash, token.prefix, token.name}
    assert bearer(raw).get("/api/v1/referrals/").status_code == 200


def test_token_only_for_staff_of_the_centre(world):
    with pytest.raises(PermissionDenied):
        token_for(world, user="coord_x")


def test_token_sees_only_its_centre_even_when_the_user_staffs_another(world):
    world.site_y.crisis_centre.staff.add(world.users["staff_a"])
    _token, raw = token_for(world)

    rows = bearer(raw).get("/api/v1/referrals/").json()["results"]

    assert world.referral_y.pk not in {row["id"] for row in rows}
    assert world.referral_x.pk in {row["id"] for row in rows}
    assert bearer(raw).get(f"/api/v1/referrals/{world.referral_y.pk}/").status_code == 404


def test_token_never_acts_as_coordinator(world):
    world.site_x.coordinators.add(world.users["staff_a"])
    _token, raw = token_for(world, scope="write")

    assert bearer(raw).get("/api/v1/proposals/").status_code == 403
    assert bearer(raw).post(f"/api/v1/referrals/{world.referral_x.pk}/accept/").status_code == 403


def test_read_scope_may_not_write(world):
    _token, raw = token_for(world, scope="read")

    response = bearer(raw).post(
        f"/api/v1/referrals/{world.referral_x.pk}/withdraw/",
        {"reason": "participant_declined"},
        format="json",
    )

    assert response.status_code == 403


def test_write_scope_may_write(world):
    _token, raw = token_for(world, scope="write")

    response = bearer(raw).post(
        f"/api/v1/referrals/{world.referral_x.pk}/withdraw/",
        {"reason": "participant_declined"},
        format="json",
    )

    assert response.json()["status"] == "withdrawn"


def test_revoked_token_answers_401(world):
    token, raw = token_for(world)

    call_command("revoke_api_token", token.prefix, stdout=io.StringIO())

    response = bearer(raw).get("/api/v1/referrals/")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_token_stops_when_its_user_leaves_the_centre(world):
    _token, raw = token_for(world)

    world.site_x.crisis_centre.staff.remove(world.users["staff_a"])

    assert bearer(raw).get("/api/v1/referrals/").status_code == 401


def test_unknown_token_answers_401(world):
    assert bearer("kob_nonsense").get("/api/v1/programmes/").status_code == 401


def slow_rates(settings, **rates):
    merged = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": merged}


def test_each_token_is_throttled_on_its_own(world, settings):
    slow_rates(settings, token="2/minute")
    _one, first = token_for(world)
    _two, second = token_for(world)

    codes = [bearer(first).get("/api/v1/programmes/").status_code for _ in range(3)]

    assert codes == [200, 200, 429]
    assert bearer(second).get("/api/v1/programmes/").status_code == 200


def test_each_user_is_throttled_on_their_own(world, settings, client_for):
    slow_rates(settings, user="2/minute")

    codes = [client_for("coord_x").get("/api/v1/programmes/").status_code for _ in range(3)]

    assert codes == [200, 200, 429]
    assert client_for("coord_y").get("/api/v1/programmes/").status_code == 200


# Issue 12, finding 9: tokens never expired, and worked again when their user re-joined the staff.

START = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=datetime.UTC)


def answer(raw: str):
    return bearer(raw).get("/api/v1/programmes/", HTTP_ACCEPT_LANGUAGE="en")


def test_a_token_works_until_it_expires_and_then_says_so(world):
    with time_machine.travel(START, tick=False) as clock:
        _token, raw = token_for(world)
        clock.shift(datetime.timedelta(days=settings.API_TOKEN_DAYS, minutes=-1))
        before = answer(raw)
        clock.shift(datetime.timedelta(minutes=2))
        after = answer(raw)

    assert before.status_code == 200
    assert after.status_code == 401
    assert after.json()["detail"] == (
        "This token expired on 2027-03-01. Ask an administrator for a new one."
    )


def test_the_lifetime_of_a_token_comes_from_the_settings(world, settings):
    settings.API_TOKEN_DAYS = 7
    with time_machine.travel(START, tick=False) as clock:
        token, raw = token_for(world)
        clock.shift(datetime.timedelta(days=7, seconds=1))
        response = answer(raw)

    assert token.expires_at == START + datetime.timedelta(days=7)
    assert response.status_code == 401


def test_the_command_says_when_the_token_stops_working(world):
    totp_device_for(world.users["staff_a"])
    out = io.StringIO()

    with time_machine.travel(START, tick=False):
        call_command(
            "create_api_token",
            "staff-A",
            "--crisis-centre",
            "Krisesenteret A",
            "--name",
            "x",
            stdout=out,
        )

    assert "It stops working on 2027-03-01." in out.getvalue()


def user_of(world):
    return world.users["staff_a"]


def centre_of(world):
    return world.site_x.crisis_centre


def set_active(user, active: bool) -> None:
    user.is_active = active
    user.save()


LEAVE_AND_REJOIN = {
    "taken off the centre's staff": (
        lambda w: centre_of(w).staff.remove(user_of(w)),
        lambda w: centre_of(w).staff.add(user_of(w)),
    ),
    "centre taken off the user": (
        lambda w: user_of(w).crisis_centres.remove(centre_of(w)),
        lambda w: user_of(w).crisis_centres.add(centre_of(w)),
    ),
    "centre's staff list emptied": (
        lambda w: centre_of(w).staff.clear(),
        lambda w: centre_of(w).staff.add(user_of(w)),
    ),
    "'active' unticked": (
        lambda w: set_active(user_of(w), False),
        lambda w: set_active(user_of(w), True),
    ),
    "deactivated": (
        lambda w: user_deactivate(user_of(w)),
        lambda w: set_active(user_of(w), True),
    ),
}


@pytest.mark.parametrize(
    ("leave", "rejoin"), LEAVE_AND_REJOIN.values(), ids=LEAVE_AND_REJOIN.keys()
)
def test_a_token_dies_for_good_when_its_user_leaves(world, leave, rejoin):
    token, raw = token_for(world)
    assert answer(raw).status_code == 200

    leave(world)
    left = answer(raw)
    rejoin(world)
    rejoined = answer(raw)

    assert (left.status_code, rejoined.status_code) == (401, 401)
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_a_token_dies_when_used_after_its_user_left_behind_the_services_back(world):
    """A queryset update sends no signal: the token is revoked when it is next used."""
    token, raw = token_for(world)
    users = get_user_model().objects.filter(pk=user_of(world).pk)

    users.update(is_active=False)
    left = answer(raw)
    users.update(is_active=True)

    assert left.status_code == 401
    assert "has left the crisis centre's staff" in left.json()["detail"]
    assert answer(raw).status_code == 401
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_leaving_another_centre_keeps_the_token(world):
    world.site_y.crisis_centre.staff.add(user_of(world))
    _token, raw = token_for(world)

    world.site_y.crisis_centre.staff.remove(user_of(world))

    assert answer(raw).status_code == 200
