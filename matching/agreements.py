"""Agreements: their terms and period, drawn up when a coordinator approves a match, and the
check-ins that follow an active one. Signing, declining and ending are steps of the joint
lifecycle in matching/lifecycle.py."""

import datetime

from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from matching.models import Agreement, AgreementTerms, CheckIn, Match
from programmes import catalogue
from programmes.audit import objects_log_created


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


def agreement_create(match: Match) -> Agreement:
    programme = match.referral.site.programme
    starts_on = timezone.localdate()
    return Agreement.objects.create(
        match=match,
        terms=current_terms(programme),
        starts_on=starts_on,
        ends_on=starts_on + relativedelta(months=agreement_period_months(programme)),
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


def check_in_answer(
    check_in: CheckIn, *, by, meetings_held: int, wellbeing: str, wants_contact: bool = False
) -> CheckIn:
    if not check_in.match.volunteers.filter(volunteer__user=by, left_at__isnull=True).exists():
        raise PermissionDenied(_("Only a volunteer of this match answers its check-ins."))
    check_in.meetings_held, check_in.wellbeing = meetings_held, wellbeing
    check_in.wants_contact, check_in.answered_at = wants_contact, timezone.now()
    check_in.full_clean()
    check_in.save()
    return check_in
