"""Proposals a coordinator makes by hand from a run's near misses: the volunteers who fail one
rule the coordinator may relax. What may be relaxed, and what never:

- the distance limit and the minimum weekly shared time: yes, recorded in ``relaxed_rules``;
- the participant's wish for a volunteer's gender: only once the crisis centre has recorded that
  the participant accepts another gender (``Referral.any_gender_consent_on``);
- safety exclusions (either side's municipalities), earlier rejections, a shared language
  spoken at least at the programme's level, vetting, being active and free capacity: never.

Every rule is checked again when the proposal is made, with the referral and the volunteers
locked, because the run's figures may be old. The proposal then goes through the same review,
agreement and audit as the engine's (matching/lifecycle.py)."""

from dataclasses import dataclass

import numpy as np
from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import user_coordinates
from matching import lifecycle
from matching.agreements import vetting_running_out_during_agreement
from matching.engine.availability import merged_intervals
from matching.engine.geo import haversine_km
from matching.engine.instance import Slot
from matching.lifecycle import MatchConflict
from matching.models import Match, NearMiss, Proposal, ProposalPair, RejectedPair, UnmatchedReferral
from matching.selectors import rules_for
from programmes.audit import objects_log_created
from programmes.languages import LANGUAGE_LEVELS, codes_spoken_at_least
from programmes.models import Referral
from programmes.validators import screened_text
from volunteers.models import Volunteer
from volunteers.selectors import (
    volunteers_eligible_for,
    volunteers_free_capacity,
)

DISTANCE, AVAILABILITY, GENDER = "distance", "availability", "gender"


@dataclass(frozen=True)
class PairFigures:
    """What the engine would have said about a pair: the same distance, overlap and cost."""

    distance_km: float
    overlap_minutes: int
    shared_languages: tuple[str, ...]
    shared_activities: tuple[str, ...]
    cost: float


def proposal_make_by_hand(unmatched: UnmatchedReferral, volunteers, reason: str, by) -> Proposal:
    """Propose ``volunteers`` (near misses of ``unmatched``) for its referral, with the
    coordinator's ``reason``. Raises ValidationError naming the field at fault, MatchConflict
    when the referral or a volunteer moved on meanwhile, PermissionDenied for anyone but a
    coordinator of the referral's site."""
    reason = _reason_checked(reason)
    wanted = _volunteer_ids_checked(unmatched, volunteers)
    with transaction.atomic():
        referral = _locked_waiting_referral(unmatched.referral_id, by)
        free = volunteers_free_capacity(wanted)  # locks the volunteers, in id order
        # The run's own rules, as its figures were computed with them.
        rules = {**rules_for(referral.site.programme), **unmatched.run.rules}
        chosen = _volunteers_checked(referral, wanted, free, rules["min_language_level"])
        figures = {v.pk: pair_figures(referral, v, rules) for v in chosen}
        relaxed = _relaxed_rules(referral, chosen, figures, rules)
        proposal = _proposal_save(unmatched, referral, chosen, figures, reason, relaxed)
        lifecycle.referrals_propose([referral.pk])
    return proposal


def _reason_checked(reason: str) -> str:
    reason = screened_text(reason, "reason", 300)
    if not reason:
        raise ValidationError({"reason": _("Say why you propose them by hand.")})
    return reason


def _volunteer_ids_checked(unmatched: UnmatchedReferral, volunteers) -> list[int]:
    ids = sorted({getattr(v, "pk", v) for v in volunteers})
    needed = unmatched.run.programme.volunteers_per_referral
    if len(ids) != needed:
        raise ValidationError(
            {
                "volunteers": _("Choose exactly %(needed)s volunteers.") % {"needed": needed}
                if needed > 1
                else _("Choose one volunteer.")
            }
        )
    near = set(
        NearMiss.objects.filter(unmatched=unmatched, volunteer__in=ids).values_list(
            "volunteer_id", flat=True
        )
    )
    if near != set(ids):
        raise ValidationError(
            {"volunteers": _("Choose among the volunteers who nearly fit this referral.")}
        )
    return ids


