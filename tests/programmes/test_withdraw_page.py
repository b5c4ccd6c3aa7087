"""Withdrawing a referral from the portal: a confirmation page that says what withdrawing does in
the referral's state and asks why; crisis-centre staff and the site's coordinators use it."""

import re

import pytest

from matching import lifecycle
from matching.models import Match
from programmes.models import Referral
from tests.auth import login_verified
from tests.matching.factories import (
    pending_proposal,
    ready_volunteer,
    site_with_people,
    waiting_referral,
)
from tests.programmes.factories import ReferralFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english_pages(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


def matched_referral():
    site, staff, coordinator = site_with_people()
    volunteer = ready_volunteer(organisation=site.organisation, code="5003")
    match = lifecycle.proposal_approve(
        pending_proposal(site, coordinator, [volunteer]), by=coordinator
    )
    return match, staff, coordinator, volunteer


def test_the_withdraw_page_asks_why_and_says_what_withdrawing_does(client):
    site, staff, coordinator = site_with_people()
    proposal = pending_proposal(site, coordinator, [ready_volunteer()])
    login_verified(client, staff)

    response = client.get(f"/referrals/{proposal.referral_id}/withdraw/")

    page = response.content.decode()
    assert response.status_code == 200
    assert '<legend class="ds-label">Why is the referral withdrawn?' in page
    for _value, label in Referral.WithdrawalReason.choices:
        assert str(label) in page
    assert "The proposal waiting for the coordinator&#x27;s review is withdrawn" in page
    assert "Never names, addresses or ID numbers." in page


def test_withdrawing_without_a_reason_is_refused_next_to_the_field_and_changes_nothing(client):
    site, staff, _coordinator = site_with_people()
    referral = waiting_referral(site)
    login_verified(client, staff)

    response = client.post(f"/referrals/{referral.pk}/withdraw/", {"note": ""})

    page = response.content.decode()
    assert response.status_code == 400
    assert 'aria-describedby="id_reason_error"' in page
    assert re.search(r'id="id_reason_error">Choose why the referral is withdrawn.<', page)
    assert f"<title>Error: Withdraw {referral.alias} – Kobling</title>" in page
    assert Referral.objects.get(pk=referral.pk).status == Referral.Status.WAITING


def test_a_note_with_an_id_number_is_refused(client):
    site, staff, _coordinator = site_with_people()
    referral = waiting_referral(site)
    login_verified(client, staff)

    response = client.post(
        f"/referrals/{referral.pk}/withdraw/", {"reason": "other", "note": "Født 01019912345"}
    )

    assert response.status_code == 400
    assert 'id="id_note_error"' in response.content.decode()
    assert Referral.objects.get(pk=referral.pk).status == Referral.Status.WAITING


def test_withdrawing_a_matched_referral_ends_the_match_and_hides_the_participant(client):
    match, staff, _coordinator, volunteer = matched_referral()
    municipality = match.referral.municipality.name
    login_verified(client, staff)
    page = client.get(f"/referrals/{match.referral_id}/withdraw/").content.decode()
    assert f"The match with {volunteer} ends at once" in page

    response = client.post(
        f"/referrals/{match.referral_id}/withdraw/", {"reason": "moved", "note": "Flyttet"}
    )

    assert response.status_code == 302 and response.url == "/referrals/"
    match.refresh_from_db()
    assert (match.status, match.closure_reason) == (Match.Status.CLOSED, "withdrawn")
    referral = Referral.objects.get(pk=match.referral_id)
    assert (referral.withdrawal_reason, referral.withdrawal_note) == ("moved", "Flyttet")
    client.force_login(volunteer.user)
    agreement_page = client.get(f"/agreements/{match.agreement.pk}/").content.decode()
    assert match.referral.alias in agreement_page and municipality not in agreement_page
    assert "This match ended on" in agreement_page
    assert municipality not in client.get("/").content.decode()


def test_the_coordinator_withdraws_from_the_match_page(client):
    match, _staff, coordinator, _volunteer = matched_referral()
    login_verified(client, coordinator)
    match_page = client.get(f"/coordinator/matches/{match.pk}/").content.decode()
    assert f'href="/referrals/{match.referral_id}/withdraw/"' in match_page

    response = client.post(f"/referrals/{match.referral_id}/withdraw/", {"reason": "safety"})

    assert response.url == "/coordinator/"
    assert Referral.objects.get(pk=match.referral_id).status == Referral.Status.WITHDRAWN


def test_another_centres_staff_cannot_open_the_withdraw_page(client):
    _site, staff, _coordinator = site_with_people()
    other_site, _other_staff, _ = site_with_people(name="Bergen")
    referral = ReferralFactory(site=other_site)
    login_verified(client, staff)
    assert client.get(f"/referrals/{referral.pk}/withdraw/").status_code == 404


def test_the_referral_list_links_to_the_confirmation_page_not_a_one_click_button(client):
    site, staff, _coordinator = site_with_people()
    referral = waiting_referral(site)
    login_verified(client, staff)
    page = client.get("/referrals/").content.decode()
    assert f'<a href="/referrals/{referral.pk}/withdraw/">' in page
    assert f'action="/referrals/{referral.pk}/withdraw/"' not in page


def test_a_withdrawn_referral_shows_why_and_cannot_be_withdrawn_again(client):
    site, staff, _coordinator = site_with_people()
    referral = lifecycle.referral_withdraw(waiting_referral(site), by=staff, reason="mistake")
    login_verified(client, staff)

    assert "Withdrawn: Referred by mistake" in client.get("/referrals/").content.decode()
    page = client.get(f"/referrals/{referral.pk}/withdraw/").content.decode()
    assert "can no longer be withdrawn" in page and '<form method="post" novalidate' not in page
    again = client.post(f"/referrals/{referral.pk}/withdraw/", {"reason": "other"})
    assert again.status_code == 400


def test_the_bokmal_withdraw_page_shows_words_not_codes(client):
    match, staff, _coordinator, _volunteer = matched_referral()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "nb"
    login_verified(client, staff)

    page = client.get(f"/referrals/{match.referral_id}/withdraw/").content.decode()

    text = re.sub(r"<[^>]+>", " ", page)
    assert "Trekk tilbake" in text
    for code in ("matched", "participant_declined", "help_elsewhere", "Why is the referral"):
        assert code not in text
