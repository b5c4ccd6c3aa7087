"""Django's admin history (LogEntry) names objects by model and id: never a participant's alias,
a volunteer's name or a username (issue 12, finding 9)."""

import json

import pytest
from django.contrib import admin
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry

from core.admin import IdsInHistory
from tests.admin.test_back_office_rules import change_url, shown_form
from tests.auth import totp_device_for
from volunteers.models import VettingRecord

pytestmark = pytest.mark.django_db


def last_entry(flag: int) -> LogEntry:
    return LogEntry.objects.filter(action_flag=flag).latest("pk")


def test_every_admin_writes_ids_in_history():
    assert [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if not isinstance(model_admin, IdsInHistory)
    ] == []


def test_a_referral_changed_by_staff_is_named_by_its_id(back_office):
    referral = back_office.referral_x
    staff = back_office.client_as("staff")

    staff.post(change_url(referral), shown_form(staff, referral) | {"adults": ["2"], "_save": "1"})

    entry = last_entry(CHANGE)
    assert entry.object_repr == f"Referral #{referral.pk}"
    assert referral.alias not in entry.object_repr + entry.change_message


def test_a_volunteer_and_the_vetting_record_added_are_named_by_id(back_office):
    volunteer = back_office.volunteer
    volunteer.user.first_name = "Kari"
    volunteer.user.save()
    client = back_office.client_as("admin")
    shown = shown_form(client, volunteer)
    new = f"vetting-{shown['vetting-TOTAL_FORMS'][0]}-"
    sent = shown | {
        "capacity": ["2"],
        "vetting-TOTAL_FORMS": [str(int(shown["vetting-TOTAL_FORMS"][0]) + 1)],
        f"{new}kind": ["training"],
        f"{new}issued_on": ["2026-02-01"],
        "_save": "Save",
    }

    assert client.post(change_url(volunteer), sent).status_code == 302

    entry = last_entry(CHANGE)
    added = VettingRecord.objects.get(volunteer=volunteer, issued_on="2026-02-01")
    assert entry.object_repr == f"Volunteer #{volunteer.pk}"
    assert json.loads(entry.change_message)[1]["added"]["object"] == f"VettingRecord #{added.pk}"
    assert "Kari" not in entry.object_repr + entry.change_message


def test_a_user_added_and_a_device_deleted_are_named_by_id(back_office):
    client = back_office.client_as("admin")
    device = totp_device_for(back_office.users["coord_y"])

    client.post(
        "/admin/auth/user/add/",
        {"username": "ola.nordmann", "password1": "", "password2": "", "usable_password": "false"},
    )
    client.post(
        "/admin/otp_totp/totpdevice/",
        {"action": "delete_selected", "_selected_action": [device.pk], "post": "yes"},
    )

    added, deleted = last_entry(ADDITION), last_entry(DELETION)
    assert added.object_repr == f"User #{added.object_id}"
    assert deleted.object_repr == f"TOTPDevice #{device.pk}"
    assert "nordmann" not in added.object_repr
    assert "coordinator-B" not in deleted.object_repr
