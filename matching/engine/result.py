"""The engine's answer and its JSON shape."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# A fact about why a referral waits: a count, km (to 0.1), minutes, a code or a list of codes.
FactValue = str | int | float | list[str] | None


@dataclass(frozen=True)
class Pair:
    volunteer: str
    distance_km: float
    overlap_hours: float
    shared_languages: tuple[str, ...]  # the referral's languages the volunteer speaks well enough
    shared_activities: tuple[str, ...]  # all the family's wishes the volunteer can do (uncapped)
    cost: float


@dataclass(frozen=True)
class Assignment:
    referral: str
    pairs: tuple[Pair, ...]

    @property
    def volunteers(self) -> tuple[str, ...]:
        return tuple(pair.volunteer for pair in self.pairs)


@dataclass(frozen=True)
class NearMiss:
    """A volunteer who fails exactly one rule a coordinator may relax by hand, or, for a
    referral short of volunteers, one who passes every rule and still has room ("eligible").

    shortfall: km beyond the distance limit ("distance"), minutes of weekly shared time short
    of the minimum ("availability"), 0.0 for "gender" and "eligible".
    """

    volunteer: str
    rule: str
    shortfall: float
    distance_km: float
    overlap_minutes: int


@dataclass(frozen=True)
class Unmatched:
    """A referral left waiting: the first rule no volunteer gets past (`reason`), the figures
    behind it (`facts`, keys per reason in docs/design.md), a developer's one-line `detail`,
    and the nearest near misses, best first."""

    referral: str
    reason: str
    detail: str
    facts: Mapping[str, FactValue] = field(default_factory=dict, hash=False)
    near_misses: tuple[NearMiss, ...] = ()


@dataclass(frozen=True)
class Summary:
    matched: int
    unmatched: int
    waiting_days_matched: int
    total_cost: float


@dataclass(frozen=True)
class MatchResult:
    assignments: tuple[Assignment, ...]
    unmatched: tuple[Unmatched, ...]
    summary: Summary

    @property
    def objective(self) -> tuple[int, int, float]:
        """(referrals matched, waiting days matched, total cost): max, max, min."""
        s = self.summary
        return (s.matched, s.waiting_days_matched, s.total_cost)


def result_to_dict(result: MatchResult) -> dict[str, Any]:
    """The JSON-ready result; floats are rounded for reporting only."""
    return {
        "assignments": [_assignment_dict(a) for a in result.assignments],
        "unmatched": [_unmatched_dict(u) for u in result.unmatched],
        "summary": {
            "matched": result.summary.matched,
            "unmatched": result.summary.unmatched,
            "waiting_days_matched": result.summary.waiting_days_matched,
            "total_cost": _round(result.summary.total_cost, 3),
        },
    }


def _unmatched_dict(unmatched: Unmatched) -> dict[str, Any]:
    return {
        "referral": unmatched.referral,
        "reason": unmatched.reason,
        "detail": unmatched.detail,
        "facts": dict(unmatched.facts),
        "near_misses": [
            {
                "volunteer": miss.volunteer,
                "rule": miss.rule,
                "shortfall": miss.shortfall,
                "distance_km": miss.distance_km,
                "overlap_minutes": miss.overlap_minutes,
            }
            for miss in unmatched.near_misses
        ],
    }


def _assignment_dict(assignment: Assignment) -> dict[str, Any]:
    return {
        "referral": assignment.referral,
        "volunteers": list(assignment.volunteers),
        "pairs": [
            {
                "volunteer": pair.volunteer,
                "distance_km": _round(pair.distance_km, 3),
                "overlap_hours": _round(pair.overlap_hours, 2),
                "shared_languages": list(pair.shared_languages),
                "shared_activities": list(pair.shared_activities),
                "cost": _round(pair.cost, 3),
            }
            for pair in assignment.pairs
        ],
    }


def _round(value: float, digits: int) -> float:
    rounded = round(value, digits)
    return 0.0 if rounded == 0 else rounded  # never print -0.0
