"""The lifecycle through the API: approving with the vetting acknowledgement, ending a match early,
letting one volunteer go, searching for a replacement, a volunteer asking to end, restarting a
failed run, the signing order, accepting and withdrawing referrals. Each step's happy path and
its refusals: 409 when the state moved on, 400 naming the field, 403 for a role that may not,
404 outside the caller's scope."""

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from matching import lifecycle
from matching.models import Match, MatchRun, Proposal, ProposalPair
from programmes.models import Referral, VettingKind
from tests.auth import login_verified
from tests.matching.factories import (
    MatchRunFactory,
    agreement_signed,
    ready_volunteer,
    site_with_people,
)
from tests.world import ROLES, proposal_for, proposed_referral
from volunteers.models import VettingRecord

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def post(client, url, body=None, **headers):
    data = "" if body is None else json.dumps(body)
    return client.post(url, data, content_type="application/json", **headers)


def client_of(user) -> APIClient:
    client = APIClient()
    login_verified(client, user)
    return client


def fresh(obj):
    obj.refresh_from_db()
    return obj


def sign_world(world) -> Match:
    users = world.users
    return agreement_signed(world.match_x, users["staff_a"], users["coord_x"], [world.volunteer])


def family_match():
    """A Fritidsvenn match of two volunteers awaiting its agreement, at its own crisis centre."""
    site, staff, coordinator = site_with_people("fritidsvenn", name="F")
    first = ready_volunteer("fritidsvenn", code="0150")
    second = ready_volunteer("fritidsvenn", code="0151")
    run = MatchRunFactory(site=site, started_by=coordinator)
    proposal = proposal_for(run, proposed_referral(site, languages=["ar"]), first)
    ProposalPair.objects.create(
        proposal=proposal,
        volunteer=second,
        distance_km=1.0,
        overlap_hours=2.0,
        shared_languages=["ar"],
        cost=1.0,
    )
    match = lifecycle.proposal_approve(proposal, by=coordinator)
    return match, staff, coordinator, first, second


def politiattest_expires(volunteer, on: datetime.date) -> None:
    VettingRecord.objects.filter(volunteer=volunteer, kind=VettingKind.POLITIATTEST).update(
        expires_on=on
    )


# Approving a proposal --------------------------------------------------------------------------


def test_approving_when_the_vetting_runs_out_during_the_agreement_needs_the_acknowledgement(
    world, client_for
):
    expires = timezone.localdate() + datetime.timedelta(days=60)
    politiattest_expires(world.volunteer, expires)
    ProposalPair.objects.filter(proposal=world.proposal_x).update(vetting_expires_on=expires)
    client = client_for("coord_x")
    url = f"/api/v1/proposals/{world.proposal_x.pk}/"

    shown = client.get(url).json()
    refused = post(client, f"{url}approve/", {})
    pending = fresh(world.proposal_x).status
    approved = post(client, f"{url}approve/", {"acknowledge_vetting_expiry": True})

    assert shown["vetting_expires_during_agreement"] is True
    assert shown["pairs"][0]["vetting_expires_on"] == expires.isoformat()
    assert refused.status_code == 400
    assert list(refused.json()) == ["acknowledge_vetting_expiry"]
    assert pending == Proposal.Status.PENDING
    assert approved.status_code == 201
    assert fresh(world.proposal_x).vetting_expiry_acknowledged_at is not None


def test_a_proposal_without_expiring_vetting_is_approved_without_acknowledgement(world, client_for):
    client = client_for("coord_x")

    shown = client.get(f"/api/v1/proposals/{world.proposal_x.pk}/").json()
    approved = post(client, f"/api/v1/proposals/{world.proposal_x.pk}/approve/")

    assert shown["vetting_expires_during_agreement"] is False
    assert (shown["replacement_for"], shown["pairs"][0]["vetting_expires_on"]) == (None, None)
    assert approved.status_code == 201
    assert approved.json()["status"] == Match.Status.AWAITING_AGREEMENT


