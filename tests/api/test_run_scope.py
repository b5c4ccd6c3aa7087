"""A run touches every site in its scope, so it may be started only by someone who coordinates
each of them (issue 12, finding 1: a coordinator of one site ran the whole programme)."""

import json

import pytest

from matching.models import MatchRun, Proposal
from programmes.models import AuditLogEntry
from tests.matching.factories import ready_volunteer, waiting_referral

pytestmark = pytest.mark.django_db


def start(client, **body):
    return client.post("/api/v1/match-runs/", json.dumps(body), content_type="application/json")


@pytest.fixture
def other_site_waiting(world):
    """A referral at site Y with a volunteer who could take it: a run over Y would propose."""
    referral = waiting_referral(world.site_y, languages=["ar"])
    ready_volunteer(organisation=world.site_y.organisation)
    return referral


@pytest.mark.usefixtures("eager_celery", "other_site_waiting")
def test_a_coordinator_of_one_site_may_not_run_the_whole_programme(world, client_for):
    runs_before = MatchRun.objects.count()

    response = start(client_for("coord_x"), programme="ressursvenn", scope="programme")

    assert response.status_code == 403
    assert "koordinator for alle programstedene" in response.json()["detail"]
    assert MatchRun.objects.count() == runs_before
    assert not Proposal.objects.filter(referral__site=world.site_y).exists()


@pytest.mark.usefixtures("eager_celery", "other_site_waiting")
def test_a_coordinator_of_every_site_may_run_the_whole_programme(
    world, client_for, django_capture_on_commit_callbacks
):
    world.site_y.coordinators.add(world.users["coord_x"])

    with django_capture_on_commit_callbacks(execute=True):
        response = start(client_for("coord_x"), programme="ressursvenn", scope="programme")

    assert response.status_code == 202
    assert Proposal.objects.filter(referral__site=world.site_y).exists()


def test_a_coordinator_may_not_run_another_centre(world, client_for):
    centre_b = world.site_y.crisis_centre.pk
    body = {"programme": "ressursvenn", "scope": "crisis_centre", "crisis_centre": centre_b}

    response = start(client_for("coord_x"), **body)

    assert response.status_code in (400, 403)
    assert not MatchRun.objects.filter(crisis_centre_id=centre_b).exists()


def test_a_coordinator_may_run_their_own_centre(world, client_for):
    centre_a = world.site_x.crisis_centre.pk
    body = {"programme": "ressursvenn", "scope": "crisis_centre", "crisis_centre": centre_a}

    response = start(client_for("coord_x"), **body)

    assert response.status_code == 202


def test_an_admin_may_run_the_whole_programme(world, client_for):
    response = start(client_for("admin"), programme="ressursvenn", scope="programme")

    assert response.status_code == 202


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("geodata", "eager_celery")
def test_the_unmatched_referrals_in_a_run_start_answer_are_logged_as_read(world, client_for):
    """Without a broker the run finishes before the 202 is written, so the answer already lists
    who stays unmatched: those referrals were shown, and each read is logged."""
    lonely = waiting_referral(world.site_x, languages=["ti"])

    response = start(
        client_for("coord_x"), programme="ressursvenn", scope="site", site=world.site_x.pk
    )

    assert lonely.pk in {row["referral"] for row in response.json()["unmatched"]}
    logged = AuditLogEntry.objects.filter(
        action=AuditLogEntry.Action.ACCESS, actor=world.users["coord_x"], object_id=lonely.pk
    )
    assert logged.exists()
