"""Reviewing a run's proposals on its page: a row per proposal with the explanation in words,
approval and rejection in the row, and approval of the rows a coordinator ticks, each approved
or left as it was, with why in plain words. Messages are asserted in English; the explanation
also in bokmål, the pages' first language."""

import html
import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.formats import date_format

from demo.builder import COORDINATORS_GROUP, DemoBuilder
from matching import lifecycle
from matching.models import Match, MatchRun, Proposal, ProposalPair, RejectedPair
from programmes.models import Referral
from tests.auth import login_verified
from tests.matching.factories import (
    MatchRunFactory,
    ProposalFactory,
    ready_volunteer,
    site_with_people,
    waiting_referral,
)
from volunteers.models import Volunteer

pytestmark = pytest.mark.django_db


def run_with_proposals(site, coordinator, count: int, **run_fields) -> tuple[MatchRun, list]:
    """A finished run (of ``site`` unless ``run_fields`` say otherwise) proposing one new
    volunteer, 12 km away, for each of ``count`` waiting referrals of ``site``, which the run has
    moved to proposed. The proposals come in alias order."""
    run_fields.setdefault("site", site)
    run = MatchRunFactory(started_by=coordinator, status=MatchRun.Status.SUCCEEDED, **run_fields)
    proposals = []
    for _ in range(count):
        referral = waiting_referral(site, languages=["ar", "so"], volunteer_gender="female")
        proposal = ProposalFactory(run=run, referral=referral)
        ProposalPair.objects.create(
            proposal=proposal,
            volunteer=ready_volunteer(organisation=site.organisation),
            distance_km=12.0,
            overlap_hours=2.0,
            shared_languages=["ar"],
            cost=-4.0,
        )
        proposals.append(proposal)
    with transaction.atomic():  # it locks the referrals, as a run does
        lifecycle.referrals_propose([proposal.referral_id for proposal in proposals])
    return run, sorted(proposals, key=lambda proposal: proposal.referral.alias)


def visible_text(response) -> str:
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(text))


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def desk(client):
    """A coordinator at a Ressursvenn site, signed in, reading in English."""
    site, staff, coordinator = site_with_people()
    login_verified(client, coordinator)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.site, client.staff, client.coordinator = site, staff, coordinator
    return client


def status_of(proposal) -> str:
    return Proposal.objects.get(pk=proposal.pk).status


def test_a_run_is_named_by_its_site_and_when_it_started_not_by_a_number(desk):
    run, _proposals = run_with_proposals(desk.site, desk.coordinator, 1)
    desk.defaults["HTTP_ACCEPT_LANGUAGE"] = "nb"
    with translation.override("nb"):  # as the dashboard's list says it: "30. nov. 2026 kl. 12:00"
        started = date_format(timezone.localtime(run.created_at), "SHORT_DATETIME_FORMAT")

    page = desk.get(f"/coordinator/runs/{run.pk}/").content.decode()
    dashboard = desk.get("/coordinator/").content.decode()

    heading = re.search(r"<h1[^>]*>(.*?)</h1>", page).group(1)
    assert heading == f"Koblingsrunde: {html.escape(str(desk.site))}, {started}"
    assert f"<title>Koblingsrunde: {html.escape(str(desk.site))}, {started} – Kobling" in page
    assert f"{html.escape(str(desk.site))}, {started}</a>" in dashboard


def test_each_proposal_is_a_row_explained_in_bokmal_words(desk):
    run, (proposal,) = run_with_proposals(desk.site, desk.coordinator, 1)
    volunteer = proposal.pairs.get().volunteer
    desk.defaults["HTTP_ACCEPT_LANGUAGE"] = "nb"

    response = desk.get(f"/coordinator/runs/{run.pk}/")

    page, text = response.content.decode(), visible_text(response)
    assert f'<tr class="proposal" id="proposal-{proposal.pk}">' in page
    assert f'href="/referrals/{proposal.referral_id}/"' in page
    assert f'href="/coordinator/volunteers/{volunteer.pk}/"' in page
    assert "12 km unna, snakker arabisk som morsmål, 2 timer felles tid i uka" in text
    assert "Språk arabisk, somali" in text
    assert "Ønsket kjønn på frivillig Kvinne" in text
    assert "Lengste reiseavstand programmets standard, 40 km" in text
    assert "Arabic" not in text and "Female" not in text and "ar, so" not in text


