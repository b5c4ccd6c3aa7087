"""Every change to a case is in the access log: who, when, which object and which fields, with
the values of sensitive fields masked and the referral's free-text note left out altogether."""

import datetime
import json

import pytest
from auditlog.context import set_actor

from accounts.api_tokens import api_token_create
from core.audit import MASK
from matching.followup import referrals_flag_long_waits
from matching.lifecycle import proposal_approve, referral_accept, referrals_propose
from matching.models import Match, MatchVolunteer, Proposal
from programmes.models import AuditLogEntry, Referral
from programmes.services import referral_update
from tests.auth import totp_device_for
from tests.matching.factories import waiting_referral
from volunteers.models import Volunteer
from volunteers.services import volunteer_profile_update

pytestmark = pytest.mark.django_db

UPDATE = AuditLogEntry.Action.UPDATE
NOTE = "Ring helst etter skoletid"


def changes_of(instance, action=UPDATE) -> list[AuditLogEntry]:
    rows = AuditLogEntry.objects.get_for_object(instance).filter(action=action)
    return list(rows.order_by("pk"))


def row_text(row: AuditLogEntry) -> str:
    """Everything a row says, except its timestamp (whose digits could match anything)."""
    parts = [row.changes, row.changes_text, row.object_repr, row.additional_data]
    return json.dumps([*parts, row.serialized_data], default=str)


def test_referral_update_logs_field_names_with_masked_values_and_no_note(world):
    staff = world.users["staff_a"]
    changes = {"languages": ["nb", "se"], "postal_code": "0150", "notes": NOTE}

    with set_actor(staff):
        referral_update(world.referral_x, changes=changes, updated_by=staff)

    [row] = changes_of(world.referral_x)
    assert row.actor == staff
    assert set(row.changes) == {"languages", "postal_code"}
    assert "notes" not in row.changes
    assert all(values == [MASK, MASK] for values in row.changes.values())
    text = row_text(row)
    for secret in ('"se"', '\\"se\\"', "0150", NOTE, world.referral_x.alias):
        assert secret not in text


def test_a_change_of_the_note_alone_writes_no_row(world):
    staff = world.users["staff_a"]

    referral_update(world.referral_x, changes={"notes": NOTE}, updated_by=staff)

    assert changes_of(world.referral_x) == []
    assert not AuditLogEntry.objects.filter(changes__icontains="notes").exists()


def test_status_transition_keeps_the_status_values(world):
    referral_accept(world.referral_x, by=world.users["coord_x"])

    [row] = changes_of(world.referral_x)
    assert row.changes["status"] == ["submitted", "waiting"]
    assert (row.actor, row.channel) == (None, "task")


def test_avoided_municipalities_are_logged_as_changed_but_never_named(world):
    staff = world.users["staff_a"]

    referral_update(world.referral_x, changes={"avoid_municipalities": ["0301"]}, updated_by=staff)

    [row] = [r for r in changes_of(world.referral_x) if "avoid_municipalities" in r.changes]
    assert row.changes["avoid_municipalities"]["objects"] == [MASK]
    assert "Oslo" not in row_text(row)


def test_portal_change_records_the_user_id_and_channel_never_email_or_address(world, portal_as):
    staff = world.users["staff_a"]
    staff.email = "kari.nordmann@krisesenter.example"
    staff.save()

    response = portal_as("staff_a").post(
        f"/referrals/{world.referral_x.pk}/withdraw/",
        {"reason": "participant_declined"},
        REMOTE_ADDR="203.0.113.9",
    )

    assert response.status_code == 302
    [row] = changes_of(world.referral_x)
    assert (row.actor_id, row.channel) == (staff.pk, "portal")
    assert row.changes["status"] == ["submitted", "withdrawn"]
    stored = json.dumps(AuditLogEntry.objects.filter(pk=row.pk).values().get(), default=str)
    assert "kari.nordmann" not in stored
    assert "203.0.113.9" not in stored
    assert row.object_repr == f"Referral #{world.referral_x.pk}"


def test_api_change_with_a_token_is_the_token_users(world):
    from tests.api.test_tokens import bearer

    staff = world.users["staff_a"]
    totp_device_for(staff)
    _token, raw = api_token_create(
        user=staff, crisis_centre=world.site_x.crisis_centre, scope="write", name="fagsystem"
    )

    response = bearer(raw).post(
        f"/api/v1/referrals/{world.referral_x.pk}/withdraw/",
        {"reason": "participant_declined"},
        format="json",
    )

    assert response.status_code == 200
    [row] = changes_of(world.referral_x)
    assert (row.actor_id, row.channel) == (staff.pk, "api")


def test_proposal_approval_logs_every_object_it_writes(world):
    coordinator = world.users["coord_x"]

    match = proposal_approve(world.proposal_x, by=coordinator)

    [reviewed] = changes_of(world.proposal_x)
    assert reviewed.changes["status"] == [Proposal.Status.PENDING, Proposal.Status.APPROVED]
    assert "status" in changes_of(world.waiting_x)[-1].changes
    assert changes_of(match, AuditLogEntry.Action.CREATE)
    place = MatchVolunteer.objects.get(match=match)
    assert changes_of(place, AuditLogEntry.Action.CREATE)
    # The volunteers' commitments are raised with a queryset update, which sends no signal.
    [committed] = changes_of(world.volunteer)[-1:]
    assert committed.changes["commitments"] == ["1", "2"]


def test_bulk_update_of_referrals_is_logged(world):
    referral = waiting_referral(world.site_x)

    referrals_propose([referral.pk])

    [row] = changes_of(referral)
    assert row.changes["status"] == [Referral.Status.WAITING, Referral.Status.PROPOSED]


def test_a_task_is_logged_without_actor_on_the_task_channel(world):
    referral = waiting_referral(world.site_x)

    referrals_flag_long_waits(datetime.date(2026, 12, 1))

    [row] = changes_of(referral)
    assert (row.actor, row.channel) == (None, "task")
    assert list(row.changes) == ["long_wait_flagged_on"]


def test_volunteer_personal_fields_are_masked(world):
    volunteer = Volunteer.objects.get(pk=world.volunteer.pk)

    volunteer_profile_update(
        volunteer, languages=[{"code": "so", "level": "fluent"}], activities=["climbing"]
    )

    rows = changes_of(volunteer)
    [languages] = [row for row in rows if "languages" in row.changes]
    [activities] = [row for row in rows if "activities" in row.changes]
    assert languages.changes["languages"] == [MASK, MASK]
    assert activities.changes["activities"]["objects"] == [MASK]
    assert "fluent" not in row_text(languages) and "climbing" not in row_text(activities)


def test_wished_activities_are_logged_as_changed_but_never_named(world):
    staff = world.users["staff_a"]

    referral_update(world.referral_x, changes={"wished_activities": ["climbing"]}, updated_by=staff)

    [row] = [r for r in changes_of(world.referral_x) if "wished_activities" in r.changes]
    assert row.changes["wished_activities"]["objects"] == [MASK]
    assert "climbing" not in row_text(row) and "klatring" not in row_text(row)


def test_match_is_named_by_id(world):
    [created] = changes_of(world.match_x, AuditLogEntry.Action.CREATE)

    assert created.object_repr == f"Match #{world.match_x.pk}"
    assert Match.objects.filter(pk=world.match_x.pk).exists()
