"""The portal's side of a match's lifecycle: the coordinator's match page (end it, let one
volunteer go, find a replacement), a volunteer asking to end, the agreement's state and signing
order, vetting that runs out during the agreement, and runs that failed."""

import datetime
import html
import re

import pytest
from django.utils import timezone
from django.utils.formats import date_format

from matching import lifecycle
from matching.models import Match, MatchRun, Proposal, ProposalPair
from programmes.models import Referral, VettingKind
from tests.auth import login_verified
from tests.matching.factories import (
    MatchRunFactory,
    ProposalFactory,
    pending_proposal,
    ready_volunteer,
    site_with_people,
)
from volunteers.models import VettingRecord

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english_pages(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


def approved(programme_slug="ressursvenn", volunteers=1):
    site, staff, coordinator = site_with_people(programme_slug)
    people = [
        ready_volunteer(programme_slug, code="5003", organisation=site.organisation)
        for _ in range(volunteers)
    ]
    proposal = pending_proposal(site, coordinator, people)
    match = lifecycle.proposal_approve(proposal, by=coordinator)
    return match, staff, coordinator, people


def active(programme_slug="ressursvenn", volunteers=1):
    match, staff, coordinator, people = approved(programme_slug, volunteers)
    for volunteer in people:
        lifecycle.agreement_accept(match.agreement, by=volunteer.user)
    lifecycle.agreement_record_consent(match.agreement, by=staff)
    lifecycle.agreement_countersign(match.agreement, by=coordinator)
    match.refresh_from_db()
    return match, staff, coordinator, people


def visible_text(response) -> str:
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(text))


def test_the_match_page_names_the_volunteers_and_whom_the_agreement_waits_for(client):
    match, _staff, coordinator, (volunteer,) = approved()
    login_verified(client, coordinator)

    text = visible_text(client.get(f"/coordinator/matches/{match.pk}/"))

    assert f"Awaiting: {volunteer} to accept" in text
    assert "the crisis centre to record the participant's consent" in text
    assert re.search(rf"{volunteer}\s*, {volunteer.municipality.name}: not yet accepted", text)


def test_the_coordinator_ends_a_match_and_the_referral_waits_for_someone_new(client):
    match, _staff, coordinator, (volunteer,) = active()
    login_verified(client, coordinator)

    response = client.post(
        f"/coordinator/matches/{match.pk}/end/",
        {"end-reason": "volunteer_ended", "end-note": "", "end-next_step": "requeue"},
    )

    assert response.status_code == 302
    match.refresh_from_db()
    assert (match.status, match.closure_reason) == (Match.Status.CLOSED, "volunteer_ended")
    assert Referral.objects.get(pk=match.referral_id).status == Referral.Status.WAITING
    volunteer.refresh_from_db()
    assert volunteer.commitments == 0
    assert "Ended on" in visible_text(client.get(f"/coordinator/matches/{match.pk}/"))


