"""Random sequences of every lifecycle step, through the API, on both programmes (issue 11, "How
we will know"). Crisis-centre staff submit and withdraw referrals; coordinators accept them, run
the matching, review proposals, countersign, end matches, let volunteers go and search for
replacements; volunteers accept, decline and ask to end; vetting runs out; the daily task closes
matches whose period is over. Many steps are aimed at objects in a state that does not fit (an
approved proposal approved again, a withdrawn referral accepted, a countersignature too early, a
decline after the withdrawal, an ended match ended again).

After every step every invariant of matching/lifecycle.py holds; no request answers 500; a refused
request answers 400, 403, 404 or 409 with a message in words and changes nothing.
"""

import datetime
import json
import os
import re
import time
from collections import Counter
from dataclasses import dataclass

import pytest
from dateutil.relativedelta import relativedelta
from django.core.cache import cache
from django.db import transaction
from django.urls import Resolver404, resolve
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from rest_framework.test import APIClient

from matching import agreements, followup, lifecycle
from matching.models import Agreement, Match, MatchVolunteer, Proposal, ProposalPair
from matching.runs import match_run_execute
from matching.services import match_run_start
from programmes.models import Organisation, Referral, VettingKind
from tests.auth import login_verified
from tests.matching.factories import publish_terms, ready_volunteer, waiting_referral
from tests.matching.lifecycle_invariants import assert_lifecycle_invariants
from tests.programmes.factories import CrisisCentreFactory, ProgrammeSiteFactory, UserFactory
from tests.programmes.factories import programme as programme_named
from volunteers.models import VettingRecord, Volunteer
from volunteers.selectors import vetting_valid_until

pytestmark = pytest.mark.django_db

PROGRAMMES = ("ressursvenn", "fritidsvenn")
REFUSED = {400, 403, 404, 409}
END_REASONS = [str(reason) for reason in lifecycle.END_REASONS]
WITHDRAWAL_REASONS = list(Referral.WithdrawalReason.values)
# Days until a volunteer's politiattest runs out: within the month the engine looks ahead (no
# new proposals), within either programme's agreement period (flagged), or not at all.
VETTING_DAYS = (20, 75, 250, None)
# How far a case has come before the random steps: "short" has lost a volunteer (a Fritidsvenn
# family then needs a replacement), "ready" waits only for the countersignature.
STAGES = ("waiting", "proposed", "matched", "short", "ready", "active")
# Programme, home postal code and capacity of each volunteer; the last one also does Ressursvenn.
VOLUNTEERS = (
    ("ressursvenn", "0150", 1),
    ("ressursvenn", "0151", 2),
    ("ressursvenn", "0150", 1),
    ("fritidsvenn", "0150", 1),
    ("fritidsvenn", "0151", 2),
    ("fritidsvenn", "0150", 1),
    ("fritidsvenn", "0151", 2),
    ("fritidsvenn", "0150", 2),
)
# What happens to a match while its replacement search waits for the worker.
OVERTAKING = ("ended", "withdrawn", "left", "filled")
FIGURES: Counter = Counter()


@dataclass
class Cast:
    """One crisis centre with a Ressursvenn and a Fritidsvenn site, a coordinator for each, and
    eight volunteers of capacity 1 and 2: three for Ressursvenn, four for Fritidsvenn, one for
    both."""

    sites: dict
    staff: object
    coordinators: dict
    volunteers: list
    clients: dict

    def client(self, user) -> APIClient:
        return self.clients[user.pk]


def build_cast() -> Cast:
    staff = UserFactory(username="machine-staff")
    centre = CrisisCentreFactory(name="Krisesenteret Maskin", staff=[staff])
    organisation = Organisation.objects.create(
        name="Maskin sanitetsforening",
        kind="sanitetsforening",
        municipality_id=centre.host_municipality_id,
    )
    sites, coordinators = {}, {}
    for slug in PROGRAMMES:
        coordinators[slug] = UserFactory(username=f"machine-coordinator-{slug}")
        sites[slug] = ProgrammeSiteFactory(
            programme=programme_named(slug),
            crisis_centre=centre,
            organisation=organisation,
            coordinators=[coordinators[slug]],
        )
        publish_terms(slug)
    volunteers = [
        ready_volunteer(slug, code=code, capacity=capacity, organisation=organisation)
        for slug, code, capacity in VOLUNTEERS
    ]
    volunteers[-1].programmes.add(programme_named("ressursvenn"))
    clients = {}
    for user in [staff, *coordinators.values()]:
        clients[user.pk] = APIClient()
        login_verified(clients[user.pk], user)
    for volunteer in volunteers:
        clients[volunteer.user_id] = APIClient()
        clients[volunteer.user_id].force_login(volunteer.user)
    return Cast(sites, staff, coordinators, volunteers, clients)


