"""A closed case with something in every table about it, for the retention and rights tests."""

import datetime

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.test import Client

from matching import lifecycle
from matching.models import (
    CheckIn,
    Match,
    MatchRun,
    Proposal,
    ProposalPair,
    RejectedPair,
    UnmatchedReferral,
)
from programmes.models import Activity, Referral
from tests.matching.factories import MatchRunFactory, ProposalFactory, municipality, postal_code
from tests.matching.test_agreements import approved_match

START = datetime.datetime(2025, 1, 15, 12, 0, tzinfo=datetime.UTC)
ALIAS = "P-XQZ731"
NOTES = "Ring etter klokka to, hunden er redd for fremmede"


@pytest.fixture
def client():
    """Pages in English, so assertions can read the text (bokmål is the default)."""
    return Client(headers={"accept-language": "en"})


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def months_later(months: int) -> datetime.datetime:
    return START + relativedelta(months=months)


def case_closed_with_everything():
    """An active match that has ended, with free text in every table that can hold it."""
    match, staff, coordinator, (volunteer,) = approved_match()
    referral = match.referral
    _personal_details(referral)
    agreement = match.agreement
    lifecycle.agreement_accept(agreement, by=volunteer.user)
    lifecycle.agreement_record_consent(agreement, by=staff)
    lifecycle.agreement_countersign(agreement, by=coordinator)
    CheckIn.objects.filter(match=match, months_after_start=1).update(
        answered_at=START, meetings_held=3, wellbeing=CheckIn.Wellbeing.GOOD
    )
    _earlier_run_rows(referral, coordinator, volunteer)
    moved = Match.EndReason.MOVED
    lifecycle.match_end_request(
        match, by=volunteer.user, reason=moved, note=f"{ALIAS} flytter til Bergen i mars"
    )
    lifecycle.match_end(
        match, by=coordinator, reason=moved, note=f"{ALIAS} flyttet til Bergen", requeue=False
    )
    return Referral.objects.get(pk=referral.pk), coordinator, volunteer


def _personal_details(referral: Referral) -> None:
    Referral.objects.filter(pk=referral.pk).update(
        alias=ALIAS,
        notes=NOTES,
        languages=["smj", "ar"],
        children_birth_years=[2016, 2019],
        postal_code=postal_code("0150"),
        volunteer_gender="female",
        max_distance_km=7,
    )
    referral.avoid_municipalities.set([municipality("4601")])
    referral.wished_activities.set(Activity.objects.filter(code__in=["climbing", "scouting"]))
    ProposalPair.objects.filter(proposal__referral=referral).update(shared_activities=["climbing"])


def _earlier_run_rows(referral: Referral, coordinator, volunteer) -> None:
    run = MatchRunFactory(
        site=referral.site,
        on_date="2024-12-01",
        started_by=coordinator,
        status=MatchRun.Status.SUCCEEDED,
    )
    ProposalFactory(
        run=run,
        referral=referral,
        cost=2.0,
        status=Proposal.Status.REJECTED,
        rejection_reason=f"{ALIAS} kjenner frivillig fra før",
    )
    UnmatchedReferral.objects.create(
        run=run, referral=referral, reason="language", detail="Ingen frivillig snakker smj"
    )
    RejectedPair.objects.create(
        referral=referral,
        volunteer=volunteer,
        rejected_by=coordinator,
        reason=f"{ALIAS} bor i samme gate",
    )
