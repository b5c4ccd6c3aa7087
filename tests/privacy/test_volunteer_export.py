"""A volunteer's copy of their data holds every model that refers to them, and no secrets."""

import datetime
import json

import pytest
import time_machine
from django.apps import apps
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice

from accounts.models import ApiToken
from matching import lifecycle
from matching.lifecycle import agreement_accept, agreement_countersign, agreement_record_consent
from matching.models import Match, RejectedPair
from privacy.volunteers import volunteer_data_export
from programmes.models import AuditLogEntry
from tests.auth import totp_device_for
from tests.matching.factories import pending_proposal, ready_volunteer, site_with_people
from tests.matching.test_agreements import approved_match
from tests.volunteers.application_factories import ApplicationFactory
from tests.volunteers.factories import VettingRecordFactory
from volunteers.models import Volunteer, VolunteerDeletionRequest, VolunteerFollowUp

pytestmark = pytest.mark.django_db

SIGNED_IN_AT = datetime.datetime(2026, 11, 20, 9, 30, tzinfo=datetime.UTC)

# Where each relation to the volunteer or their account shows up in the export.
EXPORTED = {
    ("volunteers.Volunteer", "user"): "volunteer",
    ("volunteers.VettingRecord", "volunteer"): "vetting",
    ("volunteers.VolunteerDeletionRequest", "volunteer"): "deletion_requests",
    ("volunteers.VolunteerApplication", "volunteer"): "application",
    ("volunteers.VolunteerFollowUp", "volunteer"): "follow_ups",
    ("matching.ProposalPair", "volunteer"): "proposals",
    ("matching.RejectedPair", "volunteer"): "rejected_pairs",
    ("matching.MatchVolunteer", "volunteer"): "matches",
    ("matching.MatchVolunteer", "match"): "matches",
    ("matching.Agreement", "match"): "matches",
    ("matching.CheckIn", "match"): "matches",
    ("matching.CheckIn", "answered_by"): "matches",
    ("otp_totp.TOTPDevice", "user"): "two_factor_devices",
    ("otp_static.StaticDevice", "user"): "two_factor_devices",
    ("accounts.ApiToken", "user"): "api_tokens",
    ("programmes.AuditLogEntry", "actor"): "audit_log",
    ("programmes.CrisisCentre", "staff"): "account",
    ("programmes.ProgrammeSite", "coordinators"): "account",
}
# Relations to the person left out of the export on purpose, and why. What someone did as
# crisis-centre staff, coordinator or admin belongs to the case they did it on (a referral or
# another volunteer), and the export's audit_log section lists those actions already.
NOT_EXPORTED = {
    ("programmes.Referral", "consent_recorded_by"): "staff action on a referral",
    ("programmes.Referral", "any_gender_consent_recorded_by"): "staff action on a referral",
    # Distance and shared time to a waiting referral would tell the volunteer where a participant
    # lives; the suggestion is replaced at the next run and deleted when the volunteer is erased.
    ("matching.NearMiss", "volunteer"): "the engine's suggestion for a waiting referral",
    ("volunteers.VettingRecord", "recorded_by"): "coordinator action on a volunteer",
    ("volunteers.VolunteerDeletionRequest", "handled_by"): "admin action on a volunteer",
    ("volunteers.ApplicationStep", "by"): "coordinator action on an application",
    ("volunteers.VolunteerFollowUp", "recorded_by"): "coordinator action on a volunteer",
    ("matching.MatchRun", "started_by"): "coordinator action",
    ("matching.RecruitmentSweep", "requested_by"): "coordinator action",
    ("matching.Proposal", "reviewed_by"): "coordinator action",
    ("matching.RejectedPair", "rejected_by"): "coordinator action",
    ("matching.Match", "approved_by"): "coordinator action",
    ("matching.Agreement", "consent_recorded_by"): "staff action on a referral",
    ("matching.Agreement", "countersigned_by"): "coordinator action",
    ("matching.CheckIn", "handled_by"): "coordinator action",
    ("matching.MatchRun", "match"): "a coordinator's search for someone to join the match",
    ("matching.Proposal", "replacement_for"): "another volunteer proposed to join the match",
    ("admin.LogEntry", "user"): "Django's back-office history; volunteers have no back office",
}
# Not found by the walk below because they hold no foreign key: sessions (a session key is a
# secret; erasure ends them) and django-axes login records (by username; exported as sign_ins
# and failed_sign_ins, deleted by erasure and after LOGIN_RECORD_DAYS).


def relations_to_the_person() -> set[tuple[str, str]]:
    """Every foreign key, one-to-one and many-to-many to the user or the volunteer, and, one
    level on, to the matches the volunteer takes part in."""
    targets = {get_user_model(), Volunteer, Match}
    return {
        (model._meta.label, field.name)
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if field.concrete and field.is_relation and field.related_model in targets
    }


