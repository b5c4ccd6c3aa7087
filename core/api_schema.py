"""The OpenAPI schema's additions: the error responses every operation may give, and the
token scheme. Named by DEFAULT_SCHEMA_CLASS, which drf-spectacular loads while config/api.py is
being imported, so it lives apart."""

from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


FIELD_ERRORS = {
    "type": "object",
    "description": gettext_lazy(
        "Field name → list of messages; non_field_errors for the whole body."
    ),
    "additionalProperties": {},
}
ERROR_CODES_ALWAYS = ("401", "403", "404", "429")
ERROR_CODES_WRITE = ("409", "413", "415")


class KoblingAutoSchema(AutoSchema):
    """Documents the error responses every operation may give."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = list(ERROR_CODES_ALWAYS)
        if self.method in ("POST", "PUT", "PATCH"):
            codes += ERROR_CODES_WRITE
        if self.method in getattr(self.view, "if_match_methods", ()):
            codes += ["412", "428"]
        for code in codes:
            responses.setdefault(code, self._get_response_for_code(ErrorSerializer, code))
        responses.setdefault("400", self._get_response_for_code(FIELD_ERRORS, "400"))
        return responses


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.api_tokens.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": gettext_lazy(
                "A crisis centre's integration token (manage.py create_api_token)."
            ),
        }
