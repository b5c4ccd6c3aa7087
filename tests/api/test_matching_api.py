"""Match runs, proposal review, matches and agreements through the API."""

import json

import pytest

from matching.models import Match, MatchRun, RejectedPair
from tests.matching.factories import ready_volunteer, waiting_referral

pytestmark = pytest.mark.django_db


def post(client, url, body=None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def start_run(client, world):
    body = {"programme": "ressursvenn", "scope": "site", "site": world.site_x.pk}
    return post(client, "/api/v1/match-runs/", body)


def test_starting_a_run_answers_202_with_its_address(world, client_for):
    response = start_run(client_for("coord_x"), world)

    assert response.status_code == 202
    run = MatchRun.objects.get(pk=response.json()["id"])
    assert response.headers["Location"] == f"/api/v1/match-runs/{run.pk}/"
    assert (response.json()["status"], response.json()["progress"]) == ("queued", 0)


def test_run_start_names_an_unknown_target(world, client_for):
    body = {"programme": "nope", "scope": "site", "site": world.site_y.pk}

    response = post(client_for("coord_x"), "/api/v1/match-runs/", body)

    assert response.status_code == 400
    assert {"programme", "site"} <= set(response.json())


@pytest.mark.usefixtures("eager_celery")
def test_a_started_run_is_polled_to_its_result(
    world, client_for, django_capture_on_commit_callbacks
):
    waiting_referral(world.site_x, languages=["ar"])
    ready_volunteer(organisation=world.site_x.organisation)
    client = client_for("coord_x")

    with django_capture_on_commit_callbacks(execute=True):
        location = start_run(client, world).headers["Location"]
    polled = client.get(location).json()

    assert (polled["status"], polled["phase"], polled["progress"]) == ("succeeded", "done", 100)
    assert polled["proposals_made"] >= 1


def test_proposals_list_explains_each_pair(world, client_for):
    rows = client_for("coord_x").get("/api/v1/proposals/", {"status": "pending"}).json()["results"]

    assert [row["id"] for row in rows] == [world.proposal_x.pk]
    pair = rows[0]["pairs"][0]
    assert pair["volunteer"] == world.volunteer.pk
    assert (pair["distance_km"], pair["overlap_hours"], pair["shared_languages"]) == (
        3.2,
        2.0,
        ["ar"],
    )


def test_approving_twice_answers_409(world, client_for):
    client = client_for("coord_x")
    url = f"/api/v1/proposals/{world.proposal_x.pk}/approve/"

    first = client.post(url)
    second = client.post(url)

    assert first.status_code == 201
    assert first.headers["Location"] == f"/api/v1/matches/{first.json()['id']}/"
    assert second.status_code == 409
    assert "detail" in second.json()


def test_rejecting_needs_a_reason_and_remembers_the_pair(world, client_for):
    client = client_for("coord_x")
    url = f"/api/v1/proposals/{world.proposal_x.pk}/reject/"

    blank = post(client, url, {"reason": " "})
    rejected = post(client, url, {"reason": "Lives too close to the abuser."})

    assert blank.status_code == 400
    assert "reason" in blank.json()
    assert rejected.json()["status"] == "rejected"
    assert RejectedPair.objects.filter(referral=world.waiting_x, volunteer=world.volunteer).exists()


def test_agreement_becomes_active_after_all_three_signatures(world, client_for):
    url = f"/api/v1/agreements/{world.agreement_x.pk}"

    client_for("volunteer").post(f"{url}/accept/")
    client_for("staff_a").post(f"{url}/consent/")
    signed = client_for("coord_x").post(f"{url}/countersign/")

    assert signed.status_code == 200
    assert signed.json()["activated_at"] is not None
    assert signed.json()["volunteers_accepted"] == signed.json()["volunteers_needed"] == 1
    assert Match.objects.get(pk=world.match_x.pk).status == Match.Status.ACTIVE


def test_volunteer_declines_with_a_reason(world, client_for):
    response = post(
        client_for("volunteer"),
        f"/api/v1/agreements/{world.agreement_x.pk}/decline/",
        {"reason": "I am moving away."},
    )

    assert response.json()["match_status"] == "declined"
    world.match_x.referral.refresh_from_db()
    assert world.match_x.referral.status == "waiting"


def test_staff_see_matches_without_the_volunteers_private_details(world, client_for):
    match = client_for("staff_a").get(f"/api/v1/matches/{world.match_x.pk}/").json()

    # Who signed and who left, with the reason's choice; never the notes the volunteer wrote.
    assert set(match["volunteers"][0]) == {
        "volunteer",
        "volunteer_name",
        "accepted_at",
        "left_at",
        "left_reason",
        "left_reason_display",
        "end_requested_at",
        "end_request_reason",
        "end_request_reason_display",
    }
    assert "home_postal_code" not in json.dumps(match)
