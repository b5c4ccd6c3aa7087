"""What people see when something goes wrong: a plain page, or for /api/ a JSON body, and never
a traceback, exception text or setting. The details go to the log (``django.request``)."""

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults

from config.paths import is_api_request


def page_not_found(request, exception):
    if is_api_request(request):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """500.html is rendered without a request context: no database query, no context
    processor, so the page still shows when those are what failed."""
    if is_api_request(request):
        return JsonResponse({"detail": _("A server error occurred.")}, status=500)
    return defaults.server_error(request)
