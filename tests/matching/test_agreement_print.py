"""The agreement as a document: the print button and the print stylesheet in every state and
for every reader, the parties and signatures with their dates, the terms in the reader's
language (bokmål, with a note, where a version has no English), and dates written as Norway
writes them in both languages."""

import datetime
import html
import re

import pytest
from django.utils import timezone

from matching import lifecycle
from matching.models import Agreement, AgreementTerms, CheckIn
from tests.auth import login_verified
from tests.matching.factories import (
    agreement_signed,
    pending_proposal,
    ready_volunteer,
    site_with_people,
)

pytestmark = pytest.mark.django_db

PRINT_BUTTON = re.compile(r"<button[^>]*\bdata-print\b")
PRINT_STYLESHEET = re.compile(
    r'<link rel="stylesheet" href="[^"]*kobling/print\.css" media="print">'
)
STATES = ["awaiting", "active", "ended"]


def match_in(state: str):
    """A Ressursvenn match awaiting signatures, active, or ended, and who reads its agreement."""
    site, staff, coordinator = site_with_people()
    coordinator.first_name, coordinator.last_name = "Ola", "Koordinator"
    coordinator.save()
    volunteer = ready_volunteer(user__first_name="Berit", user__last_name="Bergersen")
    proposal = pending_proposal(site, coordinator, [volunteer])
    match = lifecycle.proposal_approve(proposal, by=coordinator)
    if state != "awaiting":
        match = agreement_signed(match, staff, coordinator, [volunteer])
    if state == "ended":
        match = lifecycle.match_complete(match)
    return match, {"coordinator": coordinator, "staff": staff, "volunteer": volunteer.user}


def agreement_page(client, match, user, language="nb") -> str:
    login_verified(client, user)
    response = client.get(f"/agreements/{match.agreement.pk}/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def visible_text(page: str) -> str:
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text)))


@pytest.mark.parametrize("state", STATES)
def test_every_reader_has_the_print_button_and_the_print_stylesheet_in_every_state(client, state):
    match, readers = match_in(state)

    for role, user in readers.items():
        page = agreement_page(client, match, user)
        assert PRINT_BUTTON.search(page), (state, role)
        assert PRINT_STYLESHEET.search(page), (state, role)
        assert "matching/print_button.js" in page, (state, role)


STATUS = {
    "awaiting": "Status Venter på: at Berit Bergersen godtar",
    "active": "Status Aktiv siden ",
    "ended": "Status Avsluttet ",
}


@pytest.mark.parametrize("state", STATES)
def test_the_coordinators_copy_has_status_parties_terms_and_each_signature_with_its_date(
    client, state
):
    match, readers = match_in(state)
    signed_on = r"\d{1,2}\. [a-z]+\.? \d{4}"

    text = visible_text(agreement_page(client, match, readers["coordinator"]))

    assert STATUS[state] in text
    assert f"Deltaker {match.referral.alias} · Oslo" in text
    assert "Vilkår Vi møtes jevnlig. Kontakt Kontakt skjer etter avtale." in text
    if state == "awaiting":
        assert "Berit Bergersen: har ikke godtatt ennå" in text
        assert "krisesenteret (Krisesenteret Oslo): ikke ennå" in text
        assert "Kontrasignert av koordinatoren: ikke ennå" in text
    else:
        assert re.search(rf"Berit Bergersen: godtok {signed_on}", text)
        assert re.search(rf"krisesenteret \(Krisesenteret Oslo\): {signed_on}, staff-Oslo", text)
        assert re.search(rf"Kontrasignert av koordinatoren: {signed_on}, Ola Koordinator", text)


def test_a_volunteers_copy_names_no_crisis_centre_and_no_staff(client):
    match, readers = match_in("active")

    text = visible_text(agreement_page(client, match, readers["volunteer"]))

    assert "Berit Bergersen: godtok" in text
    assert "Krisesenteret Oslo" not in text
    assert "Ola Koordinator" not in text


def test_an_english_reader_reads_the_terms_in_english_and_a_bokmal_reader_in_bokmal(client):
    match, readers = match_in("active")

    english = agreement_page(client, match, readers["volunteer"], language="en")
    bokmal = agreement_page(client, match, readers["volunteer"], language="nb")

    assert '<p lang="en">We meet regularly.</p>' in english
    assert "Vi møtes jevnlig." not in english
    assert "no English translation" not in english
    assert '<p lang="nb">Vi møtes jevnlig.</p>' in bokmal
    assert "We meet regularly." not in bokmal


def test_a_version_without_english_is_shown_in_bokmal_with_a_note(client):
    match, readers = match_in("active")
    AgreementTerms.objects.filter(pk=match.agreement.terms_id).update(
        text_en="", contact_rules_en="", confidentiality_en=""
    )

    english = agreement_page(client, match, readers["coordinator"], language="en")

    assert "no English translation, so it is shown in Norwegian (bokmål)" in visible_text(english)
    assert '<p lang="nb">Vi møtes jevnlig.</p>' in english
    assert '<p lang="nb">Taushetsplikt gjelder.</p>' in english


def test_a_signed_agreement_keeps_its_version_when_new_terms_are_published(client):
    match, readers = match_in("active")
    signed = match.agreement.terms
    AgreementTerms.objects.create(
        programme=signed.programme,
        version=2,
        period_months=signed.period_months,
        text="Vi møtes hver uke.",
        contact_rules="Kontakt etter avtale.",
        confidentiality="Taushetsplikt.",
        text_en="We meet every week.",
        contact_rules_en="Contact by agreement.",
        confidentiality_en="Confidentiality.",
        published_on=datetime.date(2026, 6, 1),
    )

    english = agreement_page(client, match, readers["volunteer"], language="en")

    assert "We meet regularly." in english and "We meet every week." not in english


@pytest.mark.parametrize(
    ("language", "period", "wrong"),
    [
        ("en", "29 Nov 2026 – 29 May 2027", ["11/29/2026", "29.11.2026", "Nov. 29"]),
        ("nb", "29. nov. 2026 – 29. mai 2027", ["29.11.2026", "11/29/2026"]),
    ],
)
def test_the_agreement_period_is_written_as_norway_writes_dates(client, language, period, wrong):
    match, readers = match_in("active")
    Agreement.objects.filter(pk=match.agreement.pk).update(
        starts_on=datetime.date(2026, 11, 29), ends_on=datetime.date(2027, 5, 29)
    )

    text = visible_text(agreement_page(client, match, readers["coordinator"], language=language))

    assert period in text
    for american_or_numeric in wrong:
        assert american_or_numeric not in text


@pytest.mark.parametrize(
    ("language", "singular", "plural"),
    [
        ("en", "check-in after 1 month", "1 months"),
        ("nb", "oppfølging etter 1 måned", "1 måneder"),
    ],
)
def test_a_check_in_after_one_month_is_one_month_on_the_home_page(
    client, language, singular, plural
):
    match, readers = match_in("active")
    CheckIn.objects.filter(match=match, months_after_start=1).update(
        due_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    login_verified(client, readers["volunteer"])

    text = visible_text(client.get("/", HTTP_ACCEPT_LANGUAGE=language).content.decode())

    assert f"{match.referral.alias}: {singular}" in text
    assert plural not in text
