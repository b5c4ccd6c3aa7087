"""The back office holds staff to the services' rules (issue 12, finding 2): what the API refuses,
the admin refuses too, and a service's refusal is an error message, never a server error."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import ERROR, get_messages

from casework.admin import ReferralAdmin
from programmes.models import Municipality, Referral
from tests.admin.test_admin_permissions import form_data
from tests.matching.factories import programme
from tests.programmes.factories import ProgrammeSiteFactory
from volunteers.models import VettingRecord, Volunteer

pytestmark = pytest.mark.django_db

REFERRALS = "/admin/programmes/referral/"
VOLUNTEERS = "/admin/volunteers/volunteer/"


def change_url(obj) -> str:
    return f"/admin/{obj._meta.app_label}/{obj._meta.model_name}/{obj.pk}/change/"


def shown_form(client, obj) -> dict[str, list[str]]:
    page = client.get(change_url(obj))
    assert page.status_code == 200
    return form_data(page, type(obj))


def referral_form(referral: Referral, **changes) -> dict:
    """Every field of the referral form as a browser would send it, with ``changes``."""
    fields = {
        "site": [referral.site_id],
        "alias": [referral.alias],
        "adults": [referral.adults],
        "children_birth_years": ["[]"],
        "municipality": [referral.municipality_id],
        "languages": ['["ar", "nb"]'],
        "availability": ['[{"day": 2, "start": "17:00", "end": "20:00"}]'],
        "volunteer_gender": [""],
        "max_distance_km": [""],
        "avoid_municipalities": [m.pk for m in referral.avoid_municipalities.all()],
        "notes": [""],
        "consent_given_on": ["2026-11-01"],
    }
    return {**fields, **changes, "_save": "Save"}


def errors_shown(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request) if m.level == ERROR]


@pytest.fixture
def matched(back_office):
    """Site X's matched referral, kept away from two municipalities for safety."""
    referral = back_office.match_x.referral
    referral.avoid_municipalities.set(Municipality.objects.filter(number__in=["3201", "3203"]))
    return referral


def test_staff_cannot_clear_a_matched_referrals_safety_exclusions(back_office, matched):
    staff = back_office.client_as("staff")

    response = staff.post(change_url(matched), referral_form(matched, avoid_municipalities=[]))

    assert response.status_code == 403
    assert matched.avoid_municipalities.count() == 2


def test_staff_cannot_move_a_referral_to_the_other_programme(back_office, matched):
    other = ProgrammeSiteFactory(
        programme=programme("fritidsvenn"), crisis_centre=back_office.site_x.crisis_centre
    )
    submitted = back_office.referral_x
    staff = back_office.client_as("staff")
    # Fritidsvenn is for families: with a child, only the site stands in the way.
    moved = {"site": [other.pk], "children_birth_years": ["[2017]"]}

    staff.post(change_url(matched), referral_form(matched, **moved))
    staff.post(change_url(submitted), referral_form(submitted, **moved))

    assert Referral.objects.get(pk=matched.pk).site == back_office.site_x
    assert Referral.objects.get(pk=submitted.pk).site == back_office.site_x


def test_staff_are_not_offered_to_accept_referrals_into_the_queue(back_office):
    staff = back_office.client_as("staff")
    referral = back_office.referral_x

    listing = staff.get(REFERRALS)
    staff.post(REFERRALS, {"action": "accept_into_queue", "_selected_action": [referral.pk]})

    assert "accept_into_queue" not in listing.content.decode()
    assert Referral.objects.get(pk=referral.pk).status == Referral.Status.SUBMITTED


@pytest.mark.parametrize("role", ["coordinator", "staff"])
def test_nobody_types_an_alias_in_the_back_office(back_office, role):
    referral = back_office.referral_x
    client = back_office.client_as(role)

    client.post(change_url(referral), referral_form(referral, alias=["Kari Nordmann"]))

    assert Referral.objects.get(pk=referral.pk).alias == referral.alias


def test_a_coordinator_changes_no_referral_in_the_back_office(back_office):
    """Withdrawing (with a reason) is in the portal and the API; here nothing of a referral
    changes for a coordinator, whatever the form sends."""
    referral = back_office.waiting_x
    coordinator = back_office.client_as("coordinator")
    sent = referral_form(
        referral, status=["withdrawn"], withdrawal_reason=["mistake"], adults=["2"]
    )

    page = coordinator.get(change_url(referral))
    response = coordinator.post(change_url(referral), sent)

    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert response.status_code == 403
    unchanged = Referral.objects.get(pk=referral.pk)
    assert (unchanged.status, unchanged.adults) == (Referral.Status.PROPOSED, 1)


