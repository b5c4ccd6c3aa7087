"""Plain, validated input records. Times are minutes since Monday 00:00."""

from dataclasses import dataclass

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY


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


@dataclass(frozen=True)
class Instance:
    rules: Rules
    volunteers: tuple[Volunteer, ...]
    referrals: tuple[Referral, ...]
    # (referral id, volunteer id) pairs a coordinator rejected: never proposed again.
    forbidden_pairs: tuple[tuple[str, str], ...] = ()

    def distance_limit_km(self, referral: Referral) -> float:
        if referral.max_distance_km is None:
            return self.rules.max_distance_km
        return referral.max_distance_km
