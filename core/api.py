"""The REST API's shared parts: how errors look, strict input, weekly slots and ETags. Who may
call what and how often is in accounts/api_access.py; what the OpenAPI schema adds (error
responses, the token scheme) in core/api_schema.py; the URL table of /api/v1/ in
config/api_urls.py.

Every view names, per action, the roles that may use it (``roles``); anything unnamed is denied.
Which rows a role sees comes from the apps' ``*_visible_to(user)`` selectors, so an object out
of scope answers 404.
"""

import hashlib
import json
import logging
from collections.abc import Mapping

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, serializers, status
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import StateConflict

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
    """Services speak Django (ValidationError, PermissionDenied) and StateConflict (a race lost);
    the API answers 400 with the same field keys, 403 and 409. A 400 body is always an object.

    Anything unexpected is left to Django, which logs the traceback and answers with
    core.errors.server_error: a JSON 500 that says nothing about the cause."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_error_detail(exc))
    elif isinstance(exc, StateConflict):
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


_TEXT = gettext_lazy("Must be text.")
_LIST = gettext_lazy("Must be a list.")
# (field class, the JSON types it takes, the message otherwise); the first class that fits wins.
# DRF would turn 5 into "5", "yes" and 1 into True and "2" into 2: the API takes JSON types as
# they are, so a confused client hears about it instead of storing what it did not mean.
JsonType = tuple[type[serializers.Field], tuple[type, ...] | None, Promise]
JSON_TYPES: tuple[JsonType, ...] = (
    (serializers.BooleanField, (bool,), gettext_lazy("Must be true or false.")),
    (serializers.IntegerField, (int,), gettext_lazy("Must be a whole number.")),
    (serializers.FloatField, (int, float), gettext_lazy("Must be a number.")),
    (serializers.MultipleChoiceField, (list,), _LIST),
    (serializers.ChoiceField, None, _TEXT),
    (serializers.CharField, (str,), _TEXT),
    (serializers.DateField, (str,), _TEXT),
    (serializers.DateTimeField, (str,), _TEXT),
    (serializers.TimeField, (str,), _TEXT),
    (serializers.ListField, (list,), _LIST),
    (serializers.ListSerializer, (list,), _LIST),
    (serializers.DictField, (dict,), gettext_lazy("Must be an object.")),
)


def json_type_problem(field, value) -> list | dict | None:
    """Why ``value`` is the wrong JSON type for ``field``, or None. Null is left to the field
    (allow_null); so are field classes not in JSON_TYPES."""
    if value is None:
        return None
    kind = next((row for row in JSON_TYPES if isinstance(field, row[0])), None)
    if kind is None:
        return None
    _field_class, accepted, message = kind
    if accepted is None:  # a choice: the type of its values (text, as a rule)
        accepted = tuple({type(choice) for choice in field.choices}) or (str,)
    bool_confused = isinstance(value, bool) and bool not in accepted
    if bool_confused or not isinstance(value, accepted):
        return [str(message)]
    # A ListField's value is a list by now (checked above); isinstance says so to mypy too.
    if (
        isinstance(field, serializers.ListField)
        and field.child is not None
        and isinstance(value, list)
    ):
        items = {index: json_type_problem(field.child, item) for index, item in enumerate(value)}
        return {index: problem for index, problem in items.items() if problem} or None
    return None


class StrictSerializer(serializers.Serializer):
    """An input shape that takes a JSON object and refuses what it does not expect, naming the
    field: keys it does not know (a typo is a 400, not a silently ignored value) and values of
    the wrong JSON type (see JSON_TYPES). Nested StrictSerializers check their own fields."""

    def run_validation(self, data=serializers.empty):
        not_an_object = data is not serializers.empty and not isinstance(data, Mapping)
        if not_an_object and not (data is None and self.allow_null):
            key = api_settings.NON_FIELD_ERRORS_KEY
            raise serializers.ValidationError({key: [_not_an_object(self)]})
        return super().run_validation(data)

    def to_internal_value(self, data):
        writable = {name: field for name, field in self.fields.items() if not field.read_only}
        unknown = sorted(str(name) for name in set(data) - set(writable))
        errors = {name: [_("Unknown field.")] for name in unknown}
        for name, field in writable.items():
            problem = json_type_problem(field, data[name]) if name in data else None
            if problem:
                errors[name] = problem
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


def _not_an_object(serializer) -> str:
    if serializer.parent is None:
        return _('The request body must be a JSON object, like {"field": value}.')
    return _("Must be an object.")


class SlotSerializer(StrictSerializer):
    """One weekly slot; the weekly availability validator checks times and overlaps."""

    day = serializers.IntegerField(help_text=_("0 (Monday) to 6 (Sunday)."))
    start = serializers.CharField(max_length=5, help_text="HH:MM")
    end = serializers.CharField(max_length=5, help_text="HH:MM, after start; 24:00 allowed.")


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
