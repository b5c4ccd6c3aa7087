"""Dates, times, language names and the back office's own labels, in bokmål and in English:
dates and times as Norway writes them in both languages (config/formats), language names
capitalised where they stand alone and, in bokmål, lower case in running text, and every label
of our models translated."""

import datetime
import re
import zoneinfo

import pytest
from auditlog.models import AbstractLogEntry
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.utils import translation
from django.utils.formats import date_format, time_format
from django.utils.functional import Promise

from programmes.languages import COMMON_LANGUAGES, SPOKEN_LANGUAGES, language_names
from tests.auth import login_verified
from tests.matching.factories import site_with_people
from tests.programmes.factories import UserFactory

OSLO = zoneinfo.ZoneInfo("Europe/Oslo")
MOMENT = datetime.datetime(2026, 11, 29, 14, 11, tzinfo=OSLO)
OUR_APPS = {"accounts", "casework", "privacy", "demo", "matching", "volunteers", "programmes"}
# Words that bokmål writes as English does.
SAME_IN_BOTH = {"API", "Portal", "status", "Ressursvenn", "Fritidsvenn"}


def formatted(language: str, format_name: str, value=MOMENT) -> str:
    with translation.override(language):
        return date_format(value, format_name)


@pytest.mark.parametrize(
    ("language", "short_date", "short_datetime", "date", "time"),
    [
        ("en", "29 Nov 2026", "29 Nov 2026, 14:11", "29 November 2026", "14:11"),
        ("nb", "29. nov. 2026", "29. nov. 2026 kl. 14:11", "29. november 2026", "14:11"),
    ],
)
def test_dates_and_times_are_written_as_norway_writes_them(
    language, short_date, short_datetime, date, time
):
    assert formatted(language, "SHORT_DATE_FORMAT") == short_date
    assert formatted(language, "SHORT_DATETIME_FORMAT") == short_datetime
    assert formatted(language, "DATE_FORMAT") == date
    with translation.override(language):
        assert time_format(MOMENT.time()) == time
        assert date_format(MOMENT, "DATETIME_FORMAT").endswith("14:11")


def test_english_never_puts_the_month_first_or_the_clock_in_twelve_hours():
    for format_name in ("SHORT_DATE_FORMAT", "SHORT_DATETIME_FORMAT", "DATETIME_FORMAT"):
        text = formatted("en", format_name)
        assert not re.search(r"\b11/29\b|p\.m\.|PM|\b2:11\b", text), (format_name, text)


def test_bokmal_months_are_abbreviated_as_bokmal_does():
    may = datetime.date(2027, 5, 3)
    september = datetime.date(2027, 9, 3)

    assert formatted("nb", "SHORT_DATE_FORMAT", may) == "3. mai 2027"
    assert formatted("nb", "SHORT_DATE_FORMAT", september) == "3. sept. 2027"
    assert formatted("en", "SHORT_DATE_FORMAT", may) == "3 May 2027"


def test_a_typed_english_date_is_read_day_first():
    from django import forms

    with translation.override("en"):
        assert forms.DateField().clean("03/05/2027") == datetime.date(2027, 5, 3)


def test_language_names_stand_alone_capitalised_and_run_in_lower_case_in_bokmal():
    with translation.override("nb"):
        assert str(dict(COMMON_LANGUAGES)["ar"]) == "Arabisk"
        assert str(dict(SPOKEN_LANGUAGES)["en"]) == "Engelsk"
        assert language_names(["ar", "en"]) == "arabisk, engelsk"
        assert language_names(["fa", "so"]) == "persisk, somali"
    with translation.override("en"):
        assert str(dict(COMMON_LANGUAGES)["ar"]) == "Arabic"
        assert language_names(["ar", "en"]) == "Arabic, English"


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "name"), [("nb", "Arabisk"), ("en", "Arabic")])
def test_the_referral_form_offers_each_language_by_its_capitalised_name(client, language, name):
    _site, staff, _coordinator = site_with_people()
    login_verified(client, staff)

    page = client.get("/referrals/new/", HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert re.search(rf">\s*{name}\b", page)
    assert not re.search(r">\s*(arabisk|engelsk|somali)\b", page)


def our_labels():
    """Every label the back office shows for our models: the model's names, each field's name
    and each choice, but not the fields django-auditlog declares for the access log."""
    inherited = {field.name for field in AbstractLogEntry._meta.get_fields()}
    for model in apps.get_models():
        meta = model._meta
        if meta.app_label not in OUR_APPS:
            continue
        yield f"{meta.label} (name)", meta.verbose_name
        yield f"{meta.label} (plural name)", meta.verbose_name_plural
        for field in meta.get_fields():
            if field.auto_created or not hasattr(field, "verbose_name"):
                continue
            if issubclass(model, AbstractLogEntry) and field.name in inherited:
                continue
            yield f"{meta.label}.{field.name}", field.verbose_name
            for value, label in getattr(field, "flatchoices", None) or []:
                yield f"{meta.label}.{field.name} = {value}", label


def test_every_label_of_our_models_is_translated_when_shown():
    """A label written as plain text is read in whatever language was active when the model was
    loaded; a lazy one, in the reader's."""
    plain = [where for where, label in our_labels() if not isinstance(label, Promise)]

    assert plain == []


def test_every_label_of_our_models_has_a_bokmal_translation():
    same = []
    for where, label in our_labels():
        with translation.override("nb"):
            bokmal = str(label)
        with translation.override("en"):
            english = str(label)
        if bokmal == english and english not in SAME_IN_BOTH:
            same.append(f"{where}: {english}")

    assert same == []


def test_every_section_of_the_back_office_is_named_in_the_readers_language():
    sections = {model._meta.app_config for model in admin.site._registry}
    plain = [
        section.label
        for section in sections
        if section.label in OUR_APPS and not isinstance(section.verbose_name, Promise)
    ]

    assert plain == []


def test_every_column_and_action_of_the_back_office_is_translated():
    untranslated = []
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in OUR_APPS:
            continue
        for kind, names in (("column", model_admin.list_display), ("action", model_admin.actions)):
            for name in names or []:
                function = getattr(model_admin, name, None) if isinstance(name, str) else name
                described = getattr(function, "short_description", None)
                if described is not None and not isinstance(described, Promise):
                    untranslated.append(f"{model._meta.label} {kind} {name}")

    assert untranslated == []


@pytest.mark.django_db
def test_the_back_office_speaks_bokmal_where_django_and_its_packages_do_not():
    admin_user = UserFactory(username="admin", is_superuser=True, is_staff=True)
    client = Client(HTTP_ACCEPT_LANGUAGE="nb")
    login_verified(client, admin_user)

    index = client.get("/admin/").content.decode()
    attempts = client.get("/admin/axes/accessattempt/").content.decode()

    english_names = ("Axes", "Otp_Totp", "Otp_Static", "Access attempts", "Skip to main content")
    for english in (*english_names, "TOTP devices", "Static devices"):
        assert f">{english}<" not in index, english
    assert "Innloggingsforsøk" in index and "Autentiseringsapper" in index
    assert ">Sett med reservekoder<" in index
    assert "Kobling – administrasjon" in index
    assert "Etter Sperret" in attempts and "Locked Out" not in attempts
