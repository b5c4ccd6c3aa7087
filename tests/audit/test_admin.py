"""Admins search the access log in the admin and produce a participant's referral history;
nobody can add, change or delete a row there."""

import pytest

from matching.lifecycle import referral_accept
from programmes.audit import referral_history, referrals_log_read
from programmes.models import AuditLogEntry

pytestmark = pytest.mark.django_db

LOG = "/admin/programmes/auditlogentry/"


def listed(response) -> set[int]:
    return {entry.pk for entry in response.context["cl"].result_list}


def test_admin_finds_rows_by_object_id(world, portal_as):
    referrals_log_read(world.users["coord_x"], [world.referral_x, world.referral_y], "portal")
    about_y = AuditLogEntry.objects.filter(object_id=world.referral_y.pk)

    response = portal_as("admin").get(LOG, {"q": str(world.referral_y.pk)})

    assert response.status_code == 200
    assert listed(response) >= set(about_y.values_list("pk", flat=True))
    assert all(
        entry.object_pk == str(world.referral_y.pk)
        or str(world.referral_y.pk) in entry.actor.username
        for entry in response.context["cl"].result_list
        if entry.actor
    )


def test_admin_finds_rows_by_actor_username(world, portal_as):
    referrals_log_read(world.users["staff_b"], [world.referral_y], "portal")

    response = portal_as("admin").get(LOG, {"q": "staff-B"})

    rows = response.context["cl"].result_list
    assert rows
    assert {entry.actor.username for entry in rows} == {"staff-B"}


def test_admin_filters_by_channel(world, portal_as):
    referrals_log_read(world.users["staff_b"], [world.referral_y], "export")

    response = portal_as("admin").get(LOG, {"channel__exact": "export"})

    assert {entry.channel for entry in response.context["cl"].result_list} == {"export"}


def test_only_superusers_see_the_log(world, portal_as):
    world.users["coord_x"].is_staff = True
    world.users["coord_x"].save()

    assert portal_as("coord_x").get(LOG).status_code == 403


def test_nobody_may_add_change_or_delete_rows_in_the_admin(world, portal_as):
    from django.contrib import admin

    model_admin = admin.site._registry[AuditLogEntry]
    request = portal_as("admin").get(LOG).wsgi_request

    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_referral_history_lists_reads_and_changes_oldest_first(world):
    coordinator = world.users["coord_x"]
    referrals_log_read(coordinator, [world.referral_x], "portal")
    referral_accept(world.referral_x, by=world.users["coord_x"])
    referrals_log_read(coordinator, [world.referral_x.pk], "export")

    history = referral_history(world.referral_x)

    assert [(row["action"], row["channel"]) for row in history] == [
        ("create", "task"),
        ("access", "portal"),
        ("update", "task"),
        ("access", "export"),
    ]
    assert history[1]["actor_id"] == coordinator.pk
    assert {"status", "status_changed_at"} <= set(history[2]["fields"])
    assert {row["object"] for row in history} == {f"Referral #{world.referral_x.pk}"}


def test_referral_history_includes_the_case_around_the_referral(world):
    objects = {row["object"] for row in referral_history(world.match_x.referral)}

    assert f"Match #{world.match_x.pk}" in objects
    assert f"Agreement #{world.agreement_x.pk}" in objects
    assert any(name.startswith("Proposal #") for name in objects)


def test_admin_history_page_shows_the_referral_history(world, portal_as):
    referrals_log_read(world.users["coord_x"], [world.referral_x], "portal")

    response = portal_as("admin").get(f"/admin/programmes/referral/{world.referral_x.pk}/history/")

    assert response.status_code == 200
    history = response.context["history"]
    # Producing the history is itself a read of the referral, and the last row of it.
    assert [row["action"] for row in history] == ["create", "access", "access"]
    assert [row["actor"] for row in history[1:]] == [world.users["coord_x"], world.users["admin"]]
    assert "coordinator-A" in response.content.decode()


def test_admin_row_page_shows_field_names_and_masked_values_only(world, portal_as):
    referral_accept(world.referral_x, by=world.users["coord_x"])
    row = AuditLogEntry.objects.filter(object_id=world.referral_x.pk).latest("pk")

    response = portal_as("admin").get(f"{LOG}{row.pk}/change/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "waiting" in page
    assert world.referral_x.alias not in page
