"""Who sees which referral: crisis-centre staff only their centre's, coordinators only their
sites', volunteers and strangers none, through every door (selector, portal page, back office)."""

import pytest
from django.contrib.auth.models import AnonymousUser, Permission

from accounts.roles import user_roles
from programmes.selectors import referrals_visible_to, sites_visible_to
from tests.auth import login_verified
from tests.programmes.factories import (
    CrisisCentreFactory,
    ProgrammeSiteFactory,
    ReferralFactory,
    UserFactory,
)
from tests.volunteers.factories import VolunteerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Two crisis centres A and B, each with a site, a staff member, a coordinator, a referral."""
    people = {}
    for name in ("a", "b"):
        staff = UserFactory(username=f"staff-{name}", is_staff=True)
        coordinator = UserFactory(username=f"coordinator-{name}", is_staff=True)
        centre = CrisisCentreFactory(name=f"Krisesenteret {name.upper()}", staff=[staff])
        site = ProgrammeSiteFactory(crisis_centre=centre, coordinators=[coordinator])
        people[name] = {
            "staff": staff,
            "coordinator": coordinator,
            "site": site,
            "referral": ReferralFactory(site=site, alias=f"P-CENTRE{name.upper()}"),
        }
    return people


def aliases(user) -> set[str]:
    return set(referrals_visible_to(user).values_list("alias", flat=True))


def test_crisis_centre_staff_see_only_their_centres_referrals(world):
    assert aliases(world["a"]["staff"]) == {"P-CENTREA"}
    assert aliases(world["b"]["staff"]) == {"P-CENTREB"}


def test_coordinator_sees_only_their_sites_referrals(world):
    assert aliases(world["a"]["coordinator"]) == {"P-CENTREA"}
    assert list(sites_visible_to(world["a"]["coordinator"])) == [world["a"]["site"]]


def test_volunteer_and_anonymous_see_no_referral(world):
    volunteer = VolunteerFactory()
    assert aliases(volunteer.user) == set()
    assert aliases(AnonymousUser()) == set()
    assert user_roles(volunteer.user) == {"volunteer"}


def test_admin_sees_every_referral(world):
    admin = UserFactory(username="root", is_superuser=True)
    assert aliases(admin) == {"P-CENTREA", "P-CENTREB"}


def test_portal_page_shows_staff_only_their_centres_referrals(client, world):
    login_verified(client, world["a"]["staff"])
    page = client.get("/").content.decode()
    assert "P-CENTREA" in page
    assert "P-CENTREB" not in page


def test_back_office_lists_only_the_centres_referrals(client, world):
    staff = world["a"]["staff"]
    staff.user_permissions.add(Permission.objects.get(codename="view_referral"))
    login_verified(client, staff)

    listing = client.get("/admin/programmes/referral/")
    other = client.get(f"/admin/programmes/referral/{world['b']['referral'].pk}/change/")

    assert listing.status_code == 200
    assert "P-CENTREA" in listing.content.decode()
    assert "P-CENTREB" not in listing.content.decode()
    assert other.status_code == 302  # the admin redirects an object outside the queryset away


def test_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_portal_speaks_bokmal_first_and_english_on_request(client, world):
    login_verified(client, world["a"]["staff"])
    assert "Oversikt" in client.get("/").content.decode()
    english = client.get("/", headers={"accept-language": "en"}).content.decode()
    assert "Overview" in english
