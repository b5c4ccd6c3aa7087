"""Agreements: their terms and period, drawn up when a coordinator approves a match, and the
check-ins that follow an active one. Signing, declining and ending are steps of the joint
lifecycle in matching/lifecycle.py."""

import datetime

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from matching.models import Agreement, AgreementTerms, CheckIn, Match
from programmes import catalogue
from programmes.audit import objects_log_created
from volunteers.selectors import vetting_valid_until


def current_terms(programme) -> AgreementTerms:
    terms = AgreementTerms.objects.filter(programme=programme).order_by("-version").first()
    if terms is None:
        raise ValidationError(
            _("%s has no agreement terms yet; an admin must publish them first.") % programme
        )
    return terms


def terms_publish_initial(programme) -> AgreementTerms:
    """Version 1 of the programme's terms from the catalogue, unless terms exist already."""
    existing = AgreementTerms.objects.filter(programme=programme).first()
    if existing is not None:
        return existing
    return AgreementTerms.objects.create(
        programme=programme,
        version=1,
        period_months=programme.min_commitment_months,
        published_on=timezone.localdate(),
        **catalogue.INITIAL_TERMS[programme.slug],
    )


def agreement_period_months(programme) -> int:
    """The current terms' period, but never shorter than the programme's minimum commitment."""
    return max(current_terms(programme).period_months, programme.min_commitment_months)


def agreement_ends_on(programme, starts_on: datetime.date) -> datetime.date:
    """When an agreement made under the programme's current terms, starting on ``starts_on``,
    ends."""
    return starts_on + relativedelta(months=agreement_period_months(programme))


def vetting_running_out_during_agreement(
    programme, volunteer_ids, starts_on: datetime.date
) -> dict[int, datetime.date]:
    """The volunteers whose vetting for the programme runs out before an agreement starting on
    ``starts_on`` would end, with the day it runs out."""
    ends_on = agreement_ends_on(programme, starts_on)
    until = vetting_valid_until(volunteer_ids, programme, starts_on)
    return {pk: day for pk, day in until.items() if day is not None and day < ends_on}


def agreement_create(match: Match) -> Agreement:
    programme = match.referral.site.programme
    starts_on = timezone.localdate()
    return Agreement.objects.create(
        match=match,
        terms=current_terms(programme),
        starts_on=starts_on,
        ends_on=agreement_ends_on(programme, starts_on),
    )


def check_ins_schedule(match: Match, starts_on: datetime.date) -> None:
    existing = list(match.check_ins.values_list("pk", flat=True))
    CheckIn.objects.bulk_create(
        [
            CheckIn(match=match, months_after_start=m, due_on=starts_on + relativedelta(months=m))
            for m in CheckIn.MONTHS
        ],
        ignore_conflicts=True,
    )
    objects_log_created(match.check_ins.exclude(pk__in=existing))
