"""The crisis centre's referral pages: submitting, listing and withdrawing."""

import pytest

from programmes.models import Referral
from tests.auth import login_verified
from tests.matching.factories import site_with_people
from tests.programmes.factories import ReferralFactory, UserFactory

pytestmark = pytest.mark.django_db


def valid_post(site, **changes) -> dict:
    data = {
        "site": site.pk,
        "postal_code": "0150",
        "languages": ["ar", "nb"],
        "other_languages": "",
        "adults": "1",
        "children_birth_years": "",
        "day_0": "2",
        "start_0": "17:00",
        "end_0": "20:00",
        "avoid_municipalities": "3301",
        "consent_given_on": "2026-11-01",
    }
    return data | changes


def test_staff_submits_a_referral_and_sees_it_in_their_list(client):
    site, staff, _coordinator = site_with_people()
    login_verified(client, staff)

    response = client.post("/referrals/new/", valid_post(site, other_languages="ti, smj"))

    assert response.status_code == 302
    referral = Referral.objects.get()
    assert referral.languages == ["ar", "nb", "ti", "smj"]
    assert referral.availability == [{"day": 2, "start": "17:00", "end": "20:00"}]
    assert [m.number for m in referral.avoid_municipalities.all()] == ["3301"]
    assert referral.alias in client.get("/referrals/").content.decode()


def test_the_form_offers_common_languages_and_four_availability_rows(client):
    _site, staff, _coordinator = site_with_people()
    login_verified(client, staff)
    page = client.get("/referrals/new/").content.decode()
    assert 'value="smj"' in page and 'value="prs"' in page
    assert 'id="id_day_3"' in page and 'id="id_day_4"' not in page
    assert '<datalist id="municipality-list">' in page


def test_a_service_error_is_shown_beside_its_field_and_nothing_is_saved(client):
    site, staff, _coordinator = site_with_people()
    login_verified(client, staff)

    response = client.post("/referrals/new/", valid_post(site, postal_code="9999"))

    assert response.status_code == 400
    assert "postal_code" in response.context["form"].errors
    page = response.content.decode()
    assert "data-error-summary" in page and 'href="#id_postal_code"' in page
    assert 'aria-describedby="id_postal_code_error"' in page
    assert not Referral.objects.exists()


def test_an_availability_error_goes_to_the_row_it_is_about(client):
    site, staff, _coordinator = site_with_people()
    login_verified(client, staff)
    overlapping = {"day_1": "2", "start_1": "18:00", "end_1": "19:00"}

    response = client.post(
        "/referrals/new/", valid_post(site, **overlapping), HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 400
    assert response.context["form"].errors["day_1"] == [
        "Time slot 2: overlaps the slot on Wednesday 17–20."
    ]
    assert 'href="#id_day_1"' in response.content.decode()
    assert not Referral.objects.exists()


def test_a_row_with_a_day_but_no_times_is_refused(client):
    site, staff, _coordinator = site_with_people()
    login_verified(client, staff)
    response = client.post("/referrals/new/", valid_post(site, day_1="4"))
    assert {"start_1", "end_1"} <= response.context["form"].errors.keys()
    assert not Referral.objects.exists()


def test_missing_languages_and_bad_birth_years_are_named(client):
    site, staff, _coordinator = site_with_people("fritidsvenn")
    login_verified(client, staff)

    bad_years = client.post("/referrals/new/", valid_post(site, children_birth_years="twenty"))
    assert "children_birth_years" in bad_years.context["form"].errors

    no_language = client.post(
        "/referrals/new/", valid_post(site, languages=[], children_birth_years="2017")
    )
    assert "languages" in no_language.context["form"].errors
    assert not Referral.objects.exists()


def test_someone_without_a_crisis_centre_cannot_refer(client):
    client.force_login(UserFactory(username="outsider"))
    assert client.get("/referrals/new/").status_code == 403
    assert client.get("/referrals/").status_code == 403


def test_staff_cannot_refer_to_another_centres_site(client):
    _site, staff, _coordinator = site_with_people()
    other_site, _other_staff, _ = site_with_people(name="Bergen")
    login_verified(client, staff)
    response = client.post("/referrals/new/", valid_post(other_site))
    assert "site" in response.context["form"].errors
    assert not Referral.objects.exists()


def test_staff_withdraws_their_referral(client):
    site, staff, _coordinator = site_with_people()
    referral = ReferralFactory(site=site)
    login_verified(client, staff)
    client.post(f"/referrals/{referral.pk}/withdraw/", {"reason": "participant_declined"})
    referral.refresh_from_db()
    assert (referral.status, referral.withdrawal_reason) == ("withdrawn", "participant_declined")


def test_another_centres_referral_cannot_be_withdrawn(client):
    _site, staff, _coordinator = site_with_people()
    other_site, _other_staff, _ = site_with_people(name="Bergen")
    referral = ReferralFactory(site=other_site)
    login_verified(client, staff)
    withdraw = client.post(
        f"/referrals/{referral.pk}/withdraw/", {"reason": "participant_declined"}
    )
    assert withdraw.status_code == 404
    assert Referral.objects.get(pk=referral.pk).status == Referral.Status.SUBMITTED
    assert client.get("/referrals/").content.decode().count(referral.alias) == 0


def test_the_page_speaks_bokmal_by_default(client):
    _site, staff, _coordinator = site_with_people()
    login_verified(client, staff)
    assert "Send inn en henvisning" in client.get("/referrals/new/").content.decode()


def test_the_overview_links_each_role_to_its_pages(client):
    _site, staff, coordinator = site_with_people()
    login_verified(client, staff)
    page = client.get("/").content.decode()
    assert 'href="/referrals/new/"' in page and 'href="/coordinator/"' not in page
    login_verified(client, coordinator)
    assert 'href="/coordinator/"' in client.get("/").content.decode()