def test_approving_a_rejected_proposal_is_a_409_saying_so(world, client_for):
    lifecycle.proposal_reject(world.proposal_x, by=world.users["coord_x"], reason="Too far.")

    response = post(
        client_for("coord_x"), f"/api/v1/proposals/{world.proposal_x.pk}/approve/", **EN
    )

    assert response.status_code == 409
    assert "rejected" in response.json()["detail"]


def test_approve_refuses_a_field_it_does_not_know(world, client_for):
    url = f"/api/v1/proposals/{world.proposal_x.pk}/approve/"

    response = post(client_for("coord_x"), url, {"acknowledge_vetting_expiry": True, "force": 1})

    assert response.status_code == 400
    assert list(response.json()) == ["force"]
    assert fresh(world.proposal_x).status == Proposal.Status.PENDING


# Ending a match early --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "requeue, referral_status, referral_closure",
    [(True, Referral.Status.WAITING, ""), (False, Referral.Status.CLOSED, "moved")],
)
def test_coordinator_ends_an_active_match_and_chooses_what_happens_to_the_referral(
    world, client_for, requeue, referral_status, referral_closure
):
    sign_world(world)
    body = {"reason": "moved", "note": "Flyttet til Bergen.", "requeue": requeue}

    response = post(client_for("coord_x"), f"/api/v1/matches/{world.match_x.pk}/end/", body, **EN)

    assert response.status_code == 200
    ended = response.json()
    assert (ended["status"], ended["closure_reason"]) == ("closed", "moved")
    assert (ended["status_display"], ended["closure_reason_display"]) == (
        "Ended",
        "Participant moved",
    )
    assert ended["ended_at"] is not None and ended["needs_replacement"] is False
    referral = fresh(world.match_x.referral)
    assert (referral.status, referral.closure_reason) == (referral_status, referral_closure)
    assert fresh(world.volunteer).commitments == 0


def test_ending_a_match_twice_is_a_409(world, client_for):
    client = client_for("coord_x")
    url = f"/api/v1/matches/{world.match_x.pk}/end/"

    first = post(client, url, {"reason": "participant_ended", "requeue": False})
    second = post(client, url, {"reason": "other", "requeue": True}, **EN)

    assert first.status_code == 200
    assert second.status_code == 409
    assert "already ended" in second.json()["detail"]
    assert fresh(world.match_x.referral).closure_reason == "participant_ended"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"reason": "moved"}, "requeue"),
        ({"reason": "completed", "requeue": True}, "reason"),
        ({"reason": "withdrawn", "requeue": True}, "reason"),
        ({"requeue": True}, "reason"),
        ({"reason": "moved", "requeue": True, "note": "x" * 301}, "note"),
        ({"reason": "moved", "requeue": True, "closure_reason": "moved"}, "closure_reason"),
    ],
)
def test_ending_a_match_names_what_is_wrong_with_the_request(world, client_for, body, field):
    response = post(client_for("coord_x"), f"/api/v1/matches/{world.match_x.pk}/end/", body)

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert fresh(world.match_x).is_open


def test_staff_can_read_a_match_but_only_its_coordinator_ends_it(world, client_for):
    url = f"/api/v1/matches/{world.match_x.pk}/"
    body = {"reason": "other", "requeue": True}

    assert client_for("staff_a").get(url).status_code == 200
    assert post(client_for("staff_a"), f"{url}end/", body).status_code == 403
    assert post(client_for("coord_y"), f"{url}end/", body).status_code == 404
    assert fresh(world.match_x).is_open


# Letting one volunteer go ----------------------------------------------------------------------


