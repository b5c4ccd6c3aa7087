"""Deactivating a user ends all their sessions and API tokens at once, whether through the
service, the back office or the command."""

import io

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from accounts.api_tokens import api_token_create
from accounts.models import ApiToken
from accounts.services import user_deactivate
from tests.auth import login_verified, totp_device_for

pytestmark = pytest.mark.django_db


def token_for(world, user):
    totp_device_for(user)
    _token, raw = api_token_create(
        user=user, crisis_centre=world.site_x.crisis_centre, scope="read", name="fagsystem"
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def signed_in(user) -> Client:
    client = Client()
    login_verified(client, user)
    return client


def test_deactivation_ends_every_session_and_token(world):
    staff = world.users["staff_a"]
    bearer = token_for(world, staff)
    sessions = [signed_in(staff), signed_in(staff)]
    colleague = signed_in(world.users["coord_x"])
    assert bearer.get("/api/v1/referrals/").status_code == 200

    user_deactivate(staff, by=world.users["admin"])

    staff.refresh_from_db()
    assert not staff.is_active
    assert all(client.get("/referrals/").url.startswith("/accounts/login/") for client in sessions)
    assert sessions[0].get("/api/v1/referrals/").status_code == 401
    assert bearer.get("/api/v1/referrals/").status_code == 401
    assert ApiToken.objects.get(user=staff).revoked_at is not None
    assert colleague.get("/coordinator/").status_code == 200
    assert Session.objects.count() == 1


def test_a_deactivated_user_cannot_log_in_again(world, client):
    user_deactivate(world.users["staff_a"])

    response = client.post("/accounts/login/", {"username": "staff-A", "password": "kobling-test"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_the_back_office_action_deactivates_through_the_service(world):
    staff = world.users["staff_a"]
    bearer = token_for(world, staff)
    session = signed_in(staff)

    admin = signed_in(world.users["admin"])
    admin.post("/admin/auth/user/", {"action": "deactivate", "_selected_action": [staff.pk]})

    assert session.get("/referrals/").status_code == 302
    assert ApiToken.objects.get(user=staff).revoked_at is not None
    assert bearer.get("/api/v1/referrals/").status_code == 401


def test_unticking_active_in_the_back_office_deactivates_through_the_service(world):
    staff = world.users["staff_a"]
    bearer = token_for(world, staff)
    admin = signed_in(world.users["admin"])
    change = f"/admin/auth/user/{staff.pk}/change/"
    form = admin.get(change).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.pop("is_active")  # an unticked box is not sent
    data.update(date_joined_0="2026-01-01", date_joined_1="12:00:00")

    response = admin.post(change, data)

    assert response.status_code == 302
    assert ApiToken.objects.get(user=staff).revoked_at is not None
    assert bearer.get("/api/v1/referrals/").status_code == 401


def test_the_command_deactivates_a_user(world):
    staff = world.users["staff_a"]
    session = signed_in(staff)

    call_command("deactivate_user", "staff-A", stdout=io.StringIO())

    assert session.get("/referrals/").status_code == 302
