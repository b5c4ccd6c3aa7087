"""What the API does with input it cannot take (issue 12, finding 8): malformed JSON of every kind
is a 400 that names the problem in words, a body over the limit is a JSON 413 however it
arrives, a value of the wrong JSON type is a 400 naming the field. Never a 500, an HTML page or
Python's own error text. The portal's forms answer an oversized post with a page in words."""

import io

import pytest
from django.test import Client

from accounts.api_access import MAX_BODY_BYTES
from matching.models import Proposal
from programmes.models import Referral
from tests.api.test_referrals_api import submission

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
TOO_LARGE = {"detail": "The request body is too large."}
NOT_AN_OBJECT = {
    "non_field_errors": ['The request body must be a JSON object, like {"field": value}.']
}
PYTHON_WORDS = ("Expecting", "codec", "decode", "utf-8-sig", "char ", "dictionary", "Traceback")


@pytest.fixture
def coordinator(world, client_for):
    client = client_for("coord_x")
    client.raise_request_exception = False
    return client


def reject_url(world) -> str:
    return f"/api/v1/proposals/{world.proposal_x.pk}/reject/"


def post_raw(client, url, body: bytes, content_type="application/json", **extra):
    return client.post(url, body, content_type=content_type, **EN, **extra)


def assert_still_pending(world) -> None:
    assert Proposal.objects.get(pk=world.proposal_x.pk).status == Proposal.Status.PENDING


# Malformed JSON ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"\\ud800": 1}', "unpaired surrogate"),
        (b'{"reason": "\\udc00"}', "unpaired surrogate"),
        (b'{"reason": ["\\ud83d"]}', "unpaired surrogate"),
        (b"[" * 60_000, "nested too deeply"),
        (b'{"a":' * 30 + b"1" + b"}" * 30, "nested too deeply"),
        (b'{"reason": "\xff"}', "not UTF-8 text (byte 13)"),
        (b'{"reason": "\xed\xa0\x80"}', "not UTF-8 text"),
        (b'\xef\xbb\xbf{"reason": "x"}', "byte order mark"),
        (b'{"reason": NaN}', "NaN is not a number in JSON"),
        (b'{"reason": Infinity}', "Infinity is not a number in JSON"),
        (b'{"reason": -Infinity}', "-Infinity is not a number in JSON"),
        (b'{"reason": 1e999}', "number in the request body is too large"),
        (b'{"reason": ' + b"9" * 5000 + b"}", "number in the request body is too long"),
        (b'{"reason": "a", "reason": "b"}', "key “reason” appears more than once"),
        (b'{"reason": "a",}', "not valid JSON: line 1, column 16"),
        (b"   ", "empty"),
    ],
    ids=[
        "surrogate-key",
        "surrogate-value",
        "surrogate-in-list",
        "60kb-of-brackets",
        "too-deep",
        "invalid-utf8",
        "utf8-encoded-surrogate",
        "bom",
        "nan",
        "infinity",
        "minus-infinity",
        "overflowing-float",
        "5000-digit-int",
        "duplicate-key",
        "trailing-comma",
        "whitespace-only",
    ],
)
def test_malformed_json_is_a_400_naming_the_problem(world, coordinator, body, words):
    response = post_raw(coordinator, reject_url(world), body)

    assert response.status_code == 400, response.content[:200]
    detail = response.json()["detail"]
    assert words in detail
    assert not any(word in detail for word in PYTHON_WORDS), detail
    assert_still_pending(world)


@pytest.mark.parametrize("body", [b"[]", b'"reason"', b"5", b"true", b"null", b'[{"reason": "x"}]'])
def test_a_body_that_is_not_an_object_is_a_400_saying_so(world, coordinator, body):
    response = post_raw(coordinator, reject_url(world), body)

    assert (response.status_code, response.json()) == (400, NOT_AN_OBJECT)
    assert_still_pending(world)


def test_an_empty_post_names_the_fields_it_needs(world, coordinator):
    response = post_raw(coordinator, reject_url(world), b"")

    assert (response.status_code, response.json()) == (400, {"reason": ["This field is required."]})


# Oversized bodies ----------------------------------------------------------------------------

