"""The volunteer's self-service API: profile, languages, availability under If-Match, pause and
resume, vetting status, and their own matches showing only what the agreement allows."""

import datetime
import json

import pytest

from matching import lifecycle
from programmes.models import Activity
from tests.volunteers.factories import VettingRecordFactory, VolunteerFactory
from volunteers.models import VettingRecord

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def put(client, url, body, **headers):
    return client.put(url, json.dumps(body), content_type="application/json", **headers)


def test_volunteer_reads_and_changes_their_profile(world, client_for):
    client = client_for("volunteer")

    changed = client.patch("/api/v1/me/", {"activities": ["skiing", "gaming"]}, format="json")

    assert changed.status_code == 200
    assert changed.json()["activities"] == ["skiing", "gaming"]
    assert client.get("/api/v1/me/").json()["status"] == "active"


def test_an_unknown_activity_is_named_and_nothing_is_saved(world, client_for):
    client = client_for("volunteer")
    client.patch("/api/v1/me/", {"activities": ["skiing"]}, format="json")

    refused = client.patch(
        "/api/v1/me/", {"activities": ["football", "knitting"]}, format="json", **EN
    )

    assert refused.status_code == 400
    assert refused.json() == {"activities": ["activities[1]: unknown activity 'knitting'."]}
    assert client.get("/api/v1/me/").json()["activities"] == ["skiing"]


def test_an_activity_no_longer_offered_stays_but_cannot_be_chosen_anew(world, client_for):
    client = client_for("volunteer")
    client.patch("/api/v1/me/", {"activities": ["skiing"]}, format="json")
    Activity.objects.filter(code__in=["skiing", "dance"]).update(is_active=False)

    kept = client.patch("/api/v1/me/", {"activities": ["skiing", "music"]}, format="json")
    refused = client.patch("/api/v1/me/", {"activities": ["dance"]}, format="json", **EN)

    assert kept.json()["activities"] == ["skiing", "music"]
    assert refused.json() == {"activities": ["activities[0]: unknown activity 'dance'."]}


def test_profile_refuses_fields_it_does_not_let_you_change(world, client_for):
    response = client_for("volunteer").patch(
        "/api/v1/me/", json.dumps({"capacity": 3}), content_type="application/json"
    )

    assert response.status_code == 400
    assert "capacity" in response.json()


def test_languages_must_be_iso_639(world, client_for):
    client = client_for("volunteer")

    bad = put(client, "/api/v1/me/languages/", {"languages": [{"code": "xx", "level": "native"}]})
    good = put(client, "/api/v1/me/languages/", {"languages": [{"code": "sma", "level": "basic"}]})

    assert bad.status_code == 400
    assert "languages" in bad.json()
    assert good.json() == {"languages": [{"code": "sma", "level": "basic"}]}


def test_availability_change_needs_the_current_etag(world, client_for):
    client = client_for("volunteer")
    etag = client.get("/api/v1/me/availability/").headers["ETag"]
    new = {"availability": [{"day": 5, "start": "10:00", "end": "12:00"}]}

    missing = put(client, "/api/v1/me/availability/", new)
    changed = put(client, "/api/v1/me/availability/", new, HTTP_IF_MATCH=etag)
    stale = put(client, "/api/v1/me/availability/", new, HTTP_IF_MATCH=etag)

    assert (missing.status_code, changed.status_code, stale.status_code) == (428, 200, 412)
    assert changed.json() == new


def test_availability_ending_before_it_starts_is_a_400_and_saves_nothing(world, client_for):
    client = client_for("volunteer")
    etag = client.get("/api/v1/me/availability/").headers["ETag"]
    slots = [{"day": 1, "start": "18:00", "end": "17:00"}]

    response = put(
        client,
        "/api/v1/me/availability/",
        {"availability": slots},
        HTTP_IF_MATCH=etag,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    # The key names the field; the message names the slot as a person counts it.
    assert response.json()["availability"] == [
        "Time slot 1: it must end after it starts (now from 18:00 to 17:00)."
    ]
    world.volunteer.refresh_from_db()
    assert world.volunteer.availability == [{"day": 2, "start": "18:00", "end": "21:00"}]


def test_volunteer_pauses_and_resumes(world, client_for):
    client = client_for("volunteer")

    paused = client.post("/api/v1/me/pause/")
    paused_again = client.post("/api/v1/me/pause/")
    resumed = client.post("/api/v1/me/resume/")

    assert paused.json()["status"] == "paused"
    assert paused_again.status_code == 400
    assert resumed.json()["status"] == "active"


def test_vetting_status_names_what_is_missing(world, client_for):
    VettingRecord.objects.filter(volunteer=world.volunteer, kind="training").update(
        expires_on=datetime.date(2026, 2, 1)
    )

    body = client_for("volunteer").get("/api/v1/me/vetting/").json()

    assert body["programmes"] == [{"programme": "ressursvenn", "missing": ["training"]}]
    assert len(body["records"]) == 4


def test_own_match_shows_alias_and_municipality_until_the_agreement_is_active(world, client_for):
    client = client_for("volunteer")

    awaiting = client.get(f"/api/v1/me/matches/{world.match_x.pk}/").json()["participant"]
    sign_everything(world)
    active = client.get(f"/api/v1/me/matches/{world.match_x.pk}/").json()["participant"]

    assert awaiting["alias"] == world.match_x.referral.alias
    assert (awaiting["municipality"], awaiting["shared_languages"]) == ("0301", None)
    assert awaiting["availability"] is None
    assert active["shared_languages"] == ["ar"]
    assert active["availability"] == [{"day": 2, "start": "17:00", "end": "20:00"}]


def test_own_match_never_shows_the_referral_fields_beyond_the_allowlist(world, client_for):
    sign_everything(world)

    match = client_for("volunteer").get(f"/api/v1/me/matches/{world.match_x.pk}/").json()

    assert set(match["participant"]) == {
        "alias",
        "municipality",
        "municipality_name",
        "shared_languages",
        "availability",
    }
    assert "referral" not in match
    assert "children_birth_years" not in json.dumps(match)


def test_another_volunteer_cannot_see_the_match(world, client_for):
    other = VolunteerFactory(organisation=world.site_x.organisation)
    VettingRecordFactory(volunteer=other)
    client = client_for("anonymous")
    client.force_login(other.user)

    assert client.get(f"/api/v1/me/matches/{world.match_x.pk}/").status_code == 404
    assert client.get("/api/v1/me/matches/").json()["count"] == 0
    assert client.get(f"/api/v1/agreements/{world.agreement_x.pk}/").status_code == 404


def sign_everything(world) -> None:
    lifecycle.agreement_accept(world.agreement_x, by=world.users["volunteer"])
    lifecycle.agreement_record_consent(world.agreement_x, by=world.users["staff_a"])
    lifecycle.agreement_countersign(world.agreement_x, by=world.users["coord_x"])