def test_staff_correct_a_waiting_referral_through_the_service(back_office):
    referral = back_office.referral_x
    staff = back_office.client_as("staff")
    sent = shown_form(staff, referral) | {
        "adults": ["2"],
        "avoid_municipalities": [str(Municipality.objects.get(number="3201").pk)],
        "_save": "Save",
    }

    response = staff.post(change_url(referral), sent)

    assert response.status_code == 302 and response.url == REFERRALS
    changed = Referral.objects.get(pk=referral.pk)
    assert changed.adults == 2
    assert [m.number for m in changed.avoid_municipalities.all()] == ["3201"]


def test_a_service_refusal_is_a_message_and_saves_nothing(back_office, matched, monkeypatch):
    """As if the referral was matched between opening the form and saving it: the page's
    permission check passed, referral_update refuses."""
    monkeypatch.setattr(ReferralAdmin, "has_change_permission", lambda *args, **kwargs: True)
    staff = back_office.client_as("staff")
    sent = shown_form(staff, matched) | {"adults": ["3"], "avoid_municipalities": [], "_save": "1"}
    history = LogEntry.objects.count()

    response = staff.post(change_url(matched), sent)

    assert response.status_code == 302 and response.url == change_url(matched)
    assert "can no longer be changed" in " ".join(errors_shown(response))
    unchanged = Referral.objects.get(pk=matched.pk)
    assert (unchanged.adults, unchanged.avoid_municipalities.count()) == (1, 2)
    assert LogEntry.objects.count() == history


def test_a_coordinator_is_not_offered_to_add_a_volunteer(back_office):
    coordinator = back_office.client_as("coordinator")
    user = back_office.users["coord_y"]
    sent = {
        "user": [user.pk],
        "organisation": [back_office.site_x.organisation_id],
        "home_postal_code": [back_office.volunteer.home_postal_code_id],
        "languages": ['[{"code": "nb", "level": "native"}]'],
        "gender": ["female"],
        "availability": ["[]"],
        "capacity": ["1"],
        "vetting-TOTAL_FORMS": ["0"],
        "vetting-INITIAL_FORMS": ["0"],
        "_save": "Save",
    }

    assert coordinator.get(f"{VOLUNTEERS}add/").status_code == 403
    assert coordinator.post(f"{VOLUNTEERS}add/", sent).status_code == 403
    assert not Volunteer.objects.filter(user=user).exists()


def test_a_coordinator_cannot_move_a_volunteer_to_another_organisation(back_office):
    volunteer = back_office.volunteer
    coordinator = back_office.client_as("coordinator")
    sent = shown_form(coordinator, volunteer) | {
        "organisation": [back_office.site_y.organisation_id],
        "capacity": ["2"],
        "_save": "Save",
    }

    coordinator.post(change_url(volunteer), sent)

    unchanged = Volunteer.objects.get(pk=volunteer.pk)
    assert unchanged.organisation == back_office.site_x.organisation
    assert unchanged.capacity == volunteer.capacity


def test_a_coordinator_adds_a_vetting_record_and_changes_no_other(back_office):
    volunteer = back_office.volunteer
    coordinator = back_office.client_as("coordinator")
    shown = shown_form(coordinator, volunteer)
    existing = int(shown["vetting-TOTAL_FORMS"][0])
    new = f"vetting-{existing}-"
    sent = shown | {
        "vetting-TOTAL_FORMS": [str(existing + 1)],
        f"{new}kind": ["training"],
        f"{new}issued_on": ["2026-02-01"],
        f"{new}expires_on": [""],
        f"{new}politiattest_type": [""],
        "vetting-0-DELETE": ["on"],
        "vetting-1-issued_on": ["2025-01-01"],
        "_save": "Save",
    }

    response = coordinator.post(change_url(volunteer), sent)

    assert response.status_code == 302
    records = VettingRecord.objects.filter(volunteer=volunteer)
    assert records.count() == existing + 1
    added = records.get(issued_on="2026-02-01")
    assert added.recorded_by == back_office.users["coord_x"]
    assert not records.filter(issued_on="2025-01-01").exists()
