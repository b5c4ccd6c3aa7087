"""API tokens for integrations: made once, stored as a SHA-256, sent as ``Authorization: Bearer``.

A token is bound to one crisis centre because the integrations Kobling serves are the centres'
own case systems, which submit and follow referrals; coordinators and volunteers use the portal
with a session. A token expires ``API_TOKEN_DAYS`` after it is made.

A token dies for good when its user leaves: deactivated, or no longer staff of the token's
centre. It is revoked at that moment (``api_tokens_revoke_for``, called by
accounts.services.user_deactivate and by config/accounts/signals.py for changes made in
the back office or the shell), and again when it is next used if the change bypassed both (a
queryset update), so a user who re-joins does not bring an old token back to life.

A token acts for staff, who must use two-factor login, so it is made only for a user who has set
up an authenticator app and works only while they still have one: an account whose second factor
an admin removed (a lost phone, a suspected break-in) cannot go on through a token.
"""

import hashlib
import secrets

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from accounts.models import ApiToken
from accounts.selectors import two_factor_enabled
from programmes.models import CrisisCentre

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


def api_tokens_revoke_for(user, *, crisis_centre: CrisisCentre | None = None) -> int:
    """Revoke the user's live tokens (at one centre, if given): they have left."""
    live = ApiToken.objects.filter(user=user, revoked_at__isnull=True)
    if crisis_centre is not None:
        live = live.filter(crisis_centre=crisis_centre)
    tokens = list(live)
    for token in tokens:
        api_token_revoke(token)
    return len(tokens)


def api_token_for(raw: str) -> ApiToken:
    """The live token with this value, or AuthenticationFailed saying why it does not work."""
    token = (
        ApiToken.objects.select_related("user", "crisis_centre")
        .filter(key_hash=token_hash(raw))
        .first()
    )
    if token is None or token.revoked_at is not None:
        raise exceptions.AuthenticationFailed(_("Unknown or revoked token."))
    if token.expires_at <= timezone.now():
        raise exceptions.AuthenticationFailed(
            _("This token expired on %(date)s. Ask an administrator for a new one.")
            % {"date": timezone.localdate(token.expires_at).isoformat()}
        )
    if not _user_still_staff(token):
        api_token_revoke(token)
        raise exceptions.AuthenticationFailed(
            _("This token was revoked because its user has left the crisis centre's staff.")
        )
    if not two_factor_enabled(token.user):
        raise exceptions.AuthenticationFailed(
            _("This token is paused: its user has no two-factor login set up.")
        )
    return token


def _user_still_staff(token: ApiToken) -> bool:
    user = token.user
    return user.is_active and token.crisis_centre.staff.filter(pk=user.pk).exists()


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Send the header as 'Bearer <token>'."))
        token = api_token_for(parts[1].decode(errors="replace"))
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        return token.user, token

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'
