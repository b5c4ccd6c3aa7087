"""Hypothesis strategies for small, contested matching instances (JSON-shaped)."""

from typing import Any

from hypothesis import strategies as st

LANGUAGES = ("nb", "en", "ar", "se")
LEVELS = ("native", "fluent", "conversational", "basic")
ACTIVITIES = ("football", "swimming", "music", "climbing")
MUNICIPALITIES = ("0301", "3201", "3203")
# Rules for instances where everyone lives in one town: any pair within reach, one shared
# evening hour enough, no distance bonus for more hours.
ONE_TOWN_RULES = {
    "max_distance_km": 40.0,
    "min_overlap_hours": 1.0,
    "overlap_target_hours": 2.0,
    "km_per_overlap_hour": 0.0,
}


@st.composite
def slots(draw: st.DrawFn) -> dict[str, Any]:
    day = draw(st.integers(0, 2))
    start = draw(st.integers(16, 44)) * 30
    end = min(start + draw(st.sampled_from([30, 60, 90, 120, 180, 240, 300])), 1440)
    return {"day": day, "start": _clock(start), "end": _clock(end)}


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def people(draw: st.DrawFn, index: int, prefix: str) -> dict[str, Any]:
    return {
        "id": f"{prefix}{index}",
        "lat": draw(st.floats(59.80, 60.10)),
        "lon": draw(st.floats(10.40, 11.00)),
        "municipality": draw(st.sampled_from(MUNICIPALITIES)),
        "languages": draw(
            st.lists(st.sampled_from(LANGUAGES), min_size=1, max_size=2, unique=True)
        ),
        "availability": draw(st.lists(slots(), max_size=3)),
        "excluded_municipalities": draw(st.lists(st.sampled_from(MUNICIPALITIES), max_size=1)),
    }


def spoken(draw: st.DrawFn, codes: list[str]) -> list[Any]:
    """A volunteer's languages: plain codes (level not stated), or some or all with a level."""
    if draw(st.booleans()):
        return list(codes)
    return [
        code if draw(st.booleans()) else {"code": code, "level": draw(st.sampled_from(LEVELS))}
        for code in codes
    ]


def codes_of(languages: list[Any]) -> list[str]:
    return [entry if isinstance(entry, str) else entry["code"] for entry in languages]


@st.composite
def volunteers(draw: st.DrawFn, index: int) -> dict[str, Any]:
    person = draw(people(index, "v"))
    person["languages"] = spoken(draw, person["languages"])
    person["gender"] = draw(st.sampled_from(["female", "male"]))
    person["capacity"] = draw(st.sampled_from([1, 1, 2]))
    person["activities"] = draw(st.lists(st.sampled_from(ACTIVITIES), max_size=3))
    return person


@st.composite
def referrals(draw: st.DrawFn, index: int) -> dict[str, Any]:
    person = draw(people(index, "r"))
    person["volunteers_needed"] = draw(st.sampled_from([1, 1, 2]))
    person["volunteer_gender"] = draw(st.sampled_from([None, None, "female", "male"]))
    person["max_distance_km"] = draw(st.sampled_from([None, None, 8.0]))
    person["waiting_days"] = draw(st.integers(0, 30))
    person["activities"] = draw(st.lists(st.sampled_from(ACTIVITIES), max_size=3))
    return person


@st.composite
def rules(draw: st.DrawFn, max_distance_km: list[float], min_overlap_hours: list[float]) -> Any:
    """The rules, with language levels and activities sometimes left at their defaults. A
    large bonus per activity makes unknown pairs' lower bounds matter."""
    drawn: dict[str, Any] = {
        "max_distance_km": draw(st.sampled_from(max_distance_km)),
        "min_overlap_hours": draw(st.sampled_from(min_overlap_hours)),
        "overlap_target_hours": draw(st.sampled_from([2.0, 4.0])),
        "km_per_overlap_hour": draw(st.sampled_from([0.0, 2.5, 6.0])),
    }
    if draw(st.booleans()):
        drawn["min_language_level"] = draw(st.sampled_from(LEVELS))
    if draw(st.booleans()):
        drawn["km_per_shared_activity"] = draw(st.sampled_from([0.0, 4.0, 15.0]))
        drawn["max_shared_activities"] = draw(st.sampled_from([0, 1, 3]))
    return drawn


@st.composite
def instances(draw: st.DrawFn, max_referrals: int = 8, max_volunteers: int = 12) -> dict[str, Any]:
    n_ref = draw(st.integers(1, max_referrals))
    n_vol = draw(st.integers(0, max_volunteers))
    return {
        "rules": draw(rules([10.0, 20.0, 40.0], [0.5, 1.0])),
        "volunteers": [draw(volunteers(i)) for i in range(n_vol)],
        "referrals": [draw(referrals(i)) for i in range(n_ref)],
    }
