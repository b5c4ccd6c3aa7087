"""Strong login: setting up an authenticator app (TOTP), checking its codes and the recovery
codes, turning two-factor off for volunteers, limiting password-reset e-mails, and ending a
user's access.

Recovery codes are django-otp static tokens, stored only as a SHA-256 digest: like a password,
the code itself is shown once, when it is made, and never again.
"""

import hashlib
import logging
import math
import secrets
from base64 import b32encode

import segno
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.api_tokens import api_tokens_revoke_for
from accounts.selectors import user_is_staff_member
from core.counts import count_this_hour

log = logging.getLogger("kobling.accounts")

AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"
# No 0/o, 1/l/i: recovery codes are copied by hand from paper.
RECOVERY_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_CODE_LENGTH = 10
SESSION_USER_KEY = "_auth_user_id"
WRONG_CODE = gettext_lazy(
    "The code is wrong or has expired. Type the 6 digits your authenticator app shows now."
)
WRONG_RECOVERY = gettext_lazy("This recovery code is wrong or has been used already.")


def totp_device_start(user) -> TOTPDevice:
    """The authenticator being set up. The same one until it is confirmed, so a reload does not
    change the secret someone has already scanned."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)


def totp_secret_for_typing(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for apps that cannot scan."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def totp_qr_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// address as a QR code, drawn here: the secret never leaves the server."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=4)


def totp_device_confirm(device: TOTPDevice, code: str) -> list[str]:
    """Confirm the new authenticator with a code from it. Any earlier authenticator stops
    working, and a fresh set of recovery codes is made and returned."""
    _code_check(device, code, field="code", wrong=WRONG_CODE)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
        TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
    device.confirmed = True
    log.info("User %s confirmed an authenticator app", device.user_id)
    return recovery_codes_renew(device.user)


def totp_code_check(user, code: str) -> TOTPDevice:
    """The user's authenticator, if it accepts this code; a ValidationError on ``code`` if not."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        raise ValidationError({"code": _("You have not set up an authenticator app.")})
    _code_check(device, code, field="code", wrong=WRONG_CODE)
    return device


def recovery_code_use(user, code: str) -> StaticDevice:
    """Accept a recovery code once: it is deleted as it is used."""
    device = StaticDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        raise ValidationError({"recovery_code": _("You have no recovery codes.")})
    _code_check(device, recovery_code_digest(code), field="recovery_code", wrong=WRONG_RECOVERY)
    log.info("User %s signed in with a recovery code", user.pk)
    return device


def recovery_codes_renew(user) -> list[str]:
    """New recovery codes, replacing the old ones. Only their digests are stored, so the
    returned list is the one time they can be shown."""
    codes = [_recovery_code_new() for _ in range(settings.RECOVERY_CODE_COUNT)]
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
        StaticToken.objects.bulk_create(
            StaticToken(device=device, token=recovery_code_digest(code)) for code in codes
        )
    return codes


def recovery_code_digest(code: str) -> str:
    """What is stored for a code: typed with or without the dash, in any case. The first 16
    hex digits of a SHA-256, because django-otp's token column holds 16 characters."""
    normal = "".join(code.split()).replace("-", "").lower()
    return hashlib.sha256(normal.encode()).hexdigest()[:16]


def two_factor_disable(user) -> None:
    """Volunteers may turn two-factor off again; staff may not."""
    if user_is_staff_member(user):
        raise PermissionDenied(_("Two-factor login is required for your role."))
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
    log.info("User %s turned two-factor login off", user.pk)


def user_deactivate(user, *, by=None) -> None:
    """Close an account: it can no longer log in, and every session and API token it holds
    stops working now rather than when it would have expired."""
    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active"])
        api_tokens_revoke_for(user)
        user_sessions_end(user)
    log.info("User %s deactivated by %s", user.pk, getattr(by, "pk", None))


def user_sessions_end(user) -> None:
    """Delete the user's sessions. The session table does not index sessions by user, so each
    live session is decoded to find theirs."""
    mine = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get(SESSION_USER_KEY) == str(user.pk)
    ]
    Session.objects.filter(pk__in=mine).delete()


def password_reset_allowed(email: str, address: str | None) -> bool:
    """Whether a password-reset e-mail may go out for this request: at most
    ``PASSWORD_RESET_PER_EMAIL_HOURLY`` to one e-mail address and
    ``PASSWORD_RESET_PER_ADDRESS_HOURLY`` requests from one network address an hour. Every
    request counts, whether or not the e-mail address has an account, so the limits reveal
    nothing about who has one."""
    email_count = count_this_hour("reset-email", email.strip().lower())
    address_count = count_this_hour("reset-address", address or "")
    allowed = (
        email_count is not None
        and address_count is not None
        and email_count <= settings.PASSWORD_RESET_PER_EMAIL_HOURLY
        and address_count <= settings.PASSWORD_RESET_PER_ADDRESS_HOURLY
    )
    if not allowed:
        log.warning("Password-reset e-mail held back: too many requests within an hour")
    return allowed


def _code_check(device: Device, token: str, *, field: str, wrong) -> None:
    """Refuse while django-otp's throttle holds the device (the wait doubles after each wrong
    code), then check the code with the device's row locked, so that two requests cannot both
    use one code."""
    wait = _seconds_to_wait(device)
    if wait:
        message = ngettext(
            "Too many wrong codes in a row. Wait %(seconds)s second and try again.",
            "Too many wrong codes in a row. Wait %(seconds)s seconds and try again.",
            wait,
        )
        raise ValidationError({field: message % {"seconds": wait}})
    with transaction.atomic():
        locked = type(device).objects.select_for_update().get(pk=device.pk)
        accepted = locked.verify_token(token)
    if not accepted:
        raise ValidationError({field: str(wrong)})


def _seconds_to_wait(device: Device) -> int:
    allowed, details = device.verify_is_allowed()
    if allowed or not details or "locked_until" not in details:
        return 0
    return max(1, math.ceil((details["locked_until"] - timezone.now()).total_seconds()))


def _recovery_code_new() -> str:
    code = "".join(secrets.choice(RECOVERY_CODE_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    return f"{code[:5]}-{code[5:]}"
