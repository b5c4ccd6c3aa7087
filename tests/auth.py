"""Signing in from tests. Staff must pass a second factor before they reach referral data, so
``login_verified`` signs a user in *and* verifies a confirmed TOTP device in their session, as the
two-factor page does after a correct code. ``totp_code`` is what the user's app would show."""

import time

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


def totp_device_for(user) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Test", confirmed=True)


def login_verified(client: Client, user) -> TOTPDevice:
    client.force_login(user)
    device = totp_device_for(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


def totp_code(device: TOTPDevice) -> str:
    """The device's current code, or the next one when the current one was used already: a
    code is accepted once, and one step ahead is within the device's tolerance."""
    device.refresh_from_db()
    clock = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    clock.time = time.time()
    if clock.t() <= device.last_t:
        clock.time += device.step * (device.last_t + 1 - clock.t())
    return f"{clock.token():0{device.digits}d}"
