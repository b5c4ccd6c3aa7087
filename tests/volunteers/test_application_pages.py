"""The public application page and its guards, the confirmation link, and the coordinators'
pipeline pages: what a stranger and a coordinator see and may do."""

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from tests.auth import login_verified
from tests.programmes.factories import UserFactory
from tests.volunteers.application_factories import ApplicationFactory, form_data, recruiting_site
from volunteers.models import ApplicationStage, VolunteerApplication

# E-mails are sent by a task: run in-process, as tests/programmes/test_emails.py does.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]


PAGE = "/apply/ressursvenn/frivillige-bergen-lokallag/"


@pytest.fixture(autouse=True)
def empty_counts():
    """The hourly counts live in the cache, which outlives a test's transaction."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def site():
    return recruiting_site()


@pytest.fixture(autouse=True)
def commits(django_capture_on_commit_callbacks, monkeypatch):
    """Each request's after-commit work (its e-mails) runs when the request ends, as it would
    outside the test's transaction."""
    original = Client.request

    def request(self, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return original(self, **kwargs)

    monkeypatch.setattr(Client, "request", request)


def apply(data=None, address="198.51.100.7", language="nb"):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    return client.post(PAGE, data or form_data(), REMOTE_ADDR=address)


def today() -> str:
    return timezone.localdate().isoformat()


def confirmation_link(message) -> str:
    return re.search(r"http://\S+/apply/confirm/\S+/", message.body).group(0)


def test_the_page_names_the_programme_and_organisation_and_never_the_crisis_centre(site):
    response = Client(HTTP_ACCEPT_LANGUAGE="nb").get(PAGE)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Ressursvenn" in page and "Frivillige Bergen lokallag" in page
    assert site.crisis_centre.name not in page
    assert "Hemmelig" not in page
    assert "politiattest" in page
    assert 'lang="nb"' in page


def test_the_page_is_in_english_when_asked_for(site):
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(PAGE).content.decode()

    assert "Volunteer in Ressursvenn" in page
    assert "How we handle your data" in page


def test_norwegian_letters_in_the_organisation_keep_their_sound_in_the_address():
    recruiting_site(name="Bodø og Ærø på Ås")

    page = Client(HTTP_ACCEPT_LANGUAGE="nb").get(
        "/apply/ressursvenn/frivillige-bodo-og-aero-pa-as-lokallag/"
    )

    assert page.status_code == 200 and "Frivillige Bodø og Ærø på Ås lokallag" in page.text


def test_a_programme_the_organisation_does_not_run_has_no_page(site):
    assert Client().get("/apply/fritidsvenn/frivillige-bergen-lokallag/").status_code == 404
    assert Client().get("/apply/ressursvenn/someone-else/").status_code == 404


def test_an_application_is_saved_unconfirmed_and_a_link_is_mailed(site):
    response = apply()

    assert response.status_code == 302 and response["Location"] == "/apply/sent/"
    application = VolunteerApplication.objects.get()
    assert application.stage == ApplicationStage.UNCONFIRMED
    assert application.languages == [
        {"code": "ar", "level": "native"},
        {"code": "nb", "level": "fluent"},
    ]
    assert application.availability == [{"day": 2, "start": "17:00", "end": "20:00"}]
    assert [a.code for a in application.activities.all()] == ["football"]
    assert application.language == "nb"
    (message,) = mail.outbox
    assert message.to == ["ingrid@example.no"]
    assert "/apply/confirm/" in message.body


def test_missing_and_wrong_answers_are_all_named_and_nothing_is_saved(site):
    data = form_data(
        first_name="", phone="12", postal_code="0000", language_0="", level_0="", consent=None
    )
    data.pop("language_1")

    response = apply(data)

    page = response.content.decode()
    assert response.status_code == 400
    assert 'id="error-summary"' in page
    for text in (
        'href="#id_first_name"',
        'href="#id_phone"',
        'href="#id_postal_code"',
        'href="#id_language_0"',
        'href="#id_consent"',
    ):
        assert text in page
    assert not VolunteerApplication.objects.exists()
    assert mail.outbox == []


def test_confirming_shows_a_button_and_only_the_button_confirms(site):
    apply()
    link = confirmation_link(mail.outbox[0])
    client = Client()

    shown = client.get(link)
    assert shown.status_code == 200 and 'id="confirm-application"' in shown.content.decode()
    assert VolunteerApplication.objects.get().stage == ApplicationStage.UNCONFIRMED

    done = client.post(link)
    assert done.status_code == 200
    application = VolunteerApplication.objects.get()
    assert application.stage == ApplicationStage.APPLIED
    assert application.confirmed_at is not None
    # The coordinators are told, without a name.
    told = [m for m in mail.outbox if m.to == [site.coordinators.get().email]]
    assert all("Ingrid" not in m.body for m in told)


def test_confirming_twice_changes_nothing(site):
    apply()
    link = confirmation_link(mail.outbox[0])
    Client().post(link)

    again = Client().post(link)

    assert again.status_code == 200
    assert VolunteerApplication.objects.get().steps.count() == 1


def test_a_changed_link_or_an_erased_application_gets_a_calm_page(site):
    apply()
    link = confirmation_link(mail.outbox[0])
    VolunteerApplication.objects.all().delete()

    gone = Client().post(link)
    changed = Client().get(link[:-3] + "xx/")

    for response in (gone, changed):
        assert response.status_code == 400
        assert 'id="confirm-application"' not in response.content.decode()


# Abuse: none of these shows an error page.


def test_a_filled_honeypot_gets_the_same_answer_and_saves_nothing(site):
    response = apply(form_data(website="http://spam.example"))

    assert response.status_code == 302 and response["Location"] == "/apply/sent/"
    assert not VolunteerApplication.objects.exists()
    assert mail.outbox == []


def test_an_address_over_its_hourly_limit_is_told_calmly_to_wait(site, settings):
    settings.APPLICATIONS_PER_ADDRESS_HOURLY = 2
    for n in range(2):
        assert apply(form_data(email=f"person{n}@example.no")).status_code == 302

    held = apply(form_data(email="third@example.no"))
    elsewhere = apply(form_data(email="fourth@example.no"), address="203.0.113.9")

    page = held.content.decode()
    assert held.status_code == 429
    assert 'id="held-back"' in page and 'id="error-summary"' not in page
    assert 'value="third@example.no"' in page, "the answers stay on the page"
    assert elsewhere.status_code == 302
    assert VolunteerApplication.objects.count() == 3


def test_an_email_address_gets_only_a_few_links_an_hour(site, settings):
    for n in range(6):
        response = apply(address=f"198.51.100.{n}")
        assert response.status_code == 302 and response["Location"] == "/apply/sent/"

    assert len(mail.outbox) == settings.APPLICATIONS_PER_EMAIL_HOURLY
    assert VolunteerApplication.objects.count() == settings.APPLICATIONS_PER_EMAIL_HOURLY


def test_an_unconfirmed_application_is_shown_to_no_coordinator(site):
    apply()
    application = VolunteerApplication.objects.get()
    client = Client()
    login_verified(client, site.coordinators.get())

    listed = client.get("/coordinator/applications/")
    opened = client.get(f"/coordinator/applications/{application.pk}/")

    assert "Ingrid" not in listed.content.decode()
    assert opened.status_code == 404


# The pipeline pages.


def test_coordinators_see_only_their_organisations_applications(site):
    mine = ApplicationFactory(site=site, first_name="Mine")
    other_site = recruiting_site(name="Tromsø")
    theirs = ApplicationFactory(site=other_site, first_name="Theirs")
    client = Client()
    login_verified(client, site.coordinators.get())

    page = client.get("/coordinator/applications/").content.decode()

    assert "Mine" in page and "Theirs" not in page
    assert client.get(f"/coordinator/applications/{theirs.pk}/").status_code == 404
    assert client.get(f"/coordinator/applications/{mine.pk}/").status_code == 200
    assert "/apply/ressursvenn/frivillige-bergen-lokallag/" in page


def test_crisis_centre_staff_and_volunteers_have_no_pipeline(site):
    staff = UserFactory(username="staff")
    site.crisis_centre.staff.add(staff)
    client = Client()
    login_verified(client, staff)

    assert client.get("/coordinator/applications/").status_code == 403


def test_a_step_from_the_page_records_date_note_and_who(site):
    application = ApplicationFactory(site=site)
    coordinator = site.coordinators.get()
    client = Client()
    login_verified(client, coordinator)

    response = client.post(
        f"/coordinator/applications/{application.pk}/advance/",
        {"seen_stage": "applied", "on": today(), "note": "Ringte, avtalt intervju"},
    )

    assert response.status_code == 302
    step = application.steps.last()
    assert (step.stage, step.by, step.note) == ("contacted", coordinator, "Ringte, avtalt intervju")


def test_a_note_with_a_phone_number_is_refused_naming_the_field(site):
    application = ApplicationFactory(site=site)
    client = Client()
    login_verified(client, site.coordinators.get())

    response = client.post(
        f"/coordinator/applications/{application.pk}/advance/",
        {"seen_stage": "applied", "on": today(), "note": "Ring 412 34 567"},
    )

    assert response.status_code == 400
    assert 'href="#id_note"' in response.content.decode()
    assert VolunteerApplication.objects.get().stage == ApplicationStage.APPLIED


def test_a_step_someone_else_took_first_is_answered_with_what_happened(site):
    application = ApplicationFactory(site=site, stage=ApplicationStage.CONTACTED)
    client = Client()
    login_verified(client, site.coordinators.get())

    response = client.post(
        f"/coordinator/applications/{application.pk}/advance/",
        {"seen_stage": "applied", "on": today()},
    )

    assert response.status_code == 409
    assert 'id="conflict"' in response.content.decode()
    assert VolunteerApplication.objects.get().stage == ApplicationStage.CONTACTED


def test_declining_needs_a_reason(site):
    application = ApplicationFactory(site=site)
    client = Client()
    login_verified(client, site.coordinators.get())
    url = f"/coordinator/applications/{application.pk}/decline/"

    refused = client.post(url, {"seen_stage": "applied", "on": today()})
    declined = client.post(url, {"seen_stage": "applied", "on": today(), "reason": "no_need"})

    assert refused.status_code == 400 and 'href="#id_reason_0"' in refused.content.decode()
    assert declined.status_code == 302
    application.refresh_from_db()
    assert (application.stage, application.decline_reason) == ("declined", "no_need")
