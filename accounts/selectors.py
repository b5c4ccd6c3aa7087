"""Reads about a user's login: whether they must pass a second factor and what they have set up.

Staff are coordinators, crisis-centre staff and admins (accounts/roles.py: CASE_ROLES), and
anyone with the back office (``is_staff``): they reach referral data, so for them a second
factor is required. Volunteers may turn it on; once on, they must pass it too.
"""

from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.roles import CASE_ROLES, user_has_role


def user_is_staff_member(user) -> bool:
    if not user.is_authenticated:
        return False
    return user.is_staff or user_has_role(user, *CASE_ROLES)


def two_factor_enabled(user) -> bool:
    """An authenticator app is set up and confirmed."""
    if not user.is_authenticated:
        return False
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def two_factor_required(user) -> bool:
    return user_is_staff_member(user) or two_factor_enabled(user)


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()
