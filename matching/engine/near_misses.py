"""Near misses: the volunteers a coordinator could still propose by hand for a waiting referral.

A near miss speaks one of the referral's languages (at the rules' level or better, as the
language rule asks), passes the safety exclusions both ways,
was never rejected for this referral and has room left after this run's assignments, and fails
exactly one of the rules a coordinator may relax: distance (within twice the limit), weekly
shared time (some, but less than the minimum) or the gender wish. Safety exclusions and
rejections are never relaxed, so nobody failing them is ever listed. A referral still short of
volunteers (a family needing two, with one found) also lists those who pass every rule and have
room ("eligible"), so that the pair can be completed by hand.

Only the speakers of the referral's languages within twice its limit are looked at (KD-tree
balls per language, as for the candidates), and only for unmatched referrals, a batch at a time.
"""

from dataclasses import dataclass

import numpy as np

from .candidates import PAIRS_PER_BLOCK, BoolArray, CandidateIndex, PairChecks
from .instance import Rules
from .result import NearMiss
from .tables import FloatArray, IntArray

NEAR_MISS_LIMIT = 5
DISTANCE_REACH = 2.0  # distance near misses lie within this multiple of the referral's limit
ROWS_PER_BATCH = 32  # referrals searched together: few numpy calls, bounded memory

RULES = ("eligible", "distance", "availability", "gender")
_ELIGIBLE, _DISTANCE, _AVAILABILITY, _GENDER = range(len(RULES))
# Order in the list: eligible first, then distance and time by shortfall, gender wishes last.
_GROUP = np.array([0, 1, 1, 2], dtype=np.int64)


@dataclass(frozen=True)
class _Found:
    """Near-miss pairs, with the rule each fails and by how much."""

    referral: IntArray
    volunteer: IntArray
    rule: IntArray  # index into RULES
    shortfall: FloatArray  # as reported: km beyond the limit, minutes short, or 0
    relative: FloatArray  # shortfall as a share of the limit it misses, for ordering
    distance_km: FloatArray
    overlap_minutes: IntArray


def needed_minutes(rules: Rules) -> int:
    """The minimum weekly shared time in whole minutes (overlaps are whole minutes)."""
    return int(np.ceil(rules.min_overlap_hours * 60.0 - 1e-9))


