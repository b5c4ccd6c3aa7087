"""Data minimisation (README, "Privacy by design"): the schema has no place for a participant's
name, a national ID number, a street address or a shelter's address; and the optional note,
the postal code and the languages of a referral stay out of logs and e-mails, the note out of
the audit trail and of all a volunteer can read, through a whole referral from submission to an
active match."""

import json
import logging
import re

import pytest
from django.apps import apps
from django.core import mail
from django.db import models
from django.test import Client

from matching.models import Agreement, Match, Proposal
from programmes.models import AuditLogEntry, CrisisCentre, Referral
from tests.auth import login_verified
from tests.matching.factories import ready_volunteer, site_with_people
from tests.programmes.test_referral_pages import valid_post

PROJECT_APPS = ("programmes", "volunteers", "matching", "config")

NATIONAL_ID = re.compile(
    r"national_?id|personnumm?er|f(oe|ø|o)dselsnumm?er|(^|_)(ssn|fnr|dob)(_|$)"
    r"|birth_?date|date_of_birth|f(oe|ø|o)dselsdato"
)
STREET_ADDRESS = re.compile(r"street|address|addr(_|$)|adresse|gate(_|$)|house_?number|husnummer")
PERSON_NAME = re.compile(
    r"(^|_)(first|last|full|given|family|sur|middle|nick|display)_?name(_|$)|^name$"
    r"|(^|_)(for|etter|mellom)?navn(_|$)"
)
SHELTER_LOCATION = re.compile(r"postal|postcode|zip|lat$|lon$|latitude|longitude|point|coordinates")

# Fields that match a pattern above but hold no such data, each with the reason.
ALLOWED = {
    # The IP address of the request that changed a record (django-auditlog): a network
    # address, needed to investigate misuse; never a street address.
    "auditlog.LogEntry.remote_addr": "network address of the request",
    # django-axes records failed logins by network address to lock out guessing.
    "axes.AccessAttempt.ip_address": "network address of a login attempt",
    "axes.AccessLog.ip_address": "network address of a login",
    "axes.AccessFailureLog.ip_address": "network address of a failed login",
}


def stored_fields(model) -> list:
    return [*model._meta.concrete_fields, *model._meta.many_to_many]


def field_label(model, field) -> str:
    return f"{model._meta.label}.{field.name}"


def offending(models_to_scan, pattern) -> list[str]:
    return [
        field_label(model, field)
        for model in models_to_scan
        for field in stored_fields(model)
        if pattern.search(field.name.lower()) and field_label(model, field) not in ALLOWED
    ]


def project_models() -> list:
    return [m for m in apps.get_models() if m.__module__.split(".")[0] in PROJECT_APPS]


def participant_models() -> list:
    """Referral and every model that points to it, directly or through another such model."""
    found = [Referral]
    changed = True
    while changed:
        changed = False
        for model in apps.get_models():
            points_in = any(
                isinstance(f, models.ForeignKey | models.OneToOneField) and f.related_model in found
                for f in stored_fields(model)
            )
            if points_in and model not in found:
                found.append(model)
                changed = True
    return found


def test_the_participant_models_include_the_matching_records():
    assert {Proposal, Match, Agreement} <= set(participant_models())


def test_no_table_has_a_national_id_or_birth_date_field():
    assert offending(apps.get_models(), NATIONAL_ID) == []


def test_no_table_has_a_street_address_field():
    assert offending(apps.get_models(), STREET_ADDRESS) == []


def test_no_participant_record_has_a_name_field():
    assert offending(participant_models(), PERSON_NAME) == []


def test_a_crisis_centre_is_known_by_its_municipality_only():
    """A shelter's location is secret: no address, postal code or point, only the
    municipality that hosts it."""
    assert offending([CrisisCentre], STREET_ADDRESS) == []
    assert offending([CrisisCentre], SHELTER_LOCATION) == []


