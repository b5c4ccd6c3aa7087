"""Check-ins that reach someone (issue 13, item 4): a volunteer's answer asking for contact or
saying it is not working e-mails the site's coordinators at once and waits on the dashboard's
"needs attention" list, with overdue check-ins, until a coordinator marks it handled."""

import datetime

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from rest_framework.test import APIClient

from core.celery_app import app
from matching import lifecycle
from matching.check_ins import check_in_answer, check_in_mark_handled, check_ins_needing_attention
from matching.lifecycle import MatchConflict
from matching.models import CheckIn
from matching.views import DASHBOARD_LIST_SIZE
from outbox.models import OutboxTask
from outbox.services import outbox_flush
from tests.auth import login_verified
from tests.clock import TODAY
from tests.matching.factories import (
    agreement_signed,
    municipality,
    pending_proposal,
    ready_volunteer,
    site_with_people,
    waiting_referral,
)
from tests.programmes.factories import UserFactory
from tests.resilience.faults import broker_unreachable
from tests.worker import celery_worker, mails, wait_for

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("clock_at_noon", "eager_celery"),
]

NB = {"HTTP_ACCEPT_LANGUAGE": "nb"}
ASKS_FOR_CONTACT = {"meetings_held": "2", "wellbeing": "poor", "wants_contact": "on"}


def named(user, first: str, last: str, email: str = ""):
    user.first_name, user.last_name, user.email = first, last, email
    user.save()
    return user


def active_match(site, staff, coordinator, *, volunteers=1, referral=None, code="015"):
    """A match brought to active by the lifecycle's own steps, with its check-ins scheduled."""
    slug = site.programme.slug
    people = [ready_volunteer(slug, code=f"{code}{i}") for i in range(volunteers)]
    for i, volunteer in enumerate(people):
        named(volunteer.user, "Åse", f"Nilsen{i}", f"frivillig{i}@example.no")
    proposal = pending_proposal(site, coordinator, people, referral)
    match = lifecycle.proposal_approve(proposal, by=coordinator)
    return agreement_signed(match, staff, coordinator, people), people


def due(match, months=1, days_ago=1) -> CheckIn:
    """The match's check-in after ``months``, made due ``days_ago`` days ago."""
    CheckIn.objects.filter(match=match, months_after_start=months).update(
        due_on=TODAY - datetime.timedelta(days=days_ago)
    )
    return CheckIn.objects.get(match=match, months_after_start=months)


def answer(check_in, volunteer, **given) -> CheckIn:
    values = {"meetings_held": 2, "wellbeing": "good", "wants_contact": False, "note": ""}
    return check_in_answer(check_in, by=volunteer.user, **(values | given))


def volunteer_client(volunteer) -> Client:
    client = Client(**NB)
    client.force_login(volunteer.user)
    return client


def coordinator_client(coordinator) -> Client:
    client = Client(**NB)
    login_verified(client, coordinator)
    return client


def attention(coordinator) -> list[CheckIn]:
    return list(check_ins_needing_attention(coordinator, TODAY))


@pytest.fixture
def oslo():
    site, staff, coordinator = site_with_people()
    named(coordinator, "Kari", "Koordinator", "koordinator-en@example.no")
    return site, staff, coordinator


# The acceptance test.