def volunteer_with_everything():
    match, staff, coordinator, (volunteer,) = approved_match()
    agreement = match.agreement
    agreement_accept(agreement, by=volunteer.user)
    agreement_record_consent(agreement, by=staff)
    agreement_countersign(agreement, by=coordinator)
    VettingRecordFactory(volunteer=volunteer)
    VolunteerDeletionRequest.objects.create(volunteer=volunteer)
    ApplicationFactory(stage="active", volunteer=volunteer)
    VolunteerFollowUp.objects.create(volunteer=volunteer, kind="supervision", on="2026-11-01")
    RejectedPair.objects.create(
        referral=match.referral, volunteer=volunteer, rejected_by=coordinator, reason="Tidligere"
    )
    totp_device_for(volunteer.user)
    StaticDevice.objects.create(user=volunteer.user, name="Recovery codes")
    centre = match.referral.site.crisis_centre
    centre.staff.add(volunteer.user)
    ApiToken.objects.create(
        name="Fagsystem",
        user=volunteer.user,
        crisis_centre=centre,
        scope="read",
        key_hash="f" * 64,
        prefix="kob_abc",
    )
    return Volunteer.objects.get(pk=volunteer.pk), match


def test_every_model_that_refers_to_the_volunteer_is_exported_or_left_out_on_purpose():
    assert relations_to_the_person() == set(EXPORTED) | set(NOT_EXPORTED)


def test_every_exported_section_holds_the_volunteers_rows():
    volunteer, match = volunteer_with_everything()

    export = volunteer_data_export(volunteer)

    for section in set(EXPORTED.values()):
        assert export[section], section
    (exported_match,) = export["matches"]
    assert exported_match["agreement"]["activated_at"]
    assert len(exported_match["check_ins"]) == match.check_ins.count() > 0
    assert {d["name"] for d in export["two_factor_devices"]} == {"Test", "Recovery codes"}
    assert export["account"]["staff_of_crisis_centres"] == [str(match.referral.site.crisis_centre)]
    assert export["audit_log"], "accepting the agreement is in the audit log"


def test_the_participant_appears_only_as_the_volunteer_may_see_them():
    volunteer, match = volunteer_with_everything()
    referral = match.referral

    export = volunteer_data_export(volunteer)

    participant = export["matches"][0]["participant"]
    assert participant["alias"] == referral.alias
    assert participant["municipality_name"] == referral.municipality.name
    assert "postal_code" not in json.dumps(participant)
    assert export["proposals"] == [{"proposed_on": "2026-11-26", "status": "approved"}]


def test_the_export_holds_no_password_hash_device_key_or_token_hash():
    volunteer, _match = volunteer_with_everything()

    dumped = json.dumps(volunteer_data_export(volunteer))

    assert volunteer.user.password not in dumped
    assert totp_device_for(volunteer.user).key not in dumped
    assert "f" * 64 not in dumped


def test_the_export_is_logged_as_a_read_of_the_participants_referral():
    volunteer, match = volunteer_with_everything()

    volunteer_data_export(volunteer)

    assert AuditLogEntry.objects.filter(
        object_id=match.referral_id, channel="export", actor=volunteer.user
    ).exists()


def test_the_export_holds_what_the_volunteer_said_when_leaving_but_not_the_coordinators_note(
    client,
):
    site, staff, coordinator = site_with_people()
    volunteer = ready_volunteer()
    match = lifecycle.proposal_approve(
        pending_proposal(site, coordinator, [volunteer]), by=coordinator
    )
    lifecycle.agreement_accept(match.agreement, by=volunteer.user)
    lifecycle.agreement_record_consent(match.agreement, by=staff)
    lifecycle.agreement_countersign(match.agreement, by=coordinator)
    lifecycle.match_end_request(
        match, by=volunteer.user, reason="volunteer_ended", note="Ny jobb med skift"
    )
    lifecycle.match_end(
        match, by=coordinator, reason="volunteer_ended", note="Deltakeren var lettet", requeue=True
    )
    client.force_login(volunteer.user)

    exported = client.get("/my-data/download/").content.decode()

    assert "Ny jobb med skift" in exported and "volunteer_ended" in exported
    assert "Deltakeren var lettet" not in exported


# Issue 12, finding 9: login records (network address, browser) were missing from the export.


def test_the_export_lists_sign_ins_with_time_address_and_browser():
    volunteer = ready_volunteer()
    with time_machine.travel(SIGNED_IN_AT, tick=False):
        Client(REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT="Firefox/140 (Android)").post(
            "/accounts/login/",
            {"username": volunteer.user.username, "password": "kobling-test"},
        )

    export = volunteer_data_export(volunteer)

    assert export["sign_ins"] == [
        {
            "signed_in_at": SIGNED_IN_AT.isoformat(),
            "signed_out_at": None,
            "network_address": "198.51.100.7",
            "browser": "Firefox/140 (Android)",
        }
    ]


def test_the_export_counts_failed_sign_ins_without_saying_from_where():
    volunteer = ready_volunteer()
    stranger = Client(REMOTE_ADDR="203.0.113.99")
    with time_machine.travel(SIGNED_IN_AT, tick=False):
        for _ in range(2):
            stranger.post(
                "/accounts/login/", {"username": volunteer.user.username, "password": "x"}
            )

    export = volunteer_data_export(volunteer)

    assert export["failed_sign_ins"] == [
        {"last_failed_at": SIGNED_IN_AT.isoformat(), "failures": 2}
    ]
    assert "203.0.113.99" not in json.dumps(export)
