"""The second-factor gate on every URL Kobling serves. The URL patterns are read from the
resolver (portal, admin, API), their parameters filled with real rows of a small world, and each
is requested by a coordinator, a crisis-centre staff member and an admin who gave only their
password: the portal and the admin send them to the two-factor pages, the API answers 403. After
the second factor the same requests get through."""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone

from matching.models import CheckIn
from programmes.models import Referral
from tests.auth import login_verified, totp_device_for
from tests.world import World
from volunteers.selectors import organisation_slug

pytestmark = pytest.mark.django_db

STAFF = ("coord_x", "staff_a", "admin")
# Reachable before the second factor: they show no one's data or lead to the second factor.
EXEMPT_NAMES = {
    "health",
    "health-live",
    "health-ready",
    "about",
    "accessibility",
    "favicon",
    "login",
    "logout",
    "admin:login",
    "admin:logout",
    "set_language",
    "two_factor_verify",
    "two_factor_recovery",
    "two_factor_setup",
}
TWO_FACTOR_PAGES = ("/accounts/two-factor/", "/accounts/two-factor/setup/")
PARAMETER = re.compile(r"<(?:\w+:)?(?P<a>\w+)>|\(\?P<(?P<b>\w+)>[^)]*\)")


@dataclass(frozen=True)
class Endpoint:
    name: str
    route: str
    path: str

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")