def test_every_allowlisted_field_exists():
    """An entry left behind after a field is gone would hide a new one with the same name."""
    for label in ALLOWED:
        app_model, name = label.rsplit(".", 1)
        assert apps.get_model(app_model)._meta.get_field(name)


NOTE = "Redd for hunder, liker kveldsturer langs elva."
POSTAL_CODE = "0182"
LANGUAGE_CODES = ("smj", "prs")
LANGUAGE_NAMES = ("Lule Sami", "Dari", "lulesamisk", "dari")


def leaks(text: str) -> list[str]:
    found = [NOTE] if NOTE in text else []
    found += [POSTAL_CODE] if re.search(rf"\b{POSTAL_CODE}\b", text) else []
    found += [c for c in LANGUAGE_CODES if re.search(rf"\b{c}\b", text)]
    found += [n for n in LANGUAGE_NAMES if re.search(rf"\b{n}\b", text)]
    return found


def signed_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    login_verified(client, user)
    return client


def with_email(user, address: str):
    user.email = address
    user.save(update_fields=["email"])
    return user


def refer_and_match(django_capture_on_commit_callbacks) -> tuple[Match, Client]:
    """The whole way through the portal: submit with a note, accept, run, approve, and the
    three signatures. Returns the match and the volunteer's client."""
    site, staff, coordinator = site_with_people()
    with_email(staff, "stab@krisesenter.example")
    with_email(coordinator, "koordinator@example.no")
    volunteer = ready_volunteer(
        languages=[{"code": "smj", "level": "native"}, {"code": "prs", "level": "fluent"}]
    )
    with_email(volunteer.user, "frivillig@example.no")
    centre, desk, own = signed_in(staff), signed_in(coordinator), signed_in(volunteer.user)

    submission = valid_post(
        site, postal_code=POSTAL_CODE, languages=["smj", "prs"], notes=NOTE, avoid_municipalities=""
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert centre.post("/referrals/new/", submission).status_code == 302
        referral = Referral.objects.get()
        desk.post(f"/coordinator/referrals/{referral.pk}/accept/")
        desk.post("/coordinator/runs/", {"site": site.pk})
    proposal = Proposal.objects.get(referral=referral)
    with django_capture_on_commit_callbacks(execute=True):
        desk.post(f"/coordinator/proposals/{proposal.pk}/approve/")
        agreement = Match.objects.get(referral=referral).agreement
        own.post(f"/agreements/{agreement.pk}/accept/")
        centre.post(f"/agreements/{agreement.pk}/consent/")
        desk.post(f"/agreements/{agreement.pk}/countersign/")
    match = Match.objects.get(referral=referral)
    assert match.status == Match.Status.ACTIVE
    return match, own


@pytest.mark.django_db
@pytest.mark.usefixtures("eager_celery")
def test_note_postal_code_and_languages_never_reach_logs_mail_audit_or_the_volunteer(
    caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)

    match, volunteer = refer_and_match(django_capture_on_commit_callbacks)

    assert {tuple(m.to) for m in mail.outbox} >= {
        ("frivillig@example.no",),
        ("koordinator@example.no",),
        ("stab@krisesenter.example",),
    }
    for message in mail.outbox:
        assert leaks(f"{message.subject}\n{message.body}") == [], message.to
    for record in caplog.records:
        assert leaks(f"{record.getMessage()} {record.exc_text or ''}") == [], record.name

    audit_trail = AuditLogEntry.objects.values_list(
        "object_repr", "changes", "changes_text", "serialized_data", "additional_data"
    )
    assert audit_trail.exists()
    assert NOTE not in json.dumps(list(audit_trail), default=str)

    own_match = volunteer.get(f"/api/v1/me/matches/{match.pk}/")
    assert own_match.status_code == 200
    assert NOTE not in json.dumps(own_match.json())
    for path in ("/", f"/agreements/{match.agreement.pk}/"):
        assert NOTE not in volunteer.get(path).content.decode(), path