def test_releasing_one_of_two_volunteers_leaves_the_family_match_needing_a_replacement():
    match, staff, coordinator, first, second = family_match()
    match = agreement_signed(match, staff, coordinator, [first, second])
    body = {"volunteer": first.pk, "reason": "volunteer_ended", "note": "Ny jobb."}

    response = post(client_of(coordinator), f"/api/v1/matches/{match.pk}/release-volunteer/", body)

    assert response.status_code == 200
    shown = response.json()
    assert (shown["status"], shown["needs_replacement"]) == ("active", True)
    places = {place["volunteer"]: place for place in shown["volunteers"]}
    assert places[first.pk]["left_at"] is not None
    assert places[first.pk]["left_reason"] == "volunteer_ended"
    assert places[second.pk]["left_at"] is None
    assert (fresh(first).commitments, fresh(second).commitments) == (0, 1)


def test_releasing_the_only_volunteer_ends_the_match_and_the_referral_waits_again(
    world, client_for
):
    body = {"volunteer": world.volunteer.pk, "reason": "volunteer_ended"}

    response = post(
        client_for("coord_x"), f"/api/v1/matches/{world.match_x.pk}/release-volunteer/", body
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["closure_reason"]) == (
        "closed",
        "volunteer_ended",
    )
    assert fresh(world.match_x.referral).status == Referral.Status.WAITING


def test_releasing_a_volunteer_who_is_not_in_the_match_is_a_400_naming_volunteer(world, client_for):
    stranger = ready_volunteer(code="0151")
    body = {"volunteer": stranger.pk, "reason": "other"}

    response = post(
        client_for("coord_x"), f"/api/v1/matches/{world.match_x.pk}/release-volunteer/", body
    )

    assert response.status_code == 400
    assert list(response.json()) == ["volunteer"]
    assert fresh(world.match_x).is_open


def test_releasing_a_volunteer_who_already_left_is_a_409():
    match, _staff, coordinator, first, _second = family_match()
    lifecycle.agreement_decline(match.agreement, by=first.user, reason="Flytter.")
    body = {"volunteer": first.pk, "reason": "other"}

    response = post(
        client_of(coordinator), f"/api/v1/matches/{match.pk}/release-volunteer/", body, **EN
    )

    assert response.status_code == 409
    assert "already left" in response.json()["detail"]


# Searching for a replacement -------------------------------------------------------------------


@pytest.mark.usefixtures("eager_celery")
def test_a_replacement_search_is_polled_and_its_proposal_approved_into_the_same_match(
    django_capture_on_commit_callbacks,
):
    match, _staff, coordinator, first, second = family_match()
    lifecycle.agreement_decline(match.agreement, by=first.user, reason="Flytter.")
    newcomer = ready_volunteer("fritidsvenn", code="0152")
    client = client_of(coordinator)

    with django_capture_on_commit_callbacks(execute=True):
        started = post(client, f"/api/v1/matches/{match.pk}/replacement-search/")
    polled = client.get(started.headers["Location"]).json()
    proposal = client.get("/api/v1/proposals/", {"run": polled["id"]}).json()["results"][0]
    approved = post(client, f"/api/v1/proposals/{proposal['id']}/approve/")

    assert started.status_code == 202
    assert (started.json()["scope"], started.json()["match"]) == ("replacement", match.pk)
    assert (polled["status"], polled["proposals_made"]) == ("succeeded", 1)
    assert proposal["replacement_for"] == match.pk
    assert [pair["volunteer"] for pair in proposal["pairs"]] == [newcomer.pk]
    assert approved.status_code == 201
    assert approved.json()["id"] == match.pk and approved.json()["needs_replacement"] is False
    current = {p["volunteer"] for p in approved.json()["volunteers"] if p["left_at"] is None}
    assert current == {second.pk, newcomer.pk}


def test_a_replacement_search_for_a_match_that_misses_nobody_is_a_409(world, client_for):
    url = f"/api/v1/matches/{world.match_x.pk}/replacement-search/"

    response = post(client_for("coord_x"), url, **EN)

    assert response.status_code == 409
    assert "does not need a replacement" in response.json()["detail"]
    assert not MatchRun.objects.filter(scope=MatchRun.Scope.REPLACEMENT).exists()


