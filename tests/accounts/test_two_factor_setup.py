"""Setting up and using the second factor: password, then a QR code and the key to type, a code
to confirm, recovery codes shown once; afterwards the app's code or a recovery code (once each)
completes a login. The clock is frozen so each code is the one an app would show."""

import datetime
import re
from base64 import b32decode

import pytest
import time_machine
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.conftest import log_in
from tests.auth import login_verified, totp_code, totp_device_for

pytestmark = pytest.mark.django_db

CODE_PATTERN = re.compile(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>")


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def code_from_secret(page: str) -> str:
    """What an app shows after the person typed the key from the page."""
    secret = re.search(r'<code id="secret"[^>]*>([A-Z2-7 ]+)</code>', page)[1].replace(" ", "")
    key = b32decode(secret + "=" * (-len(secret) % 8))
    return f"{totp(key):06d}"


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_a_coordinator_sets_up_an_authenticator_and_gets_recovery_codes_once(
    world, english_client, clock
):
    client = english_client
    login = log_in(client, "coordinator-A")
    assert login.url == "/accounts/two-factor/setup/?next=%2F"

    setup = client.get(login.url)
    page = setup.content.decode()
    assert setup.status_code == 200
    assert re.search(r'<img class="qr-code" src="data:image/svg\+xml', page)
    assert 'autocomplete="one-time-code"' in page and 'inputmode="numeric"' in page
    code = code_from_secret(page)

    refused = client.post(login.url, {"code": wrong(code)})
    assert refused.status_code == 400
    assert 'id="id_code_error"' in refused.content.decode()
    assert "The code is wrong or has expired" in refused.content.decode()
    assert client.get("/coordinator/").status_code == 302

    clock.shift(datetime.timedelta(seconds=2))  # django-otp's wait after a wrong code
    confirmed = client.post(login.url, {"code": code, "next": "/"})
    assert confirmed.url == "/accounts/two-factor/recovery-codes/?next=%2F"
    assert TOTPDevice.objects.get(user=world.users["coord_x"]).confirmed

    shown = CODE_PATTERN.findall(client.get(confirmed.url).content.decode())
    assert len(shown) == 10
    assert CODE_PATTERN.findall(client.get(confirmed.url).content.decode()) == []
    assert client.get("/coordinator/").status_code == 200


def test_recovery_codes_are_stored_only_as_digests(world, client, clock):
    login_verified(client, world.users["coord_x"])

    renewed = client.post("/accounts/security/recovery-codes/")
    shown = CODE_PATTERN.findall(client.get(renewed.url).content.decode())

    stored = set(StaticToken.objects.values_list("token", flat=True))
    assert len(shown) == len(stored) == 10
    assert not stored & set(shown)
    assert not stored & {code.replace("-", "") for code in shown}


def test_a_recovery_code_completes_a_login_once(world, english_client, clock):
    coordinator = world.users["coord_x"]
    login_verified(english_client, coordinator)
    renewed = english_client.post("/accounts/security/recovery-codes/")
    first = CODE_PATTERN.findall(english_client.get(renewed.url).content.decode())[0]
    english_client.post("/accounts/logout/")

    log_in(english_client, "coordinator-A")
    used = english_client.post(
        "/accounts/two-factor/recovery/", {"recovery_code": first.upper(), "next": "/coordinator/"}
    )
    assert used.url == "/coordinator/"
    assert english_client.get("/coordinator/").status_code == 200
    english_client.post("/accounts/logout/")

    clock.shift(datetime.timedelta(seconds=2))
    log_in(english_client, "coordinator-A")
    again = english_client.post("/accounts/two-factor/recovery/", {"recovery_code": first})
    assert again.status_code == 400
    assert "wrong or has been used already" in again.content.decode()
    assert english_client.get("/coordinator/").status_code == 302


def test_the_app_code_completes_a_login_and_keeps_next(world, client, clock):
    device = totp_device_for(world.users["staff_a"])

    login = log_in(client, "staff-A", next="/referrals/")
    assert login.url == "/accounts/two-factor/?next=%2Freferrals%2F"
    verified = client.post(login.url, {"code": totp_code(device), "next": "/referrals/"})

    assert verified.url == "/referrals/"
    assert client.get("/referrals/").status_code == 200


def test_a_wrong_code_is_named_next_to_the_field(world, english_client, clock):
    device = totp_device_for(world.users["staff_a"])
    log_in(english_client, "staff-A")

    response = english_client.post("/accounts/two-factor/", {"code": wrong(totp_code(device))})

    page = response.content.decode()
    assert response.status_code == 400
    assert 'aria-describedby="id_code_helptext id_code_error"' in page
    assert re.search(r'id="id_code_error">The code is wrong or has expired', page)


def test_letters_in_the_code_are_refused_before_any_check(world, english_client, clock):
    totp_device_for(world.users["staff_a"])
    log_in(english_client, "staff-A")

    response = english_client.post("/accounts/two-factor/", {"code": "12ab56"})

    assert "Type the 6 digits" in response.content.decode()


def test_after_wrong_codes_the_page_says_how_long_to_wait(world, english_client, clock):
    device = totp_device_for(world.users["staff_a"])
    log_in(english_client, "staff-A")
    code = totp_code(device)

    for pause in (0, 2, 3):
        clock.shift(datetime.timedelta(seconds=pause))
        english_client.post("/accounts/two-factor/", {"code": wrong(code)})
    response = english_client.post("/accounts/two-factor/", {"code": code})

    assert "Too many wrong codes in a row. Wait 4 seconds" in response.content.decode()
    clock.shift(datetime.timedelta(seconds=5))
    assert english_client.post("/accounts/two-factor/", {"code": code}).status_code == 302


def test_a_password_alone_cannot_add_another_authenticator(world, client):
    coordinator = world.users["coord_x"]
    totp_device_for(coordinator)
    client.force_login(coordinator)

    response = client.get("/accounts/two-factor/setup/")

    assert response.url.startswith("/accounts/two-factor/?")
    assert TOTPDevice.objects.filter(user=coordinator).count() == 1


def test_moving_to_a_new_authenticator_retires_the_old_one(world, client, clock):
    coordinator = world.users["coord_x"]
    old = login_verified(client, coordinator)

    page = client.get("/accounts/two-factor/setup/").content.decode()
    client.post("/accounts/two-factor/setup/", {"code": code_from_secret(page)})

    devices = TOTPDevice.objects.filter(user=coordinator)
    assert devices.count() == 1 and devices.get().pk != old.pk and devices.get().confirmed


def test_a_volunteer_may_turn_two_factor_on_and_off(world, client, clock):
    volunteer = world.users["volunteer"]
    client.force_login(volunteer)

    page = client.get("/accounts/two-factor/setup/").content.decode()
    client.post("/accounts/two-factor/setup/", {"code": code_from_secret(page)})
    assert TOTPDevice.objects.filter(user=volunteer, confirmed=True).exists()

    client.post("/accounts/security/two-factor/off/")
    assert not TOTPDevice.objects.filter(user=volunteer).exists()
    assert client.get("/me/").status_code == 200


def test_staff_may_not_turn_two_factor_off(world, client):
    coordinator = world.users["coord_x"]
    login_verified(client, coordinator)

    response = client.post("/accounts/security/two-factor/off/")

    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=coordinator).exists()


def test_the_security_page_shows_the_state_to_everyone_signed_in(world, english_client):
    login_verified(english_client, world.users["coord_x"])
    staff_page = english_client.get("/accounts/security/").content.decode()
    english_client.force_login(world.users["volunteer"])
    volunteer_page = english_client.get("/accounts/security/").content.decode()

    assert "Your role requires two-factor login" in staff_page
    assert "Turn two-factor login off" not in staff_page
    assert "Turn two-factor login on" in volunteer_page