def test_a_check_in_answer_asking_for_contact_reaches_the_coordinators_and_the_dashboard(
    django_capture_on_commit_callbacks, settings
):
    """A check-in answer asking for contact produces one e-mail to each of the site's
    coordinators (and none to other sites' coordinators) and a needs-attention entry, and
    marking it handled removes it."""
    settings.SITE_URL = "https://kobling.example.no"
    site, staff, coordinator = site_with_people()
    named(coordinator, "Kari", "Koordinator", "koordinator-en@example.no")
    second = named(UserFactory(username="andre"), "Per", "Pettersen", "koordinator-to@example.no")
    site.coordinators.add(second)
    _, _, elsewhere = site_with_people(name="Bergen")
    named(elsewhere, "Berit", "Bergen", "bergen@example.no")
    hamar = waiting_referral(site, languages=["ar"], municipality=municipality("3403"))
    match, (volunteer,) = active_match(site, staff, coordinator, referral=hamar)
    check_in = due(match)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        answered = volunteer_client(volunteer).post(f"/check-ins/{check_in.pk}/", ASKS_FOR_CONTACT)

    assert answered.status_code == 302
    assert sorted(m.to for m in mail.outbox) == [
        ["koordinator-en@example.no"],
        ["koordinator-to@example.no"],
    ]
    body = mail.outbox[0].body
    assert "Åse Nilsen0" in body and hamar.alias in body and "Det fungerer ikke" in body
    assert f"https://kobling.example.no/coordinator/matches/{match.pk}/" in body
    assert "Hamar" not in body
    assert attention(elsewhere) == []

    desk = coordinator_client(coordinator)
    page = desk.get("/coordinator/")
    assert [entry.pk for entry in page.context["needs_attention"]] == [check_in.pk]
    text = page.content.decode()
    assert "Trenger oppfølging" in text and "Ber deg ta kontakt: det fungerer ikke" in text
    assert f'href="/coordinator/matches/{match.pk}/#check-in-{check_in.pk}"' in text

    handled = desk.post(
        f"/coordinator/check-ins/{check_in.pk}/handled/",
        {f"handled-{check_in.pk}-note": "Ringte den frivillige", "next": "/coordinator/"},
    )

    assert handled.status_code == 302 and handled.url == "/coordinator/"
    assert list(desk.get("/coordinator/").context["needs_attention"]) == []
    check_in.refresh_from_db()
    assert (check_in.handled_by, check_in.handled_note) == (coordinator, "Ringte den frivillige")


def test_the_dashboard_says_in_words_how_long_ago_an_answer_came(oslo):
    """Never "answered 0 minutes ago": an answer from this minute came "now"."""
    site, staff, coordinator = oslo
    match, (volunteer,) = active_match(site, staff, coordinator)
    check_in = answer(due(match), volunteer, wellbeing="poor", wants_contact=True)
    desk = coordinator_client(coordinator)

    assert "besvart nå" in desk.get("/coordinator/").content.decode()

    CheckIn.objects.filter(pk=check_in.pk).update(
        answered_at=check_in.answered_at - datetime.timedelta(hours=3)
    )
    text = desk.get("/coordinator/").content.decode()
    assert "besvart 3 timer siden" in text and "0 minutter" not in text


# The volunteer's form.


def test_the_check_in_form_is_in_bokmal_and_thanks_the_volunteer_in_words(oslo):
    match, (volunteer,) = active_match(*oslo)
    check_in = due(match)
    client = volunteer_client(volunteer)

    form = client.get(f"/check-ins/{check_in.pk}/").content.decode()
    assert "Hvordan går det?" in form and "Det fungerer ikke" in form
    assert "Jeg vil at koordinatoren tar kontakt med meg" in form
    assert "Ikke skriv navn, adresser" in form

    sent = client.post(f"/check-ins/{check_in.pk}/", ASKS_FOR_CONTACT, follow=True)
    assert "Koordinatoren din har fått beskjed og tar kontakt med deg." in sent.content.decode()
    check_in.refresh_from_db()
    assert (check_in.wellbeing, check_in.wants_contact, check_in.meetings_held) == ("poor", True, 2)
    assert check_in.answered_by == volunteer


def test_a_note_with_identifying_data_is_refused_naming_the_field(oslo):
    match, (volunteer,) = active_match(*oslo)
    check_in = due(match)

    sent = volunteer_client(volunteer).post(
        f"/check-ins/{check_in.pk}/", ASKS_FOR_CONTACT | {"note": "Hun ba meg ringe 912 34 567"}
    )

    assert sent.status_code == 400
    assert "note" in sent.context["form"].errors
    text = sent.content.decode()
    assert "koordinatoren skal vite?: Fjern det som ser ut som et telefonnummer" in text
    assert CheckIn.objects.get(pk=check_in.pk).answered_at is None
    with pytest.raises(ValidationError) as refused:
        answer(check_in, volunteer, note="kari@example.no vet mer")
    assert "note" in refused.value.message_dict
    assert mail.outbox == []


def test_an_answer_without_a_number_of_meetings_names_the_field_and_saves_nothing(oslo):
    match, (volunteer,) = active_match(*oslo)
    check_in = due(match)

    sent = volunteer_client(volunteer).post(f"/check-ins/{check_in.pk}/", {"wellbeing": "good"})

    assert sent.status_code == 400
    assert "Skriv hvor mange ganger dere har møttes, 0 hvis ingen." in sent.content.decode()
    assert CheckIn.objects.get(pk=check_in.pk).answered_at is None


