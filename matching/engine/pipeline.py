"""solve(): from a validated instance to an explained, exactly optimal result."""

from collections import defaultdict
from typing import TypeVar

import numpy as np

from .candidates import CandidateIndex
from .collector import garbage_collector_paused
from .errors import SolverFailure
from .explain import Explainer
from .instance import Instance, Referral, Volunteer, languages_by_level
from .near_misses import NearMisses
from .people import Records
from .pool import EdgePool
from .result import Assignment, MatchResult, Pair, Summary, Unmatched
from .solver import Selection, select_matches
from .tables import Codebook, IntArray, build_codebook, referral_table, volunteer_table

P = TypeVar("P", Referral, Volunteer)


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
    explainer = Explainer(index, _people(canonical), codes, load)
    matched = {a.referral for a in assignments}
    waiting = [row for row, id_ in enumerate(index.referrals.ids) if id_ not in matched]
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
    and ties between equally good answers fall the same way after renumbering. The people
    come back as columns (people.Records)."""
    referrals, volunteers = _people(instance)
    return Instance(
        rules=instance.rules,
        volunteers=_by_id(volunteers),
        referrals=_by_id(referrals),
        forbidden_pairs=tuple(sorted(set(instance.forbidden_pairs))),
    )


def _people(instance: Instance) -> tuple[Records[Referral], Records[Volunteer]]:
    return Records.of(Referral, instance.referrals), Records.of(Volunteer, instance.volunteers)


def _by_id(people: Records[P]) -> Records[P]:
    ids = people.column("id")
    # By id, then (stable) by length: (length, id) order. Both keys are C calls, and already
    # sorted ids take one pass each. Where a caller repeats an id, its rows keep their order.
    order = sorted(range(len(ids)), key=ids.__getitem__)
    order.sort(key=list(map(len, ids)).__getitem__)
    return people.reordered(order)


def forbidden_keys(instance: Instance) -> IntArray:
    """Each forbidden pair as ``referral row * volunteers + volunteer row``, sorted."""
    if not instance.forbidden_pairs:
        return np.zeros(0, dtype=np.int64)
    referrals, volunteers = _people(instance)
    referral_row = {id_: row for row, id_ in enumerate(referrals.column("id"))}
    volunteer_row = {id_: row for row, id_ in enumerate(volunteers.column("id"))}
    keys = [
        referral_row[r] * len(instance.volunteers) + volunteer_row[v]
        for r, v in instance.forbidden_pairs
        if r in referral_row and v in volunteer_row
    ]
    return np.unique(np.asarray(keys, dtype=np.int64))


def _assignments(instance: Instance, selection: Selection) -> tuple[Assignment, ...]:
    pool = selection.pool
    pair = _PairMaker(instance, pool)
    by_referral: dict[int, list[int]] = defaultdict(list)
    for edge in selection.chosen.tolist():
        by_referral[int(pool.referral[edge])].append(edge)
    return tuple(
        Assignment(
            referral=pair.referral_ids[row],
            pairs=tuple(sorted(map(pair, edges), key=lambda p: p.volunteer)),
        )
        for row, edges in sorted(by_referral.items())
    )


class _PairMaker:
    """A chosen edge as the result's `Pair`, read from the people's columns."""

    def __init__(self, instance: Instance, pool: EdgePool) -> None:
        referrals, volunteers = _people(instance)
        self.pool, self.min_level = pool, instance.rules.min_language_level
        self.referral_ids = referrals.column("id")
        self.wanted_languages = referrals.column("languages")
        self.wished = referrals.column("activities")
        self.volunteer_ids = volunteers.column("id")
        self.languages = volunteers.column("languages")
        self.levels = volunteers.column("language_levels")
        self.can_do = volunteers.column("activities")

    def __call__(self, edge: int) -> Pair:
        pool = self.pool
        referral, volunteer = int(pool.referral[edge]), int(pool.volunteer[edge])
        spoken = languages_by_level(
            self.languages[volunteer], self.levels[volunteer], self.min_level
        )[0]
        shared_languages = set(self.wanted_languages[referral]) & set(spoken)
        return Pair(
            volunteer=self.volunteer_ids[volunteer],
            distance_km=float(pool.distance_km[edge]),
            overlap_hours=float(pool.overlap_minutes[edge]) / 60.0,
            shared_languages=tuple(sorted(shared_languages)),
            shared_activities=tuple(
                sorted(set(self.wished[referral]) & set(self.can_do[volunteer]))
            ),
            cost=float(pool.cost[edge]),
        )


def _summary(
    instance: Instance, assignments: tuple[Assignment, ...], unmatched: tuple[Unmatched, ...]
) -> Summary:
    referrals = Records.of(Referral, instance.referrals)
    waiting = dict(zip(referrals.column("id"), referrals.column("waiting_days"), strict=True))
    return Summary(
        matched=len(assignments),
        unmatched=len(unmatched),
        waiting_days_matched=sum(waiting[a.referral] for a in assignments),
        total_cost=float(sum(pair.cost for a in assignments for pair in a.pairs)),
    )
