"""The volunteer's own page: weekly availability, pause and resume, and vetting gaps."""

import datetime

import pytest
from django.utils import timezone

from programmes.models import Activity, VettingKind
from tests.dates import short_date
from tests.matching.factories import ready_volunteer
from tests.portal_html import attributes, summary_links, title
from tests.programmes.factories import UserFactory, programme
from tests.volunteers.factories import VettingRecordFactory, VolunteerFactory
from volunteers.models import Volunteer

pytestmark = pytest.mark.django_db


def test_volunteer_saves_weekly_availability(client):
    volunteer = ready_volunteer()
    client.force_login(volunteer.user)
    rows = {"day_0": "0", "start_0": "09:00", "end_0": "11:30", "day_1": "", "day_2": "5"}
    rows |= {"start_2": "10:00", "end_2": "12:00"}

    response = client.post("/me/", rows)

    assert response.status_code == 302
    volunteer.refresh_from_db()
    assert volunteer.availability == [
        {"day": 0, "start": "09:00", "end": "11:30"},
        {"day": 5, "start": "10:00", "end": "12:00"},
    ]


def test_the_editor_shows_the_saved_slots(client):
    volunteer = ready_volunteer()
    client.force_login(volunteer.user)
    page = client.get("/me/").content.decode()
    assert 'value="18:00"' in page and 'value="21:00"' in page