def test_when_the_other_volunteer_of_a_pair_answered_first_the_second_answer_is_refused():
    site, staff, coordinator = site_with_people("fritidsvenn")
    match, (first, second) = active_match(site, staff, coordinator, volunteers=2)
    check_in = due(match)
    stale_form = volunteer_client(second)
    assert stale_form.get(f"/check-ins/{check_in.pk}/").status_code == 200

    answer(check_in, first, wellbeing="mixed", note="Vi har funnet en fotballklubb")
    late = stale_form.post(f"/check-ins/{check_in.pk}/", ASKS_FOR_CONTACT, follow=True)

    assert "Denne oppfølgingen er allerede besvart." in late.content.decode()
    check_in.refresh_from_db()
    assert (check_in.answered_by, check_in.wellbeing) == (first, "mixed")
    with pytest.raises(MatchConflict):
        answer(check_in, first, wellbeing="poor")
    reopened = stale_form.get(f"/check-ins/{check_in.pk}/", follow=True)
    assert reopened.redirect_chain == [("/", 302)]


def test_an_answer_after_the_match_ended_is_refused_and_saved_nowhere(oslo):
    site, staff, coordinator = oslo
    match, (volunteer,) = active_match(site, staff, coordinator)
    check_in = due(match)
    client = volunteer_client(volunteer)
    client.get(f"/check-ins/{check_in.pk}/")

    lifecycle.match_end(match, by=coordinator, reason="other", note="", requeue=True)
    late = client.post(f"/check-ins/{check_in.pk}/", ASKS_FOR_CONTACT, follow=True)

    assert "Koblingen er avsluttet, så denne oppfølgingen trengs ikke lenger." in (
        late.content.decode()
    )
    assert CheckIn.objects.get(pk=check_in.pk).answered_at is None
    assert mail.outbox == []


def test_a_volunteer_who_left_the_pair_can_no_longer_answer():
    site, staff, coordinator = site_with_people("fritidsvenn")
    match, (staying, leaving) = active_match(site, staff, coordinator, volunteers=2)
    check_in = due(match)
    lifecycle.match_volunteer_release(
        match, volunteer=leaving, by=coordinator, reason="volunteer_ended", note=""
    )

    late = volunteer_client(leaving).post(f"/check-ins/{check_in.pk}/", ASKS_FOR_CONTACT)

    assert late.status_code == 302
    with translation.override("en"), pytest.raises(MatchConflict, match="no longer part"):
        answer(check_in, leaving)
    assert answer(check_in, staying).answered_by == staying


def test_a_volunteer_not_on_the_match_finds_no_check_in(oslo):
    match, _ = active_match(*oslo)
    check_in = due(match)
    stranger = volunteer_client(ready_volunteer(code="0160"))

    assert stranger.get(f"/check-ins/{check_in.pk}/").status_code == 404
    assert stranger.post(f"/check-ins/{check_in.pk}/", ASKS_FOR_CONTACT).status_code == 404
    assert CheckIn.objects.get(pk=check_in.pk).answered_at is None


# E-mail.


def test_an_answer_saying_it_is_not_working_mails_the_coordinators_too(
    oslo, django_capture_on_commit_callbacks
):
    match, (volunteer,) = active_match(*oslo)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        answer(due(match), volunteer, wellbeing="poor")

    (message,) = mail.outbox
    assert message.to == ["koordinator-en@example.no"]
    assert "says the match for" in message.subject and "not working" in message.body


def test_an_answer_going_well_without_asking_for_contact_mails_no_one(
    oslo, django_capture_on_commit_callbacks
):
    match, (volunteer,) = active_match(*oslo)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        answer(due(match), volunteer, wellbeing="mixed", note="Litt vanskelig å finne tid")

    assert mail.outbox == []
    assert attention(oslo[2]) == []


def test_the_message_waits_in_the_outbox_while_the_broker_is_down(
    oslo, django_capture_on_commit_callbacks
):
    match, (volunteer,) = active_match(*oslo)
    check_in = due(match)

    with broker_unreachable(), django_capture_on_commit_callbacks(execute=True):
        answer(check_in, volunteer, wants_contact=True)

    (kept,) = OutboxTask.objects.filter(sent_at__isnull=True)
    assert kept.task == "kobling.send_email"
    assert kept.args[0] == ["koordinator-en@example.no"]
    assert check_in.match.referral.alias in kept.args[2]


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_a_message_kept_while_the_broker_was_down_goes_out_through_the_worker(geodata, tmp_path):
    site, staff, coordinator = site_with_people()
    named(coordinator, "Kari", "Koordinator", "koordinator-en@example.no")
    match, (volunteer,) = active_match(site, staff, coordinator)
    with broker_unreachable():
        check_in = answer(due(match), volunteer, wants_contact=True)
    assert OutboxTask.objects.filter(sent_at__isnull=True).count() == 1
    app.conf.task_always_eager = False  # eager_celery puts it back afterwards

    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    email_url = f"filemail://{tmp_path}"
    with celery_worker(KOBLING_ENV="test", DATABASE_URL=database_url, EMAIL_URL=email_url):
        assert outbox_flush() == 1
        wait_for(lambda: mails(tmp_path))

    (sent,) = mails(tmp_path)
    assert "koordinator-en@example.no" in sent and check_in.match.referral.alias in sent


