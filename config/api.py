"""The REST API's shared parts: how errors look, strict input, ETags and the URL table of
/api/v1/. Who may call what and how often is in config/api_access.py; what the OpenAPI schema
adds (error responses, the token scheme) in config/api_schema.py.

Every view names, per action, the roles that may use it (``roles``); anything unnamed is denied.
Which rows a role sees comes from the apps' ``*_visible_to(user)`` selectors, so an object out
of scope answers 404.
"""

import hashlib
import json
import logging
from collections.abc import Mapping

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.urls import include, path, re_path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import exceptions, serializers, status
from rest_framework.routers import SimpleRouter
from rest_framework.views import exception_handler as drf_exception_handler

from matching.lifecycle import MatchConflict

log = logging.getLogger("kobling.api")


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("Someone else changed this first.")
    default_code = "conflict"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = gettext_lazy("This was changed since you read it; read it again and retry.")
    default_code = "precondition_failed"


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = gettext_lazy("Send If-Match with the ETag you read, so no change is lost.")
    default_code = "precondition_required"


def _django_error_detail(error: DjangoValidationError) -> dict:
    if hasattr(error, "error_dict"):
        return error.message_dict
    return {"non_field_errors": error.messages}


def api_exception_handler(exc, context):
    """Services speak Django (ValidationError, PermissionDenied) and matching's MatchConflict;
    the API answers 400 with the same field keys, 403 and 409. A 400 body is always an object.

    Anything unexpected is left to Django, which logs the traceback and answers with
    config.errors.server_error: a JSON 500 that says nothing about the cause."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_error_detail(exc))
    elif isinstance(exc, MatchConflict):
        exc = Conflict(str(exc))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if response.status_code >= 500:
        # An APIException that reports a server fault may carry internal text; keep it in
        # the log, not the answer.
        log.error("API server error: %r", exc, exc_info=exc)
        response.data = {"detail": _("A server error occurred.")}
    elif isinstance(response.data, list):
        response.data = {"non_field_errors": response.data}
    return response


class StrictSerializer(serializers.Serializer):
    """An input shape that refuses fields it does not know, naming each, so a typo is a 400
    rather than a silently ignored value."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(str(name) for name in set(data) - writable)
            if unknown:
                raise serializers.ValidationError({name: [_("Unknown field.")] for name in unknown})
        return super().to_internal_value(data)


IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description=gettext_lazy("The ETag from your last read; a stale one answers 412."),
)


def etag_of(data) -> str:
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()
    return f'"{digest[:32]}"'


def require_if_match(request, current: str) -> None:
    given = request.headers.get("If-Match", "").strip()
    if not given:
        raise PreconditionRequired()
    tags = {tag.strip().removeprefix("W/") for tag in given.split(",")}
    if current not in tags:
        raise PreconditionFailed()


@csrf_exempt
def api_not_found(request):
    """A JSON 404 for any /api/ address no route takes, so clients never get an HTML page (not
    even the CSRF failure page: there is nothing here to protect)."""
    return JsonResponse({"detail": _("Not found.")}, status=404)


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI with its start-up script served as a file of its own (``?script``) and no
    inline style, so it runs under the Content Security Policy."""

    template_name = "api/swagger_ui.html"


def api_urls() -> list:
    """/api/v1/ and the schema. The apps' API modules import this module, so they are imported
    here, when the URLs are built, not at the top."""
    from matching import api as matching_api
    from programmes import api as programmes_api
    from volunteers import api as volunteers_api

    router = SimpleRouter()
    for module in (programmes_api, matching_api):
        for prefix, viewset, basename in module.ROUTES:
            router.register(prefix, viewset, basename=basename)
    v1 = [*volunteers_api.URLS, *router.urls]
    return [
        path("api/v1/", include((v1, "api"), namespace="api")),
        path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
        path("api/docs/", ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
        re_path(r"^api/", api_not_found),
    ]
