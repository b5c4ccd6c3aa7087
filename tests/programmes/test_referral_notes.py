"""A referral's optional short note: crisis-centre staff write it in the form or the API,
coordinators read it beside the proposal; it is never a place for names or ID numbers, and no
volunteer ever sees it."""

import json

import pytest

from matching.models import MatchRun
from programmes.models import Referral
from tests.auth import login_verified
from tests.matching.factories import pending_proposal, ready_volunteer, site_with_people
from tests.programmes.test_referral_pages import valid_post

pytestmark = pytest.mark.django_db

NOTE = "Foretrekker ettermiddager og rolige steder."


def api_submission(site, **fields) -> dict:
    body = {
        "site": site.pk,
        "languages": ["ar"],
        "postal_code": "0150",
        "availability": [{"day": 2, "start": "17:00", "end": "20:00"}],
        "consent_given_on": "2026-11-01",
    }
    return body | fields


@pytest.fixture
def centre():
    site, staff, coordinator = site_with_people()
    return site, staff, coordinator


def test_staff_add_a_note_in_the_referral_form(client, centre):
    site, staff, _coordinator = centre
    login_verified(client, staff)

    form = client.get("/referrals/new/").content.decode()
    response = client.post("/referrals/new/", valid_post(site, notes=f"  {NOTE} "))

    assert 'name="notes"' in form and 'maxlength="280"' in form
    assert response.status_code == 302
    assert Referral.objects.get().notes == NOTE


def test_the_note_is_optional(client, centre):
    site, staff, _coordinator = centre
    login_verified(client, staff)

    assert client.post("/referrals/new/", valid_post(site)).status_code == 302
    assert Referral.objects.get().notes == ""


@pytest.mark.parametrize(
    "note",
    [
        "Fødselsnummer 01020312345",
        "Ring henne på kari@example.no",
        "x" * 281,
    ],
)
def test_a_note_with_an_id_number_an_address_or_too_many_words_is_refused(client, centre, note):
    site, staff, _coordinator = centre
    login_verified(client, staff)

    response = client.post("/referrals/new/", valid_post(site, notes=note))

    assert response.status_code == 400
    assert "notes" in response.context["form"].errors
    assert not Referral.objects.exists()


def test_staff_write_and_change_the_note_through_the_api(client, centre):
    site, staff, _coordinator = centre
    login_verified(client, staff)
    body = api_submission(site, notes=NOTE)

    created = client.post("/api/v1/referrals/", json.dumps(body), content_type="application/json")
    assert created.status_code == 201, created.json()
    url = created.headers["Location"]
    changed = client.patch(
        url,
        json.dumps({"notes": "Kort notat."}),
        content_type="application/json",
        HTTP_IF_MATCH=created.headers["ETag"],
    )

    assert created.json()["notes"] == NOTE
    assert changed.status_code == 200, changed.json()
    assert changed.json()["notes"] == "Kort notat."


def test_an_id_number_in_the_note_is_a_400_naming_the_field(client, centre):
    site, staff, _coordinator = centre
    login_verified(client, staff)
    body = api_submission(site, notes="Personnummer 01020312345")

    response = client.post("/api/v1/referrals/", json.dumps(body), content_type="application/json")

    assert response.status_code == 400
    assert "notes" in response.json()


def test_the_coordinator_reads_the_note_beside_the_proposal(client, centre):
    site, _staff, coordinator = centre
    proposal = pending_proposal(site, coordinator, [ready_volunteer()])
    Referral.objects.filter(pk=proposal.referral_id).update(notes=NOTE)
    MatchRun.objects.filter(pk=proposal.run_id).update(status=MatchRun.Status.SUCCEEDED)
    login_verified(client, coordinator)

    page = client.get(f"/coordinator/runs/{proposal.run_id}/").content.decode()

    assert NOTE in page