# Needs attention.


def test_an_overdue_check_in_needs_attention_until_handled_and_a_later_answer_brings_it_back(
    oslo,
):
    site, staff, coordinator = oslo
    match, (volunteer,) = active_match(site, staff, coordinator)
    overdue = due(match, days_ago=9)
    assert attention(coordinator) == [overdue]
    page = coordinator_client(coordinator).get("/coordinator/").content.decode()
    assert "Ikke besvart, 9 dager over fristen" in page

    check_in_mark_handled(overdue, by=coordinator, note="Ringte, de har hatt ferie")
    assert attention(coordinator) == []

    answer(overdue, volunteer, wants_contact=True)
    assert attention(coordinator) == [overdue]


def test_a_check_in_not_yet_due_cannot_be_marked_handled(oslo):
    site, staff, coordinator = oslo
    match, _ = active_match(site, staff, coordinator)
    later = CheckIn.objects.get(match=match, months_after_start=3)

    with pytest.raises(ValidationError, match="still has time"):
        check_in_mark_handled(later, by=coordinator, note="Ringte")
    assert attention(coordinator) == []


def test_marking_handled_twice_says_who_got_there_first(oslo):
    site, staff, coordinator = oslo
    second = named(UserFactory(username="andre"), "Per", "Pettersen")
    site.coordinators.add(second)
    match, (volunteer,) = active_match(site, staff, coordinator)
    check_in = answer(due(match), volunteer, wants_contact=True)
    check_in_mark_handled(check_in, by=coordinator, note="Ringte den frivillige")

    late = coordinator_client(second).post(
        f"/coordinator/check-ins/{check_in.pk}/handled/",
        {f"handled-{check_in.pk}-note": "Sendte e-post"},
        follow=True,
    )

    assert "Kari Koordinator har allerede merket denne oppfølgingen som håndtert" in (
        late.content.decode()
    )
    check_in.refresh_from_db()
    assert (check_in.handled_by, check_in.handled_note) == (coordinator, "Ringte den frivillige")
    with pytest.raises(MatchConflict, match="Kari Koordinator"):
        check_in_mark_handled(check_in, by=second, note="Igjen")


def test_marking_handled_needs_a_note_without_identifying_data(oslo):
    site, staff, coordinator = oslo
    match, (volunteer,) = active_match(site, staff, coordinator)
    check_in = answer(due(match), volunteer, wants_contact=True)
    desk = coordinator_client(coordinator)
    url = f"/coordinator/check-ins/{check_in.pk}/handled/"

    empty = desk.post(url, {f"handled-{check_in.pk}-note": " "})
    phone = desk.post(url, {f"handled-{check_in.pk}-note": "Ring 91234567"})

    assert empty.status_code == phone.status_code == 400
    assert "Hva gjorde du?: Skriv hva du gjorde" in empty.content.decode()
    assert "Hva gjorde du?: Fjern det som ser ut som et telefonnummer" in phone.content.decode()
    assert CheckIn.objects.get(pk=check_in.pk).handled_at is None
    with pytest.raises(ValidationError) as refused:
        check_in_mark_handled(check_in, by=coordinator, note="")
    assert "note" in refused.value.message_dict


def test_only_the_sites_coordinators_mark_its_check_ins_handled(oslo):
    site, staff, coordinator = oslo
    match, (volunteer,) = active_match(site, staff, coordinator)
    check_in = answer(due(match), volunteer, wants_contact=True)
    _, _, elsewhere = site_with_people(name="Bergen")

    refused = coordinator_client(elsewhere).post(
        f"/coordinator/check-ins/{check_in.pk}/handled/", {f"handled-{check_in.pk}-note": "Ringte"}
    )

    assert refused.status_code == 404
    with pytest.raises(PermissionDenied):
        check_in_mark_handled(check_in, by=staff, note="Ringte")
    assert CheckIn.objects.get(pk=check_in.pk).handled_at is None


