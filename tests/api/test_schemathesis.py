"""A bounded schemathesis pass against the live schema, in-process through the WSGI app: for each
role, every operation gets up to 20 valid and 10 invalid generated requests; none may answer 500
and every response must conform to the schema (status code, content type, headers, body). Then
every operation with a body gets 5 valid bodies with one field of the wrong JSON type ("activities":
5, "adults": "2"), which must be refused with a 4xx."""

from dataclasses import dataclass

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from django.utils.crypto import get_random_string
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.api_tokens import api_token_create
from tests.auth import login_verified, totp_device_for

POSITIVE, NEGATIVE = schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE
EXAMPLES = {POSITIVE: 20, NEGATIVE: 10}
TYPE_CONFUSED_EXAMPLES = 5
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
HYPOTHESIS = settings(
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)

# Each role's exploration takes minutes on two busy cores: past the suite's default timeout.
pytestmark = [pytest.mark.django_db, pytest.mark.slow, pytest.mark.timeout(900)]


@dataclass(frozen=True)
class Credentials:
    headers: dict[str, str]
    cookies: dict[str, str]


def session_credentials(user) -> Credentials:
    """The portal's way in: a session cookie, and a CSRF token for unsafe methods."""
    client = Client()
    login_verified(client, user)
    csrf = get_random_string(32)
    cookies = {"sessionid": client.cookies["sessionid"].value, "csrftoken": csrf}
    return Credentials(headers={"X-CSRFToken": csrf}, cookies=cookies)


def token_credentials(world) -> Credentials:
    totp_device_for(world.users["staff_a"])
    _token, raw = api_token_create(
        user=world.users["staff_a"],
        crisis_centre=world.site_x.crisis_centre,
        scope="write",
        name="schemathesis",
    )
    return Credentials(headers={"Authorization": f"Bearer {raw}"}, cookies={})


def credentials_for(role: str, world) -> Credentials:
    if role == "staff_a_token":
        return token_credentials(world)
    return session_credentials(world.users[role])


@pytest.fixture
def unthrottled(settings):
    rates = dict.fromkeys(("anon", "user", "token"), "100000/minute")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


@pytest.fixture
def wsgi_app():
    """The Django WSGI app, minus the per-request connection clean-up that would end the test's
    transaction (Django's own test client disconnects it the same way)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def known_path_values(world) -> dict[str, list]:
    """Ids of the world's rows, so generated requests also reach objects that exist."""
    rows = (world.site_x, world.referral_x, world.referral_y, world.waiting_x, world.run_x)
    rows += (world.proposal_x, world.match_x, world.agreement_x)
    return {
        "id": sorted({row.pk for row in rows}),
        "slug": [world.site_x.programme.slug],
        "number": ["0301"],
        "code": ["0150"],
    }


def exercise(operation, credentials: Credentials, mode, examples: int, known: dict) -> None:
    @settings(HYPOTHESIS, max_examples=examples)
    @given(
        case=operation.as_strategy(generation_mode=mode),
        use_known=st.booleans(),
        pick=st.integers(min_value=0, max_value=99),
    )
    def run(case, use_known, pick):
        if use_known and mode == POSITIVE:
            for name in case.path_parameters or {}:
                case.path_parameters[name] = known[name][pick % len(known[name])]
        call_and_validate(case, credentials)

    run()


def call_and_validate(case, credentials: Credentials):
    # Generated credentials would only test the 401 path; the role's own are used instead.
    case.headers = {k: v for k, v in (case.headers or {}).items() if k != "Authorization"}
    case.cookies = dict(credentials.cookies)
    response = case.call(headers=credentials.headers)
    case.validate_response(response, checks=CHECKS, headers=credentials.headers)
    return response


def wrong_json_type(value):
    """A value of another JSON type than ``value``: what a confused client sends."""
    if isinstance(value, bool):
        return "true"
    if isinstance(value, int | float):
        return str(value)
    return 5 if isinstance(value, str) else "x"


def objects_by_collection(world) -> dict[str, int]:
    """The world's row that each /{collection}/{id}/ address acts on, so a request is refused
    for its body and not because nothing is there."""
    return {
        "referrals": world.referral_x.pk,
        "match-runs": world.run_x.pk,
        "proposals": world.proposal_x.pk,
        "matches": world.match_x.pk,
        "agreements": world.agreement_x.pk,
    }


def collection_of(path: str) -> str:
    segments = path.split("/")
    return segments[segments.index("{id}") - 1]


def exercise_type_confusion(operation, credentials: Credentials, examples: int, known) -> None:
    """A valid body with one field's value swapped for another JSON type, on objects that exist:
    never taken (2xx), never a 500."""

    @settings(HYPOTHESIS, max_examples=examples)
    @given(case=operation.as_strategy(generation_mode=POSITIVE), data=st.data())
    def run(case, data):
        body = case.body if isinstance(case.body, dict) else {}
        given_fields = sorted(name for name, value in body.items() if value is not None)
        assume(given_fields)
        name = data.draw(st.sampled_from(given_fields))
        case.body = {**body, name: wrong_json_type(body[name])}
        if "id" in (case.path_parameters or {}):
            case.path_parameters["id"] = known[collection_of(operation.path)]
        response = call_and_validate(case, credentials)
        assert 400 <= response.status_code < 500, (name, case.body[name], response.status_code)

    run()


@pytest.mark.parametrize("role", ["staff_a_token", "coord_x", "volunteer", "admin"])
def test_every_operation_answers_as_its_schema_says(role, world, unthrottled, wsgi_app):
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)
    credentials = credentials_for(role, world)
    known = known_path_values(world)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode, examples in EXAMPLES.items():
            try:
                exercise(operation, credentials, mode, examples, known)
            except Exception as error:
                failures.append(f"{operation.label} ({mode.value}): {error}")
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("role", ["staff_a_token", "coord_x", "volunteer", "admin"])
def test_a_body_field_of_the_wrong_json_type_is_never_taken(role, world, unthrottled, wsgi_app):
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)
    credentials = credentials_for(role, world)
    known = objects_by_collection(world)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.body:
            continue
        try:
            exercise_type_confusion(operation, credentials, TYPE_CONFUSED_EXAMPLES, known)
        except Exception as error:
            failures.append(f"{operation.label}: {error}")
    assert not failures, "\n\n".join(failures)