# A volunteer asks to end -----------------------------------------------------------------------


def test_volunteer_asks_to_end_and_the_coordinator_sees_the_request(world, client_for):
    sign_world(world)
    body = {"reason": "volunteer_ended", "note": "Jeg har fått ny jobb."}

    asked = post(
        client_for("volunteer"), f"/api/v1/me/matches/{world.match_x.pk}/ask-to-end/", body
    )
    seen = client_for("coord_x").get(f"/api/v1/matches/{world.match_x.pk}/").json()

    assert asked.status_code == 200
    assert asked.json()["status"] == "active"
    assert asked.json()["place"]["end_request_reason"] == "volunteer_ended"
    assert asked.json()["participant"]["availability"] is not None
    assert seen["volunteers"][0]["end_requested_at"] is not None
    assert seen["volunteers"][0]["end_request_reason"] == "volunteer_ended"


def test_volunteer_sees_only_the_alias_after_asking_to_end_for_safety(world, client_for):
    sign_world(world)
    url = f"/api/v1/me/matches/{world.match_x.pk}/"
    client = client_for("volunteer")

    asked = post(client, f"{url}ask-to-end/", {"reason": "safety"})
    read_again = client.get(url).json()

    assert asked.status_code == 200
    for shown in (asked.json(), read_again):
        assert (shown["status"], shown["closure_reason"]) == ("closed", "safety")
        assert shown["participant"] == {
            "alias": world.match_x.referral.alias,
            "municipality": None,
            "municipality_name": None,
            "shared_languages": None,
            "availability": None,
        }
    assert fresh(world.match_x.referral).status == Referral.Status.WAITING


def test_the_other_volunteer_never_sees_why_their_partner_asked_to_end():
    match, staff, coordinator, first, second = family_match()
    match = agreement_signed(match, staff, coordinator, [first, second])
    post(
        client_of(first.user),
        f"/api/v1/me/matches/{match.pk}/ask-to-end/",
        {"reason": "volunteer_ended", "note": "Privat grunn."},
    )

    shown = client_of(second.user).get(f"/api/v1/me/matches/{match.pk}/").json()

    assert shown["place"]["end_requested_at"] is None
    assert "volunteers" not in shown
    assert "volunteer_ended" not in json.dumps(shown)
    assert "Privat" not in json.dumps(shown)


@pytest.mark.parametrize("reason", ["completed", "declined", "withdrawn", ""])
def test_asking_to_end_needs_one_of_the_offered_reasons(world, client_for, reason):
    url = f"/api/v1/me/matches/{world.match_x.pk}/ask-to-end/"

    response = post(client_for("volunteer"), url, {"reason": reason})

    assert response.status_code == 400
    assert list(response.json()) == ["reason"]
    assert fresh(world.match_x).volunteers.get().end_requested_at is None


def test_asking_to_end_a_match_you_already_left_is_a_409():
    match, _staff, _coordinator, first, _second = family_match()
    lifecycle.agreement_decline(match.agreement, by=first.user, reason="Flytter.")
    client = client_of(first.user)

    response = post(client, f"/api/v1/me/matches/{match.pk}/ask-to-end/", {"reason": "other"}, **EN)
    shown = client.get(f"/api/v1/me/matches/{match.pk}/").json()

    assert response.status_code == 409
    assert "no longer part" in response.json()["detail"]
    assert shown["place"]["left_reason"] == "declined"
    assert shown["participant"]["municipality"] is None


# Restarting a failed run -----------------------------------------------------------------------


def test_restarting_a_failed_run_answers_202_and_queues_it_again(world, client_for):
    MatchRun.objects.filter(pk=world.run_x.pk).update(
        status=MatchRun.Status.FAILED, error=MatchRun.STALE
    )
    client = client_for("coord_x")
    url = f"/api/v1/match-runs/{world.run_x.pk}/"

    failed = client.get(url, **EN).json()
    restarted = post(client, f"{url}restart/")

    assert failed["status_display"] == "Failed"
    assert "stopped reporting progress" in failed["failure_text"]
    assert restarted.status_code == 202
    assert restarted.headers["Location"] == url
    assert (restarted.json()["status"], restarted.json()["failure_text"]) == ("queued", None)