def test_needs_attention_puts_the_most_urgent_first(oslo):
    """Contact asked for and not working, then contact with some difficulties, then contact
    going well, then not working without asking, then the overdue, the longest overdue first."""
    site, staff, coordinator = oslo
    first, (a,) = active_match(site, staff, coordinator, code="015")
    second, (b,) = active_match(site, staff, coordinator, code="016")
    CheckIn.objects.filter(match__in=[first, second]).update(due_on=TODAY)
    quiet = answer(due(first, months=1), a, wellbeing="poor")
    going_well = answer(due(first, months=3), a, wellbeing="good", wants_contact=True)
    difficult = answer(due(first, months=6), a, wellbeing="mixed", wants_contact=True)
    urgent = answer(due(second, months=1), b, wellbeing="poor", wants_contact=True)
    overdue_long, overdue_short = due(second, months=3, days_ago=20), due(second, months=6)

    assert attention(coordinator) == [
        urgent,
        difficult,
        going_well,
        quiet,
        overdue_long,
        overdue_short,
    ]


def test_the_dashboard_asks_the_same_number_of_queries_for_ten_times_the_entries(oslo):
    site, staff, coordinator = oslo
    desk = coordinator_client(coordinator)
    matches = [active_match(site, staff, coordinator, code=f"01{5 + i}")[0] for i in range(2)]
    for match in matches:
        due(match, days_ago=3)
    desk.get("/coordinator/")
    cache.clear()  # the map and charts are counted at both sizes, not taken from the cache
    with CaptureQueriesContext(connection) as few:
        assert len(desk.get("/coordinator/").context["needs_attention"]) == 2

    for i, match in enumerate(matches):
        CheckIn.objects.bulk_create(
            CheckIn(match=match, months_after_start=10 + n, due_on=TODAY - datetime.timedelta(n))
            for n in range(1, 10)
        )
        volunteer = match.volunteers.get().volunteer
        answer(due(match, months=3), volunteer, wants_contact=True, note=f"Notat {i}")
    assert len(attention(coordinator)) == 22

    cache.clear()
    with CaptureQueriesContext(connection) as many:
        shown = desk.get("/coordinator/").context["needs_attention"]
        assert len(shown) == min(22, DASHBOARD_LIST_SIZE)
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]


def test_the_match_page_shows_each_answer_in_words_with_its_follow_up(oslo):
    site, staff, coordinator = oslo
    match, (volunteer,) = active_match(site, staff, coordinator)
    check_in = answer(due(match), volunteer, wellbeing="poor", note="Vi finner ikke tid")
    check_in_mark_handled(check_in, by=coordinator, note="Avtalte nytt møte")
    answer(due(match, months=3), volunteer, wants_contact=True)

    page = coordinator_client(coordinator).get(f"/coordinator/matches/{match.pk}/")

    text = page.content.decode()
    assert "Oppfølginger" in text and "Det fungerer ikke" in text
    assert "av Åse Nilsen0" in text and "Vi finner ikke tid" in text
    assert "av Kari Koordinator: «Avtalte nytt møte»" in text
    forms = [c.pk for c in page.context["check_ins"] if c.handled_form is not None]
    assert forms == [CheckIn.objects.get(match=match, months_after_start=3).pk]


# API.


def test_the_match_api_gives_coordinators_the_answers_and_others_none(oslo):
    site, staff, coordinator = oslo
    match, (volunteer,) = active_match(site, staff, coordinator)
    check_in = answer(due(match), volunteer, wellbeing="poor", wants_contact=True, note="Hjelp")
    check_in_mark_handled(check_in, by=coordinator, note="Ringte")

    def check_ins_seen_by(user) -> list[dict]:
        client = APIClient()
        login_verified(client, user)
        return client.get(f"/api/v1/matches/{match.pk}/").json()["check_ins"]

    first = check_ins_seen_by(coordinator)[0]
    assert first["wellbeing"] == "poor" and first["wants_contact"] is True
    assert (first["note"], first["meetings_held"], first["handled_note"]) == ("Hjelp", 2, "Ringte")
    assert first["answered_by_name"] == "Åse Nilsen0"
    assert first["handled_by_name"] == "Kari Koordinator"
    assert check_ins_seen_by(staff) == []
