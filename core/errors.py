"""What people see when something goes wrong: a plain page, or for /api/ a JSON body, and never
a traceback, exception text or setting. The details go to the log (``django.request``)."""

from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults

from core.api_input import BodyTooLarge
from core.paths import is_api_request


def bad_request(request, exception):
    """A request Django could not take (too large a form, too many fields, a bad header): 413
    for size, 400 otherwise. Like 500.html, 400.html needs no request context."""
    status = 413 if isinstance(exception, RequestDataTooBig) else 400
    if is_api_request(request):
        detail = (
            BodyTooLarge.default_detail if status == 413 else _("The request could not be read.")
        )
        return JsonResponse({"detail": str(detail)}, status=status)
    page = loader.get_template("400.html").render(
        {"too_large": status == 413, "request_id": getattr(request, "request_id", None)}
    )
    return HttpResponse(page, status=status)


def permission_denied(request, exception):
    if is_api_request(request):
        return JsonResponse(
            {"detail": _("You do not have permission to perform this action.")}, status=403
        )
    return defaults.permission_denied(request, exception)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW. Mostly a form left open past the session's end, or sent twice from an
    old tab: say so, in the layout, instead of Django's English technical page."""
    if is_api_request(request):
        return JsonResponse(
            {"detail": _("The form had expired. Reload the page and send it again.")}, status=403
        )
    return render(request, "403_csrf.html", status=403)


def page_not_found(request, exception):
    if is_api_request(request):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """500.html is rendered without a request context: no database query, no context
    processor, so the page still shows when those are what failed. It shows the request's id,
    which the log lines of the failure carry too (core/observability.py)."""
    if is_api_request(request):
        return JsonResponse({"detail": _("A server error occurred.")}, status=500)
    page = loader.get_template("500.html").render(
        {"request_id": getattr(request, "request_id", None)}
    )
    return HttpResponseServerError(page)
