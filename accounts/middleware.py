"""Two gates every request passes after the user is known (and after django-otp's middleware,
which tells whether this session passed the second factor):

- StaffIdleTimeoutMiddleware signs staff out after STAFF_SESSION_IDLE_MINUTES without
  activity. Volunteers keep their session for SESSION_COOKIE_AGE. The time of the last
  activity is written to the session at most once a SEEN_EVERY_SECONDS, not on every request
  (a write of the session row each time), so the idle time is counted to within that.
- TwoFactorRequiredMiddleware keeps a user who must pass a second factor and has not out of
  everything but the pages that let them do so: the portal and the admin redirect there, the
  API answers 403. The admin's own password-only login page sends people to ours.

API calls with a token arrive anonymous here; programmes/api_tokens.py holds their rule.
"""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.selectors import two_factor_enabled, two_factor_required, user_is_staff_member
from core.paths import is_api_request

LAST_SEEN_KEY = "kobling_last_seen"
# How stale the recorded last activity may be before a request writes it again.
SEEN_EVERY_SECONDS = 60
SESSION_ENDED_KEY = "kobling_session_ended"
# Pages that show no one's data, and those a user needs on the way to the second factor.
EXEMPT_PREFIXES = ("/static/", "/i18n/", "/health/")
# Requests that are not someone at work, so they do not restart the idle time: files and
# pages without anyone's data (a language switch is followed by the page it returns to, which
# counts), and what a page asks for by itself, such as a running match run's status every two
# seconds (matching/static/matching/run_progress.js sends BACKGROUND_HEADER).
NOT_ACTIVITY_PREFIXES = EXEMPT_PREFIXES
NOT_ACTIVITY_NAMES = ("about", "accessibility", "favicon")
BACKGROUND_HEADER = "X-Kobling-Background"
EXEMPT_NAMES = (
    "about",
    "accessibility",
    "favicon",
    "login",
    "logout",
    "admin:logout",
    "two_factor_verify",
    "two_factor_recovery",
    "two_factor_setup",
)


def session_seen_now(session) -> None:
    session[LAST_SEEN_KEY] = int(time.time())


def session_seen_recently(session) -> bool:
    """The last activity recorded is less than SEEN_EVERY_SECONDS old: writing it again would
    save the session for nothing."""
    last_seen = session.get(LAST_SEEN_KEY)
    return last_seen is not None and 0 <= time.time() - last_seen < SEEN_EVERY_SECONDS


class StaffIdleTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if user_is_staff_member(request.user):
            if self.idle_too_long(request.session):
                return self.session_ended(request)
            if is_activity(request) and not session_seen_recently(request.session):
                session_seen_now(request.session)
        return self.get_response(request)

    @staticmethod
    def idle_too_long(session) -> bool:
        last_seen = session.get(LAST_SEEN_KEY)
        limit = settings.STAFF_SESSION_IDLE_MINUTES * 60
        return last_seen is not None and time.time() - last_seen > limit

    @staticmethod
    def session_ended(request):
        logout(request)
        minutes = settings.STAFF_SESSION_IDLE_MINUTES
        message = ngettext(
            "You were signed out after %(minutes)s minute without activity.",
            "You were signed out after %(minutes)s minutes without activity.",
            minutes,
        ) % {"minutes": minutes}
        if is_api_request(request):
            response = JsonResponse({"detail": message}, status=401)
            response["WWW-Authenticate"] = 'Bearer realm="api"'
            return response
        # The login page tells them why; messages are not available this early.
        request.session[SESSION_ENDED_KEY] = message
        return redirect_to_login(request.get_full_path())


class TwoFactorRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == reverse("admin:login"):
            return self.to_portal_login(request)
        if self.must_verify(request):
            return self.refused(request)
        return self.get_response(request)

    @staticmethod
    def must_verify(request) -> bool:
        user = request.user
        if not user.is_authenticated or user.is_verified() or is_exempt(request.path_info):
            return False
        return two_factor_required(user)

    @staticmethod
    def to_portal_login(request):
        next_url = request.GET.get("next") or reverse("admin:index")
        return redirect(f"{reverse('login')}?{urlencode({'next': next_url})}")

    @staticmethod
    def refused(request):
        if is_api_request(request):
            detail = _(
                "Two-factor login is required: sign in on the portal and type the code from "
                "your authenticator app before using the API with this session."
            )
            return JsonResponse({"detail": detail}, status=403)
        return redirect(second_factor_url(request.user, request.get_full_path()))


def second_factor_url(user, next_url: str) -> str:
    """Where someone goes for their second factor: to use it, or to set it up first."""
    page = "two_factor_verify" if two_factor_enabled(user) else "two_factor_setup"
    return f"{reverse(page)}?{urlencode({'next': next_url})}"


def is_activity(request) -> bool:
    """Whether the request shows that someone is at work (see NOT_ACTIVITY_PREFIXES)."""
    path = request.path_info
    if path.startswith(NOT_ACTIVITY_PREFIXES) or BACKGROUND_HEADER in request.headers:
        return False
    return path not in {reverse(name) for name in NOT_ACTIVITY_NAMES}


def is_exempt(path: str) -> bool:
    if path.startswith(EXEMPT_PREFIXES):
        return True
    return path in {reverse(name) for name in EXEMPT_NAMES}
