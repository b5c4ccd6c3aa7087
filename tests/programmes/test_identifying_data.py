"""No identifying data in free text (issue 12, finding 7): the notes and reasons people type
about a case refuse national ID numbers, phone numbers and e-mail addresses, also disguised
("01.01.90-123.45", "41-23-45-67", "kari(at)example.no", full-width "＠"), with an error on the
field that says what kind of data it found without repeating it; invisible control and
bidirectional characters are dropped. Ordinary sentences with years, times and counts pass."""

import json

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from matching.models import Match, Proposal
from programmes.models import Referral
from programmes.validators import (
    EMAIL_ADDRESS,
    ID_NUMBER,
    LONG_NUMBER,
    PHONE_NUMBER,
    clean_free_text,
    identifying_data_in,
    validate_no_identifying_data,
)
from tests.auth import login_verified
from tests.programmes.test_aliases import patch_current
from tests.programmes.test_referral_pages import valid_post

pytestmark = pytest.mark.django_db

# The note from the attack report, accepted before.
REPORTED = "Fnr 01.01.90-123.45, tlf 41-23-45-67, kari(at)example.no"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}

REFUSED = [
    ("Fnr 01.01.90-123.45", ID_NUMBER),
    ("fødselsnummer 010190 12345", ID_NUMBER),
    ("Personnummer 01019012345", ID_NUMBER),
    ("fnr: 01 01 90 123 45", ID_NUMBER),
    ("D-nummer 41019012345", ID_NUMBER),
    ("010190-12345, 2 barn", ID_NUMBER),
    ("tlf 41-23-45-67", PHONE_NUMBER),
    ("ring 41 23 45 67 etter skolen", PHONE_NUMBER),
    ("mobil 412 34 567", PHONE_NUMBER),
    ("4123 4567", PHONE_NUMBER),
    ("41234567", PHONE_NUMBER),
    ("22.12.34.56", PHONE_NUMBER),
    ("+47 412 34 567", PHONE_NUMBER),
    ("0047 41234567", PHONE_NUMBER),
    ("(+47) 41 23 45 67", PHONE_NUMBER),
    ("+46 70 123 45 67", PHONE_NUMBER),
    ("412 34 567 9 år", PHONE_NUMBER),
    ("4\u200b1\u200b2\u200b3\u200b4\u200b5\u200b6\u200b7", PHONE_NUMBER),
    ("４１２３４５６７", PHONE_NUMBER),
    ("kari@example.no", EMAIL_ADDRESS),
    ("kari(at)example.no", EMAIL_ADDRESS),
    ("kari [at] example dot no", EMAIL_ADDRESS),
    ("kari (at) gmail (dot) com", EMAIL_ADDRESS),
    ("kari＠example.no", EMAIL_ADDRESS),
    ("kari @ example.no", EMAIL_ADDRESS),
    ("kari at example dot no", EMAIL_ADDRESS),
    ("kari.nordmann{at}example.com", EMAIL_ADDRESS),
    ("kari@exam\u200bple.no", EMAIL_ADDRESS),
    ("kari\u202e@example.no", EMAIL_ADDRESS),
    ("konto 1234.56.78903", LONG_NUMBER),
    ("saksnummer 2024123456", LONG_NUMBER),
]

ALLOWED = [
    "Foretrekker ettermiddager og rolige steder.",
    "Barna er født 2015, 2018 og 2021.",
    "Barn født 2015 2019.",
    "Kan møtes kl. 17-19 på tirsdager.",
    "Kl. 17.00-19.00 passer best, ellers 20.00-22.00.",
    "Helst 17:30 - 19:00, 1-2 ganger i uka.",
    "Kl. 2000-2200 på fredager.",
    "Bor nær 0150 Oslo, flytter til 3001 eller 5003.",
    "3 barn, 2 voksne og 1 hund.",
    "Flyttet 12.03.2024, venter til 01.04.2025.",
    "Periode 01.01.2024-01.03.2024.",
    "Besøk 2024-03-12.",
    "Reiser maks 25 km, 500 kr i måneden.",
    "Uke 34-36 og 40-42 passer.",
    "Hun sier at skolen er fin.",
    "Prefers afternoons at the library.",
    "Liker sjakk @ fritidsklubben.",
    "Ta kontakt via senteret, ikke på e-post.",
    "fotball, sjakk, matlaging",
]


@pytest.mark.parametrize("text, kind", REFUSED)
def test_identifying_data_is_found_also_when_disguised(text, kind):
    assert identifying_data_in(text) == [kind]


