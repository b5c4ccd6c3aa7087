"""Plain, validated input records. Times are minutes since Monday 00:00."""

from collections.abc import Sequence
from dataclasses import dataclass

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
# How well a volunteer speaks a language, best first.
LANGUAGE_LEVELS = ("native", "fluent", "conversational", "basic")
_LEVEL_RANK = {level: rank for rank, level in enumerate(LANGUAGE_LEVELS)}


@dataclass(frozen=True)
class Slot:
    day: int
    start: int
    end: int

    @property
    def week_start(self) -> int:
        return self.day * MINUTES_PER_DAY + self.start

    @property
    def week_end(self) -> int:
        return self.day * MINUTES_PER_DAY + self.end


@dataclass(frozen=True)
class Rules:
    max_distance_km: float
    min_overlap_hours: float
    overlap_target_hours: float
    km_per_overlap_hour: float
    # A volunteer's language counts as shared only if spoken at this level or better.
    min_language_level: str = "conversational"
    # Cost bonus per activity both the family wishes for and the volunteer can do, for at
    # most `max_shared_activities` of them (0 and 0: activities do not count).
    km_per_shared_activity: float = 0.0
    max_shared_activities: int = 0

    def distance_limit_km(self, referral_limit_km: float | None) -> float:
        """A referral's own limit where it has one, else the rules'."""
        return self.max_distance_km if referral_limit_km is None else referral_limit_km


@dataclass(frozen=True)
class Volunteer:
    id: str
    lat: float
    lon: float
    municipality: str
    languages: tuple[str, ...]
    availability: tuple[Slot, ...]
    gender: str | None = None
    capacity: int = 1
    excluded_municipalities: tuple[str, ...] = ()
    # Empty: levels not stated, every language counts. Else one per language, each one of
    # LANGUAGE_LEVELS (the JSON input holds a code given without a level as "native").
    language_levels: tuple[str, ...] = ()
    activities: tuple[str, ...] = ()  # what the volunteer can do with children


@dataclass(frozen=True)
class Referral:
    id: str
    lat: float
    lon: float
    municipality: str
    languages: tuple[str, ...]
    availability: tuple[Slot, ...]
    volunteers_needed: int = 1
    volunteer_gender: str | None = None
    excluded_municipalities: tuple[str, ...] = ()
    max_distance_km: float | None = None
    waiting_days: int = 0
    activities: tuple[str, ...] = ()  # what the family wishes for


@dataclass(frozen=True)
class Instance:
    rules: Rules
    # Tuples of records, or the same records kept as columns (people.Records), which the
    # JSON reader makes and `canonical_order` returns; the two compare equal.
    volunteers: Sequence[Volunteer]
    referrals: Sequence[Referral]
    # (referral id, volunteer id) pairs a coordinator rejected: never proposed again.
    forbidden_pairs: tuple[tuple[str, str], ...] = ()


def languages_by_level(
    languages: tuple[str, ...], levels: tuple[str, ...], min_level: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the languages spoken at `min_level` or better, those spoken only below it); with no
    levels stated every language counts."""
    if not levels:
        return languages, ()
    floor = _LEVEL_RANK[min_level]
    counted = tuple(
        code for code, level in zip(languages, levels, strict=True) if _LEVEL_RANK[level] <= floor
    )
    return counted, tuple(code for code in languages if code not in counted)