def test_ending_a_match_without_choosing_what_happens_next_changes_nothing(client):
    match, _staff, coordinator, _people = active()
    login_verified(client, coordinator)

    response = client.post(
        f"/coordinator/matches/{match.pk}/end/", {"end-reason": "moved", "end-note": ""}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_end-next_step_error"' in page
    assert 'aria-describedby="id_end-next_step_error"' in page
    assert Match.objects.get(pk=match.pk).status == Match.Status.ACTIVE


def test_the_coordinator_ends_a_match_and_closes_the_referral(client):
    match, _staff, coordinator, _people = active()
    login_verified(client, coordinator)

    client.post(
        f"/coordinator/matches/{match.pk}/end/",
        {"end-reason": "participant_ended", "end-next_step": "close"},
    )

    referral = Referral.objects.get(pk=match.referral_id)
    assert (referral.status, referral.closure_reason) == ("closed", "participant_ended")


def test_another_sites_coordinator_and_the_centre_cannot_open_the_match_page(client):
    match, staff, _coordinator, _people = approved()
    _site, _other_staff, other_coordinator = site_with_people(name="Bergen")
    login_verified(client, other_coordinator)
    assert client.get(f"/coordinator/matches/{match.pk}/").status_code == 404
    login_verified(client, staff)
    assert client.get(f"/coordinator/matches/{match.pk}/").status_code == 404


def test_a_volunteer_who_asks_to_end_for_safety_ends_the_match_at_once(client):
    match, _staff, _coordinator, (volunteer,) = active()
    municipality = match.referral.municipality.name
    client.force_login(volunteer.user)
    url = f"/agreements/{match.agreement.pk}/"
    assert "Ask to end my part" in client.get(url).content.decode()

    response = client.post(f"{url}ask-to-end/", {"end-reason": "safety", "end-note": ""})

    assert response.status_code == 302
    match.refresh_from_db()
    assert (match.status, match.closure_reason) == (Match.Status.CLOSED, "safety")
    assert Referral.objects.get(pk=match.referral_id).status == Referral.Status.WAITING
    text = visible_text(client.get(url))
    assert match.referral.alias in text and municipality not in text
    assert "Terms" not in text and "Ask to end my part" not in text


def test_asking_to_end_without_a_reason_is_refused_next_to_the_field(client):
    match, _staff, _coordinator, (volunteer,) = active()
    client.force_login(volunteer.user)

    response = client.post(f"/agreements/{match.agreement.pk}/ask-to-end/", {"end-note": "x"})

    assert response.status_code == 400
    assert 'id="id_end-reason_error">Choose a reason.<' in response.content.decode()
    assert match.volunteers.get().end_requested_at is None


def test_ending_a_match_that_already_ended_says_so_instead_of_failing(client):
    match, _staff, coordinator, _people = active()
    lifecycle.match_end(match, by=coordinator, reason="moved", requeue=True)
    login_verified(client, coordinator)

    response = client.post(
        f"/coordinator/matches/{match.pk}/end/",
        {"end-reason": "other", "end-next_step": "close"},
        follow=True,
    )

    assert "This match has already ended." in visible_text(response)
    assert Referral.objects.get(pk=match.referral_id).status == Referral.Status.WAITING


def test_a_volunteer_asks_to_end_and_the_coordinator_lets_them_go(client):
    match, _staff, coordinator, (first, second) = active("fritidsvenn", volunteers=2)
    client.force_login(first.user)
    client.post(
        f"/agreements/{match.agreement.pk}/ask-to-end/",
        {"end-reason": "volunteer_ended", "end-note": "Ny jobb"},
    )
    assert Match.objects.get(pk=match.pk).status == Match.Status.ACTIVE

    login_verified(client, coordinator)
    dashboard = visible_text(client.get("/coordinator/"))
    assert f"{first}, " in dashboard and "“I can no longer take part”" in dashboard
    place = match.volunteers.get(volunteer=first)
    match_page = client.get(f"/coordinator/matches/{match.pk}/")
    assert "Ny jobb" in visible_text(match_page)
    chosen = rf'name="release-{place.pk}-reason" value="volunteer_ended"[^>]*checked'
    assert re.search(chosen, match_page.content.decode())

    response = client.post(
        f"/coordinator/matches/{match.pk}/volunteers/{place.pk}/release/",
        {f"release-{place.pk}-reason": "volunteer_ended"},
    )

    assert response.status_code == 302
    match.refresh_from_db()
    assert match.is_open and match.needs_replacement
    text = visible_text(client.get(f"/coordinator/matches/{match.pk}/"))
    assert "Needs a replacement volunteer." in text
    assert re.search(rf"{first}\s*, {first.municipality.name}: accepted", text)
    assert "left on" in text
    client.force_login(second.user)
    assert "needs a replacement volunteer" in visible_text(client.get("/"))


def test_the_dashboard_lists_matches_that_need_a_replacement_volunteer(client):
    match, _staff, coordinator, (first, _second) = approved("fritidsvenn", volunteers=2)
    lifecycle.agreement_decline(match.agreement, by=first.user, reason="Flytter")
    login_verified(client, coordinator)

    response = client.get("/coordinator/")

    assert [m.pk for m in response.context["needing_replacement"]] == [match.pk]
    assert f'href="/coordinator/matches/{match.pk}/"' in response.content.decode()


def test_finding_a_replacement_starts_a_one_place_search_for_that_match(client):
    match, _staff, coordinator, (first, _second) = approved("fritidsvenn", volunteers=2)
    lifecycle.agreement_decline(match.agreement, by=first.user, reason="Flytter")
    login_verified(client, coordinator)
    assert (
        "Find a replacement volunteer"
        in client.get(f"/coordinator/matches/{match.pk}/").content.decode()
    )

    response = client.post(f"/coordinator/matches/{match.pk}/replacement/")

    run = MatchRun.objects.get(match=match)
    assert run.scope == MatchRun.Scope.REPLACEMENT
    assert response.url == f"/coordinator/runs/{run.pk}/"


def test_a_replacement_proposal_names_the_volunteer_who_stays(client):
    match, _staff, coordinator, (first, second) = approved("fritidsvenn", volunteers=2)
    lifecycle.agreement_decline(match.agreement, by=first.user, reason="Flytter")
    run = MatchRunFactory(
        match=match,
        scope=MatchRun.Scope.REPLACEMENT,
        started_by=coordinator,
        status=MatchRun.Status.SUCCEEDED,
    )
    newcomer = ready_volunteer("fritidsvenn", code="0160")
    proposal = ProposalFactory(run=run, referral=match.referral, replacement_for=match)
    ProposalPair.objects.create(
        proposal=proposal,
        volunteer=newcomer,
        distance_km=2.0,
        overlap_hours=2.0,
        shared_languages=["ar"],
        cost=-1.0,
    )
    login_verified(client, coordinator)

    text = visible_text(client.get(f"/coordinator/runs/{run.pk}/"))

    assert f"Replacement volunteer for {match.referral.alias}, joining {second}" in text


def test_the_countersign_button_waits_for_consent_and_every_acceptance(client):
    match, staff, coordinator, (first, second) = approved("fritidsvenn", volunteers=2)
    url = f"/agreements/{match.agreement.pk}/"
    countersign = f'action="{url}countersign/"'
    login_verified(client, coordinator)
    assert countersign not in client.get(url).content.decode()

    lifecycle.agreement_accept(match.agreement, by=first.user)
    lifecycle.agreement_record_consent(match.agreement, by=staff)
    page = client.get(url)
    assert countersign not in page.content.decode()
    assert f"Still waiting for: {second} to accept." in visible_text(page)

    lifecycle.agreement_accept(match.agreement, by=second.user)
    assert countersign in client.get(url).content.decode()


def test_the_agreement_page_says_its_state_and_keeps_the_print_button_when_active(client):
    match, _staff, coordinator, _people = active()
    login_verified(client, coordinator)

    response = client.get(f"/agreements/{match.agreement.pk}/")

    today = date_format(timezone.localdate(), "SHORT_DATE_FORMAT")
    assert f"Active since {today}." in visible_text(response)
    assert "data-print" in response.content.decode()


def test_a_volunteer_who_declined_sees_only_the_alias_and_the_other_sees_who_left(client):
    match, _staff, _coordinator, (first, second) = approved("fritidsvenn", volunteers=2)
    lifecycle.agreement_decline(match.agreement, by=first.user, reason="Flytter")
    url = f"/agreements/{match.agreement.pk}/"

    client.force_login(first.user)
    text = visible_text(client.get(url))
    assert "You left this match on" in text
    assert match.referral.municipality.name not in text and "Signatures" not in text

    client.force_login(second.user)
    text = visible_text(client.get(url))
    assert "Needs a replacement volunteer." in text
    assert f"{first}: left on" in text and "The volunteer declined the agreement" in text


def expiring_proposal(site, coordinator):
    volunteer = ready_volunteer(organisation=site.organisation)
    soon = timezone.localdate() + datetime.timedelta(days=60)
    VettingRecord.objects.filter(volunteer=volunteer, kind=VettingKind.POLITIATTEST).update(
        expires_on=soon
    )
    proposal = pending_proposal(site, coordinator, [volunteer])
    proposal.pairs.update(vetting_expires_on=soon)
    return proposal, volunteer, soon


def test_approving_a_proposal_whose_vetting_runs_out_needs_the_acknowledgement(client):
    site, _staff, coordinator = site_with_people()
    proposal, volunteer, soon = expiring_proposal(site, coordinator)
    login_verified(client, coordinator)
    run_page = f"/coordinator/runs/{proposal.run_id}/"
    warning = f"The vetting of {volunteer} runs out on {date_format(soon, 'SHORT_DATE_FORMAT')}"
    assert warning in visible_text(client.get(run_page))

    refused = client.post(f"/coordinator/proposals/{proposal.pk}/approve/")

    assert refused.status_code == 400
    assert f'id="ack-{proposal.pk}-error"' in refused.content.decode()
    assert "Confirm that you know and will follow up the renewal" in visible_text(refused)
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.PENDING

    client.post(
        f"/coordinator/proposals/{proposal.pk}/approve/", {"acknowledge_vetting_expiry": "on"}
    )
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.APPROVED
    assert proposal.vetting_expiry_acknowledged_at is not None


def failed_run(site, coordinator, **fields):
    return MatchRunFactory(site=site, started_by=coordinator, **fields)


def test_a_failed_run_says_why_and_can_be_started_again(client):
    site, _staff, coordinator = site_with_people()
    run = failed_run(site, coordinator, status=MatchRun.Status.FAILED, error=MatchRun.STALE)
    login_verified(client, coordinator)
    page = client.get(f"/coordinator/runs/{run.pk}/")
    assert "The run stopped reporting progress" in visible_text(page)
    assert f'action="/coordinator/runs/{run.pk}/restart/"' in page.content.decode()

    client.post(f"/coordinator/runs/{run.pk}/restart/")

    run.refresh_from_db()
    assert (run.status, run.error) == (MatchRun.Status.QUEUED, "")


def test_a_run_whose_worker_died_is_shown_as_failed(client):
    site, _staff, coordinator = site_with_people()
    long_ago = timezone.now() - datetime.timedelta(hours=2)
    run = failed_run(site, coordinator, status=MatchRun.Status.RUNNING, heartbeat_at=long_ago)
    login_verified(client, coordinator)

    text = visible_text(client.get("/coordinator/"))

    assert MatchRun.objects.get(pk=run.pk).status == MatchRun.Status.FAILED
    assert "Failed" in text


RAW_CODES = (
    "awaiting_agreement",
    "needs_replacement",
    "volunteer_ended",
    "participant_ended",
    "withdrawn",
    "proposed",
    "declined",
)
ENGLISH = ("Awaiting", "Needs a replacement", "Active since", "Match for", "End the match")


def test_the_bokmal_pages_show_words_not_codes_or_english(client):
    match, staff, coordinator, (first, second) = approved("fritidsvenn", volunteers=2)
    lifecycle.agreement_decline(match.agreement, by=first.user, reason="Flytter")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "nb"
    pages = {
        coordinator: [
            "/",
            "/coordinator/",
            f"/coordinator/matches/{match.pk}/",
            f"/coordinator/runs/{match.proposal.run_id}/",
            f"/agreements/{match.agreement.pk}/",
        ],
        staff: ["/", "/referrals/", f"/agreements/{match.agreement.pk}/"],
        second.user: ["/", f"/agreements/{match.agreement.pk}/"],
        first.user: ["/", f"/agreements/{match.agreement.pk}/"],
    }
    found = []
    for user, paths in pages.items():
        login_verified(client, user)
        for path in paths:
            text = visible_text(client.get(path))
            found += [(path, word) for word in RAW_CODES + ENGLISH if word in text]
    assert found == []
