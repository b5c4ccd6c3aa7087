import datetime

import factory
from django.db import transaction
from django.utils import timezone

from matching import lifecycle
from matching.models import AgreementTerms, MatchRun, Proposal, ProposalPair
from programmes.models import Referral
from tests.programmes.factories import (
    CrisisCentreFactory,
    ProgrammeSiteFactory,
    ReferralFactory,
    UserFactory,
    municipality,
    postal_code,
    programme,
)
from tests.volunteers.factories import VolunteerFactory, give_full_vetting
from volunteers.models import Volunteer


def publish_terms(programme_slug: str = "ressursvenn") -> AgreementTerms:
    chosen = programme(programme_slug)
    return AgreementTerms.objects.get_or_create(
        programme=chosen,
        version=1,
        defaults={
            "period_months": chosen.min_commitment_months,
            "text": "Vi møtes jevnlig.",
            "contact_rules": "Kontakt skjer etter avtale.",
            "confidentiality": "Taushetsplikt gjelder.",
            "text_en": "We meet regularly.",
            "contact_rules_en": "Contact is by agreement.",
            "confidentiality_en": "Confidentiality applies.",
            "published_on": datetime.date(2026, 1, 1),
        },
    )[0]


def site_with_people(programme_slug: str = "ressursvenn", name: str = "Oslo"):
    """A site at a crisis centre in Oslo with a staff member and a coordinator."""
    staff = UserFactory(username=f"staff-{name}")
    coordinator = UserFactory(username=f"coordinator-{name}")
    centre = CrisisCentreFactory(name=f"Krisesenteret {name}", staff=[staff])
    site = ProgrammeSiteFactory(
        programme=programme(programme_slug), crisis_centre=centre, coordinators=[coordinator]
    )
    publish_terms(programme_slug)
    return site, staff, coordinator


def waiting_referral(site, **fields) -> Referral:
    fields.setdefault("waiting_since", datetime.datetime(2026, 10, 1, tzinfo=datetime.UTC))
    if site.programme.requires_children:
        fields.setdefault("children_birth_years", [2017])
    return ReferralFactory(site=site, status=Referral.Status.WAITING, **fields)


def ready_volunteer(programme_slug: str = "ressursvenn", code: str = "0150", **fields) -> Volunteer:
    chosen = programme(programme_slug)
    fields.setdefault("languages", [{"code": "ar", "level": "native"}])
    volunteer = VolunteerFactory(
        programmes=[chosen],
        status=Volunteer.Status.ACTIVE,
        home_postal_code=postal_code(code),
        **fields,
    )
    give_full_vetting(volunteer, chosen)
    return volunteer


class MatchRunFactory(factory.django.DjangoModelFactory):
    """A run of one site (``site=``) for today with the programme's defaults, queued unless
    ``status`` says otherwise. A replacement run passes ``match=`` and ``scope`` instead."""

    class Meta:
        model = MatchRun

    site = None
    match = None
    programme = factory.LazyAttribute(lambda run: (run.site or run.match.referral.site).programme)
    scope = factory.LazyAttribute(
        lambda run: MatchRun.Scope.REPLACEMENT if run.match else MatchRun.Scope.SITE
    )
    on_date = factory.LazyFunction(timezone.localdate)
    rules = factory.LazyFunction(dict)
    started_by = factory.LazyAttribute(
        lambda run: (run.site or run.match.referral.site).coordinators.first()
    )


class ProposalFactory(factory.django.DjangoModelFactory):
    """The engine's proposal of ``run`` for ``referral``, without its volunteers (ProposalPair)."""

    class Meta:
        model = Proposal

    cost = 1.0


def pending_proposal(site, coordinator, volunteers, referral=None) -> Proposal:
    """A run's proposal of ``volunteers`` for a waiting referral (a new one unless given), which
    the lifecycle's own propose step has moved to proposed."""
    referral = referral or waiting_referral(site, languages=["ar"])
    with transaction.atomic():
        run = MatchRunFactory(
            site=site,
            on_date="2026-11-26",
            started_by=coordinator,
            status=MatchRun.Status.SUCCEEDED,
        )
        proposal = ProposalFactory(run=run, referral=referral)
        for volunteer in volunteers:
            ProposalPair.objects.create(
                proposal=proposal,
                volunteer=volunteer,
                distance_km=1.0,
                overlap_hours=2.0,
                shared_languages=["ar"],
                cost=-4.0,
            )
        assert lifecycle.referrals_propose([referral.pk]) == {referral.pk}
    return proposal


def referral_at(status: str, site, staff, coordinator) -> Referral:
    """A referral of ``site`` brought to ``status`` by the lifecycle's own steps, with as many
    new volunteers as its programme puts in a match."""
    Status = Referral.Status
    if status == Status.SUBMITTED:
        children = [2017] if site.programme.requires_children else []
        return ReferralFactory(site=site, languages=["ar"], children_birth_years=children)
    if status == Status.WAITING:
        return lifecycle.referral_accept(
            referral_at(Status.SUBMITTED, site, staff, coordinator), by=coordinator
        )
    if status == Status.WITHDRAWN:
        waiting = referral_at(Status.WAITING, site, staff, coordinator)
        reason = Referral.WithdrawalReason.MISTAKE
        return lifecycle.referral_withdraw(waiting, by=staff, reason=reason)
    slug = site.programme.slug
    volunteers = [
        ready_volunteer(slug, code=f"015{i}") for i in range(site.programme.volunteers_per_referral)
    ]
    referral = referral_at(Status.WAITING, site, staff, coordinator)
    proposal = pending_proposal(site, coordinator, volunteers, referral)
    if status != Status.PROPOSED:
        match = lifecycle.proposal_approve(proposal, by=coordinator)
        if status != Status.MATCHED:
            agreement_signed(match, staff, coordinator, volunteers)
            if status == Status.CLOSED:
                lifecycle.match_complete(match)
    referral.refresh_from_db()
    assert referral.status == status, (referral.status, status)
    return referral


def agreement_signed(match, staff, coordinator, volunteers):
    """Every signature in the order the lifecycle requires: volunteers, centre, coordinator last.
    Returns the match as it is now (active)."""
    for volunteer in volunteers:
        lifecycle.agreement_accept(match.agreement, by=volunteer.user)
    lifecycle.agreement_record_consent(match.agreement, by=staff)
    lifecycle.agreement_countersign(match.agreement, by=coordinator)
    match.refresh_from_db()
    return match


__all__ = ["municipality"]