def test_an_invalid_slot_is_named_and_nothing_is_saved(client):
    volunteer = ready_volunteer()
    before = volunteer.availability
    client.force_login(volunteer.user)

    response = client.post(
        "/me/", {"day_0": "1", "start_0": "12:00", "end_0": "10:00"}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 400
    assert response.context["form"].errors["end_0"] == [
        "Time slot 1: it must end after it starts (now from 12:00 to 10:00)."
    ]
    assert 'href="#id_end_0"' in response.content.decode()
    volunteer.refresh_from_db()
    assert volunteer.availability == before


def test_a_time_that_is_not_a_time_is_named(client):
    volunteer = ready_volunteer()
    client.force_login(volunteer.user)
    response = client.post("/me/", {"day_0": "1", "start_0": "soon", "end_0": "10:00"})
    assert "start_0" in response.context["form"].errors


def test_volunteer_pauses_and_resumes(client):
    volunteer = ready_volunteer()
    client.force_login(volunteer.user)

    client.post("/me/pause/")
    assert Volunteer.objects.get(pk=volunteer.pk).status == Volunteer.Status.PAUSED
    client.post("/me/resume/")
    assert Volunteer.objects.get(pk=volunteer.pk).status == Volunteer.Status.ACTIVE


def test_an_applicant_cannot_make_themself_active(client):
    volunteer = VolunteerFactory(programmes=[programme()])
    client.force_login(volunteer.user)
    client.post("/me/resume/")
    assert Volunteer.objects.get(pk=volunteer.pk).status == Volunteer.Status.APPLICANT
    assert client.post("/me/retire/").status_code == 404


def test_missing_and_expiring_vetting_is_shown(client):
    volunteer = VolunteerFactory(programmes=[programme()])
    soon = timezone.localdate() + datetime.timedelta(days=10)
    VettingRecordFactory(volunteer=volunteer, kind=VettingKind.TRAINING, expires_on=soon)
    client.force_login(volunteer.user)

    page = client.get("/me/").content.decode()

    assert "Police certificate (politiattest)" in page or "Politiattest" in page
    assert short_date(soon) in page


def test_someone_who_is_not_a_volunteer_gets_not_found(client):
    client.force_login(UserFactory(username="staff-only"))
    assert client.get("/me/").status_code == 404
    assert client.post("/me/pause/").status_code == 404


def test_volunteer_saves_languages_with_levels_and_activities(client):
    volunteer = ready_volunteer()
    client.force_login(volunteer.user)
    rows = {"form": "languages", "language_0": "nb", "level_0": "fluent", "language_1": ""}
    rows |= {"level_1": "basic", "language_2": "smj", "level_2": "native"}

    response = client.post("/me/", rows | {"activities": ["football", "library"]})

    assert response.status_code == 302
    volunteer.refresh_from_db()
    assert volunteer.languages == [
        {"code": "nb", "level": "fluent"},
        {"code": "smj", "level": "native"},
    ]
    assert [a.code for a in volunteer.activities.all()] == ["football", "library"]


def test_the_activities_are_checkboxes_named_in_the_readers_language(client):
    volunteer = ready_volunteer()
    volunteer.activities.set(Activity.objects.filter(code="swimming"))
    client.force_login(volunteer.user)

    response = client.get("/me/", HTTP_ACCEPT_LANGUAGE="nb")
    english = client.get("/me/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    swimming = attributes(response, "id_activities_1")
    assert (swimming["type"], swimming["value"], "checked" in swimming) == (
        "checkbox",
        "swimming",
        True,
    )
    assert "checked" not in attributes(response, "id_activities_0")
    page = response.content.decode()
    assert ">Svømming</label>" in page and ">Friluftsliv</label>" in page
    assert ">Swimming</label>" in english and ">Outdoor life</label>" in english


def test_an_activity_no_longer_offered_is_kept_but_not_offered_to_others(client):
    volunteer, other = ready_volunteer(), ready_volunteer(code="0151")
    volunteer.activities.set(Activity.objects.filter(code="dance"))
    Activity.objects.filter(code="dance").update(is_active=False)
    client.force_login(volunteer.user)
    rows = {"form": "languages", "language_0": "ar", "level_0": "native"}

    assert client.post("/me/", rows | {"activities": ["dance", "music"]}).status_code == 302
    client.force_login(other.user)
    refused = client.post("/me/", rows | {"activities": ["dance"]}, HTTP_ACCEPT_LANGUAGE="en")

    assert [a.code for a in volunteer.activities.all()] == ["dance", "music"]
    assert refused.status_code == 400
    assert "activities" in refused.context["languages_form"].errors
    assert not other.activities.exists()


def test_the_languages_editor_shows_the_saved_languages(client):
    volunteer = ready_volunteer(languages=[{"code": "so", "level": "conversational"}])
    client.force_login(volunteer.user)
    form = client.get("/me/").context["languages_form"]
    assert form["language_0"].value() == "so"
    assert form["level_0"].value() == "conversational"


@pytest.mark.parametrize(
    ("row", "named"),
    [
        ({"language_0": "xx", "level_0": "fluent"}, "Language 1: “xx” is not an ISO 639"),
        ({"language_0": "ar", "level_0": "perfect"}, "Language 1: the level must be one of"),
    ],
)
def test_an_unknown_language_or_level_is_named_and_nothing_is_saved(client, row, named):
    volunteer = ready_volunteer()
    before = (volunteer.languages, list(volunteer.activities.all()))
    client.force_login(volunteer.user)

    response = client.post(
        "/me/", {"form": "languages", "activities": ["gaming"], **row}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 400
    assert any(named in e for e in response.context["languages_form"].languages_errors)
    assert named in response.content.decode()
    volunteer.refresh_from_db()
    assert (volunteer.languages, list(volunteer.activities.all())) == before


def test_saving_languages_leaves_the_availability_alone(client):
    volunteer = ready_volunteer()
    before = volunteer.availability
    client.force_login(volunteer.user)
    client.post("/me/", {"form": "languages", "language_0": "en", "level_0": "basic"})
    volunteer.refresh_from_db()
    assert volunteer.availability == before


def test_more_languages_than_rows_are_all_kept(client):
    codes = ["nb", "en", "ar", "so", "ti", "pl", "hi"]
    volunteer = ready_volunteer(languages=[{"code": c, "level": "basic"} for c in codes])
    client.force_login(volunteer.user)
    form = client.get("/me/").context["languages_form"]
    rows = {"form": "languages"}
    rows |= {name: form[name].value() for name in form.fields if name != "activities"}

    assert client.post("/me/", rows).status_code == 302
    volunteer.refresh_from_db()
    assert [entry["code"] for entry in volunteer.languages] == codes


@pytest.mark.django_db
def test_profile_page_title_is_plain_text(client):
    from tests.volunteers.factories import VolunteerFactory

    volunteer = VolunteerFactory()
    client.force_login(volunteer.user)
    page = client.get("/me/").content.decode()
    title = page.split("<title>")[1].split("</title>")[0]
    assert "<" not in title
    assert page.count('id="languages-h"') == 1


def test_every_availability_problem_is_named_by_its_row_in_one_submit(client):
    volunteer = ready_volunteer()
    client.force_login(volunteer.user)
    rows = {"day_0": "1", "start_0": "17:00", "end_0": "19:00", "day_1": "3", "start_1": "soon"}
    rows |= {"day_2": "1", "start_2": "18:30", "end_2": "20:00"}

    response = client.post("/me/", rows)

    assert response.status_code == 400
    assert summary_links(response) == [
        ("#id_start_1", "Tidsrom 2: skriv «Fra» som et klokkeslett, for eksempel 17:30."),
        ("#id_end_1", "Tidsrom 2: fyll ut «Til»."),
        ("#id_day_2", "Tidsrom 3: overlapper med tidsrommet tirsdag 17–19."),
    ]
    assert title(response).startswith("Feil: ")


def test_the_availability_editor_uses_time_inputs_in_designsystemet_fields(client):
    volunteer = ready_volunteer()
    client.force_login(volunteer.user)
    response = client.get("/me/")
    start = attributes(response, "id_start_0")
    assert (start["type"], start["class"], start["value"]) == ("time", "ds-input", "18:00")
    assert 'class="ds-field availability__time"><label class="ds-label" for="id_start_0">' in (
        response.content.decode()
    )


def test_a_language_twice_or_without_a_level_is_named_by_its_row(client):
    volunteer = ready_volunteer()
    client.force_login(volunteer.user)
    rows = {"form": "languages", "language_0": "ar", "level_0": "fluent"}
    rows |= {"language_1": "so", "language_2": "ar", "level_2": "basic"}

    response = client.post("/me/", rows, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert summary_links(response) == [
        ("#id_level_1", "Language 2: choose how well you speak it."),
        ("#id_language_2", "Language 3: Arabic is chosen in an earlier row."),
    ]
