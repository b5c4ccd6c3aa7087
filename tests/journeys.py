"""The pages of the three journeys (crisis-centre staff, coordinator, volunteer, and the pages
before login) and one world in which each of them has something to show.

The world is one Ressursvenn site in Oslo: a referral just submitted and one waiting; a match
run that proposed a volunteer for one referral and left two waiting, one with a volunteer who
nearly fits (so a proposal can be made by hand); an active match whose volunteer answered a
check-in asking for contact and has the next one to answer; and a match whose agreement waits
for that volunteer's acceptance. Browser tests and test-client tests read the same pages
(tests/e2e/journeys.py serves them to a browser).
"""

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from matching import check_ins, lifecycle, recruitment, runs, services
from matching.models import CheckIn, MatchRun, NearMiss
from tests.matching.factories import (
    agreement_signed,
    pending_proposal,
    ready_volunteer,
    site_with_people,
    waiting_referral,
)
from tests.programmes.factories import ReferralFactory
from tests.volunteers.application_factories import ApplicationFactory
from volunteers.selectors import organisation_slug

READERS = ("anonymous", "staff", "coordinator", "volunteer")
WEDNESDAY_EVENING = [{"day": 2, "start": "18:00", "end": "21:00"}]
HALF_AN_HOUR_SHARED = [{"day": 2, "start": "20:30", "end": "21:30"}]


@dataclass(frozen=True)
class JourneyPage:
    """A page as one reader sees it. ``path`` names the world's rows in braces
    (``/referrals/{waiting}/``); ``send_empty`` names a field of a form on the page that is sent
    empty, to see the page as it answers with errors."""

    reader: str
    name: str
    path: str
    send_empty: str | None = None

    @property
    def id(self) -> str:
        return f"{self.reader}-{self.name}"

    def path_in(self, world: "Journeys") -> str:
        return self.path.format(**world.ids)


PAGES = [
    JourneyPage("anonymous", "login", "/accounts/login/"),
    JourneyPage("anonymous", "about", "/about/"),
    JourneyPage("anonymous", "apply", "/apply/ressursvenn/{organisation}/"),
    JourneyPage("anonymous", "apply-errors", "/apply/ressursvenn/{organisation}/", "first_name"),
    JourneyPage("staff", "home", "/"),
    JourneyPage("staff", "referrals", "/referrals/"),
    JourneyPage("staff", "referral-new", "/referrals/new/"),
    JourneyPage("staff", "referral-new-errors", "/referrals/new/", send_empty="site"),
    JourneyPage("staff", "referral", "/referrals/{waiting}/"),
    JourneyPage("staff", "referral-edit", "/referrals/{waiting}/edit/"),
    JourneyPage("staff", "referral-withdraw", "/referrals/{waiting}/withdraw/"),
    JourneyPage(
        "staff", "referral-withdraw-errors", "/referrals/{waiting}/withdraw/", send_empty="reason"
    ),
    JourneyPage("staff", "agreement", "/agreements/{agreement_awaiting}/"),
    JourneyPage("staff", "security", "/accounts/security/"),
    JourneyPage("coordinator", "home", "/"),
    JourneyPage("coordinator", "dashboard", "/coordinator/"),
    JourneyPage("coordinator", "referrals", "/referrals/"),
    JourneyPage("coordinator", "referral", "/referrals/{unmatched_referral}/"),
    JourneyPage("coordinator", "volunteers", "/coordinator/volunteers/"),
    JourneyPage("coordinator", "volunteer", "/coordinator/volunteers/{volunteer}/"),
    JourneyPage("coordinator", "vetting", "/coordinator/volunteers/{volunteer}/vetting/"),
    JourneyPage(
        "coordinator",
        "vetting-errors",
        "/coordinator/volunteers/{volunteer}/vetting/",
        send_empty="kind",
    ),
    JourneyPage("coordinator", "matches", "/coordinator/matches/"),
    JourneyPage("coordinator", "match", "/coordinator/matches/{match_active}/"),
    JourneyPage("coordinator", "check-ins", "/coordinator/check-ins/"),
    JourneyPage("coordinator", "recruitment", "/coordinator/recruitment/"),
    JourneyPage("coordinator", "applications", "/coordinator/applications/"),
    JourneyPage("coordinator", "application", "/coordinator/applications/{application}/"),
    JourneyPage("coordinator", "run", "/coordinator/runs/{run}/"),
    JourneyPage("coordinator", "propose-by-hand", "/coordinator/unmatched/{unmatched}/propose/"),
    JourneyPage("coordinator", "agreement", "/agreements/{agreement_active}/"),
    JourneyPage("coordinator", "security", "/accounts/security/"),
    JourneyPage("volunteer", "home", "/"),
    JourneyPage("volunteer", "profile", "/me/"),
    JourneyPage("volunteer", "agreement", "/agreements/{agreement_awaiting}/"),
    JourneyPage("volunteer", "check-in", "/check-ins/{check_in}/"),
    JourneyPage(
        "volunteer", "check-in-errors", "/check-ins/{check_in}/", send_empty="meetings_held"
    ),
    JourneyPage("volunteer", "my-data", "/my-data/"),
    JourneyPage("volunteer", "my-data-delete", "/my-data/delete/"),
    JourneyPage("volunteer", "security", "/accounts/security/"),
]