def route_exists(path: str) -> bool:
    try:
        found = resolve(path)
    except Resolver404:
        return False
    return hasattr(found.func, "cls")


def texts_in(body) -> list[str]:
    if isinstance(body, dict):
        return [text for value in body.values() for text in texts_in(value)]
    if isinstance(body, list):
        return [text for value in body for text in texts_in(value)]
    return [body] if isinstance(body, str) else []


def says_why_in_words(body) -> bool:
    return isinstance(body, dict) and any(
        len(re.findall(r"[^\W\d_]{2,}", text)) >= 2 for text in texts_in(body)
    )


# What each step fits: the rows it is aimed at (and, as a precondition, that one exists).
def submitted(referral) -> bool:
    return referral[1] == "submitted"


def open_referral(referral) -> bool:
    return referral[1] not in ("closed", "withdrawn")


def pending(proposal) -> bool:
    return proposal[1] == "pending"


def open_match(match) -> bool:
    return match[1] in Match.OPEN_STATUSES


def awaiting(match) -> bool:
    return match[1] == "awaiting_agreement"


def short_of_a_volunteer(match) -> bool:
    return match[2]


def active(match) -> bool:
    return match[1] == "active"


def some(rows: str, fits):
    """Precondition: a row of ``rows`` the step fits exists."""
    return lambda machine: any(fits(row) for row in getattr(machine, rows))


def vetting_runs_out_during_agreement(proposal_id: int) -> list[int]:
    """The proposal's volunteers whose vetting runs out before an agreement made today ends."""
    proposal = Proposal.objects.select_related("referral__site__programme").get(pk=proposal_id)
    programme, today = proposal.referral.site.programme, timezone.localdate()
    ends_on = agreements.agreement_ends_on(programme, today)
    volunteers = proposal.pairs.values_list("volunteer_id", flat=True)
    until = vetting_valid_until(list(volunteers), programme, today)
    return sorted(pk for pk, day in until.items() if day is not None and day < ends_on)


def fingerprint() -> tuple:
    """Every state the lifecycle owns, to prove a refused step changed nothing."""
    return (
        list(Referral.objects.order_by("pk").values_list("pk", "status")),
        list(Proposal.objects.order_by("pk").values_list("pk", "status")),
        list(Match.objects.order_by("pk").values_list("pk", "status", "needs_replacement")),
        list(
            MatchVolunteer.objects.order_by("pk").values_list(
                "pk", "left_at", "accepted_at", "end_requested_at"
            )
        ),
        list(
            Agreement.objects.order_by("pk").values_list(
                "pk", "consent_recorded_at", "countersigned_at"
            )
        ),
        list(Volunteer.objects.order_by("pk").values_list("pk", "commitments")),
    )