def test_restarting_a_run_that_did_not_fail_is_a_409(world, client_for):
    response = post(client_for("coord_x"), f"/api/v1/match-runs/{world.run_x.pk}/restart/", **EN)

    assert response.status_code == 409
    assert "failed" in response.json()["detail"]
    assert fresh(world.run_x).status == MatchRun.Status.QUEUED


# The agreement's signing order -----------------------------------------------------------------


def test_countersigning_before_the_volunteer_accepts_is_a_400_naming_what_is_missing(
    world, client_for
):
    url = f"/api/v1/agreements/{world.agreement_x.pk}/countersign/"

    response = post(client_for("coord_x"), url, **EN)

    assert response.status_code == 400
    message = response.json()["agreement"][0]
    assert str(world.volunteer) in message and "consent" in message
    assert fresh(world.agreement_x).countersigned_at is None


@pytest.mark.parametrize(
    "role, step, body",
    [
        ("volunteer", "accept", None),
        ("volunteer", "decline", {"reason": "For sent."}),
        ("staff_a", "consent", None),
        ("coord_x", "countersign", None),
    ],
)
def test_every_agreement_step_on_an_ended_match_is_a_409(world, client_for, role, step, body):
    lifecycle.match_end(world.match_x, by=world.users["coord_x"], reason="other", requeue=True)

    response = post(client_for(role), f"/api/v1/agreements/{world.agreement_x.pk}/{step}/", body)

    assert response.status_code == 409
    assert fresh(world.agreement_x).countersigned_at is None


def test_the_agreement_counts_only_the_volunteers_still_in_the_match():
    match, _staff, coordinator, first, second = family_match()
    lifecycle.agreement_accept(match.agreement, by=second.user)
    lifecycle.agreement_decline(match.agreement, by=first.user, reason="Flytter.")

    shown = client_of(coordinator).get(f"/api/v1/agreements/{match.agreement.pk}/").json()

    assert (shown["volunteers_needed"], shown["volunteers_accepted"]) == (2, 1)
    assert (shown["match_status"], shown["needs_replacement"]) == ("awaiting_agreement", True)


# Referrals: accepting into the queue and withdrawing -------------------------------------------


def test_accepting_a_referral_that_is_not_submitted_is_a_400_in_words(world, client_for):
    response = post(client_for("coord_x"), f"/api/v1/referrals/{world.waiting_x.pk}/accept/", **EN)

    assert response.status_code == 400
    message = response.json()["status"][0]
    assert world.waiting_x.alias in message and "match proposed" in message
    assert fresh(world.waiting_x).status == Referral.Status.PROPOSED


def test_the_sites_coordinator_withdraws_a_matched_referral_and_its_match_ends(world, client_for):
    referral = world.match_x.referral
    body = {"reason": "help_elsewhere", "note": "Får hjelp i kommunen."}

    response = post(client_for("coord_x"), f"/api/v1/referrals/{referral.pk}/withdraw/", body, **EN)

    assert response.status_code == 200
    shown = response.json()
    assert (shown["status"], shown["status_display"]) == ("withdrawn", "Withdrawn")
    assert shown["withdrawal_reason"] == "help_elsewhere"
    assert shown["withdrawal_reason_display"] == "The participant gets help elsewhere"
    match = fresh(world.match_x)
    assert (match.status, match.closure_reason) == ("closed", "withdrawn")


@pytest.mark.parametrize(
    "body, field",
    [({}, "reason"), ({"reason": "bored"}, "reason"), ({"reason": "other", "why": "x"}, "why")],
)
def test_withdrawing_names_what_is_wrong_with_the_request(world, client_for, body, field):
    url = f"/api/v1/referrals/{world.referral_x.pk}/withdraw/"

    response = post(client_for("staff_a"), url, body)

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert fresh(world.referral_x).status == Referral.Status.SUBMITTED