@dataclass
class Journeys:
    users: dict  # reader -> User (no entry for "anonymous")
    ids: dict[str, int | str]


def build_journeys() -> Journeys:
    site, staff, coordinator = site_with_people(name="Oslo")
    _name(staff, "krisesenter-oslo", "Hanne", "Lie")
    _name(coordinator, "koordinator-oslo", "Ingrid", "Berg")
    vera = ready_volunteer(organisation=site.organisation, capacity=3)
    _name(vera.user, "frivillig-vera", "Vera", "Nilsen")

    active = _active_match(site, staff, coordinator, vera)
    awaiting = lifecycle.proposal_approve(
        pending_proposal(site, coordinator, [vera]), by=coordinator
    )
    run, unmatched = _run(site, coordinator)
    waiting = waiting_referral(site, languages=["nb"])
    ReferralFactory(site=site, consent_recorded_by=staff)
    _recruitment_calculated(site)
    application = ApplicationFactory(site=site, first_name="Sara", last_name="Dahl")
    return Journeys(
        users={"staff": staff, "coordinator": coordinator, "volunteer": vera.user},
        ids={
            "waiting": waiting.pk,
            "volunteer": vera.pk,
            "match_active": active.pk,
            "agreement_active": active.agreement.pk,
            "agreement_awaiting": awaiting.agreement.pk,
            "check_in": active.check_ins.get(answered_at=None, months_after_start=3).pk,
            "run": run.pk,
            "unmatched": unmatched.pk,
            "unmatched_referral": unmatched.referral_id,
            "application": application.pk,
            "organisation": organisation_slug(site.organisation),
        },
    )


def _recruitment_calculated(site) -> None:
    """Where one more volunteer would help, for the referrals left waiting: the run queued the
    calculation, and no worker is there to take it."""
    sweep, _opened = recruitment.sweep_open(site.programme, site)
    recruitment.sweep_execute(sweep.pk)


def _name(user, username: str, first: str, last: str) -> None:
    user.username, user.first_name, user.last_name = username, first, last
    user.save()


def _active_match(site, staff, coordinator, volunteer):
    """Signed by all; the first check-in answered asking for contact, the next one due."""
    match = lifecycle.proposal_approve(
        pending_proposal(site, coordinator, [volunteer]), by=coordinator
    )
    match = agreement_signed(match, staff, coordinator, [volunteer])
    today = timezone.localdate()
    first, second, _third = match.check_ins.order_by("months_after_start")
    CheckIn.objects.filter(pk=first.pk).update(due_on=today - datetime.timedelta(days=20))
    CheckIn.objects.filter(pk=second.pk).update(due_on=today - datetime.timedelta(days=1))
    first.refresh_from_db()
    check_ins.check_in_answer(
        first,
        by=volunteer.user,
        meetings_held=2,
        wellbeing=CheckIn.Wellbeing.MIXED,
        wants_contact=True,
        note="Vi trenger å snakke om hvor vi møtes.",
    )
    return match


def _run(site, coordinator):
    """A run that proposes a volunteer for one referral and leaves two waiting: one with
    nobody near enough who speaks her language, one with a volunteer short of shared time."""
    ready_volunteer(organisation=site.organisation, code="0151", availability=WEDNESDAY_EVENING)
    ready_volunteer(
        organisation=site.organisation,
        code="0152",
        languages=[{"code": "pl", "level": "fluent"}],
        availability=WEDNESDAY_EVENING,
    )
    ready_volunteer(
        organisation=site.organisation, code="5003", languages=[{"code": "so", "level": "native"}]
    )
    waiting_referral(site, languages=["ar"])
    waiting_referral(site, languages=["so"])
    short_of_time = waiting_referral(site, languages=["pl"], availability=HALF_AN_HOUR_SHARED)
    with transaction.atomic():
        run = services.match_run_start(
            programme=site.programme, started_by=coordinator, scope=MatchRun.Scope.SITE, site=site
        )
        run = runs.match_run_execute(run.pk)
    unmatched = run.unmatched.get(referral=short_of_time)
    assert NearMiss.objects.filter(unmatched=unmatched).exists(), "no near miss to propose"
    return run, unmatched
