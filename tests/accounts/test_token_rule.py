"""An API token acts for staff, who must use two-factor login: it is made only for a user with an
authenticator and stops working when the authenticator is removed."""

import pytest
from django.core.exceptions import PermissionDenied
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts.api_tokens import api_token_create
from tests.auth import totp_device_for

pytestmark = pytest.mark.django_db


def make_token(world):
    return api_token_create(
        user=world.users["staff_a"],
        crisis_centre=world.site_x.crisis_centre,
        scope="read",
        name="fagsystem",
    )


def test_no_token_for_a_user_without_two_factor(world):
    with pytest.raises(PermissionDenied, match="two-factor"):
        make_token(world)


def test_a_token_stops_when_its_users_authenticator_is_removed(world):
    totp_device_for(world.users["staff_a"])
    _token, raw = make_token(world)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/referrals/").status_code == 200

    TOTPDevice.objects.filter(user=world.users["staff_a"]).delete()

    assert client.get("/api/v1/referrals/").status_code == 401
