"""Coordinators see what volunteers can do and how well they speak (issue 17): the volunteer
page and the list of volunteers name the activities and each language with its level, the
list in as many queries for many volunteers as for few."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.auth import login_verified
from tests.matching.factories import ready_volunteer, site_with_people

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
LANGUAGES = [{"code": "ar", "level": "fluent"}, {"code": "nb", "level": "basic"}]


@pytest.fixture
def coordinator(client):
    site, _staff, coordinator = site_with_people()
    login_verified(client, coordinator)
    client.site = site
    return client


def test_the_volunteer_page_names_the_activities_and_levels(coordinator):
    volunteer = ready_volunteer(
        organisation=coordinator.site.organisation,
        languages=LANGUAGES,
        activities=["skiing", "homework-reading"],
    )

    page = coordinator.get(f"/coordinator/volunteers/{volunteer.pk}/", **EN).content.decode()
    bokmal = coordinator.get(f"/coordinator/volunteers/{volunteer.pk}/").content.decode()

    assert "Skiing, homework help and reading" in page
    assert "Arabic (fluent), Norwegian bokmål (basic)" in page
    assert "Ski, leksehjelp og lesing" in bokmal


def test_the_list_of_volunteers_names_activities_and_languages_with_levels(coordinator):
    ready_volunteer(
        organisation=coordinator.site.organisation, languages=LANGUAGES, activities=["dance"]
    )

    page = coordinator.get("/coordinator/volunteers/", **EN).content.decode()
    export = coordinator.get("/coordinator/volunteers/?format=csv", **EN)
    csv = b"".join(export.streaming_content).decode()

    assert "Arabic (fluent), Norwegian bokmål (basic)" in page
    assert '<td data-label="Activities">Dance</td>' in page
    assert "Activities" in csv.splitlines()[0] and ",dance," in csv


def test_the_list_of_volunteers_costs_the_same_queries_for_2_and_12(coordinator):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert coordinator.get("/coordinator/volunteers/").status_code == 200
        return len(captured)

    organisation = coordinator.site.organisation
    for _ in range(2):
        ready_volunteer(organisation=organisation, activities=["dance", "art"])
    queries()  # the first request after signing in records the last activity in the session
    few = queries()
    for _ in range(10):
        ready_volunteer(organisation=organisation, activities=["music"])

    assert queries() == few
