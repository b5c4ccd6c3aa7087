"""Every API operation × every role: the status each role gets, and for lists whether the row of
site X is among the results. An operation added to /api/v1/ without joining MATRIX fails
test_every_api_operation_is_in_the_matrix.

Roles not named in a case answer 403 (their role may not do it); anonymous callers always 401.
404 means the object exists but is out of the caller's scope.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from drf_spectacular.generators import EndpointEnumerator

from core.api import etag_of
from matching import lifecycle
from tests.programmes.factories import UserFactory
from tests.world import ROLES

EVERYONE = ("staff_a", "staff_b", "coord_x", "coord_y", "volunteer", "admin")
MANAGERS = ("staff_a", "staff_b", "coord_x", "coord_y", "admin")


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # as in the schema; {…} is filled with the id of ``target`` in the world
    allowed: dict[str, int]
    target: str = ""
    body: dict = field(default_factory=dict)
    sees: tuple[str, ...] = ()  # for lists: the roles whose results hold ``target``
    prepare: Callable | None = None  # brings the world's target to where the operation fits

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path


def ok(roles, code: int = 200, **others: int) -> dict[str, int]:
    return {**dict.fromkeys(roles, code), **others}


REFERRAL_BODY = {
    "site": "site_x",
    "languages": ["ar"],
    "postal_code": "0150",
    "availability": [{"day": 2, "start": "17:00", "end": "20:00"}],
    "consent_given_on": "2026-11-01",
}
RUN_BODY = {"programme": "ressursvenn", "scope": "site", "site": "site_x"}


def signed_by_all_but_the_coordinator(world) -> None:
    lifecycle.agreement_accept(world.agreement_x, by=world.users["volunteer"])
    lifecycle.agreement_record_consent(world.agreement_x, by=world.users["staff_a"])


MATRIX = [
    Case("GET", "/api/v1/programmes/", ok(EVERYONE)),
    Case("GET", "/api/v1/programmes/{slug}/", ok(EVERYONE), target="programme"),
    Case("GET", "/api/v1/activities/", ok(EVERYONE)),
    Case("GET", "/api/v1/activities/{code}/", ok(EVERYONE), target="activity"),
    Case(
        "GET", "/api/v1/sites/", ok(MANAGERS), target="site_x", sees=("staff_a", "coord_x", "admin")
    ),
    Case(
        "GET",
        "/api/v1/sites/{id}/",
        ok(("staff_a", "coord_x", "admin"), staff_b=404, coord_y=404),
        target="site_x",
    ),
    Case("GET", "/api/v1/municipalities/", ok(EVERYONE)),
    Case("GET", "/api/v1/municipalities/{number}/", ok(EVERYONE), target="municipality"),
    Case("GET", "/api/v1/postal-codes/", ok(EVERYONE)),
    Case("GET", "/api/v1/postal-codes/{code}/", ok(EVERYONE), target="postal_code"),
    Case(
        "GET",
        "/api/v1/referrals/",
        ok(MANAGERS),
        target="referral_x",
        sees=("staff_a", "coord_x", "admin"),
    ),
    Case("POST", "/api/v1/referrals/", ok(("staff_a",), 201, staff_b=400), body=REFERRAL_BODY),
    Case(
        "GET",
        "/api/v1/referrals/{id}/",
        ok(("staff_a", "coord_x", "admin"), staff_b=404, coord_y=404),
        target="referral_x",
    ),
    Case(
        "PATCH",
        "/api/v1/referrals/{id}/",
        ok(("staff_a",), staff_b=404),
        target="referral_x",
        body={"adults": 2},
    ),
    Case(
        "POST",
        "/api/v1/referrals/{id}/withdraw/",
        ok(("staff_a", "coord_x", "admin"), staff_b=404, coord_y=404),
        target="referral_x",
        body={"reason": "participant_declined"},
    ),
    Case(
        "POST",
        "/api/v1/referrals/{id}/accept/",
        ok(("coord_x", "admin"), coord_y=404),
        target="referral_x",
    ),
    Case(
        "GET",
        "/api/v1/match-runs/",
        ok(("coord_x", "coord_y", "admin")),
        target="run_x",
        # A run of one site is seen by that site's coordinators (matching.selectors).
        sees=("coord_x", "admin"),
    ),
    Case("GET", "/api/v1/match-runs/{id}/", ok(("coord_x", "admin"), coord_y=404), "run_x"),
    Case("POST", "/api/v1/match-runs/", ok(("coord_x", "admin"), 202, coord_y=400), body=RUN_BODY),
    # The world's run did not fail, so restarting it is refused by the lifecycle, not the role.
    Case(
        "POST",
        "/api/v1/match-runs/{id}/restart/",
        ok(("coord_x", "admin"), 409, coord_y=404),
        target="run_x",
    ),
    Case(
        "GET",
        "/api/v1/proposals/",
        ok(("coord_x", "coord_y", "admin")),
        target="proposal_x",
        sees=("coord_x", "admin"),
    ),
    Case("GET", "/api/v1/proposals/{id}/", ok(("coord_x", "admin"), coord_y=404), "proposal_x"),
    Case(
        "POST",
        "/api/v1/proposals/{id}/approve/",
        ok(("coord_x", "admin"), 201, coord_y=404),
        target="proposal_x",
    ),
    Case(
        "POST",
        "/api/v1/proposals/{id}/reject/",
        ok(("coord_x", "admin"), coord_y=404),
        target="proposal_x",
        body={"reason": "Too far for the family."},
    ),
    Case(
        "GET",
        "/api/v1/matches/",
        ok(MANAGERS),
        target="match_x",
        sees=("staff_a", "coord_x", "admin"),
    ),
    Case(
        "GET",
        "/api/v1/matches/{id}/",
        ok(("staff_a", "coord_x", "admin"), staff_b=404, coord_y=404),
        target="match_x",
    ),
    Case(
        "POST",
        "/api/v1/matches/{id}/end/",
        ok(("coord_x", "admin"), coord_y=404),
        target="match_x",
        body={"reason": "moved", "requeue": True},
    ),
    Case(
        "POST",
        "/api/v1/matches/{id}/release-volunteer/",
        ok(("coord_x", "admin"), coord_y=404),
        target="match_x",
        body={"reason": "volunteer_ended", "volunteer": "volunteer"},
    ),
    # The world's match has all its volunteers, so a search is refused by the lifecycle.
    Case(
        "POST",
        "/api/v1/matches/{id}/replacement-search/",
        ok(("coord_x", "admin"), 409, coord_y=404),
        target="match_x",
    ),
    Case("GET", "/api/v1/me/matches/", ok(("volunteer",)), target="match_x", sees=("volunteer",)),
    Case("GET", "/api/v1/me/matches/{id}/", ok(("volunteer",)), target="match_x"),
    Case(
        "POST",
        "/api/v1/me/matches/{id}/ask-to-end/",
        ok(("volunteer",)),
        target="match_x",
        body={"reason": "moved", "note": "Jeg flytter til Tromsø."},
    ),
    Case(
        "GET",
        "/api/v1/agreements/",
        ok(EVERYONE),
        target="agreement_x",
        sees=("staff_a", "coord_x", "volunteer", "admin"),
    ),
    Case(
        "GET",
        "/api/v1/agreements/{id}/",
        ok(("staff_a", "coord_x", "volunteer", "admin"), staff_b=404, coord_y=404),
        target="agreement_x",
    ),
    Case("POST", "/api/v1/agreements/{id}/accept/", ok(("volunteer",)), target="agreement_x"),
    Case(
        "POST",
        "/api/v1/agreements/{id}/decline/",
        ok(("volunteer",)),
        target="agreement_x",
        body={"reason": "I am moving away."},
    ),
    Case(
        "POST",
        "/api/v1/agreements/{id}/consent/",
        ok(("staff_a",), staff_b=404),
        target="agreement_x",
    ),
    Case(
        "POST",
        "/api/v1/agreements/{id}/countersign/",
        ok(("coord_x",), coord_y=404),
        target="agreement_x",
        prepare=signed_by_all_but_the_coordinator,
    ),
    Case("GET", "/api/v1/me/", ok(("volunteer",))),
    Case("PATCH", "/api/v1/me/", ok(("volunteer",)), body={"activities": ["football"]}),
    Case("GET", "/api/v1/me/languages/", ok(("volunteer",))),
    Case(
        "PUT",
        "/api/v1/me/languages/",
        ok(("volunteer",)),
        body={"languages": [{"code": "ar", "level": "fluent"}]},
    ),
    Case("GET", "/api/v1/me/availability/", ok(("volunteer",))),
    Case(
        "PUT",
        "/api/v1/me/availability/",
        ok(("volunteer",)),
        body={"availability": [{"day": 1, "start": "17:00", "end": "19:00"}]},
    ),
    Case("POST", "/api/v1/me/pause/", ok(("volunteer",))),
    # The world's volunteer is active, so resuming is refused by the lifecycle, not the role.
    Case("POST", "/api/v1/me/resume/", ok(("volunteer",), 400)),
    Case("GET", "/api/v1/me/vetting/", ok(("volunteer",))),
]

TARGETS = {
    "programme": lambda world: world.site_x.programme.slug,
    "activity": lambda world: "football",
    "municipality": lambda world: "0301",
    "postal_code": lambda world: "0150",
}


def target_id(world, name: str):
    return TARGETS[name](world) if name in TARGETS else getattr(world, name).pk


def url_for(case: Case, world) -> str:
    if not case.target or "{" not in case.path:
        return case.path
    start, end = case.path.index("{"), case.path.index("}")
    return case.path[:start] + str(target_id(world, case.target)) + case.path[end + 1 :]


def body_for(case: Case, world) -> dict:
    ids = {"site_x": world.site_x.pk, "volunteer": world.volunteer.pk}
    return {
        key: ids.get(value, value) if isinstance(value, str) else value
        for key, value in case.body.items()
    }


def expected(case: Case, role: str) -> int:
    if role == "anonymous":
        return 401
    return case.allowed.get(role, 403)


def if_match_for(client, case: Case, url: str) -> dict:
    """The current ETag, read first, for the operations that demand If-Match."""
    guarded = {("PATCH", "/api/v1/referrals/{id}/"), ("PUT", "/api/v1/me/availability/")}
    if case.key not in guarded:
        return {}
    etag = client.get(url).headers.get("ETag") or etag_of("none")
    return {"HTTP_IF_MATCH": etag}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", MATRIX, ids=lambda case: f"{case.method} {case.path}")
def test_role_gets_the_expected_status(case, role, world, client_for):
    if case.prepare:
        case.prepare(world)
    client = client_for(role)
    url = url_for(case, world)
    headers = if_match_for(client, case, url)

    response = client.generic(
        case.method,
        url,
        data=json.dumps(body_for(case, world)) if case.body else "",
        content_type="application/json",
        **headers,
    )

    assert response.status_code == expected(case, role), response.content
    if case.sees and response.status_code == 200:
        ids = {row.get("id") for row in response.json()["results"]}
        assert (target_id(world, case.target) in ids) == (role in case.sees)


def api_operations() -> set[tuple[str, str]]:
    endpoints = EndpointEnumerator().get_api_endpoints()
    # drf-spectacular names a viewset's {pk} as {id} in the schema; the matrix uses the schema's.
    return {
        (method, path.replace("{pk}", "{id}"))
        for path, _regex, method, _view in endpoints
        if path.startswith("/api/v1/")
    }


def test_every_api_operation_is_in_the_matrix():
    in_matrix = {case.key for case in MATRIX}
    assert len(in_matrix) == len(MATRIX), "an operation is listed twice"
    assert api_operations() == in_matrix


@pytest.mark.django_db
def test_a_user_without_any_role_may_only_look_up_places_and_programmes(world, client_for):
    client = client_for("anonymous")
    client.force_login(UserFactory(username="nobody"))
    lookups = {"/api/v1/municipalities/", "/api/v1/postal-codes/", "/api/v1/programmes/"}
    lookups |= {"/api/v1/activities/"}

    codes = {case.path: client.get(case.path).status_code for case in MATRIX if _is_list(case)}

    assert {path for path, code in codes.items() if code == 200} == lookups
    assert set(codes.values()) == {200, 403}


def _is_list(case: Case) -> bool:
    return case.method == "GET" and "{" not in case.path and not case.path.startswith("/api/v1/me")