def _locked_waiting_referral(referral_id: int, by) -> Referral:
    """Lock the referral first (the order lifecycle.py keeps) and refuse unless it still waits
    with no proposal under review and no open match."""
    referral = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("site__programme", "municipality", "postal_code")
        .prefetch_related("wished_activities")
        .get(pk=referral_id)
    )
    if not user_coordinates(by, referral.site):
        raise PermissionDenied(_("Only a coordinator of this programme site may do that."))
    pending = Proposal.objects.filter(referral=referral, status=Proposal.Status.PENDING)
    open_match = Match.objects.filter(referral=referral, status__in=Match.OPEN_STATUSES)
    if referral.status != Referral.Status.WAITING or pending.exists() or open_match.exists():
        raise MatchConflict(
            _("%(alias)s no longer waits for a volunteer: it is “%(status)s”.")
            % {"alias": referral.alias, "status": referral.get_status_display().lower()}
        )
    return referral


def _volunteers_checked(
    referral: Referral, ids: list[int], free: dict[int, int], min_level: str
) -> list:
    volunteers = list(
        Volunteer.objects.filter(pk__in=ids)
        .select_related("user", "home_postal_code__municipality")
        .prefetch_related("avoid_municipalities", "activities")
        .order_by("pk")
    )
    vetted = _vetted_ids(referral.site.programme, ids)
    rejected = set(
        RejectedPair.objects.filter(referral=referral, volunteer__in=ids).values_list(
            "volunteer_id", flat=True
        )
    )
    referral_bars = {m.pk for m in referral.avoid_municipalities.all()}
    for volunteer in volunteers:
        name = volunteer.display_name
        if volunteer.status != Volunteer.Status.ACTIVE:
            raise MatchConflict(_("%s is no longer active.") % name)
        if volunteer.pk not in vetted:
            raise MatchConflict(_("The vetting of %s is not in order for this programme.") % name)
        if free.get(volunteer.pk, 0) <= 0:
            raise MatchConflict(_("%s has no free capacity any more.") % name)
        _require_safe(referral, volunteer, referral_bars, name)
        if volunteer.pk in rejected:
            raise ValidationError(
                {"volunteers": _("%s was turned down for this referral before.") % name}
            )
        if not set(referral.languages) & set(codes_spoken_at_least(volunteer.languages, min_level)):
            raise ValidationError({"volunteers": _no_shared_language(volunteer, min_level)})
    return volunteers


def _no_shared_language(volunteer, min_level: str) -> str:
    name = volunteer.display_name
    if min_level == "basic":
        return _("%s shares no language with the participant.") % name
    return _(
        "%(name)s speaks none of the participant's languages well enough: this programme asks "
        "for at least “%(level)s”."
    ) % {"name": name, "level": str(dict(LANGUAGE_LEVELS)[min_level]).lower()}


def _vetted_ids(programme, ids: list[int]) -> set[int]:
    """Eligible today and a month from now, as a run requires (matching/selectors.py)."""
    today = timezone.localdate()
    month_later = today + relativedelta(months=1)
    now = set(
        volunteers_eligible_for(programme, today).filter(pk__in=ids).values_list("pk", flat=True)
    )
    later = volunteers_eligible_for(programme, month_later).filter(pk__in=ids)
    return now & set(later.values_list("pk", flat=True))


def _require_safe(referral: Referral, volunteer, referral_bars: set[int], name: str) -> None:
    volunteer_place = volunteer.home_postal_code.municipality_id
    volunteer_bars = {m.pk for m in volunteer.avoid_municipalities.all()}
    if volunteer_place in referral_bars or referral.municipality_id in volunteer_bars:
        raise ValidationError(
            {"volunteers": _("%s is ruled out for the participant's safety.") % name}
        )


