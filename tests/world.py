"""A small world for the API, back-office, login and access-log tests: two crisis centres (A, B),
each with one Ressursvenn site (X at A, Y at B), their staff and coordinators, a volunteer
matched at X, and an admin.

Site X holds a submitted referral, a waiting referral with a pending proposal, and a matched
referral whose agreement awaits signatures. Site Y holds one submitted referral. The ``world``
fixture (tests/conftest.py) builds it.
"""

from dataclasses import dataclass

from django.db import transaction

from matching.lifecycle import proposal_approve, referrals_propose
from matching.models import Agreement, Match, MatchRun, Proposal, ProposalPair
from programmes.models import ProgrammeSite, Referral
from tests.matching.factories import (
    MatchRunFactory,
    ProposalFactory,
    ready_volunteer,
    site_with_people,
    waiting_referral,
)
from tests.programmes.factories import ReferralFactory, UserFactory
from volunteers.models import Volunteer

ROLES = ("anonymous", "staff_a", "staff_b", "coord_x", "coord_y", "volunteer", "admin")


@dataclass
class World:
    site_x: ProgrammeSite
    site_y: ProgrammeSite
    users: dict
    volunteer: Volunteer
    referral_x: Referral
    referral_y: Referral
    waiting_x: Referral
    run_x: MatchRun
    proposal_x: Proposal
    match_x: Match
    agreement_x: Agreement


def proposal_for(run: MatchRun, referral: Referral, volunteer: Volunteer) -> Proposal:
    proposal = ProposalFactory(run=run, referral=referral, cost=1.5)
    ProposalPair.objects.create(
        proposal=proposal,
        volunteer=volunteer,
        distance_km=3.2,
        overlap_hours=2.0,
        shared_languages=["ar"],
        cost=1.5,
    )
    return proposal


def proposed_referral(site: ProgrammeSite, **fields) -> Referral:
    referral = waiting_referral(site, **fields)
    with transaction.atomic():
        referrals_propose([referral.pk])
    referral.refresh_from_db()
    return referral


def build_world() -> World:
    site_x, staff_a, coord_x = site_with_people(name="A")
    site_y, staff_b, coord_y = site_with_people(name="B")
    volunteer = ready_volunteer(organisation=site_x.organisation, capacity=3)
    run_x = MatchRunFactory(site=site_x, on_date="2026-11-20", started_by=coord_x)
    matched = proposed_referral(site_x, languages=["ar", "nb"])
    match = proposal_approve(proposal_for(run_x, matched, volunteer), by=coord_x)
    waiting = proposed_referral(site_x, languages=["ar"])
    admin = UserFactory(username="admin", is_superuser=True, is_staff=True)
    return World(
        site_x=site_x,
        site_y=site_y,
        users={
            "staff_a": staff_a,
            "staff_b": staff_b,
            "coord_x": coord_x,
            "coord_y": coord_y,
            "volunteer": volunteer.user,
            "admin": admin,
        },
        volunteer=volunteer,
        referral_x=ReferralFactory(site=site_x, consent_recorded_by=staff_a),
        referral_y=ReferralFactory(site=site_y, consent_recorded_by=staff_b),
        waiting_x=waiting,
        run_x=run_x,
        proposal_x=proposal_for(run_x, waiting, volunteer),
        match_x=match,
        agreement_x=match.agreement,
    )