def test_the_english_page_names_the_same_languages_in_english(desk):
    run, _proposals = run_with_proposals(desk.site, desk.coordinator, 1)

    text = visible_text(desk.get(f"/coordinator/runs/{run.pk}/"))

    assert "12 km away, speaks Arabic as a native language, 2 hours a week in common" in text
    assert "Languages Arabic, Somali" in text and "Preferred volunteer gender Female" in text


def test_a_coordinator_approves_one_proposal_with_the_button_in_its_row(desk):
    run, (first, second) = run_with_proposals(desk.site, desk.coordinator, 2)
    alias = first.referral.alias
    page = desk.get(f"/coordinator/runs/{run.pk}/").content.decode()
    assert f'aria-label="Approve the match for {alias}">Approve</button>' in page

    response = desk.post(f"/coordinator/proposals/{first.pk}/approve/", follow=True)

    assert messages_of(response) == [f"Proposal for {alias} is saved."]
    assert Match.objects.get().proposal == first
    assert status_of(second) == Proposal.Status.PENDING
    text = visible_text(response)
    assert "Approved" in text and f"Match for {alias}" in text


def test_the_reason_box_waits_in_a_closed_panel_and_a_rejection_keeps_its_reason(desk):
    run, (proposal,) = run_with_proposals(desk.site, desk.coordinator, 1)
    page = desk.get(f"/coordinator/runs/{run.pk}/").content.decode()
    assert '<details class="ds-details run-reject">' in page

    desk.post(f"/coordinator/proposals/{proposal.pk}/reject/", {"reason": "Kjenner hverandre"})

    proposal.refresh_from_db()
    assert (proposal.status, proposal.rejection_reason) == (
        Proposal.Status.REJECTED,
        "Kjenner hverandre",
    )
    assert RejectedPair.objects.filter(referral=proposal.referral).count() == 1
    assert Referral.objects.get(pk=proposal.referral_id).status == Referral.Status.WAITING
    text = visible_text(desk.get(f"/coordinator/runs/{run.pk}/"))
    assert "Rejected" in text and "Reason: Kjenner hverandre" in text


def test_a_rejection_without_a_reason_opens_the_panel_with_the_message_beside_the_box(desk):
    _run, (proposal,) = run_with_proposals(desk.site, desk.coordinator, 1)

    response = desk.post(f"/coordinator/proposals/{proposal.pk}/reject/", {"reason": "  "})

    assert response.status_code == 400
    page = response.content.decode()
    assert '<details class="ds-details run-reject" open>' in page
    assert f'aria-describedby="reason-{proposal.pk}-error"' in page
    assert "Why reject? Give a reason." in visible_text(response)
    assert status_of(proposal) == Proposal.Status.PENDING