def _relaxed_rules(referral: Referral, volunteers, figures, rules: dict) -> list[str]:
    limit = float(referral.max_distance_km or rules["max_distance_km"])
    relaxed = set()
    for volunteer in volunteers:
        pair = figures[volunteer.pk]
        if pair.distance_km > limit:
            relaxed.add(DISTANCE)
        if pair.overlap_minutes < rules["min_overlap_hours"] * 60 - 1e-9:
            relaxed.add(AVAILABILITY)
        if referral.volunteer_gender and volunteer.gender != referral.volunteer_gender:
            if referral.any_gender_consent_on is None:
                raise ValidationError(
                    {
                        "volunteers": _(
                            "%(name)s is not the gender the participant wished for. The crisis "
                            "centre must first record that the participant accepts a volunteer "
                            "of another gender."
                        )
                        % {"name": volunteer.display_name}
                    }
                )
            relaxed.add(GENDER)
    return sorted(relaxed)


def _proposal_save(unmatched, referral, volunteers, figures, reason, relaxed) -> Proposal:
    proposal = Proposal.objects.create(
        run=unmatched.run,
        referral=referral,
        cost=sum(pair.cost for pair in figures.values()),
        made_by_hand=True,
        hand_reason=reason,
        relaxed_rules=relaxed,
    )
    objects_log_created([proposal])
    expiring = vetting_running_out_during_agreement(
        referral.site.programme, [v.pk for v in volunteers], timezone.localdate()
    )
    ProposalPair.objects.bulk_create(
        ProposalPair(
            proposal=proposal,
            volunteer=volunteer,
            distance_km=figures[volunteer.pk].distance_km,
            overlap_hours=figures[volunteer.pk].overlap_minutes / 60.0,
            shared_languages=list(figures[volunteer.pk].shared_languages),
            shared_activities=list(figures[volunteer.pk].shared_activities),
            cost=figures[volunteer.pk].cost,
            vetting_expires_on=expiring.get(volunteer.pk),
        )
        for volunteer in volunteers
    )
    return proposal


# The pair's figures, computed as the engine computes them -----------------------------------


def pair_figures(referral: Referral, volunteer, rules: dict) -> PairFigures:
    # As 0-d float64 arrays, the engine's type: the same arithmetic as on the plain floats.
    r_lat, r_lon, v_lat, v_lon = (
        np.asarray(degrees, dtype=np.float64) for degrees in (*referral.point, *volunteer.point)
    )
    distance = float(haversine_km(r_lat, r_lon, v_lat, v_lon))
    overlap = _overlap_minutes(referral.availability, volunteer.availability)
    hours = min(overlap / 60.0, rules["overlap_target_hours"])
    spoken = codes_spoken_at_least(volunteer.languages, rules["min_language_level"])
    wished = {activity.code for activity in referral.wished_activities.all()}
    shared = tuple(sorted(wished & {activity.code for activity in volunteer.activities.all()}))
    cost = distance - rules["km_per_overlap_hour"] * hours
    if rules["km_per_shared_activity"] > 0 and rules["max_shared_activities"] > 0:
        cost -= rules["km_per_shared_activity"] * min(len(shared), rules["max_shared_activities"])
    return PairFigures(
        distance_km=distance,
        overlap_minutes=overlap,
        shared_languages=tuple(sorted(set(referral.languages) & set(spoken))),
        shared_activities=shared,
        cost=cost,
    )


def _overlap_minutes(first: list[dict], second: list[dict]) -> int:
    a, b = _week_intervals(first), _week_intervals(second)
    return sum(
        max(0, min(a_end, b_end) - max(a_start, b_start))
        for a_start, a_end in a
        for b_start, b_end in b
    )


def _week_intervals(availability: list[dict]) -> list[tuple[int, int]]:
    def minutes(clock: str) -> int:
        hours, mins = clock.split(":")
        return int(hours) * 60 + int(mins)

    return merged_intervals(
        tuple(
            Slot(day=s["day"], start=minutes(s["start"]), end=minutes(s["end"]))
            for s in availability
        )
    )
