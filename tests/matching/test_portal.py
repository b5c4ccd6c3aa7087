"""The agreement and check-in pages: who may see them, and what a signature does."""

import datetime

import pytest
from django.utils import timezone

from matching.models import CheckIn, Match
from tests.auth import login_verified
from tests.matching.factories import ready_volunteer
from tests.matching.test_agreements import approved_match

pytestmark = pytest.mark.django_db


def test_volunteer_finds_the_agreement_on_the_home_page_and_accepts_it(client):
    match, _staff, _coordinator, (volunteer,) = approved_match()
    client.force_login(volunteer.user)
    url = f"/agreements/{match.agreement.pk}/"

    assert url in client.get("/").content.decode()
    page = client.get(url).content.decode()
    assert match.referral.alias in page
    assert "Oslo" in page

    response = client.post(f"{url}accept/")
    assert response.status_code == 302
    assert match.volunteers.get().accepted_at is not None


def test_agreement_of_someone_else_is_not_found(client):
    match, _staff, _coordinator, _volunteers = approved_match()
    client.force_login(ready_volunteer(code="0160").user)
    assert client.get(f"/agreements/{match.agreement.pk}/").status_code == 404
    assert client.post(f"/agreements/{match.agreement.pk}/accept/").status_code == 404


def test_declining_without_a_reason_changes_nothing(client):
    match, _staff, _coordinator, (volunteer,) = approved_match()
    client.force_login(volunteer.user)
    client.post(f"/agreements/{match.agreement.pk}/decline/", {"reason": " "})
    assert Match.objects.get(pk=match.pk).status == Match.Status.AWAITING_AGREEMENT


def test_crisis_centre_records_consent_from_the_agreement_page(client):
    match, staff, _coordinator, _volunteers = approved_match()
    login_verified(client, staff)
    client.post(f"/agreements/{match.agreement.pk}/consent/")
    match.agreement.refresh_from_db()
    assert match.agreement.consent_recorded_by == staff


def test_volunteer_answers_a_due_check_in(client):
    match, _staff, _coordinator, (volunteer,) = approved_match()
    Match.objects.filter(pk=match.pk).update(status=Match.Status.ACTIVE)
    due = CheckIn.objects.create(
        match=match, months_after_start=1, due_on=timezone.localdate() - datetime.timedelta(1)
    )
    later = CheckIn.objects.create(
        match=match, months_after_start=3, due_on=timezone.localdate() + datetime.timedelta(60)
    )
    client.force_login(volunteer.user)

    assert f"/check-ins/{due.pk}/" in client.get("/").content.decode()
    assert client.get(f"/check-ins/{later.pk}/").status_code == 404
    missing = client.post(f"/check-ins/{due.pk}/", {"meetings_held": "3"})
    assert missing.status_code == 400
    assert "wellbeing" in missing.context["form"].errors

    client.post(f"/check-ins/{due.pk}/", {"meetings_held": "3", "wellbeing": "good"})
    due.refresh_from_db()
    assert (due.meetings_held, due.wellbeing) == (3, "good")
    assert due.answered_at is not None


def test_volunteer_sees_their_own_matches_on_the_overview(client):
    match, _staff, _coordinator, (volunteer,) = approved_match()
    client.force_login(volunteer.user)
    page = client.get("/").content.decode()
    assert match.referral.alias in page
    assert f"/agreements/{match.agreement.pk}/" in page
    client.force_login(ready_volunteer(code="0160").user)
    assert match.referral.alias not in client.get("/").content.decode()
