"""Rights through the portal and the back office: a volunteer downloads their data and asks for
deletion; an admin erases them, and answers a participant's access or deletion request."""

import json

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Permission
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from matching.models import Match
from privacy.tasks import retention_apply_task
from programmes.models import Referral
from tests.auth import login_verified
from tests.matching.factories import ready_volunteer, site_with_people
from tests.privacy.conftest import ALIAS, NOTES, case_closed_with_everything, months_later
from tests.programmes.factories import UserFactory
from volunteers.models import Volunteer, VolunteerDeletionRequest

pytestmark = pytest.mark.django_db


def named_volunteer() -> Volunteer:
    volunteer = ready_volunteer()
    user = volunteer.user
    user.first_name, user.last_name, user.email = "Silje", "Nordmann", "silje@example.no"
    user.save()
    return volunteer


def an_admin():
    return UserFactory(username="root", is_superuser=True, is_staff=True, email="admin@example.no")


def test_the_profile_links_to_the_data_page(client):
    volunteer = ready_volunteer()
    login_verified(client, volunteer.user)
    assert 'href="/my-data/"' in client.get("/me/").content.decode()
    assert client.get("/my-data/").status_code == 200


def test_a_volunteer_downloads_their_data_as_a_json_attachment_that_is_never_stored(client):
    volunteer = named_volunteer()
    login_verified(client, volunteer.user)

    response = client.get("/my-data/download/")

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="kobling-')
    assert "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    assert data["account"]["email"] == "silje@example.no"
    assert data["volunteer"]["home_postal_code"].startswith("0150")


def test_someone_who_is_not_a_volunteer_has_no_data_page(client):
    login_verified(client, UserFactory())
    assert client.get("/my-data/download/").status_code == 404


def test_asking_for_deletion_confirms_first_then_tells_admins_and_coordinators_by_username(
    client, django_capture_on_commit_callbacks, eager_celery
):
    site, _staff, coordinator = site_with_people()
    coordinator.email = "koordinator@example.no"
    coordinator.save()
    an_admin()
    volunteer = named_volunteer()
    Volunteer.objects.filter(pk=volunteer.pk).update(organisation=site.organisation)
    login_verified(client, volunteer.user)

    confirmation = client.get("/my-data/delete/")
    assert confirmation.status_code == 200 and VolunteerDeletionRequest.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/my-data/delete/")
        client.post("/my-data/delete/")

    assert response.status_code == 302
    assert VolunteerDeletionRequest.objects.filter(volunteer=volunteer).count() == 1
    assert sorted(message.to for message in mail.outbox) == [
        ["admin@example.no"],
        ["koordinator@example.no"],
    ]
    for message in mail.outbox:
        assert volunteer.user.username in message.body
        for personal in ("Silje", "Nordmann", "silje@example.no", "0150"):
            assert personal not in message.body + message.subject
    assert "You asked for deletion" in client.get("/my-data/").content.decode()


def test_an_admin_erases_a_volunteer_after_confirming(client):
    volunteer = named_volunteer()
    user = volunteer.user
    request = VolunteerDeletionRequest.objects.create(volunteer=volunteer)
    TOTPDevice.objects.create(user=user, name="Telefon", confirmed=True)
    AccessAttempt.objects.create(username=user.username, failures_since_start=1)
    client.force_login(user)
    admin = an_admin()
    admin_client = Client(headers={"accept-language": "en"})
    login_verified(admin_client, admin)
    url = "/admin/volunteers/volunteerdeletionrequest/"
    action = {"action": "erase_volunteer", "_selected_action": [request.pk]}

    confirmation = admin_client.post(url, action)
    assert "This cannot be undone." in confirmation.content.decode()
    assert Volunteer.objects.get(pk=volunteer.pk).erased_at is None

    admin_client.post(url, action | {"confirmed": "yes"})

    user.refresh_from_db()
    assert (user.username, user.first_name, user.email) == (f"erased-{user.pk}", "", "")
    assert not user.is_active and not user.has_usable_password()
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not AccessAttempt.objects.exists()
    assert not [
        s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(user.pk)
    ]
    request.refresh_from_db()
    assert (request.outcome, request.handled_by) == ("erased", admin)
    assert client.get("/me/").status_code == 302


def test_a_volunteer_in_an_open_match_is_not_erased(client):
    from tests.matching.test_agreements import approved_match

    match, _staff, _coordinator, (volunteer,) = approved_match()
    request = VolunteerDeletionRequest.objects.create(volunteer=volunteer)
    login_verified(client, an_admin())

    response = client.post(
        "/admin/volunteers/volunteerdeletionrequest/",
        {"action": "erase_volunteer", "_selected_action": [request.pk], "confirmed": "yes"},
        follow=True,
    )

    assert "open matches" in response.content.decode()
    assert Volunteer.objects.get(pk=volunteer.pk).erased_at is None
    assert Match.objects.get(pk=match.pk).status in Match.OPEN_STATUSES


def test_an_admin_downloads_a_participants_access_report_with_its_history(client, clock):
    referral, _coordinator, _volunteer = case_closed_with_everything()
    login_verified(client, an_admin())

    response = client.post(
        "/admin/programmes/referral/",
        {"action": "participant_access_report", "_selected_action": [referral.pk]},
    )

    assert response["Content-Disposition"] == f'attachment; filename="referral-{referral.pk}.json"'
    assert "no-store" in response["Cache-Control"]
    report = json.loads(response.content)
    assert report["referral"]["alias"] == ALIAS and report["referral"]["notes"] == NOTES
    assert report["matches"][0]["check_ins"] and report["rejected_pairs"] and report["unmatched"]
    assert any(entry["channel"] == "export" for entry in report["history"])


def test_an_admin_erases_a_participants_data_after_confirming(client, clock):
    referral, _coordinator, _volunteer = case_closed_with_everything()
    login_verified(client, an_admin())
    action = {"action": "participant_erase", "_selected_action": [referral.pk]}

    confirmation = client.post("/admin/programmes/referral/", action)
    assert "This cannot be undone." in confirmation.content.decode()
    assert Referral.objects.get(pk=referral.pk).anonymised_at is None

    client.post("/admin/programmes/referral/", action | {"confirmed": "yes"})

    assert Referral.objects.get(pk=referral.pk).alias == f"anon-{referral.pk}"


def test_a_coordinator_has_neither_privacy_action(client, clock):
    referral, coordinator, _volunteer = case_closed_with_everything()
    coordinator.is_staff = True
    coordinator.save()
    coordinator.user_permissions.set(Permission.objects.filter(content_type__model="referral"))
    login_verified(client, coordinator)

    response = client.get("/admin/programmes/referral/")
    page = response.content.decode()
    client.post(
        "/admin/programmes/referral/",
        {"action": "participant_erase", "_selected_action": [referral.pk], "confirmed": "yes"},
    )

    assert response.status_code == 200 and "accept_into_queue" in page
    assert "participant_erase" not in page and "participant_access_report" not in page
    assert Referral.objects.get(pk=referral.pk).anonymised_at is None
    assert client.get("/admin/volunteers/volunteerdeletionrequest/").status_code == 403


def test_the_daily_task_applies_retention(clock, eager_celery):
    referral, _coordinator, _volunteer = case_closed_with_everything()
    clock.move_to(months_later(13))

    counts = retention_apply_task.delay().get()

    assert counts == {
        "closed_referrals": 1,
        "withdrawn_referrals": 0,
        "retired_volunteers": 0,
        "unconfirmed_applications": 0,
        "applications_not_taken_in": 0,
        "login_records": 0,
    }
    assert Referral.objects.get(pk=referral.pk).anonymised_at is not None
