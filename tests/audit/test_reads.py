"""Every read of a referral is in the access log: one row per referral shown, with the reader
and the channel (portal, API, admin, export)."""

import pytest

from programmes.audit import referrals_log_read
from programmes.models import AuditLogEntry, Referral
from programmes.selectors import referrals_referred_by

pytestmark = pytest.mark.django_db


def test_portal_referral_list_logs_each_referral_shown_to_the_staff_member(
    world, portal_as, reads_since
):
    response = portal_as("staff_a").get("/referrals/")

    assert response.status_code == 200
    staff = world.users["staff_a"]
    shown = sorted(referrals_referred_by(staff).values_list("pk", flat=True))
    assert reads_since() == [(staff.pk, pk, "portal") for pk in shown]


def test_volunteer_home_logs_the_referral_of_their_match(world, portal_as, reads_since):
    response = portal_as("volunteer").get("/")

    assert response.status_code == 200
    assert reads_since() == [(world.users["volunteer"].pk, world.match_x.referral_id, "portal")]


def test_coordinator_dashboard_logs_the_referrals_to_accept_and_of_open_matches(
    world, portal_as, reads_since
):
    response = portal_as("coord_x").get("/coordinator/")

    assert response.status_code == 200
    coordinator = world.users["coord_x"].pk
    shown = sorted({world.referral_x.pk, world.match_x.referral_id})
    assert reads_since() == [(coordinator, pk, "portal") for pk in shown]


def test_match_run_page_logs_the_proposed_referrals(world, portal_as, reads_since):
    response = portal_as("coord_x").get(f"/coordinator/runs/{world.run_x.pk}/")

    assert response.status_code == 200
    coordinator = world.users["coord_x"].pk
    proposed = sorted({world.match_x.referral_id, world.waiting_x.pk})
    assert reads_since() == [(coordinator, pk, "portal") for pk in proposed]


def test_agreement_page_logs_its_referral(world, portal_as, reads_since):
    response = portal_as("volunteer").get(f"/agreements/{world.agreement_x.pk}/")

    assert response.status_code == 200
    assert reads_since() == [(world.users["volunteer"].pk, world.match_x.referral_id, "portal")]


def test_api_list_logs_the_referrals_on_the_page(world, api_as, reads_since):
    response = api_as("coord_x").get("/api/v1/referrals/")

    listed = sorted(row["id"] for row in response.json()["results"])
    assert listed
    assert reads_since() == [(world.users["coord_x"].pk, pk, "api") for pk in listed]


def test_api_retrieve_logs_one_row(world, api_as, reads_since):
    response = api_as("staff_a").get(f"/api/v1/referrals/{world.referral_x.pk}/")

    assert response.status_code == 200
    assert reads_since() == [(world.users["staff_a"].pk, world.referral_x.pk, "api")]


def test_api_proposal_logs_the_referral_it_carries(world, api_as, reads_since):
    response = api_as("coord_x").get(f"/api/v1/proposals/{world.proposal_x.pk}/")

    assert response.status_code == 200
    assert reads_since() == [(world.users["coord_x"].pk, world.waiting_x.pk, "api")]


def test_api_read_refused_is_not_logged(world, api_as, reads_since):
    response = api_as("staff_b").get(f"/api/v1/referrals/{world.referral_x.pk}/")

    assert response.status_code == 404
    assert reads_since() == []


def test_admin_changelist_logs_each_listed_referral(world, portal_as, reads_since):
    response = portal_as("admin").get("/admin/programmes/referral/")

    assert response.status_code == 200
    listed = sorted(Referral.objects.values_list("pk", flat=True))
    assert reads_since() == [(world.users["admin"].pk, pk, "admin") for pk in listed]


def test_admin_change_view_logs_that_referral(world, portal_as, reads_since):
    response = portal_as("admin").get(f"/admin/programmes/referral/{world.referral_y.pk}/change/")

    assert response.status_code == 200
    assert reads_since() == [(world.users["admin"].pk, world.referral_y.pk, "admin")]


def test_admin_agreement_change_view_logs_its_referral(world, portal_as, reads_since):
    url = f"/admin/matching/agreement/{world.agreement_x.pk}/change/"

    assert portal_as("admin").get(url).status_code == 200
    assert reads_since() == [(world.users["admin"].pk, world.match_x.referral_id, "admin")]


def test_export_reads_are_logged_with_their_channel(world, reads_since):
    staff = world.users["staff_a"]

    referrals_log_read(staff, [world.referral_x, world.waiting_x.pk], "export")

    expected = sorted([world.referral_x.pk, world.waiting_x.pk])
    assert reads_since() == [(staff.pk, pk, "export") for pk in expected]


def test_a_read_row_names_the_referral_by_id_not_alias(world):
    referrals_log_read(world.users["staff_a"], [world.referral_x], "export")

    row = AuditLogEntry.objects.get(action=AuditLogEntry.Action.ACCESS)
    assert row.object_repr == f"Referral #{world.referral_x.pk}"
    assert world.referral_x.alias not in row.object_repr


def test_unknown_channel_is_refused(world):
    with pytest.raises(ValueError):
        referrals_log_read(world.users["staff_a"], [world.referral_x], "gossip")
