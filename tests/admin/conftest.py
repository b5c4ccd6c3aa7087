"""The small world (tests/world.py) made ready for the back office: the coordinator
of site X and the staff of centre A hold the demo's staff groups, and every model registered in
the admin has an object in scope (site X, centre A) and, where scope applies, one outside it
(site Y, centre B)."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice

from demo.builder import COORDINATORS_GROUP, CRISIS_CENTRE_STAFF_GROUP, DemoBuilder
from matching.lifecycle import proposal_approve
from matching.models import Match, MatchRun, Proposal, UnmatchedReferral
from programmes.models import Activity, AuditLogEntry, County, Municipality, PostalCode
from tests.auth import login_verified, totp_device_for
from tests.matching.factories import MatchRunFactory, ready_volunteer
from tests.world import proposal_for, proposed_referral
from volunteers.models import Volunteer, VolunteerDeletionRequest

# The roles of the back office and who plays them in the world.
PLAYERS = {
    "admin": "admin",
    "coordinator": "coord_x",
    "staff": "staff_a",
    "volunteer": "volunteer",
    "anonymous": None,
}


@dataclass
class Subject:
    inside: object  # in the scope of the coordinator of site X and the staff of centre A
    outside: object | None = None  # in nobody's scope but an admin's; None: not scoped


def give_staff_groups(world) -> None:
    groups = DemoBuilder(seed=1).ensure_groups()
    for name, player in ((COORDINATORS_GROUP, "coord_x"), (CRISIS_CENTRE_STAFF_GROUP, "staff_a")):
        user = world.users[player]
        user.is_staff = True
        user.save()
        user.groups.add(groups[name])


def run_at(site, coordinator) -> MatchRun:
    return MatchRunFactory(
        site=site, on_date="2026-11-20", started_by=coordinator, status=MatchRun.Status.SUCCEEDED
    )


@dataclass
class AtSiteY:
    volunteer: Volunteer
    run: MatchRun
    match: Match
    proposal: Proposal


def work_at_site_y(world) -> AtSiteY:
    """A volunteer of site Y's organisation in a match there, and a pending proposal."""
    coordinator = world.users["coord_y"]
    volunteer = ready_volunteer(organisation=world.site_y.organisation, capacity=3)
    run = run_at(world.site_y, coordinator)
    with transaction.atomic():
        proposed = proposal_for(run, proposed_referral(world.site_y, languages=["ar"]), volunteer)
        match = proposal_approve(proposed, by=coordinator)
    proposal = proposal_for(run, proposed_referral(world.site_y, languages=["ar"]), volunteer)
    return AtSiteY(volunteer, run, match, proposal)


def unmatched(run, referral) -> UnmatchedReferral:
    return UnmatchedReferral.objects.create(
        run=run, referral=referral, reason="no_volunteer_near", detail="—"
    )


def subject_for(world, label: str) -> Subject:
    """The objects for the registered model ``label``, made only when asked for."""
    site_x, site_y, users = world.site_x, world.site_y, world.users
    y = cache(lambda: work_at_site_y(world))
    builders: dict[str, Callable[[], Subject]] = {
        "auth.Group": lambda: Subject(Group.objects.get(name=COORDINATORS_GROUP)),
        # coord_y plays no role here, so acting on their account disturbs no test client.
        "auth.User": lambda: Subject(users["coord_y"]),
        "otp_totp.TOTPDevice": lambda: Subject(totp_device_for(users["coord_y"])),
        "otp_static.StaticDevice": lambda: Subject(
            StaticDevice.objects.create(user=users["coord_y"], name="Backup", confirmed=True)
        ),
        "axes.AccessAttempt": lambda: Subject(
            AccessAttempt.objects.create(username="someone", failures_since_start=1)
        ),
        "axes.AccessLog": lambda: Subject(AccessLog.objects.create(username="someone")),
        "axes.AccessFailureLog": lambda: Subject(
            AccessFailureLog.objects.create(username="someone")
        ),
        "programmes.County": lambda: Subject(County.objects.first()),
        "programmes.Municipality": lambda: Subject(Municipality.objects.get(number="0301")),
        "programmes.PostalCode": lambda: Subject(PostalCode.objects.get(code="0150")),
        "programmes.Organisation": lambda: Subject(site_x.organisation, site_y.organisation),
        "programmes.CrisisCentre": lambda: Subject(site_x.crisis_centre, site_y.crisis_centre),
        "programmes.Programme": lambda: Subject(site_x.programme),
        "programmes.Activity": lambda: Subject(Activity.objects.get(code="football")),
        "programmes.ProgrammeSite": lambda: Subject(site_x, site_y),
        "programmes.Referral": lambda: Subject(world.referral_x, world.referral_y),
        "programmes.AuditLogEntry": lambda: Subject(AuditLogEntry.objects.first()),
        "volunteers.Volunteer": lambda: Subject(world.volunteer, y().volunteer),
        "volunteers.VolunteerDeletionRequest": lambda: Subject(
            VolunteerDeletionRequest.objects.create(volunteer=world.volunteer)
        ),
        "matching.MatchRun": lambda: Subject(world.run_x, y().run),
        "matching.Proposal": lambda: Subject(world.proposal_x, y().proposal),
        "matching.UnmatchedReferral": lambda: Subject(
            unmatched(world.run_x, world.referral_x), unmatched(y().run, world.referral_y)
        ),
        "matching.Match": lambda: Subject(world.match_x, y().match),
        "matching.Agreement": lambda: Subject(world.agreement_x, y().match.agreement),
        "matching.AgreementTerms": lambda: Subject(world.agreement_x.terms),
    }
    return builders[label]()


@pytest.fixture
def back_office(world):
    """The world with staff groups given, and a signed-in client per back-office role."""
    give_staff_groups(world)

    def client_as(role: str) -> Client:
        client = Client(headers={"accept-language": "en"})
        player = PLAYERS[role]
        if role == "volunteer":
            client.force_login(world.users[player])
        elif player is not None:
            login_verified(client, world.users[player])
        return client

    world.client_as = client_as
    return world