def test_approving_three_selected_approves_two_and_says_why_the_withdrawn_one_was_not(desk):
    run, (first, withdrawn, third) = run_with_proposals(desk.site, desk.coordinator, 3)
    lifecycle.referral_withdraw(
        withdrawn.referral,
        by=desk.staff,
        reason=Referral.WithdrawalReason.PARTICIPANT_DECLINED,
    )
    page = desk.get(f"/coordinator/runs/{run.pk}/").content.decode()
    assert 'form="approve-selected"' in page and "Approve selected" in page

    response = desk.post(
        f"/coordinator/runs/{run.pk}/approve-selected/",
        {"proposals": [first.pk, withdrawn.pk, third.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert messages_of(response) == [
        f"2 proposals approved: {first.referral.alias}, {third.referral.alias}.",
        f"{withdrawn.referral.alias} was not approved. The referral was withdrawn in the "
        "meantime: the participant no longer wants it.",
    ]
    assert {match.proposal_id for match in Match.objects.all()} == {first.pk, third.pk}
    assert status_of(withdrawn) == Proposal.Status.WITHDRAWN


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_one_proposal_whose_referral_was_withdrawn_says_so_not_someone_else(desk, decision):
    _run, (proposal,) = run_with_proposals(desk.site, desk.coordinator, 1)
    lifecycle.referral_withdraw(
        proposal.referral,
        by=desk.staff,
        reason=Referral.WithdrawalReason.PARTICIPANT_DECLINED,
    )

    response = desk.post(
        f"/coordinator/proposals/{proposal.pk}/{decision}/",
        {"reason": "Bor for langt unna"},
        follow=True,
    )

    assert messages_of(response) == [
        "The referral was withdrawn in the meantime: the participant no longer wants it."
    ]
    assert not Match.objects.exists() and status_of(proposal) == Proposal.Status.WITHDRAWN


def test_the_back_office_approves_selected_proposals_with_the_same_words(desk):
    """The admin's bulk action is the run page's: the same service, the same messages."""
    _run, (first, withdrawn) = run_with_proposals(desk.site, desk.coordinator, 2)
    desk.coordinator.is_staff = True
    desk.coordinator.save()
    desk.coordinator.groups.add(DemoBuilder(seed=1).ensure_groups()[COORDINATORS_GROUP])
    lifecycle.referral_withdraw(
        withdrawn.referral, by=desk.staff, reason=Referral.WithdrawalReason.PARTICIPANT_DECLINED
    )

    response = desk.post(
        "/admin/matching/proposal/",
        {"action": "approve", "_selected_action": [first.pk, withdrawn.pk], "index": 0},
        follow=True,
    )

    assert messages_of(response) == [
        f"1 proposal approved: {first.referral.alias}.",
        f"{withdrawn.referral.alias} was not approved. The referral was withdrawn in the "
        "meantime: the participant no longer wants it.",
    ]
    assert [match.proposal_id for match in Match.objects.all()] == [first.pk]


def test_a_selected_proposal_whose_volunteer_stopped_is_left_whole_and_named(desk):
    run, (first, second) = run_with_proposals(desk.site, desk.coordinator, 2)
    paused = second.pairs.get().volunteer
    Volunteer.objects.filter(pk=paused.pk).update(status=Volunteer.Status.PAUSED)

    response = desk.post(
        f"/coordinator/runs/{run.pk}/approve-selected/",
        {"proposals": [first.pk, second.pk]},
        follow=True,
    )

    assert messages_of(response) == [
        f"1 proposal approved: {first.referral.alias}.",
        f"{second.referral.alias} was not approved. {paused} is no longer active.",
    ]
    # Nothing of the refused approval stays: no match, no capacity taken, still proposed.
    assert status_of(second) == Proposal.Status.PENDING
    assert not Match.objects.filter(proposal=second).exists()
    assert Volunteer.objects.get(pk=paused.pk).commitments == 0
    assert Referral.objects.get(pk=second.referral_id).status == Referral.Status.PROPOSED


def test_approving_with_nothing_selected_says_what_to_do(desk):
    run, (proposal,) = run_with_proposals(desk.site, desk.coordinator, 1)

    response = desk.post(f"/coordinator/runs/{run.pk}/approve-selected/", {}, follow=True)

    assert response.status_code == 200
    assert messages_of(response) == [
        "Tick the proposals to approve first, then press “Approve selected”."
    ]
    assert status_of(proposal) == Proposal.Status.PENDING


def test_someone_elses_run_stays_out_of_reach(desk):
    run, (proposal,) = run_with_proposals(desk.site, desk.coordinator, 1)
    _other_site, _other_staff, other_coordinator = site_with_people(name="Bergen")
    approve_selected = f"/coordinator/runs/{run.pk}/approve-selected/"

    login_verified(desk, other_coordinator)
    assert desk.post(approve_selected, {"proposals": [proposal.pk]}).status_code == 404
    login_verified(desk, desk.staff)
    assert desk.post(approve_selected, {"proposals": [proposal.pk]}).status_code == 403
    assert desk.get(f"/coordinator/runs/{run.pk}/").status_code == 403
    desk.force_login(proposal.pairs.get().volunteer.user)
    assert desk.post(approve_selected, {"proposals": [proposal.pk]}).status_code == 403

    assert status_of(proposal) == Proposal.Status.PENDING


def test_a_programme_run_does_not_let_a_coordinator_approve_another_sites_proposal(desk):
    other_site, _staff, other_coordinator = site_with_people(name="Bergen")
    programme_wide = {"scope": MatchRun.Scope.PROGRAMME, "programme": desk.site.programme}
    run, (theirs,) = run_with_proposals(other_site, other_coordinator, 1, **programme_wide)
    MatchRun.objects.filter(pk=run.pk).update(site=None)  # seen by every site's coordinators

    response = desk.post(
        f"/coordinator/runs/{run.pk}/approve-selected/", {"proposals": [theirs.pk]}
    )

    assert response.status_code == 403
    assert status_of(theirs) == Proposal.Status.PENDING


def queries_to_show(client, run) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/coordinator/runs/{run.pk}/").status_code == 200
    return len(queries)


def test_the_run_page_costs_the_same_queries_for_3_and_30_proposals(desk):
    small, _few = run_with_proposals(desk.site, desk.coordinator, 3)
    large, _many = run_with_proposals(desk.site, desk.coordinator, 30)
    desk.get(f"/coordinator/runs/{small.pk}/")  # warm the session and caches

    assert queries_to_show(desk, large) == queries_to_show(desk, small)
