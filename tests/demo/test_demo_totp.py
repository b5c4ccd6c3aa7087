"""Demo staff share one public authenticator secret; ``demo_totp`` prints its current code, and
refuses in production."""

import io
from base64 import b32decode

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from demo import builder as demo
from tests.programmes.factories import UserFactory

pytestmark = pytest.mark.django_db


def demo_user(username: str, *, is_staff: bool):
    return UserFactory(
        username=username, email=f"{username}@{demo.DEMO_EMAIL_DOMAIN}", is_staff=is_staff
    )


def test_demo_staff_get_the_documented_secret_and_volunteers_none():
    coordinator = demo_user("koordinator-test", is_staff=True)
    volunteer = demo_user("frivillig-test", is_staff=False)

    demo.DemoBuilder(seed=1).give_staff_demo_authenticator()

    device = TOTPDevice.objects.get(user=coordinator)
    assert device.confirmed and device.bin_key == b32decode(demo.DEMO_TOTP_SECRET)
    assert not TOTPDevice.objects.filter(user=volunteer).exists()


def test_demo_totp_prints_the_current_code():
    demo_user("koordinator-test", is_staff=True)
    demo.DemoBuilder(seed=1).give_staff_demo_authenticator()
    out = io.StringIO()

    with time_machine.travel(timezone.now(), tick=False):
        call_command("demo_totp", "koordinator-test", stdout=out)
        expected = f"{totp(b32decode(demo.DEMO_TOTP_SECRET)):06d}"

    assert out.getvalue().strip() == expected


def test_demo_totp_refuses_in_production(settings):
    settings.KOBLING_ENV = "production"

    with pytest.raises(CommandError, match="production"):
        call_command("demo_totp", "koordinator-test", stdout=io.StringIO())


def test_demo_totp_names_a_user_without_an_authenticator():
    UserFactory(username="ola")

    with pytest.raises(CommandError, match="no authenticator"):
        call_command("demo_totp", "ola", stdout=io.StringIO())
