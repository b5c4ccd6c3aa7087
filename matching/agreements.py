"""Agreements: drawn up when a coordinator approves a match, active once every volunteer has
accepted, crisis-centre staff have recorded the participant's consent and the coordinator has
countersigned. A volunteer who declines sends the referral back to the queue."""

from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from matching.followup import check_ins_schedule
from matching.models import Agreement, AgreementTerms, CheckIn, Match, MatchVolunteer, RejectedPair
from programmes import catalogue
from programmes.models import Referral
from programmes.services import referral_transition


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


def agreement_create(match: Match) -> Agreement:
    programme = match.referral.site.programme
    terms = current_terms(programme)
    starts_on = timezone.localdate()
    months = max(terms.period_months, programme.min_commitment_months)
    return Agreement.objects.create(
        match=match,
        terms=terms,
        starts_on=starts_on,
        ends_on=starts_on + relativedelta(months=months),
    )


def _lock(agreement: Agreement) -> Agreement:
    locked = (
        Agreement.objects.select_for_update()
        .select_related("match__referral__site")
        .get(pk=agreement.pk)
    )
    if locked.match.status != Match.Status.AWAITING_AGREEMENT:
        raise ValidationError(_("This agreement is no longer awaiting signatures."))
    return locked


def _own_place(agreement: Agreement, user) -> MatchVolunteer:
    place = agreement.match.volunteers.filter(volunteer__user=user).first()
    if place is None:
        raise PermissionDenied(_("Only a volunteer of this match may answer its agreement."))
    return place


def agreement_accept(agreement: Agreement, *, by) -> Agreement:
    with transaction.atomic():
        agreement = _lock(agreement)
        place = _own_place(agreement, by)
        place.accepted_at = place.accepted_at or timezone.now()
        place.save(update_fields=["accepted_at"])
        return _activate_if_complete(agreement)


def agreement_record_consent(agreement: Agreement, *, by) -> Agreement:
    with transaction.atomic():
        agreement = _lock(agreement)
        if not agreement.match.referral.site.crisis_centre.staff.filter(pk=by.pk).exists():
            raise PermissionDenied(_("Only staff of the referring crisis centre record consent."))
        agreement.consent_recorded_at, agreement.consent_recorded_by = timezone.now(), by
        agreement.save(update_fields=["consent_recorded_at", "consent_recorded_by"])
        return _activate_if_complete(agreement)


def agreement_countersign(agreement: Agreement, *, by) -> Agreement:
    with transaction.atomic():
        agreement = _lock(agreement)
        if not agreement.match.referral.site.coordinators.filter(pk=by.pk).exists():
            raise PermissionDenied(_("Only a coordinator of the site countersigns."))
        agreement.countersigned_at, agreement.countersigned_by = timezone.now(), by
        agreement.save(update_fields=["countersigned_at", "countersigned_by"])
        return _activate_if_complete(agreement)


def _activate_if_complete(agreement: Agreement) -> Agreement:
    match = agreement.match
    all_accepted = not match.volunteers.filter(accepted_at__isnull=True).exists()
    if all_accepted and agreement.consent_recorded_at and agreement.countersigned_at:
        agreement.activated_at = timezone.now()
        agreement.save(update_fields=["activated_at"])
        match.status = Match.Status.ACTIVE
        match.save(update_fields=["status"])
        referral_transition(match.referral, Referral.Status.ACTIVE)
        check_ins_schedule(match, agreement.starts_on)
    return agreement


def agreement_decline(agreement: Agreement, *, by, reason: str) -> Match:
    """A volunteer says no: the match ends, their capacity is freed, the pair is never proposed
    again and the referral waits for another volunteer."""
    from matching.services import capacity_release

    if not reason.strip():
        raise ValidationError({"reason": _("Say why you decline.")})
    with transaction.atomic():
        agreement = _lock(agreement)
        _own_place(agreement, by)
        match = agreement.match
        volunteer_ids = list(match.volunteers.values_list("volunteer_id", flat=True))
        match.status, match.ended_at, match.end_reason = (
            Match.Status.DECLINED,
            timezone.now(),
            reason.strip(),
        )
        match.save(update_fields=["status", "ended_at", "end_reason"])
        capacity_release(volunteer_ids)
        RejectedPair.objects.get_or_create(
            referral=match.referral,
            volunteer=by.volunteer,
            defaults={"rejected_by": by, "reason": _("Declined by the volunteer: ") + reason},
        )
        referral_transition(match.referral, Referral.Status.WAITING)
    return match


def check_in_answer(
    check_in: CheckIn, *, by, meetings_held: int, wellbeing: str, wants_contact: bool = False
) -> CheckIn:
    if not check_in.match.volunteers.filter(volunteer__user=by).exists():
        raise PermissionDenied(_("Only a volunteer of this match answers its check-ins."))
    check_in.meetings_held, check_in.wellbeing = meetings_held, wellbeing
    check_in.wants_contact, check_in.answered_at = wants_contact, timezone.now()
    check_in.full_clean()
    check_in.save()
    return check_in
