"""Headers that keep survivor data out of caches. The other security headers come from Django's
SecurityMiddleware and XFrameOptionsMiddleware and the Content Security Policy from django-csp;
their settings are under "Security" in config/settings.py."""

from django.conf import settings
from django.utils.cache import add_never_cache_headers

from core.paths import is_api_request


def _is_static_asset(path: str) -> bool:
    return path.startswith("/" + settings.STATIC_URL.lstrip("/"))


def _must_not_be_stored(request) -> bool:
    """API answers and every page a signed-in person sees may hold referral data, so no
    browser, proxy or back button may keep a copy. Public static files stay cacheable."""
    if _is_static_asset(request.path):
        return False
    if is_api_request(request):
        return True
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated)


class NoStoreMiddleware:
    """Adds ``Cache-Control: no-store`` (with ``private`` and ``max-age=0``) where
    ``_must_not_be_stored`` says so. It sits outside the session and authentication
    middleware, so it sees the signed-in user on the way out."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if _must_not_be_stored(request):
            add_never_cache_headers(response)
        return response