class LifecycleMachine(RuleBasedStateMachine):
    cast: Cast  # set by the test, shared by every example

    def __init__(self):
        super().__init__()
        # Each example runs in a savepoint rolled back in teardown(); the cast stays.
        self._example = transaction.atomic()
        self._example.__enter__()
        cache.clear()  # throttle counts
        FIGURES["examples"] += 1
        self.queued_runs: list[int] = []
        self._read_state()

    def teardown(self):
        transaction.set_rollback(True)
        self._example.__exit__(None, None, None)

    # The state the rules choose from ------------------------------------------------------

    def _read_state(self) -> None:
        self.referrals = list(
            Referral.objects.order_by("pk").values_list("pk", "status", "site__programme__slug")
        )
        self.proposals = list(
            Proposal.objects.order_by("pk").values_list(
                "pk", "status", "referral__site__programme__slug"
            )
        )
        self.matches = list(
            Match.objects.order_by("pk").values_list(
                "pk", "status", "needs_replacement", "referral__site__programme__slug", "agreement"
            )
        )
        self.places = list(
            MatchVolunteer.objects.order_by("pk").values_list(
                "match_id", "volunteer_id", "left_at", "accepted_at"
            )
        )
        awaiting_a_signature = {
            match for match, _v, left_at, accepted_at in self.places if not (left_at or accepted_at)
        }
        consented = set(
            Agreement.objects.filter(consent_recorded_at__isnull=False).values_list(
                "match_id", flat=True
            )
        )
        # Matches whose agreement waits only for the coordinator's countersignature.
        self.ready = {
            match
            for match, status, short, *_rest in self.matches
            if status == "awaiting_agreement"
            and not short
            and match in consented
            and match not in awaiting_a_signature
        }

    @invariant()
    def every_invariant_holds(self):
        assert_lifecycle_invariants()
        self._read_state()

    def _pick(self, data, rows, fits):
        """A row the action fits or, as often, one it does not fit: half the steps aim at a
        state that does not fit, on purpose."""
        fitting = [row for row in rows if fits(row)]
        misfits = [row for row in rows if not fits(row)]
        aim = data.draw(st.sampled_from(["fitting", "misfit"]), label="aim")
        pool = (fitting if aim == "fitting" else misfits) or rows
        # Each status present is as likely as any other, however many rows it has.
        status = data.draw(st.sampled_from(sorted({row[1] for row in pool})), label="status")
        return data.draw(st.sampled_from([row for row in pool if row[1] == status]), label="row")

    def _coordinator(self, data, slug):
        """The site's coordinator, now and then the other programme's (who may not act here)."""
        wrong = data.draw(st.sampled_from([False] * 9 + [True]), label="someone else")
        other = PROGRAMMES[1 - PROGRAMMES.index(slug)]
        return self.cast.coordinators[other if wrong else slug]

    def _volunteer_of(self, data, match_id, *, yet_to_accept=False):
        """A volunteer who holds or held a place in the match (one yet to accept, if asked and
        there is one), now and then any volunteer."""
        ids = [volunteer for match, volunteer, *_rest in self.places if match == match_id]
        if yet_to_accept:
            ids = [
                volunteer
                for match, volunteer, left_at, accepted_at in self.places
                if match == match_id and not (left_at or accepted_at)
            ] or ids
        if not ids or data.draw(st.sampled_from([False] * 9 + [True]), label="any volunteer"):
            ids = [volunteer.pk for volunteer in self.cast.volunteers]
        return Volunteer.objects.select_related("user").get(pk=data.draw(st.sampled_from(ids)))

    # Talking to the API --------------------------------------------------------------------

    def _post(self, action, user, path, body=None):
        """POST as ``user`` and check the answer: never a 500; a refusal in words that changed
        nothing. Returns the body of a success, None for a refusal (``last`` keeps both)."""
        FIGURES["steps"] += 1
        before = fingerprint()
        client = self.cast.client(user)
        response = client.post(path, json.dumps(body or {}), content_type="application/json")
        code = response.status_code
        self.last = (code, response.json())
        FIGURES[f"{action} {code}"] += 1
        assert code < 500, f"{action} {path} answered {code}"
        if code < 300:
            FIGURES["done"] += 1
            return response.json()
        FIGURES["refused"] += 1
        assert code in REFUSED, f"{action} {path} answered {code}: {response.json()}"
        assert code != 404 or route_exists(path), f"{action}: no endpoint at {path}"
        assert says_why_in_words(response.json()), f"{action} {path}: {response.json()}"
        assert fingerprint() == before, f"{action} {path} was refused ({code}) but changed state"
        return None

    def _run_to_the_end(self, body, *, now=True) -> None:
        """What the worker does after the commit: run it here, in this transaction, at once or
        (``now=False``) a few steps later, when the case may have moved on."""
        if body is None:
            return
        if not now:
            self.queued_runs.append(body["id"])
            return
        run = match_run_execute(body["id"])
        assert run.status == "succeeded", (run.status, run.error)
        FIGURES["proposals made by runs"] += run.proposals_made

    # Referrals -----------------------------------------------------------------------------

    @initialize(
        cases=st.lists(
            st.tuples(st.sampled_from(PROGRAMMES), st.sampled_from(STAGES)), min_size=2, max_size=5
        )
    )
    def some_cases_under_way(self, cases):
        """Referrals already on their way, each moved by the lifecycle's own steps, so that a
        sequence of a few dozen steps also reaches the later ones."""
        for slug, stage in cases:
            self.case_at(slug, stage)

    def case_at(self, slug: str, stage: str) -> Referral:
        """A waiting referral, brought to ``stage`` if the engine finds it volunteers."""
        site = self.cast.sites[slug]
        referral = waiting_referral(site, languages=["ar"], consent_recorded_by=self.cast.staff)
        if stage != "waiting":
            self._bring_forward(referral, stage)
        referral.refresh_from_db()
        return referral

    def _bring_forward(self, referral, stage) -> None:
        site = referral.site
        coordinator = self.cast.coordinators[site.programme.slug]
        run = match_run_start(
            programme=site.programme, started_by=coordinator, scope="site", site=site
        )
        match_run_execute(run.pk)
        proposal = run.proposals.filter(referral=referral).first()
        if proposal is None or stage == "proposed":
            return
        match = lifecycle.proposal_approve(
            proposal, by=coordinator, acknowledge_vetting_expiry=True
        )
        places = list(match.volunteers.select_related("volunteer__user"))
        if stage == "short":
            lifecycle.agreement_decline(match.agreement, by=places[0].volunteer.user, reason="Syk.")
        if stage in ("matched", "short"):
            return
        for place in places:
            lifecycle.agreement_accept(match.agreement, by=place.volunteer.user)
        lifecycle.agreement_record_consent(match.agreement, by=self.cast.staff)
        if stage == "active":
            lifecycle.agreement_countersign(match.agreement, by=coordinator)

    @rule(slug=st.sampled_from(PROGRAMMES), children=st.booleans())
    def submit(self, slug, children):
        body = {
            "site": self.cast.sites[slug].pk,
            "consent_given_on": str(timezone.localdate() - datetime.timedelta(days=1)),
            "languages": ["ar"],
            "municipality": "0301",
            "availability": [{"day": 2, "start": "17:00", "end": "20:00"}],
        }
        if children:
            body["children_birth_years"] = [2017]
        self._post("submit", self.cast.staff, "/api/v1/referrals/", body)

    @precondition(some("referrals", submitted))
    @rule(data=st.data())
    def accept_into_queue(self, data):
        pk, _status, slug = self._pick(data, self.referrals, submitted)
        user = self._coordinator(data, slug)
        if self._post("accept", user, f"/api/v1/referrals/{pk}/accept/") is not None:
            assert Referral.objects.get(pk=pk).status == Referral.Status.WAITING

    @precondition(some("referrals", open_referral))
    @rule(data=st.data(), reason=st.sampled_from(WITHDRAWAL_REASONS), by_staff=st.booleans())
    def withdraw(self, data, reason, by_staff):
        pk, _status, slug = self._pick(data, self.referrals, open_referral)
        user = self.cast.staff if by_staff else self._coordinator(data, slug)
        body = {"reason": reason, "note": "Flyttet til annen kommune."}
        if self._post("withdraw", user, f"/api/v1/referrals/{pk}/withdraw/", body) is not None:
            assert Referral.objects.get(pk=pk).status == Referral.Status.WITHDRAWN
            assert not Match.objects.filter(referral=pk, status__in=Match.OPEN_STATUSES).exists()

    # Runs and proposals --------------------------------------------------------------------

    @rule(data=st.data(), slug=st.sampled_from(PROGRAMMES), now=st.booleans())
    def run(self, data, slug, now):
        body = {"programme": slug, "scope": "site", "site": self.cast.sites[slug].pk}
        user = self._coordinator(data, slug)
        self._run_to_the_end(self._post("run", user, "/api/v1/match-runs/", body), now=now)

    @precondition(some("proposals", pending))
    @rule(data=st.data(), acknowledge=st.booleans())
    def approve(self, data, acknowledge):
        pk, _status, slug = self._pick(data, self.proposals, pending)
        body = {"acknowledge_vetting_expiry": acknowledge}
        user = self._coordinator(data, slug)
        expiring = vetting_runs_out_during_agreement(pk)
        if self._post("approve", user, f"/api/v1/proposals/{pk}/approve/", body) is not None:
            assert Proposal.objects.get(pk=pk).status == Proposal.Status.APPROVED
            assert acknowledge or not expiring, f"approved unacknowledged: {expiring}"
        elif expiring and not acknowledge and self.last[0] == 400:
            assert "acknowledge_vetting_expiry" in self.last[1]

    @precondition(some("proposals", pending))
    @rule(data=st.data(), reason=st.sampled_from(["Bor for nær.", "", "Språk passer ikke."]))
    def reject(self, data, reason):
        pk, _status, slug = self._pick(data, self.proposals, pending)
        user = self._coordinator(data, slug)
        self._post("reject", user, f"/api/v1/proposals/{pk}/reject/", {"reason": reason})

    # The agreement -------------------------------------------------------------------------

    def _agreement(self, data, fits):
        match, _status, _needs, slug, agreement = self._pick(data, self.matches, fits)
        return match, slug, agreement

    @precondition(some("matches", open_match))
    @rule(data=st.data())
    def volunteer_accepts(self, data):
        match, _slug, agreement = self._agreement(data, open_match)
        volunteer = self._volunteer_of(data, match, yet_to_accept=True)
        self._post("accept agreement", volunteer.user, f"/api/v1/agreements/{agreement}/accept/")

    @precondition(some("matches", awaiting))
    @rule(data=st.data())
    def volunteer_declines(self, data):
        match, _slug, agreement = self._agreement(data, awaiting)
        volunteer = self._volunteer_of(data, match)
        path = f"/api/v1/agreements/{agreement}/decline/"
        was = Match.objects.get(pk=match).status
        if self._post("decline", volunteer.user, path, {"reason": "Har ikke tid."}) is not None:
            assert was == Match.Status.AWAITING_AGREEMENT, f"declined a match that was {was}"

    @precondition(some("matches", awaiting))
    @rule(data=st.data())
    def centre_records_consent(self, data):
        _match, _slug, agreement = self._agreement(data, awaiting)
        self._post("consent", self.cast.staff, f"/api/v1/agreements/{agreement}/consent/")

    @precondition(some("matches", awaiting))
    @rule(data=st.data())
    def coordinator_countersigns(self, data):
        ready = [row for row in self.matches if row[0] in self.ready]
        fits = (lambda row: row[0] in self.ready) if ready else awaiting
        match, slug, agreement = self._agreement(data, fits)
        user = self._coordinator(data, slug)
        path = f"/api/v1/agreements/{agreement}/countersign/"
        if self._post("countersign", user, path) is not None:
            assert Match.objects.get(pk=match).status == Match.Status.ACTIVE

    # Ending and replacing ------------------------------------------------------------------

    @precondition(some("matches", open_match))
    @rule(data=st.data(), reason=st.sampled_from(END_REASONS), requeue=st.booleans())
    def coordinator_ends(self, data, reason, requeue):
        match, slug, _agreement = self._agreement(data, open_match)
        user = self._coordinator(data, slug)
        body = {"reason": reason, "note": "", "requeue": requeue}
        if self._post("end", user, f"/api/v1/matches/{match}/end/", body) is not None:
            ended = Match.objects.select_related("referral").get(pk=match)
            assert ended.status == Match.Status.CLOSED
            expected = Referral.Status.WAITING if requeue else Referral.Status.CLOSED
            assert ended.referral.status == expected

    @precondition(some("matches", open_match))
    @rule(data=st.data(), reason=st.sampled_from(END_REASONS))
    def volunteer_asks_to_end(self, data, reason):
        match, _slug, _agreement = self._agreement(data, open_match)
        volunteer = self._volunteer_of(data, match)
        body = {"reason": reason, "note": ""}
        path = f"/api/v1/me/matches/{match}/ask-to-end/"
        answer = self._post("ask to end", volunteer.user, path, body)
        if answer is not None and reason == Match.EndReason.SAFETY:
            assert Match.objects.get(pk=match).status == Match.Status.CLOSED

    @precondition(some("matches", open_match))
    @rule(data=st.data(), reason=st.sampled_from(END_REASONS))
    def coordinator_releases_a_volunteer(self, data, reason):
        match, slug, _agreement = self._agreement(data, open_match)
        volunteer = self._volunteer_of(data, match)
        user = self._coordinator(data, slug)
        body = {"volunteer": volunteer.pk, "reason": reason, "note": ""}
        path = f"/api/v1/matches/{match}/release-volunteer/"
        self._post("release", user, path, body)

    @precondition(some("matches", short_of_a_volunteer))
    @rule(data=st.data(), now=st.booleans())
    def replacement_search(self, data, now):
        match, slug, _agreement = self._agreement(data, short_of_a_volunteer)
        user = self._coordinator(data, slug)
        path = f"/api/v1/matches/{match}/replacement-search/"
        self._run_to_the_end(self._post("replacement search", user, path), now=now)

    @precondition(some("matches", short_of_a_volunteer))
    @rule(data=st.data(), meanwhile=st.sampled_from(OVERTAKING))
    def replacement_search_overtaken(self, data, meanwhile):
        """A replacement search waits for the worker while the case moves on: the match ends,
        the referral is withdrawn, the last volunteer leaves, or another search fills the place.
        The run then proposes nobody."""
        fitting = [row for row in self.matches if short_of_a_volunteer(row)]
        match, _status, _short, slug, _agreement = data.draw(st.sampled_from(fitting))
        coordinator = self.cast.coordinators[slug]
        search = f"/api/v1/matches/{match}/replacement-search/"
        waiting = self._post("replacement search", coordinator, search)
        assert waiting is not None, self.last
        self._overtake(Match.objects.get(pk=match), meanwhile)
        self._run_to_the_end(waiting)
        assert not Proposal.objects.filter(run=waiting["id"]).exists()

    def _overtake(self, match: Match, meanwhile: str) -> None:
        coordinator = self.cast.coordinators[match.referral.site.programme.slug]
        path = f"/api/v1/matches/{match.pk}/"
        if meanwhile == "ended":
            body = {"reason": "other", "note": "", "requeue": True}
            self._post("end", coordinator, path + "end/", body)
        elif meanwhile == "withdrawn":
            body = {"reason": "mistake", "note": ""}
            path = f"/api/v1/referrals/{match.referral_id}/withdraw/"
            self._post("withdraw", self.cast.staff, path, body)
        elif meanwhile == "left":
            for place in match.volunteers.filter(left_at__isnull=True):
                body = {"volunteer": place.volunteer_id, "reason": "volunteer_ended", "note": ""}
                self._post("release", coordinator, path + "release-volunteer/", body)
        else:
            self._run_to_the_end(
                self._post("replacement search", coordinator, path + "replacement-search/")
            )
            for proposal in Proposal.objects.filter(replacement_for=match, status="pending"):
                approve = f"/api/v1/proposals/{proposal.pk}/approve/"
                self._post("approve", coordinator, approve, {"acknowledge_vetting_expiry": True})

    # Time passes ---------------------------------------------------------------------------

    @precondition(lambda self: self.queued_runs)
    @rule(data=st.data())
    def worker_takes_a_queued_run(self, data):
        FIGURES["steps"] += 1
        run = data.draw(st.sampled_from(self.queued_runs), label="run")
        self.queued_runs.remove(run)
        self._run_to_the_end({"id": run})

    @rule(data=st.data(), days=st.sampled_from(VETTING_DAYS))
    def vetting_runs_out(self, data, days):
        """A volunteer's politiattest now expires soon (or no longer does): often one awaiting
        review in a proposal."""
        FIGURES["steps"] += 1
        proposed = sorted(
            set(
                ProposalPair.objects.filter(proposal__status=Proposal.Status.PENDING).values_list(
                    "volunteer_id", flat=True
                )
            )
        )
        anyone = [volunteer.pk for volunteer in self.cast.volunteers]
        aim = data.draw(st.sampled_from(["proposed", "anyone"]), label="aim")
        volunteer = data.draw(
            st.sampled_from(proposed if proposed and aim == "proposed" else anyone)
        )
        self.vetting_expires_in(volunteer, days)

    def vetting_expires_in(self, volunteer_id: int, days: int | None) -> None:
        expires = None if days is None else timezone.localdate() + datetime.timedelta(days=days)
        records = VettingRecord.objects.filter(
            volunteer=volunteer_id, kind=VettingKind.POLITIATTEST
        )
        records.update(expires_on=expires)

    @precondition(some("matches", active))
    @rule(data=st.data(), every_match=st.booleans())
    def daily_task(self, data, every_match):
        """The daily task closes matches whose period is over: all of them, a year on, or one
        (which is left alone unless it is active)."""
        FIGURES["steps"] += 1
        if every_match:
            followup.agreements_close_ended(timezone.localdate() + relativedelta(months=13))
            return
        match, *_rest = self._pick(data, self.matches, active)
        was_active = Match.objects.get(pk=match).status == Match.Status.ACTIVE
        completed = lifecycle.match_complete(Match.objects.get(pk=match))
        if was_active:
            assert completed.closure_reason == Match.EndReason.COMPLETED


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.timeout(900)  # shrinking a failure takes longer than the run
def test_no_sequence_of_lifecycle_steps_breaks_an_invariant_or_the_api(capsys):
    """MACHINE_EXAMPLES=200 explores further than CI does."""
    LifecycleMachine.cast = build_cast()
    FIGURES.clear()
    started = time.monotonic()
    run_state_machine_as_test(
        LifecycleMachine,
        settings=settings(
            max_examples=int(os.environ.get("MACHINE_EXAMPLES", 40)),
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    seconds = time.monotonic() - started
    with capsys.disabled():
        print(f"\nLifecycle state machine: {seconds:.0f} s; " + figures_text())


def figures_text() -> str:
    main = ("examples", "steps", "done", "refused", "proposals made by runs")
    lines = ", ".join(f"{name} {FIGURES[name]}" for name in main)
    per_action = sorted((key, n) for key, n in FIGURES.items() if key not in main)
    return lines + "\n  " + "; ".join(f"{key}: {n}" for key, n in per_action)


# The reproductions, replayed through the API ------------------------------------------


@pytest.fixture
def machine():
    LifecycleMachine.cast = build_cast()
    for client in LifecycleMachine.cast.clients.values():
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # the assertions read English
    machine = LifecycleMachine()
    yield machine
    machine.teardown()


def step(machine, action, user, path, body=None):
    """One request, then every invariant; the answer's status and body."""
    machine._post(action, user, path, body)
    machine.every_invariant_holds()
    return machine.last


def signatures(machine, match, *, but_countersign=False):
    for place in match.volunteers.filter(left_at__isnull=True).select_related("volunteer__user"):
        agreement = f"/api/v1/agreements/{match.agreement.pk}/"
        assert step(machine, "accept", place.volunteer.user, agreement + "accept/")[0] == 200
    assert step(machine, "consent", machine.cast.staff, agreement + "consent/")[0] == 200
    if not but_countersign:
        coordinator = machine.cast.coordinators[match.referral.site.programme.slug]
        return step(machine, "countersign", coordinator, agreement + "countersign/")


def test_a_matched_referral_is_not_queued_again_and_its_agreement_becomes_active(machine):
    referral = machine.case_at("ressursvenn", "matched")
    coordinator = machine.cast.coordinators["ressursvenn"]

    code, body = step(machine, "accept", coordinator, f"/api/v1/referrals/{referral.pk}/accept/")
    assert (code, list(body)) == (400, ["status"])
    run = {"programme": "ressursvenn", "scope": "site", "site": referral.site_id}
    machine._run_to_the_end(step(machine, "run", coordinator, "/api/v1/match-runs/", run)[1])
    assert referral.proposals.count() == 1
    match = referral.matches.get()
    assert signatures(machine, match)[0] == 200

    assert Match.objects.get(pk=match.pk).status == Match.Status.ACTIVE


def test_withdrawing_matched_and_proposed_referrals_frees_their_volunteers(machine):
    matched = machine.case_at("ressursvenn", "matched")
    proposed = machine.case_at("ressursvenn", "proposed")
    staff = machine.cast.staff
    match = matched.matches.get()
    volunteer = match.volunteers.get().volunteer
    body = {"reason": "moved", "note": ""}

    for referral in (matched, proposed):
        path = f"/api/v1/referrals/{referral.pk}/withdraw/"
        assert step(machine, "withdraw", staff, path, body)[0] == 200
    decline = f"/api/v1/agreements/{match.agreement.pk}/decline/"
    code, _body = step(machine, "decline", volunteer.user, decline, {"reason": "Uansett."})

    assert code == 409
    assert Match.objects.get(pk=match.pk).closure_reason == Match.EndReason.WITHDRAWN
    assert proposed.proposals.get().status == Proposal.Status.WITHDRAWN
    assert Volunteer.objects.filter(commitments__gt=0).count() == 0


def test_one_of_two_fritidsvenn_volunteers_declining_leaves_a_place_to_fill(machine):
    family = machine.case_at("fritidsvenn", "matched")
    coordinator = machine.cast.coordinators["fritidsvenn"]
    match = family.matches.get()
    leaving = match.volunteers.select_related("volunteer__user").first().volunteer
    agreement = f"/api/v1/agreements/{match.agreement.pk}/"

    assert (
        step(machine, "decline", leaving.user, agreement + "decline/", {"reason": "Syk."})[0] == 200
    )
    code, body = signatures(machine, match)
    assert code == 400 and "replacement" in body["agreement"][0]
    search = f"/api/v1/matches/{match.pk}/replacement-search/"
    machine._run_to_the_end(step(machine, "replacement search", coordinator, search)[1])
    replacement = Proposal.objects.get(replacement_for=match)
    approve = f"/api/v1/proposals/{replacement.pk}/approve/"
    assert step(machine, "approve", coordinator, approve)[0] == 201
    assert signatures(machine, match)[0] == 200

    match.refresh_from_db()
    assert (match.status, match.needs_replacement) == (Match.Status.ACTIVE, False)
    assert match.volunteers.filter(left_at__isnull=True).count() == 2


def test_countersigning_before_the_volunteer_and_the_centre_is_refused(machine):
    match = machine.case_at("ressursvenn", "matched").matches.get()
    coordinator = machine.cast.coordinators["ressursvenn"]
    path = f"/api/v1/agreements/{match.agreement.pk}/countersign/"

    code, body = step(machine, "countersign", coordinator, path)

    assert code == 400 and "Countersign last" in body["agreement"][0]


def test_approving_a_volunteer_whose_vetting_runs_out_during_the_agreement_needs_a_yes(machine):
    for volunteer in machine.cast.volunteers:
        machine.vetting_expires_in(volunteer.pk, 75)
    proposal = machine.case_at("ressursvenn", "proposed").proposals.get()
    coordinator = machine.cast.coordinators["ressursvenn"]
    path = f"/api/v1/proposals/{proposal.pk}/approve/"

    code, body = step(machine, "approve", coordinator, path, {"acknowledge_vetting_expiry": False})
    assert (code, list(body)) == (400, ["acknowledge_vetting_expiry"])
    code, _body = step(machine, "approve", coordinator, path, {"acknowledge_vetting_expiry": True})
    assert code == 201


def test_a_coordinator_ends_a_match_early_and_closes_the_referral_with_the_reason(machine):
    referral = machine.case_at("ressursvenn", "active")
    match = referral.matches.get()
    coordinator = machine.cast.coordinators["ressursvenn"]
    path = f"/api/v1/matches/{match.pk}/end/"
    body = {"reason": "moved", "note": "", "requeue": False}

    assert step(machine, "end", coordinator, path, body)[0] == 200
    assert step(machine, "end", coordinator, path, body)[0] == 409

    referral.refresh_from_db()
    assert (referral.status, referral.closure_reason) == ("closed", "moved")
