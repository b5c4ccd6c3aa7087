"""API tokens: shown once, stored as a SHA-256, bound to one crisis centre and a scope,
revocable; and throttles per token and per user."""

import hashlib
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from rest_framework.test import APIClient

from programmes.api_tokens import api_token_create
from programmes.models import ApiToken
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
