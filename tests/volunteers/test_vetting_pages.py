"""The coordinator's volunteer pages: who they see, recording vetting, and the steps from
applicant to vetted to active."""

import datetime

import pytest
from django.utils import timezone

from programmes.models import PolitiattestType, VettingKind
from tests.auth import login_verified
from tests.dates import short_date
from tests.matching.factories import ready_volunteer, site_with_people
from tests.portal_html import summary_links, title
from tests.programmes.factories import UserFactory, programme
from tests.volunteers.factories import VolunteerFactory, give_full_vetting
from volunteers.models import VettingRecord, Volunteer

pytestmark = pytest.mark.django_db
Status = Volunteer.Status


def applicant_of(site) -> Volunteer:
    return VolunteerFactory(organisation=site.organisation, programmes=[site.programme])


def vetting_url(volunteer: Volunteer) -> str:
    return f"/coordinator/volunteers/{volunteer.pk}/vetting/"


def test_coordinator_sees_only_their_organisations_volunteers(client):
    site, _staff, coordinator = site_with_people()
    ours = applicant_of(site)
    other_site, _other_staff, _other = site_with_people(name="Bergen")
    theirs = applicant_of(other_site)
    login_verified(client, coordinator)

    response = client.get("/coordinator/volunteers/", headers={"accept-language": "en"})

    listed = [volunteer for volunteer, _missing, _expiring in response.context["rows"]]
    assert listed == [ours] and theirs not in listed
    assert "Police certificate (politiattest)" in response.content.decode()


def test_another_coordinators_volunteer_is_not_found(client):
    site, _staff, _coordinator = site_with_people()
    _other_site, _other_staff, other_coordinator = site_with_people(name="Bergen")
    volunteer = applicant_of(site)
    login_verified(client, other_coordinator)
    assert client.get(vetting_url(volunteer)).status_code == 404
    status_url = f"/coordinator/volunteers/{volunteer.pk}/status/"
    assert client.post(status_url).status_code == 404


def test_volunteers_and_crisis_centre_staff_are_refused(client):
    site, staff, _coordinator = site_with_people()
    volunteer = ready_volunteer(organisation=site.organisation)
    for user in (staff, volunteer.user, UserFactory(username="nobody")):
        login_verified(client, user)
        assert client.get("/coordinator/volunteers/").status_code == 403
        assert client.get(vetting_url(volunteer)).status_code == 403


def test_a_politiattest_without_its_type_is_named_and_nothing_is_saved(client):
    site, _staff, coordinator = site_with_people()
    volunteer = applicant_of(site)
    login_verified(client, coordinator)

    response = client.post(
        vetting_url(volunteer), {"kind": VettingKind.POLITIATTEST, "issued_on": "2026-01-10"}
    )

    assert response.status_code == 400
    assert "politiattest_type" in response.context["form"].errors
    assert not VettingRecord.objects.filter(volunteer=volunteer).exists()


def test_coordinator_records_full_vetting_then_moves_the_applicant_on(client):
    site, _staff, coordinator = site_with_people()
    volunteer = applicant_of(site)
    login_verified(client, coordinator)
    for kind in site.programme.required_vetting:
        is_attest = kind == VettingKind.POLITIATTEST
        row = {"kind": kind, "issued_on": "2026-01-10"}
        row |= {"politiattest_type": PolitiattestType.CHILDREN} if is_attest else {}
        assert client.post(vetting_url(volunteer), row).status_code == 302

    client.post(f"/coordinator/volunteers/{volunteer.pk}/status/")
    assert Volunteer.objects.get(pk=volunteer.pk).status == Status.VETTED
    client.post(f"/coordinator/volunteers/{volunteer.pk}/status/")
    assert Volunteer.objects.get(pk=volunteer.pk).status == Status.ACTIVE
    assert VettingRecord.objects.filter(recorded_by=coordinator).count() == len(
        site.programme.required_vetting
    )


def test_moving_to_vetted_with_vetting_missing_shows_the_services_message(client):
    site, _staff, coordinator = site_with_people()
    volunteer = applicant_of(site)
    login_verified(client, coordinator)

    response = client.post(
        f"/coordinator/volunteers/{volunteer.pk}/status/", headers={"accept-language": "en"}
    )

    assert response.status_code == 400

    assert (
        "Vetting is not complete (Ressursvenn: Police certificate (politiattest)"
        in response.content.decode()
    )
    assert Volunteer.objects.get(pk=volunteer.pk).status == Status.APPLICANT


def test_expiring_vetting_is_listed(client):
    site, _staff, coordinator = site_with_people()
    volunteer = applicant_of(site)
    soon = timezone.localdate() + datetime.timedelta(days=10)
    give_full_vetting(volunteer, programme(), expires_on=soon)
    login_verified(client, coordinator)
    page = client.get("/coordinator/volunteers/").content.decode()
    assert short_date(soon) in page


def test_the_vetting_form_marks_its_optional_fields_and_links_every_error(client):
    """Two required and two optional fields: the tie is broken towards marking "Optional"."""
    site, _staff, coordinator = site_with_people()
    volunteer = applicant_of(site)
    login_verified(client, coordinator)

    shown = client.get(vetting_url(volunteer), headers={"accept-language": "en"})
    refused = client.post(
        vetting_url(volunteer), {"kind": "", "issued_on": ""}, headers={"accept-language": "en"}
    )

    optional = '<span class="ds-tag" data-color="info" data-size="sm">Optional</span>'
    page = shown.content.decode()
    assert f"Politiattest type {optional}</label>" in page
    assert f"Expires on {optional}</label>" in page
    assert page.count(optional) == 2 and ">Required</span>" not in page
    assert [href for href, _text in summary_links(refused)] == ["#id_kind", "#id_issued_on"]
    assert title(refused).startswith("Error: ")