HUGE = b'{"reason": "' + b"x" * (3 * 1024 * 1024) + b'"}'
OVER = b'{"reason": "' + b"x" * MAX_BODY_BYTES + b'"}'


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (HUGE, "application/json"),
        (OVER, "application/json"),
        (HUGE, "text/plain"),
        (b"reason=" + b"x" * (3 * 1024 * 1024), "application/x-www-form-urlencoded"),
    ],
    ids=["3mib-json", "just-over-json", "3mib-text", "3mib-form"],
)
def test_an_oversized_body_is_a_json_413_whatever_its_type(world, coordinator, body, content_type):
    response = post_raw(coordinator, reject_url(world), body, content_type)

    assert (response.status_code, response.json()) == (413, TOO_LARGE)
    assert_still_pending(world)


def test_an_oversized_body_is_a_json_413_before_anyone_signs_in(world):
    response = Client().post(reject_url(world), HUGE, content_type="application/json", **EN)

    assert (response.status_code, response.json()) == (413, TOO_LARGE)


def test_a_content_length_claiming_too_much_is_a_413_without_reading_the_body(world, coordinator):
    response = post_raw(coordinator, reject_url(world), b"{}", CONTENT_LENGTH=str(10**9))

    assert (response.status_code, response.json()) == (413, TOO_LARGE)


def test_a_content_length_claiming_too_little_cuts_the_body_there(world, coordinator):
    response = post_raw(coordinator, reject_url(world), OVER, CONTENT_LENGTH="20")

    assert response.status_code == 400
    assert response.json()["detail"].startswith("The request body is not valid JSON")


def chunked(body: bytes, *, terminated: bool = True) -> dict:
    """The WSGI environ of a body sent with Transfer-Encoding: chunked, which has no
    Content-Length; a server that ends the stream for the application says so."""
    environ = {
        "CONTENT_LENGTH": "",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input": io.BytesIO(body),
    }
    return {**environ, "wsgi.input_terminated": True} if terminated else environ


def test_an_oversized_chunked_body_is_a_json_413(world, coordinator):
    response = post_raw(coordinator, reject_url(world), OVER, **chunked(OVER))

    assert (response.status_code, response.json()) == (413, TOO_LARGE)
    assert_still_pending(world)


def test_a_chunked_body_within_the_limit_is_read(world, coordinator):
    body = b'{"reason": "Not a good fit."}'

    response = post_raw(coordinator, reject_url(world), body, **chunked(body))

    assert response.status_code == 200, response.json()
    assert Proposal.objects.get(pk=world.proposal_x.pk).rejection_reason == "Not a good fit."


def test_a_chunked_body_the_server_does_not_end_asks_for_a_length(world, coordinator):
    body = b'{"reason": "x"}'

    response = post_raw(coordinator, reject_url(world), body, **chunked(body, terminated=False))

    assert response.status_code == 411
    assert response.json() == {"detail": "Send the request body with a Content-Length header."}


def test_too_many_fields_for_the_api_is_a_json_400(world, coordinator):
    fields = "&".join(f"f{number}=1" for number in range(1_200))

    response = coordinator.get(f"/api/v1/referrals/?{fields}", **EN)

    assert (response.status_code, response.json()) == (
        400,
        {"detail": "The request could not be read."},
    )


def test_an_oversized_portal_form_is_a_413_page_in_words():
    client = Client(raise_request_exception=False)

    response = client.post("/accounts/login/", {"username": "x" * (3 * 1024 * 1024)}, **EN)

    assert response.status_code == 413
    page = response.content.decode()
    assert "What you sent is too large" in page
    assert "shorten what you wrote" in page


def test_a_portal_form_with_too_many_fields_is_a_400_page_in_words():
    fields = "&".join(f"f{number}=1" for number in range(1_200))

    response = Client(raise_request_exception=False).post(
        "/accounts/login/", fields, content_type="application/x-www-form-urlencoded", **EN
    )

    assert response.status_code == 400
    assert "Kobling could not read what you sent" in response.content.decode()


# Wrong JSON types ----------------------------------------------------------------------------


def test_activities_must_be_a_list_of_codes(world, client_for):
    volunteer = world.volunteer
    before = set(volunteer.activities.values_list("code", flat=True))

    response = client_for("volunteer").patch("/api/v1/me/", {"activities": 5}, format="json", **EN)

    assert response.status_code == 400
    assert list(response.json()) == ["activities"]
    assert set(volunteer.activities.values_list("code", flat=True)) == before