def test_withdrawing_a_withdrawn_referral_is_a_400_on_status(world, client_for):
    url = f"/api/v1/referrals/{world.referral_x.pk}/withdraw/"
    client = client_for("staff_a")

    post(client, url, {"reason": "mistake"})
    again = post(client, url, {"reason": "other"})

    assert again.status_code == 400
    assert list(again.json()) == ["status"]
    assert fresh(world.referral_x).withdrawal_reason == "mistake"


# Who may do what -------------------------------------------------------------------------------

NOT_ALLOWED = dict.fromkeys(ROLES, 403) | {"anonymous": 401}


def allowed(**codes: int) -> dict[str, int]:
    return NOT_ALLOWED | codes


OPERATIONS = {
    "approve": (
        "/api/v1/proposals/{w.proposal_x.pk}/approve/",
        lambda w: {"acknowledge_vetting_expiry": False},
        allowed(coord_x=201, admin=201, coord_y=404),
    ),
    "end": (
        "/api/v1/matches/{w.match_x.pk}/end/",
        lambda w: {"reason": "other", "requeue": True},
        allowed(coord_x=200, admin=200, coord_y=404),
    ),
    "release-volunteer": (
        "/api/v1/matches/{w.match_x.pk}/release-volunteer/",
        lambda w: {"volunteer": w.volunteer.pk, "reason": "volunteer_ended"},
        allowed(coord_x=200, admin=200, coord_y=404),
    ),
    # The world's match misses nobody: a role that may search gets as far as the 409.
    "replacement-search": (
        "/api/v1/matches/{w.match_x.pk}/replacement-search/",
        lambda w: None,
        allowed(coord_x=409, admin=409, coord_y=404),
    ),
    "ask-to-end": (
        "/api/v1/me/matches/{w.match_x.pk}/ask-to-end/",
        lambda w: {"reason": "other"},
        allowed(volunteer=200),
    ),
    # The world's run is queued, not failed.
    "restart": (
        "/api/v1/match-runs/{w.run_x.pk}/restart/",
        lambda w: None,
        allowed(coord_x=409, admin=409, coord_y=404),
    ),
    "withdraw": (
        "/api/v1/referrals/{w.referral_x.pk}/withdraw/",
        lambda w: {"reason": "mistake"},
        allowed(staff_a=200, coord_x=200, admin=200, staff_b=404, coord_y=404),
    ),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_each_lifecycle_step_answers_each_role_as_allowed(world, client_for, operation, role):
    path, body, codes = OPERATIONS[operation]

    response = post(client_for(role), path.format(w=world), body(world))

    assert response.status_code == codes[role], response.content


# Reading in a constant number of queries -------------------------------------------------------


def another_match(world) -> Match:
    referral = proposed_referral(world.site_x, languages=["ar"])
    volunteer = ready_volunteer(organisation=world.site_x.organisation, code="0151")
    proposal = proposal_for(world.run_x, referral, volunteer)
    return lifecycle.proposal_approve(proposal, by=world.users["coord_x"])


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "role, url",
    [
        ("coord_x", "/api/v1/matches/"),
        ("staff_a", "/api/v1/matches/"),
        ("coord_x", "/api/v1/proposals/"),
        ("coord_x", "/api/v1/agreements/"),
        ("coord_x", "/api/v1/referrals/"),
        ("coord_x", "/api/v1/match-runs/"),
        ("volunteer", "/api/v1/me/matches/"),
    ],
)
def test_lists_read_in_a_constant_number_of_queries(world, client_for, role, url):
    client = client_for(role)
    client.get(url)
    before = queries_for(client, url)

    another_match(world)
    another_match(world)
    lifecycle.proposal_approve(world.proposal_x, by=world.users["coord_x"])

    assert queries_for(client, url) == before
