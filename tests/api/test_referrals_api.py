"""Referrals through the API: submit, read, change under If-Match, withdraw, accept; clear 400s
that name the field, and nothing saved on any error."""

import json

import pytest

from accounts.api_access import MAX_BODY_BYTES
from programmes.models import Referral

pytestmark = pytest.mark.django_db

URL = "/api/v1/referrals/"


def submission(world, **fields) -> dict:
    body = {
        "site": world.site_x.pk,
        "languages": ["ar", "smj"],
        "postal_code": "0150",
        "availability": [{"day": 2, "start": "17:00", "end": "20:00"}],
        "children_birth_years": [2018],
        "consent_given_on": "2026-11-01",
    }
    return {**body, **fields}


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def patch(client, url, body, etag=None):
    headers = {"HTTP_IF_MATCH": etag} if etag else {}
    return client.patch(url, json.dumps(body), content_type="application/json", **headers)


def test_staff_submit_a_referral_and_get_its_address_and_etag(world, client_for):
    response = post(client_for("staff_a"), URL, submission(world))

    assert response.status_code == 201, response.json()
    referral = Referral.objects.get(pk=response.json()["id"])
    assert response.headers["Location"] == f"{URL}{referral.pk}/"
    assert response.headers["ETag"]
    assert referral.consent_recorded_by == world.users["staff_a"]
    assert (referral.postal_code.code, referral.municipality.number) == ("0150", "0301")
    assert response.json()["languages"] == ["ar", "smj"]


@pytest.mark.parametrize(
    ("fields", "field_at_fault"),
    [
        ({"postal_code": "0000"}, "postal_code"),
        ({"languages": ["ar", "xx"]}, "languages"),
        ({"availability": [{"day": 1, "start": "18:00", "end": "17:00"}]}, "availability"),
        ({"children_birth_years": [2090]}, "children_birth_years"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
        ({"availability": [{"day": 1, "start": "17:00", "end": "18:00", "x": 1}]}, "availability"),
        ({"site": 999999}, "site"),
        ({"adults": 9}, "adults"),
    ],
)
def test_bad_input_answers_400_naming_the_field_and_saves_nothing(
    world, client_for, fields, field_at_fault
):
    before = Referral.objects.count()

    response = post(client_for("staff_a"), URL, submission(world, **fields))

    assert response.status_code == 400
    assert field_at_fault in response.json()
    assert Referral.objects.count() == before


def test_unknown_postal_code_message_names_the_code(world, client_for):
    response = post(client_for("staff_a"), URL, submission(world, postal_code="0000"))

    assert "0000" in response.json()["postal_code"][0]


def test_oversized_body_is_refused_with_413(world, client_for):
    body = submission(world, alias="x" * (MAX_BODY_BYTES + 10))

    response = post(client_for("staff_a"), URL, body)

    assert response.status_code == 413


def test_malformed_json_is_a_400(world, client_for):
    response = client_for("staff_a").post(URL, "{not json", content_type="application/json")

    assert response.status_code == 400
    assert "detail" in response.json()


def test_change_needs_the_current_etag(world, client_for):
    client = client_for("staff_a")
    url = f"{URL}{world.referral_x.pk}/"
    etag = client.get(url).headers["ETag"]

    missing = patch(client, url, {"adults": 2})
    changed = patch(client, url, {"adults": 2, "languages": ["so"]}, etag)

    assert missing.status_code == 428
    assert changed.status_code == 200, changed.json()
    assert changed.json()["adults"] == 2
    assert changed.headers["ETag"] != etag


def test_the_second_of_two_concurrent_edits_gets_412_and_changes_nothing(world, client_for):
    first, second = client_for("staff_a"), client_for("staff_a")
    url = f"{URL}{world.referral_x.pk}/"
    etag = first.get(url).headers["ETag"]
    assert second.get(url).headers["ETag"] == etag

    assert patch(first, url, {"adults": 2}, etag).status_code == 200
    stale = patch(second, url, {"adults": 3}, etag)

    assert stale.status_code == 412
    world.referral_x.refresh_from_db()
    assert world.referral_x.adults == 2


def test_change_with_an_error_saves_nothing(world, client_for):
    client = client_for("staff_a")
    url = f"{URL}{world.referral_x.pk}/"
    etag = client.get(url).headers["ETag"]

    response = patch(client, url, {"adults": 2, "postal_code": "0000"}, etag)

    assert response.status_code == 400
    assert "postal_code" in response.json()
    world.referral_x.refresh_from_db()
    assert world.referral_x.adults == 1


def test_a_proposed_referral_can_no_longer_be_changed(world, client_for):
    client = client_for("staff_a")
    url = f"{URL}{world.waiting_x.pk}/"
    etag = client.get(url).headers["ETag"]

    response = patch(client, url, {"adults": 2}, etag)

    assert response.status_code == 400
    assert "status" in response.json()


def test_staff_withdraw_and_coordinator_accepts_into_the_queue(world, client_for):
    url = f"{URL}{world.referral_x.pk}"
    accepted = client_for("coord_x").post(f"{url}/accept/")
    accepted_again = client_for("coord_x").post(f"{url}/accept/")
    withdrawn = post(
        client_for("staff_a"),
        f"{url}/withdraw/",
        {"reason": "help_elsewhere", "note": "Får hjelp fra kommunen"},
    )

    assert accepted.json()["status"] == "waiting"
    assert accepted_again.status_code == 400
    assert "status" in accepted_again.json()
    assert withdrawn.json()["status"] == "withdrawn"
    assert withdrawn.json()["withdrawal_reason"] == "help_elsewhere"
    assert withdrawn.json()["withdrawal_note"] == "Får hjelp fra kommunen"
    again = post(client_for("staff_a"), f"{url}/withdraw/", {"reason": "other"})
    assert again.status_code == 400
    assert "status" in again.json()


def test_withdrawing_without_a_reason_is_a_400_on_reason_and_changes_nothing(world, client_for):
    response = post(client_for("staff_a"), f"{URL}{world.referral_x.pk}/withdraw/", {})

    assert response.status_code == 400
    assert "reason" in response.json()
    assert Referral.objects.get(pk=world.referral_x.pk).status == Referral.Status.SUBMITTED


def test_lists_filter_order_and_page(world, client_for):
    client = client_for("admin")

    submitted = client.get(URL, {"status": "submitted", "ordering": "alias"}).json()
    paged = client.get(URL, {"page": 99})

    aliases = [row["alias"] for row in submitted["results"]]
    assert aliases == sorted(aliases)
    assert {row["status"] for row in submitted["results"]} == {"submitted"}
    assert submitted["count"] == 2
    assert paged.status_code == 404


def test_crisis_centre_b_never_sees_centre_a_referrals(world, client_for):
    rows = client_for("staff_b").get(URL).json()["results"]

    assert [row["id"] for row in rows] == [world.referral_y.pk]