def test_a_rejection_reason_must_be_text(world, coordinator):
    response = coordinator.post(reject_url(world), {"reason": 5}, format="json", **EN)

    assert (response.status_code, response.json()) == (400, {"reason": ["Must be text."]})
    assert_still_pending(world)


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"adults": "2"}, {"adults": ["Must be a whole number."]}),
        ({"adults": 2.0}, {"adults": ["Must be a whole number."]}),
        ({"adults": True}, {"adults": ["Must be a whole number."]}),
        ({"site": "1"}, {"site": ["Must be a whole number."]}),
        ({"notes": 5}, {"notes": ["Must be text."]}),
        ({"postal_code": 150}, {"postal_code": ["Must be text."]}),
        ({"volunteer_gender": 1}, {"volunteer_gender": ["Must be text."]}),
        ({"consent_given_on": 20261101}, {"consent_given_on": ["Must be text."]}),
        ({"languages": "ar"}, {"languages": ["Must be a list."]}),
        ({"languages": {"ar": 1}}, {"languages": ["Must be a list."]}),
        ({"languages": ["ar", 5]}, {"languages": {"1": ["Must be text."]}}),
        (
            {"children_birth_years": ["2018"]},
            {"children_birth_years": {"0": ["Must be a whole number."]}},
        ),
        ({"availability": "Mondays"}, {"availability": ["Must be a list."]}),
        (
            {"availability": [{"day": "2", "start": "17:00", "end": "20:00"}]},
            {"availability": {"0": {"day": ["Must be a whole number."]}}},
        ),
        (
            {"availability": ["Monday"]},
            {"availability": {"0": {"non_field_errors": ["Must be an object."]}}},
        ),
    ],
)
def test_a_referral_field_of_the_wrong_type_is_a_400_naming_it(world, client_for, fields, errors):
    client = client_for("staff_a")
    count = Referral.objects.count()

    response = client.post("/api/v1/referrals/", submission(world, **fields), format="json", **EN)

    assert (response.status_code, response.json()) == (400, errors)
    assert Referral.objects.count() == count


@pytest.mark.parametrize("given", ["yes", "true", 1, 0])
def test_a_yes_or_no_must_be_true_or_false(world, coordinator, given):
    url = f"/api/v1/proposals/{world.proposal_x.pk}/approve/"

    response = coordinator.post(url, {"acknowledge_vetting_expiry": given}, format="json", **EN)

    expected = {"acknowledge_vetting_expiry": ["Must be true or false."]}
    assert (response.status_code, response.json()) == (400, expected)
    assert_still_pending(world)


@pytest.mark.parametrize(
    ("url", "role", "body", "field", "message"),
    [
        (
            "/api/v1/referrals/{referral_x}/withdraw/",
            "coord_x",
            {"reason": "other", "note": 5},
            "note",
            "Must be text.",
        ),
        (
            "/api/v1/referrals/{referral_x}/withdraw/",
            "coord_x",
            {"reason": 5},
            "reason",
            "Must be text.",
        ),
        (
            "/api/v1/matches/{match_x}/end/",
            "coord_x",
            {"reason": "other", "requeue": "false"},
            "requeue",
            "Must be true or false.",
        ),
        (
            "/api/v1/matches/{match_x}/end/",
            "coord_x",
            {"reason": "other", "note": [], "requeue": False},
            "note",
            "Must be text.",
        ),
        (
            "/api/v1/matches/{match_x}/release-volunteer/",
            "coord_x",
            {"reason": "other", "volunteer": "1"},
            "volunteer",
            "Must be a whole number.",
        ),
        (
            "/api/v1/me/matches/{match_x}/ask-to-end/",
            "volunteer",
            {"reason": "other", "note": 5},
            "note",
            "Must be text.",
        ),
        (
            "/api/v1/match-runs/",
            "coord_x",
            {"programme": "ressursvenn", "scope": "site", "site": "1"},
            "site",
            "Must be a whole number.",
        ),
        (
            "/api/v1/match-runs/",
            "coord_x",
            {"programme": 5, "scope": "site"},
            "programme",
            "Must be text.",
        ),
    ],
    ids=[
        "withdraw-note",
        "withdraw-reason",
        "end-requeue",
        "end-note",
        "release-volunteer",
        "ask-to-end-note",
        "run-site",
        "run-programme",
    ],
)
def test_every_input_field_takes_only_its_json_type(
    world, client_for, url, role, body, field, message
):
    ids = {"referral_x": world.referral_x.pk, "match_x": world.match_x.pk}

    response = client_for(role).post(url.format(**ids), body, format="json", **EN)

    assert response.status_code == 400, response.json()
    assert response.json()[field] == [message]
