"""The engine's answer and its JSON shape."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Pair:
    volunteer: str
    distance_km: float
    overlap_hours: float
    shared_languages: tuple[str, ...]
    cost: float


@dataclass(frozen=True)
class Assignment:
    referral: str
    pairs: tuple[Pair, ...]

    @property
    def volunteers(self) -> tuple[str, ...]:
        return tuple(pair.volunteer for pair in self.pairs)


@dataclass(frozen=True)
class Unmatched:
    referral: str
    reason: str
    detail: str


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
        "unmatched": [
            {"referral": u.referral, "reason": u.reason, "detail": u.detail}
            for u in result.unmatched
        ],
        "summary": {
            "matched": result.summary.matched,
            "unmatched": result.summary.unmatched,
            "waiting_days_matched": result.summary.waiting_days_matched,
            "total_cost": _round(result.summary.total_cost, 3),
        },
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
                "cost": _round(pair.cost, 3),
            }
            for pair in assignment.pairs
        ],
    }


def _round(value: float, digits: int) -> float:
    rounded = round(value, digits)
    return 0.0 if rounded == 0 else rounded  # never print -0.0
