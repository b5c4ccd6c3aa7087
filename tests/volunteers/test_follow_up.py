"""Coordinators record each volunteer's follow-up (group meetings, supervision, courses,
refreshers) with its date; the volunteer's page lists it."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from tests.auth import login_verified
from tests.matching.factories import ready_volunteer, site_with_people
from volunteers.models import VolunteerFollowUp

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    site, _staff, coordinator = site_with_people()
    volunteer = ready_volunteer(organisation=site.organisation)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    login_verified(client, coordinator)
    return client, coordinator, volunteer


def test_a_follow_up_is_recorded_and_listed_on_the_volunteers_page(people):
    client, coordinator, volunteer = people
    today = timezone.localdate().isoformat()

    response = client.post(
        f"/coordinator/volunteers/{volunteer.pk}/follow-up/",
        {"kind": "supervision", "on": today, "note": "Tema: grenser"},
    )

    assert response.status_code == 302
    entry = VolunteerFollowUp.objects.get()
    assert (entry.kind, entry.recorded_by, entry.note) == (
        "supervision",
        coordinator,
        "Tema: grenser",
    )
    page = client.get(f"/coordinator/volunteers/{volunteer.pk}/").content.decode()
    assert "Supervision" in page and "Tema: grenser" in page


def test_a_date_in_the_future_and_a_phone_number_are_refused_naming_the_fields(people):
    client, _coordinator, volunteer = people
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()

    response = client.post(
        f"/coordinator/volunteers/{volunteer.pk}/follow-up/",
        {"kind": "course", "on": tomorrow, "note": "Ring 412 34 567"},
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert 'href="#id_on"' in page and 'href="#id_note"' in page
    assert not VolunteerFollowUp.objects.exists()


def test_a_coordinator_of_another_organisation_cannot_reach_the_page(people):
    _client, _coordinator, volunteer = people
    _site, _staff, stranger = site_with_people(name="Tromsø")
    client = Client()
    login_verified(client, stranger)

    assert client.get(f"/coordinator/volunteers/{volunteer.pk}/follow-up/").status_code == 404
