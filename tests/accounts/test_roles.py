"""The roles a person holds (accounts/roles.py) decide what they may do, and the home page links
what each role may open."""

import pytest
from django.urls import reverse

from accounts.roles import Role, sites_coordinated_by, user_coordinates, user_has_role, user_roles
from tests.auth import login_verified
from tests.matching.factories import ready_volunteer, site_with_people
from tests.programmes.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_each_person_holds_the_roles_their_memberships_give():
    _site, staff, coordinator = site_with_people()
    volunteer = ready_volunteer()
    admin = UserFactory(is_superuser=True)

    assert user_roles(staff) == {Role.CRISIS_CENTRE_STAFF}
    assert user_roles(coordinator) == {Role.COORDINATOR}
    assert user_roles(volunteer.user) == {Role.VOLUNTEER}
    assert user_roles(admin) == {Role.ADMIN}
    assert user_has_role(admin, Role.ADMIN, Role.COORDINATOR)
    assert not user_has_role(staff, Role.ADMIN, Role.COORDINATOR)


def test_admins_do_a_coordinators_work_at_every_site_coordinators_at_their_own():
    site, _staff, coordinator = site_with_people()
    other, _other_staff, _other_coordinator = site_with_people(name="Bergen")
    admin = UserFactory(is_superuser=True)

    assert list(sites_coordinated_by(coordinator)) == [site]
    assert set(sites_coordinated_by(admin)) == {site, other}
    assert user_coordinates(coordinator, site) and not user_coordinates(coordinator, other)
    assert user_coordinates(admin, other)


@pytest.mark.parametrize(
    ("who", "linked", "not_linked"),
    [
        ("staff", "referral_new", "dashboard"),
        ("coordinator", "dashboard", "referral_new"),
        ("volunteer", "volunteer_profile", "dashboard"),
    ],
)
def test_the_home_page_links_what_each_role_may_open(client, who, linked, not_linked):
    _site, staff, coordinator = site_with_people()
    people = {"staff": staff, "coordinator": coordinator, "volunteer": ready_volunteer().user}
    login_verified(client, people[who])

    page = client.get("/").content.decode()

    assert f'href="{reverse(linked)}"' in page
    assert f'href="{reverse(not_linked)}"' not in page
