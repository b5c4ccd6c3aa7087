"""API tokens for integrations: made once, stored as a SHA-256, sent as ``Authorization: Bearer``.

A token is bound to one crisis centre because the integrations Kobling serves are the centres'
own case systems, which submit and follow referrals; coordinators and volunteers use the portal
with a session. A token stops working when it is revoked or its user leaves the centre's staff.

A token acts for staff, who must use two-factor login, so it is made only for a user who has set
up an authenticator app and works only while they still have one: an account whose second factor
an admin removed (a lost phone, a suspected break-in) cannot go on through a token. Deactivating
the user revokes their tokens (config.accounts.services.user_deactivate).
"""

import hashlib
import secrets

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework import authentication, exceptions

from config.accounts.selectors import two_factor_enabled
from programmes.models import ApiToken, CrisisCentre

TOKEN_PREFIX = "kob_"


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_create(
    *, user, crisis_centre: CrisisCentre, scope: str, name: str
) -> tuple[ApiToken, str]:
    """Make a token and return it with the raw value, which is never stored and never shown
    again."""
    if not crisis_centre.staff.filter(pk=user.pk).exists():
        raise PermissionDenied(
            _("%(user)s is not staff of %(centre)s.") % {"user": user, "centre": crisis_centre}
        )
    if not two_factor_enabled(user):
        raise PermissionDenied(
            _("%(user)s must set up two-factor login before a token can act for them.")
            % {"user": user}
        )
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        crisis_centre=crisis_centre,
        scope=scope,
        name=name,
        key_hash=token_hash(raw),
        prefix=raw[:12],
    )
    token.full_clean()
    token.save()
    return token, raw


def api_token_revoke(token: ApiToken) -> ApiToken:
    token.revoked_at = token.revoked_at or timezone.now()
    token.save(update_fields=["revoked_at"])
    return token


def api_token_for(raw: str) -> ApiToken | None:
    """The live token with this value whose user is still active staff of its centre and
    still has two-factor login."""
    second_factor = TOTPDevice.objects.filter(user=OuterRef("user"), confirmed=True)
    token = (
        ApiToken.objects.select_related("user", "crisis_centre")
        .filter(key_hash=token_hash(raw), revoked_at__isnull=True, user__is_active=True)
        .filter(Exists(second_factor))
        .first()
    )
    if token is None or not token.crisis_centre.staff.filter(pk=token.user_id).exists():
        return None
    return token


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Send the header as 'Bearer <token>'."))
        token = api_token_for(parts[1].decode(errors="replace"))
        if token is None:
            raise exceptions.AuthenticationFailed(_("Unknown or revoked token."))
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        return token.user, token

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'
