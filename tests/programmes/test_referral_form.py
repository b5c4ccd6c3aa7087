"""The referral form as staff meet it: every problem at once in an error summary that links to
each field, fields marked and described the Designsystemet way, messages that name the field as
the page labels it, and controls that bring up the right keyboard."""

import pytest

from programmes.models import Referral
from tests.auth import login_verified
from tests.matching.factories import site_with_people
from tests.portal_html import attributes, read, summary_links, title
from tests.programmes.test_referral_pages import valid_post

pytestmark = pytest.mark.django_db

# Time slot 1 is Tuesday 17–19; time slot 3 overlaps it.
OVERLAPPING_ROWS = {
    "day_0": "1",
    "start_0": "17:00",
    "end_0": "19:00",
    "day_2": "1",
    "start_2": "18:00",
    "end_2": "20:00",
}


@pytest.fixture
def staff_client(client):
    site, staff, _coordinator = site_with_people()
    login_verified(client, staff)
    client.site = site
    return client


def test_one_submit_shows_every_problem_in_the_summary_with_a_link_to_each_field(staff_client):
    sent = valid_post(
        staff_client.site,
        postal_code="9999",
        children_birth_years="2015, 2099",
        avoid_municipalities="3301, 0000",
        consent_given_on="",
        **OVERLAPPING_ROWS,
    )

    response = staff_client.post("/referrals/new/", sent, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert summary_links(response) == [
        (
            "#id_postal_code",
            "Postal code of the new home: There is no postal code 9999. Check the number, or "
            "give the municipality instead.",
        ),
        ("#id_day_2", "Time slot 3: overlaps the slot on Tuesday 17–19."),
        ("#id_children_birth_years", "Children's birth years: 2099 is in the future."),
        (
            "#id_avoid_municipalities",
            "Municipalities to avoid for safety: There is no municipality with the number 0000.",
        ),
        ("#id_consent_given_on", "Consent given on: Give the date the participant gave consent."),
    ]
    assert not Referral.objects.exists()


def test_each_field_in_error_is_marked_invalid_and_described_by_its_message(staff_client):
    sent = valid_post(staff_client.site, children_birth_years="twenty", **OVERLAPPING_ROWS)

    response = staff_client.post("/referrals/new/", sent, HTTP_ACCEPT_LANGUAGE="en")

    years = attributes(response, "id_children_birth_years")
    assert years["aria-invalid"] == "true"
    assert years["aria-describedby"].split() == [
        "id_children_birth_years_helptext",
        "id_children_birth_years_error",
    ]
    assert attributes(response, "id_children_birth_years_error")["class"] == (
        "ds-validation-message"
    )
    day = attributes(response, "id_day_2")
    assert (day["aria-invalid"], day["aria-describedby"]) == ("true", "id_day_2_error")
    assert "aria-invalid" not in attributes(response, "id_day_0")


def test_the_summary_takes_focus_and_the_title_says_there_are_errors(staff_client):
    sent = valid_post(staff_client.site, postal_code="9999")

    english = staff_client.post("/referrals/new/", sent, HTTP_ACCEPT_LANGUAGE="en")
    bokmal = staff_client.post("/referrals/new/", sent)

    summary = attributes(english, "error-summary")
    assert "ds-error-summary" in summary["class"]
    assert summary["tabindex"] == "-1" and "autofocus" in summary
    assert summary["aria-labelledby"] == "error-summary-heading"
    assert "/static/kobling/error_summary.js" in english.content.decode()
    assert title(english) == "Error: Submit a referral – Kobling"
    assert title(bokmal) == "Feil: Send inn en henvisning – Kobling"
    assert "For å gå videre må du rette opp følgende feil:" in bokmal.content.decode()


def test_a_form_without_errors_has_no_summary_and_a_plain_title(staff_client):
    response = staff_client.get("/referrals/new/", HTTP_ACCEPT_LANGUAGE="en")
    assert "error-summary" not in read(response).elements
    assert title(response) == "Submit a referral – Kobling"


def test_the_availability_error_names_the_time_slot_and_the_weekday_in_bokmal(staff_client):
    response = staff_client.post(
        "/referrals/new/", valid_post(staff_client.site, **OVERLAPPING_ROWS)
    )

    page = response.content.decode()
    assert "Tidsrom 3: overlapper med tidsrommet tirsdag 17–19." in page
    assert "availability[" not in page and "Tuesday" not in page
    assert "<legend" in page and ">Tidsrom 3</legend>" in page


def test_a_row_with_a_day_and_no_times_names_each_missing_time(staff_client):
    response = staff_client.post(
        "/referrals/new/", valid_post(staff_client.site, day_1="4"), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert summary_links(response) == [
        ("#id_start_1", "Time slot 2: fill in “From”."),
        ("#id_end_1", "Time slot 2: fill in “To”."),
    ]


def test_times_without_a_day_are_not_dropped_silently(staff_client):
    rows = {"start_1": "10:00", "end_1": "12:00"}
    response = staff_client.post(
        "/referrals/new/", valid_post(staff_client.site, **rows), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert summary_links(response) == [
        ("#id_day_1", "Time slot 2: choose a day, or empty the times.")
    ]


def test_a_slot_until_midnight_is_kept_as_the_end_of_the_day(staff_client):
    rows = {"day_0": "5", "start_0": "20:00", "end_0": "00:00"}
    response = staff_client.post("/referrals/new/", valid_post(staff_client.site, **rows))
    assert response.status_code == 302
    assert Referral.objects.get().availability == [{"day": 5, "start": "20:00", "end": "24:00"}]


def test_unknown_languages_and_a_missing_home_are_found_with_the_rest(staff_client):
    sent = valid_post(
        staff_client.site, postal_code="", languages=[], other_languages="ti, xx", adults="9"
    )

    response = staff_client.post("/referrals/new/", sent, HTTP_ACCEPT_LANGUAGE="en")

    assert summary_links(response) == [
        (
            "#id_postal_code",
            "Postal code of the new home: Give the postal code or the municipality.",
        ),
        (
            "#id_other_languages",
            "Other languages (ISO 639 codes): “xx” is not an ISO 639 language code.",
        ),
        ("#id_adults", "Adults in the household: Ensure this value is less than or equal to 4."),
    ]


def test_a_programme_for_families_asks_for_the_children_in_the_same_round(client):
    site, staff, _coordinator = site_with_people("fritidsvenn")
    login_verified(client, staff)

    response = client.post(
        "/referrals/new/", valid_post(site, postal_code="9999"), HTTP_ACCEPT_LANGUAGE="en"
    )

    assert [href for href, _text in summary_links(response)] == [
        "#id_postal_code",
        "#id_children_birth_years",
    ]


def test_required_fields_carry_the_tag_and_optional_ones_none(staff_client):
    """The referral form asks mostly optional questions, so it marks the few required ones."""
    english = staff_client.get("/referrals/new/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    bokmal = staff_client.get("/referrals/new/").content.decode()

    required_tag = '<span class="ds-tag" data-color="warning" data-size="sm">Required</span>'
    for label in ("Programme and site", "Adults in the household", "Consent given on"):
        assert f"{label} {required_tag}</label>" in english
    assert english.count(required_tag) == 3
    assert ">Optional</span>" not in english
    assert bokmal.count(">Må fylles ut</span>") == 3


def test_time_fields_are_time_inputs_and_numbers_bring_up_a_number_pad(staff_client):
    response = staff_client.get("/referrals/new/")

    assert attributes(response, "id_start_0")["type"] == "time"
    assert attributes(response, "id_end_3")["type"] == "time"
    postal_code = attributes(response, "id_postal_code")
    assert (postal_code["inputmode"], postal_code["autocomplete"]) == ("numeric", "off")
    assert attributes(response, "id_children_birth_years")["inputmode"] == "decimal"
    assert attributes(response, "id_adults")["inputmode"] == "numeric"
    assert attributes(response, "id_consent_given_on")["type"] == "date"
    assert all(
        "ds-input" in attributes(response, name)["class"]
        for name in ("id_site", "id_postal_code", "id_languages_0", "id_day_0", "id_notes")
    )


def test_weekdays_are_in_the_interface_language(staff_client):
    bokmal = staff_client.get("/referrals/new/").content.decode()
    english = staff_client.get("/referrals/new/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<option value="1">tirsdag</option>' in bokmal and "Tuesday" not in bokmal
    assert '<option value="1">Tuesday</option>' in english
