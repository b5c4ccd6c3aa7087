"""Agreement terms in bokmål and English: one text per language per version. The first version
is published in both; terms published before English existed get the English of the same
text, and only if their bokmål is untouched; English is given whole or not at all."""

import datetime
import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from matching import lifecycle
from matching.agreements import terms_publish_initial
from matching.models import AgreementTerms
from programmes import catalogue
from tests.matching.factories import pending_proposal, ready_volunteer, site_with_people
from tests.programmes.factories import programme

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("matching.migrations.0004_terms_in_english_and_labels")


@pytest.mark.parametrize("slug", ["ressursvenn", "fritidsvenn"])
def test_the_first_version_is_published_in_bokmal_and_english(slug):
    terms = terms_publish_initial(programme(slug))

    english, bokmal = terms.in_language("en"), terms.in_language("nb")

    assert (english.language, english.translation_missing) == ("en", False)
    assert english.text == catalogue.INITIAL_TERMS[slug]["text_en"]
    assert (bokmal.language, bokmal.text) == ("nb", catalogue.INITIAL_TERMS[slug]["text"])


def test_the_migration_translates_the_terms_the_catalogue_first_published():
    for slug, (
        text,
        contact,
        confidentiality,
        english,
    ) in MIGRATION.INITIAL_TERMS_IN_ENGLISH.items():
        first = catalogue.INITIAL_TERMS[slug]
        assert (text, contact, confidentiality) == (
            first["text"],
            first["contact_rules"],
            first["confidentiality"],
        )
        assert english == {field: first[field] for field in english}


def bokmal_only(slug: str, **changes) -> AgreementTerms:
    """Version 1 as published before English existed, with ``changes`` made to it."""
    first = catalogue.INITIAL_TERMS[slug]
    fields = {name: first[name] for name in ("text", "contact_rules", "confidentiality")}
    return AgreementTerms.objects.create(
        programme=programme(slug),
        version=1,
        period_months=6,
        published_on=datetime.date(2026, 1, 1),
        **fields | changes,
    )


def test_terms_published_before_english_get_the_english_of_the_same_text():
    untouched = bokmal_only("ressursvenn")
    edited = bokmal_only("fritidsvenn", confidentiality="Taushetsplikt gjelder alltid.")

    MIGRATION.translate_initial_terms(apps, None)

    untouched.refresh_from_db()
    edited.refresh_from_db()
    assert untouched.text_en == catalogue.INITIAL_TERMS["ressursvenn"]["text_en"]
    assert edited.in_language("en").translation_missing
    assert edited.text_en == ""


def test_english_is_given_whole_or_not_at_all():
    terms = bokmal_only("ressursvenn", text_en="We meet regularly.")

    with pytest.raises(ValidationError):
        terms.full_clean()
    assert terms.in_language("en").language == "nb"


@pytest.mark.parametrize(
    ("language", "text", "contact_rules"),
    [
        ("nb", "Vi møtes jevnlig.", "Kontakt skjer etter avtale."),
        ("en", "We meet regularly.", "Contact is by agreement."),
    ],
)
def test_the_api_gives_the_terms_in_the_readers_language(language, text, contact_rules):
    site, _staff, coordinator = site_with_people()
    volunteer = ready_volunteer()
    match = lifecycle.proposal_approve(
        pending_proposal(site, coordinator, [volunteer]), by=coordinator
    )
    reader = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    reader.force_authenticate(volunteer.user)

    terms = reader.get(f"/api/v1/agreements/{match.agreement.pk}/").json()["terms"]

    assert (terms["language"], terms["text"], terms["contact_rules"]) == (
        language,
        text,
        contact_rules,
    )