@pytest.mark.parametrize("text", ALLOWED)
def test_ordinary_text_with_years_times_counts_and_postal_codes_passes(text):
    assert identifying_data_in(text) == []
    validate_no_identifying_data(text)


def test_the_error_says_what_was_found_without_repeating_it():
    with pytest.raises(ValidationError) as caught:
        validate_no_identifying_data(REPORTED)

    message = " ".join(caught.value.messages)
    assert "a national ID number, a phone number, an e-mail address" in message
    assert not any(part in message for part in ("01.01", "41-23", "kari", "example"))


def test_invisible_characters_are_dropped_and_line_breaks_kept():
    typed = "\u202eRolig\u200b sted\u2066,\x07 helst\r\nettermiddag\u2069\ufeff "

    assert clean_free_text(typed) == "Rolig sted, helst\nettermiddag"


# Where people type it


def api_as(user, *, second_factor=True) -> APIClient:
    client = APIClient()
    if second_factor:
        login_verified(client, user)
    else:
        client.force_login(user)
    return client


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json", **EN)


def refused_on(response, field: str) -> str:
    assert response.status_code == 400, response.content
    assert list(response.json()) == [field]
    return " ".join(response.json()[field])


def test_the_reported_referral_note_is_refused_in_the_api(world):
    body = {
        "site": world.site_x.pk,
        "languages": ["ar"],
        "postal_code": "0150",
        "availability": [{"day": 2, "start": "17:00", "end": "20:00"}],
        "consent_given_on": "2026-11-01",
        "notes": REPORTED,
    }
    before = Referral.objects.count()

    response = post(api_as(world.users["staff_a"]), "/api/v1/referrals/", body)

    message = refused_on(response, "notes")
    assert "a national ID number, a phone number, an e-mail address" in message
    assert Referral.objects.count() == before


def test_a_disguised_address_in_the_portal_note_is_refused_on_the_field(client, world):
    login_verified(client, world.users["staff_a"])
    before = Referral.objects.count()

    response = client.post(
        "/referrals/new/", valid_post(world.site_x, notes="Skriv til kari [at] example dot no")
    )

    assert response.status_code == 400
    assert "notes" in response.context["form"].errors
    assert Referral.objects.count() == before


def test_the_note_is_kept_without_invisible_characters(world):
    client = api_as(world.users["staff_a"])

    response = patch_current(client, world.referral_x, {"notes": "Rolige\u202e steder\u200b "})

    assert response.status_code == 200
    world.referral_x.refresh_from_db()
    assert world.referral_x.notes == "Rolige steder"


def test_a_withdrawal_note_with_a_phone_number_is_refused(world):
    url = f"/api/v1/referrals/{world.referral_x.pk}/withdraw/"

    response = post(api_as(world.users["staff_a"]), url, {"reason": "other", "note": "41-23-45-67"})

    refused_on(response, "note")
    world.referral_x.refresh_from_db()
    assert world.referral_x.status == Referral.Status.SUBMITTED


def test_a_rejection_reason_with_an_address_is_refused(world):
    url = f"/api/v1/proposals/{world.proposal_x.pk}/reject/"

    response = post(api_as(world.users["coord_x"]), url, {"reason": "Ring kari(at)example.no"})

    refused_on(response, "reason")
    assert Proposal.objects.get(pk=world.proposal_x.pk).status == Proposal.Status.PENDING


def test_a_note_on_ending_a_match_with_an_id_number_is_refused(world):
    url = f"/api/v1/matches/{world.match_x.pk}/end/"
    body = {"reason": "other", "note": "Fnr 01.01.90-123.45", "requeue": True}

    response = post(api_as(world.users["coord_x"]), url, body)

    refused_on(response, "note")
    assert Match.objects.get(pk=world.match_x.pk).is_open


def test_a_volunteers_reason_for_declining_with_a_phone_number_is_refused(world):
    url = f"/api/v1/agreements/{world.agreement_x.pk}/decline/"
    client = api_as(world.users["volunteer"], second_factor=False)

    response = post(client, url, {"reason": "Hun ringte meg på +47 412 34 567"})

    refused_on(response, "reason")
    assert Match.objects.get(pk=world.match_x.pk).is_open


def test_the_models_refuse_it_too_for_the_back_office(world):
    referral = world.referral_x
    referral.notes = "kari＠example.no"
    referral.withdrawal_note = "01.01.90-123.45"

    with pytest.raises(ValidationError) as on_referral:
        referral.full_clean()

    assert {"notes", "withdrawal_note"} <= set(on_referral.value.message_dict)