class NearMisses:
    def __init__(self, index: CandidateIndex, load: IntArray) -> None:
        self.index = index
        self.load = load

    def for_rows(self, rows: IntArray) -> dict[int, tuple[NearMiss, ...]]:
        """Up to NEAR_MISS_LIMIT near misses of each row, best first."""
        found: dict[int, tuple[NearMiss, ...]] = {}
        for start in range(0, rows.size, ROWS_PER_BATCH):
            found |= self._batch(rows[start : start + ROWS_PER_BATCH])
        return found

    def _batch(self, rows: IntArray) -> dict[int, tuple[NearMiss, ...]]:
        referral, volunteer = self._speakers_within_reach(rows)
        found = _concatenate(
            [
                self._classify(self.index.check_pairs(referral[block], volunteer[block]))
                for block in _blocks(referral.size)
            ]
        )
        # Volunteer rows follow their ids (the instance is in canonical order).
        order = np.lexsort(
            (
                found.volunteer,
                found.distance_km,
                found.relative,
                _GROUP[found.rule],
                found.referral,
            )
        )
        best = order[_rank_in_group(found.referral[order]) < NEAR_MISS_LIMIT]
        misses: dict[int, list[NearMiss]] = {int(row): [] for row in rows}
        for i in best.tolist():
            misses[int(found.referral[i])].append(self._near_miss(found, i))
        return {row: tuple(found_for_row) for row, found_for_row in misses.items()}

    def _near_miss(self, found: _Found, i: int) -> NearMiss:
        return NearMiss(
            volunteer=self.index.volunteers.ids[int(found.volunteer[i])],
            rule=RULES[int(found.rule[i])],
            shortfall=float(found.shortfall[i]),
            distance_km=round(float(found.distance_km[i]), 1),
            overlap_minutes=int(found.overlap_minutes[i]),
        )

    def _speakers_within_reach(self, rows: IntArray) -> tuple[IntArray, IntArray]:
        """(row, volunteer) pairs, once each, of the rows with every speaker of their languages
        within twice their limit: KD-tree balls per language."""
        reach = DISTANCE_REACH * self.index.referrals.limit_km[rows]
        referral, volunteer = self.index.within(rows, reach)
        width = len(self.index.volunteers)
        keys = np.unique(referral * width + volunteer)
        return keys // width, keys % width

    def _classify(self, checks: PairChecks) -> _Found:
        limit = self.index.referrals.limit_km[checks.referral]
        needed = needed_minutes(self.index.rules)
        close, enough, gender = checks.within_distance, checks.overlapping, checks.gender_ok
        reachable = checks.distance_km <= DISTANCE_REACH * limit
        fails_only = {  # exclusive: each pair fails at most one of these ways
            _ELIGIBLE: close & enough & gender,
            _DISTANCE: ~close & reachable & enough & gender,
            _AVAILABILITY: close & ~enough & (checks.overlap_minutes > 0) & gender,
            _GENDER: close & enough & ~gender,
        }
        rule = np.full(checks.volunteer.size, -1, dtype=np.int64)
        open_to_hand = self._open_to_hand(checks)
        for code, fails in fails_only.items():
            rule[open_to_hand & fails] = code
        at = np.flatnonzero(rule >= 0)
        rule = rule[at]
        beyond_km = checks.distance_km[at] - limit[at]
        short_minutes = (needed - checks.overlap_minutes[at]).astype(np.float64)
        shortfall, relative = np.zeros(at.size), np.zeros(at.size)
        far, short = rule == _DISTANCE, rule == _AVAILABILITY
        # Shown km to 0.1 but never "0 km" beyond the limit; minutes whole.
        shortfall[far] = np.maximum(np.round(beyond_km[far], 1), 0.1)
        relative[far] = beyond_km[far] / limit[at][far]
        shortfall[short] = short_minutes[short]
        relative[short] = short_minutes[short] / max(needed, 1)
        return _Found(
            referral=checks.referral[at],
            volunteer=checks.volunteer[at],
            rule=rule,
            shortfall=shortfall,
            relative=relative,
            distance_km=checks.distance_km[at],
            overlap_minutes=checks.overlap_minutes[at],
        )

    def _open_to_hand(self, checks: PairChecks) -> BoolArray:
        """Speaks a language, safe both ways, never rejected, room left after this run."""
        volunteers = checks.volunteer
        return np.asarray(
            checks.shared_language
            & checks.safe
            & checks.not_rejected
            & (self.load[volunteers] < self.index.volunteers.capacity[volunteers])
        )


def _blocks(size: int) -> list[slice]:
    return [slice(start, start + PAIRS_PER_BLOCK) for start in range(0, size, PAIRS_PER_BLOCK)]


def _concatenate(parts: list[_Found]) -> _Found:
    empty_int, empty_float = np.zeros(0, dtype=np.int64), np.zeros(0)
    return _Found(
        referral=np.concatenate([empty_int, *(part.referral for part in parts)]),
        volunteer=np.concatenate([empty_int, *(part.volunteer for part in parts)]),
        rule=np.concatenate([empty_int, *(part.rule for part in parts)]),
        shortfall=np.concatenate([empty_float, *(part.shortfall for part in parts)]),
        relative=np.concatenate([empty_float, *(part.relative for part in parts)]),
        distance_km=np.concatenate([empty_float, *(part.distance_km for part in parts)]),
        overlap_minutes=np.concatenate([empty_int, *(part.overlap_minutes for part in parts)]),
    )


def _rank_in_group(sorted_groups: IntArray) -> IntArray:
    start = np.searchsorted(sorted_groups, sorted_groups, side="left")
    return np.arange(sorted_groups.size) - start
