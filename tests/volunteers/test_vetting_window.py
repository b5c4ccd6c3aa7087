"""One warning window for vetting that runs out (volunteers.selectors.VETTING_WARNING_DAYS):
the reminder, the volunteer's own page, the coordinator's pages and the back office agree on
which records expire soon."""

import datetime

import pytest
from django.contrib.admin.sites import site as admin_site
from django.test import RequestFactory
from django.utils import timezone

from programmes.models import VettingKind
from tests.auth import login_verified
from tests.matching.factories import site_with_people
from tests.programmes.factories import UserFactory, programme
from tests.volunteers.factories import VettingRecordFactory, VolunteerFactory
from volunteers.admin import VettingExpiryFilter
from volunteers.models import Volunteer
from volunteers.selectors import VETTING_WARNING_DAYS, vetting_expires_soon, vetting_expiring_soon

pytestmark = pytest.mark.django_db


def records_at_the_edge(volunteer):
    today = timezone.localdate()
    last_day = today + datetime.timedelta(days=VETTING_WARNING_DAYS)
    inside = VettingRecordFactory(
        volunteer=volunteer, kind=VettingKind.TRAINING, expires_on=last_day
    )
    outside = VettingRecordFactory(
        volunteer=volunteer,
        kind=VettingKind.FIRST_AID,
        expires_on=last_day + datetime.timedelta(days=1),
    )
    return today, inside, outside


def test_the_window_is_sixty_days_long_enough_to_renew_a_politiattest():
    assert VETTING_WARNING_DAYS == 60
    today, inside, outside = records_at_the_edge(VolunteerFactory())

    assert list(vetting_expiring_soon(today)) == [inside]
    assert vetting_expires_soon(inside, today) and not vetting_expires_soon(outside, today)


def test_the_volunteer_and_the_coordinator_see_the_same_records_expiring(client):
    site, _staff, coordinator = site_with_people()
    volunteer = VolunteerFactory(organisation=site.organisation, programmes=[programme()])
    _today, inside, _outside = records_at_the_edge(volunteer)

    client.force_login(volunteer.user)
    own = client.get("/me/").context["expiring"]
    login_verified(client, coordinator)
    vetting = client.get(f"/coordinator/volunteers/{volunteer.pk}/vetting/").context["expiring"]
    page = client.get(f"/coordinator/volunteers/{volunteer.pk}/").context["vetting"]

    assert list(own) == list(vetting) == [inside]
    assert [line.record for line in page if line.expiring] == [inside]


def test_the_back_office_filter_uses_the_same_window():
    volunteer = VolunteerFactory()
    records_at_the_edge(volunteer)
    other = VolunteerFactory()
    VettingRecordFactory(
        volunteer=other,
        kind=VettingKind.TRAINING,
        expires_on=timezone.localdate() + datetime.timedelta(days=VETTING_WARNING_DAYS + 1),
    )
    request = RequestFactory().get("/admin/volunteers/volunteer/")
    request.user = UserFactory(is_superuser=True, is_staff=True)
    expiring = VettingExpiryFilter(
        request, {"vetting": ["expiring"]}, Volunteer, admin_site._registry[Volunteer]
    )

    assert list(expiring.queryset(request, Volunteer.objects.all())) == [volunteer]
