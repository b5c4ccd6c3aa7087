"""solve(): from a validated instance to an explained, exactly optimal result."""

from collections import defaultdict

import numpy as np

from .candidates import CandidateIndex
from .collector import garbage_collector_paused
from .errors import SolverFailure
from .explain import Explainer
from .instance import Instance, Referral, Volunteer, languages_counted
from .near_misses import NearMisses
from .pool import EdgePool
from .result import Assignment, MatchResult, Pair, Summary, Unmatched
from .solver import Selection, select_matches
from .tables import Codebook, IntArray, build_codebook, referral_table, volunteer_table


def solve(instance: Instance) -> MatchResult:
    """Propose the lexicographically best matches and explain every unmatched referral."""
    with garbage_collector_paused():
        return _solved(instance)


def _solved(instance: Instance) -> MatchResult:
    canonical = canonical_order(instance)
    codes = build_codebook(canonical)
    index = candidate_index(canonical, codes)
    selection = select_matches(index)
    load = _check_consistent(index, selection)
    assignments = _assignments(canonical, selection)
    explainer = Explainer(index, (canonical.referrals, canonical.volunteers), codes, load)
    matched = {a.referral for a in assignments}
    waiting = [row for row, r in enumerate(canonical.referrals) if r.id not in matched]
    near_misses = NearMisses(index, load).for_rows(np.asarray(waiting, dtype=np.int64))
    unmatched = tuple(explainer.explain(row, near_misses[row]) for row in waiting)
    return MatchResult(assignments, unmatched, _summary(canonical, assignments, unmatched))


def candidate_index(canonical: Instance, codes: Codebook) -> CandidateIndex:
    """Every feasible pair of the canonically ordered instance, as the solver sees them."""
    return CandidateIndex(
        referral_table(canonical.referrals, canonical, codes),
        volunteer_table(canonical.volunteers, codes, canonical.rules.min_language_level),
        canonical.rules,
        len(codes.municipalities),
        forbidden_keys(canonical),
    )


def _check_consistent(index: CandidateIndex, selection: Selection) -> IntArray:
    """Guard against solver tolerances: whole families, capacities kept. Returns loads."""
    pool, chosen = selection.pool, selection.chosen
    served = np.bincount(pool.referral[chosen], minlength=len(index.referrals))
    load = np.bincount(pool.volunteer[chosen], minlength=len(index.volunteers))
    whole = (served == 0) | (served == index.referrals.needed)
    if not (np.all(whole) and np.all(load <= index.volunteers.capacity)):
        raise SolverFailure("solver returned an inconsistent matching")
    return load


def canonical_order(instance: Instance) -> Instance:
    """Sort people by id, so results never depend on input order. Shorter ids first: ids
    numbered in sequence (the portal's r9, r10) keep that order when they gain a digit,
    and ties between equally good answers fall the same way after renumbering."""
    return Instance(
        rules=instance.rules,
        volunteers=tuple(sorted(instance.volunteers, key=_id_order)),
        referrals=tuple(sorted(instance.referrals, key=_id_order)),
        forbidden_pairs=tuple(sorted(set(instance.forbidden_pairs))),
    )


def _id_order(person: Volunteer | Referral) -> tuple[int, str]:
    return len(person.id), person.id


def forbidden_keys(instance: Instance) -> IntArray:
    """Each forbidden pair as ``referral row * volunteers + volunteer row``, sorted."""
    if not instance.forbidden_pairs:
        return np.zeros(0, dtype=np.int64)
    referral_row = {r.id: row for row, r in enumerate(instance.referrals)}
    volunteer_row = {v.id: row for row, v in enumerate(instance.volunteers)}
    keys = [
        referral_row[r] * len(instance.volunteers) + volunteer_row[v]
        for r, v in instance.forbidden_pairs
        if r in referral_row and v in volunteer_row
    ]
    return np.unique(np.asarray(keys, dtype=np.int64))


def _assignments(instance: Instance, selection: Selection) -> tuple[Assignment, ...]:
    pool = selection.pool
    by_referral: dict[int, list[int]] = defaultdict(list)
    for edge in selection.chosen.tolist():
        by_referral[int(pool.referral[edge])].append(edge)
    return tuple(
        Assignment(
            referral=instance.referrals[row].id,
            pairs=tuple(
                sorted((_pair(instance, pool, edge) for edge in edges), key=lambda p: p.volunteer)
            ),
        )
        for row, edges in sorted(by_referral.items())
    )


def _pair(instance: Instance, pool: EdgePool, edge: int) -> Pair:
    referral: Referral = instance.referrals[int(pool.referral[edge])]
    volunteer: Volunteer = instance.volunteers[int(pool.volunteer[edge])]
    spoken = languages_counted(volunteer, instance.rules.min_language_level)
    return Pair(
        volunteer=volunteer.id,
        distance_km=float(pool.distance_km[edge]),
        overlap_hours=float(pool.overlap_minutes[edge]) / 60.0,
        shared_languages=tuple(sorted(set(referral.languages) & set(spoken))),
        shared_activities=tuple(sorted(set(referral.activities) & set(volunteer.activities))),
        cost=float(pool.cost[edge]),
    )


def _summary(
    instance: Instance, assignments: tuple[Assignment, ...], unmatched: tuple[Unmatched, ...]
) -> Summary:
    waiting = {r.id: r.waiting_days for r in instance.referrals}
    return Summary(
        matched=len(assignments),
        unmatched=len(unmatched),
        waiting_days_matched=sum(waiting[a.referral] for a in assignments),
        total_cost=float(sum(pair.cost for a in assignments for pair in a.pairs)),
    )