def patterns(resolver=None, prefix="", namespace=""):
    """(name, route) for every URL pattern, routes joined from the resolvers above it."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from patterns(entry, route, inner)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name}", route


def pk_for(name: str, world: World, check_in: CheckIn) -> int:
    """The row a URL's ``pk`` names, told by the URL's name; a referral for any other."""
    rows = [
        (("otp_totp_totpdevice",), totp_device_for(world.users["staff_b"])),
        (("check_in",), check_in),
        (("agreement",), world.agreement_x),
        (("match_run", "match-run"), world.run_x),
        (("proposal",), world.proposal_x),
        (("volunteer_vetting",), world.volunteer),
        (("site",), world.site_x),
        (("match", "own-match", "coordinator_match"), world.match_x),
    ]
    bare = name.split(":")[-1]
    for prefixes, row in rows:
        if bare.startswith(prefixes):
            return row.pk
    return world.waiting_x.pk


def admin_object_id(route: str) -> str:
    """``admin/<app>/<model>/<path:object_id>/…``: the first row of that model."""
    app_label, model_name = route.split("/")[1:3]
    model = apps.get_model(app_label, model_name)
    return str(model._default_manager.order_by("pk").values_list("pk", flat=True).first())


def value_for(parameter: str, name: str, route: str, world: World, check_in: CheckIn) -> str:
    values = {
        "pk": lambda: pk_for(name, world, check_in),
        "place_pk": lambda: world.match_x.volunteers.get().pk,
        "object_id": lambda: (
            world.waiting_x.pk if name == "admin:view_on_site" else admin_object_id(route)
        ),
        "id": lambda: world.users["staff_b"].pk,
        "content_type_id": lambda: ContentType.objects.get_for_model(Referral).pk,
        "app_label": lambda: "programmes",
        "slug": lambda: world.site_x.programme.slug,
        "programme": lambda: world.site_x.programme.slug,
        "organisation": lambda: organisation_slug(world.site_x.organisation),
        "number": lambda: world.referral_x.municipality.number,
        "code": lambda: "0150",
        "step": lambda: "pause" if name == "volunteer_status" else "accept",
        "decision": lambda: "approve",
        "url": lambda: "no-such-page/",
        "uidb64": lambda: "MQ",
        "token": lambda: "set-password",
        "format": lambda: "json",
    }
    return str(values[parameter]())


def endpoints(world: World) -> list[Endpoint]:
    """Every pattern as a concrete path, checked to resolve back to the same pattern."""
    check_in = CheckIn.objects.create(
        match=world.match_x, months_after_start=1, due_on=timezone.localdate()
    )
    found = []
    for name, route in patterns():

        def fill(match, name=name, route=route):
            return value_for(match["a"] or match["b"], name, route, world, check_in)

        path = "/" + PARAMETER.sub(fill, route).replace("^", "").replace("$", "").replace("\\", "")
        leads_to = resolve(path).route.replace("^", "")
        assert leads_to == route.replace("^", ""), f"{path} does not lead to {route}"
        found.append(Endpoint(name, route, path))
    return found


def is_gated(endpoint: Endpoint, response) -> bool:
    if endpoint.is_api:
        return response.status_code == 403 and "two-factor" in response.json()["detail"].lower()
    location = urlsplit(response.get("Location", "")).path
    return response.status_code == 302 and location in TWO_FACTOR_PAGES


def password_only(user) -> Client:
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", STAFF)
@pytest.mark.parametrize("with_device", [False, True], ids=["no_authenticator", "authenticator"])
def test_staff_with_only_a_password_reach_no_endpoint(world, role, with_device):
    user = world.users[role]
    if with_device:
        totp_device_for(user)
    client = password_only(user)

    leaks = []
    for endpoint in endpoints(world):
        if endpoint.name in EXEMPT_NAMES:
            continue
        for method in (client.get, client.post):
            response = method(endpoint.path)
            if not is_gated(endpoint, response):
                leaks.append(f"{method.__name__.upper()} {endpoint.path}: {response.status_code}")
    assert leaks == []


def test_the_enumeration_covers_referrals_in_portal_admin_and_api(world):
    paths = {endpoint.path for endpoint in endpoints(world)}

    assert f"/referrals/{world.waiting_x.pk}/withdraw/" in paths
    assert f"/coordinator/referrals/{world.waiting_x.pk}/accept/" in paths
    assert "/admin/programmes/referral/" in paths
    assert any(
        path.startswith("/admin/programmes/referral/") and "/change/" in path for path in paths
    )
    assert f"/api/v1/referrals/{world.waiting_x.pk}/" in paths
    assert "/api/v1/referrals/" in paths
    assert len(paths) > 100


def test_password_only_staff_are_sent_to_set_up_or_use_their_authenticator(world):
    coordinator = world.users["coord_x"]
    client = password_only(coordinator)

    first = client.get("/coordinator/")
    totp_device_for(coordinator)
    second = client.get("/coordinator/")

    assert first.url == "/accounts/two-factor/setup/?next=%2Fcoordinator%2F"
    assert second.url == "/accounts/two-factor/?next=%2Fcoordinator%2F"


def test_the_api_says_a_second_factor_is_needed(world):
    response = password_only(world.users["staff_a"]).get("/api/v1/referrals/")

    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert "two-factor" in response.json()["detail"].lower()


def test_the_admin_login_page_sends_people_to_the_portal_login(world, client):
    response = client.get("/admin/login/?next=/admin/programmes/referral/")

    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=%2Fadmin%2Fprogrammes%2Freferral%2F"
    assert client.post("/admin/login/", {"username": "admin", "password": "x"}).status_code == 302


@pytest.mark.parametrize("role", STAFF)
def test_staff_who_passed_the_second_factor_get_through(world, role):
    client = Client()
    login_verified(client, world.users[role])

    stopped = [
        endpoint.path
        for endpoint in endpoints(world)
        if endpoint.name not in EXEMPT_NAMES and is_gated(endpoint, client.get(endpoint.path))
    ]
    assert stopped == []


@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("coord_x", "/coordinator/"),
        ("staff_a", "/referrals/"),
        ("admin", "/admin/programmes/referral/"),
        ("staff_a", "/api/v1/referrals/"),
    ],
)
def test_verified_staff_see_their_pages(world, role, path):
    client = Client()
    login_verified(client, world.users[role])

    assert client.get(path).status_code == 200


def test_a_volunteer_without_two_factor_gets_through(world):
    client = password_only(world.users["volunteer"])

    assert client.get("/me/").status_code == 200
    assert client.get("/api/v1/me/").status_code == 200


def test_a_volunteer_who_turned_two_factor_on_must_pass_it(world):
    volunteer = world.users["volunteer"]
    totp_device_for(volunteer)
    client = password_only(volunteer)

    assert client.get("/me/").url == "/accounts/two-factor/?next=%2Fme%2F"
    assert client.get("/api/v1/me/").status_code == 403
    login_verified(client, volunteer)
    assert client.get("/me/").status_code == 200
