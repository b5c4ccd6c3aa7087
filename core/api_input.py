"""What the API takes as a request body: at most MAX_BODY_BYTES, whatever its content type, and
for JSON strictly RFC 8259 JSON. Every refusal is a 4xx in JSON that says in words what was wrong,
never a 500 nor Python's exception text.

Strict JSON here means: UTF-8 without a byte order mark; no NaN or Infinity; finite numbers of at
most MAX_NUMBER_DIGITS characters (no quantity Kobling keeps is longer); each key once per object
(parsers disagree on which of two copies wins); no unpaired surrogate escapes (they are not text,
and could not even be echoed back in an error); at most MAX_NESTING levels. The types of the
fields themselves are checked by core.api.StrictSerializer.
"""

import codecs
import json
import math

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status

from core.paths import is_api_request

MAX_BODY_BYTES = 64 * 1024
MAX_NESTING = 20
MAX_NUMBER_DIGITS = 30


class BodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("The request body is too large.")
    default_code = "too_large"


class _Refused(Exception):
    """Carries a plain message out of the json module's hooks."""


def _shown(text: str) -> str:
    # A key quoted back must itself be text that can be sent: an unpaired surrogate as \udxxx.
    return text[:40].encode("utf-8", "backslashreplace").decode("utf-8")


def _refuse_constant(name: str):
    raise _Refused(_("%(name)s is not a number in JSON; send a number or null.") % {"name": name})


def _number(text: str, convert):
    if len(text) > MAX_NUMBER_DIGITS:
        raise _Refused(_("A number in the request body is too long."))
    value = convert(text)
    if not math.isfinite(value):
        raise _Refused(_("A number in the request body is too large."))
    return value


def _object(pairs: list) -> dict:
    seen = set()
    for key, _value in pairs:
        if key in seen:
            message = _("The key “%(key)s” appears more than once in the same object.")
            raise _Refused(message % {"key": _shown(key)})
        seen.add(key)
    return dict(pairs)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _Refused(
            _(
                "The request body has a \\u escape for half a character (an unpaired "
                "surrogate, \\ud800 to \\udfff); that is not text."
            )
        ) from None


def _check_tree(value) -> None:
    """Walks the parsed value without recursion: depth, and every key and string."""
    pending = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, str):
            _check_text(node)
            continue
        if not isinstance(node, dict | list):
            continue
        if depth > MAX_NESTING:
            raise _Refused(_too_deep())
        if isinstance(node, dict):
            for key, item in node.items():
                _check_text(key)
                pending.append((item, depth + 1))
        else:
            pending.extend((item, depth + 1) for item in node)


def _too_deep() -> str:
    message = _("The request body is nested too deeply: at most %(levels)s levels.")
    return message % {"levels": MAX_NESTING}


def _decode(body: bytes) -> str:
    if body.startswith(codecs.BOM_UTF8):
        raise _Refused(_("The request body starts with a byte order mark; send JSON without it."))
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        message = _("The request body is not UTF-8 text (byte %(position)s).")
        raise _Refused(message % {"position": error.start + 1}) from None


def _loads(text: str):
    try:
        return json.loads(
            text,
            object_pairs_hook=_object,
            parse_constant=_refuse_constant,
            parse_int=lambda digits: _number(digits, int),
            parse_float=lambda digits: _number(digits, float),
        )
    except json.JSONDecodeError as error:
        message = _("The request body is not valid JSON: line %(line)s, column %(column)s.")
        raise _Refused(message % {"line": error.lineno, "column": error.colno}) from None
    except RecursionError:
        raise _Refused(_too_deep()) from None


def json_from_body(body: bytes):
    """The JSON value of a request body, or ParseError (400) naming what is wrong with it."""
    try:
        if not body.strip():
            raise _Refused(_("The request body is empty; send a JSON object."))
        value = _loads(_decode(body))
        _check_tree(value)
    except _Refused as refusal:
        raise exceptions.ParseError(str(refusal)) from None
    return value


def declared_length(meta) -> int | None:
    """The Content-Length, or None when there is none (or none that is a number)."""
    try:
        return int(meta.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


def _answer(status_code: int, detail) -> JsonResponse:
    return JsonResponse({"detail": str(detail)}, status=status_code)


class ApiBodyLimitMiddleware:
    """Refuses an /api/ request body over MAX_BODY_BYTES with a JSON 413 before anything reads
    it (otherwise Django's own, larger limit answers with an HTML 400 first).

    A chunked body has no length to check up front, and Django's WSGI request would read it
    as empty; it is read here, once and no further than the limit, and kept as the request's
    body. A WSGI server that does not mark such a stream as ending (``wsgi.input_terminated``)
    could make that read wait for ever, so there the client is asked for a length (411)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_api_request(request):
            refusal = _refusal(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)


def _refusal(request) -> JsonResponse | None:
    meta = request.META
    declared = declared_length(meta)
    if declared is not None:
        too_large = declared > MAX_BODY_BYTES
        return _answer(413, BodyTooLarge.default_detail) if too_large else None
    if "chunked" not in meta.get("HTTP_TRANSFER_ENCODING", "").lower():
        return None
    if "wsgi.input" in meta and not meta.get("wsgi.input_terminated"):
        return _answer(411, _("Send the request body with a Content-Length header."))
    stream = meta.get("wsgi.input", request)  # under ASGI, the request's spooled body
    body = stream.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return _answer(413, BodyTooLarge.default_detail)
    # Kept where Django keeps a body it has read, so request.body, request.POST and DRF
    # all find it; the length lets DRF see there is a body at all.
    request._body = body
    meta["CONTENT_LENGTH"] = str(len(body))
    return None
