"""Hypothesis strategies for small, contested matching instances (JSON-shaped)."""

from typing import Any

from hypothesis import strategies as st

LANGUAGES = ("nb", "en", "ar", "se")
MUNICIPALITIES = ("0301", "3201", "3203")


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


@st.composite
def volunteers(draw: st.DrawFn, index: int) -> dict[str, Any]:
    person = draw(people(index, "v"))
    person["gender"] = draw(st.sampled_from(["female", "male"]))
    person["capacity"] = draw(st.sampled_from([1, 1, 2]))
    return person


@st.composite
def referrals(draw: st.DrawFn, index: int) -> dict[str, Any]:
    person = draw(people(index, "r"))
    person["volunteers_needed"] = draw(st.sampled_from([1, 1, 2]))
    person["volunteer_gender"] = draw(st.sampled_from([None, None, "female", "male"]))
    person["max_distance_km"] = draw(st.sampled_from([None, None, 8.0]))
    person["waiting_days"] = draw(st.integers(0, 30))
    return person


@st.composite
def instances(draw: st.DrawFn, max_referrals: int = 8, max_volunteers: int = 12) -> dict[str, Any]:
    n_ref = draw(st.integers(1, max_referrals))
    n_vol = draw(st.integers(0, max_volunteers))
    return {
        "rules": {
            "max_distance_km": draw(st.sampled_from([10.0, 20.0, 40.0])),
            "min_overlap_hours": draw(st.sampled_from([0.5, 1.0])),
            "overlap_target_hours": draw(st.sampled_from([2.0, 4.0])),
            "km_per_overlap_hour": draw(st.sampled_from([0.0, 2.5, 6.0])),
        },
        "volunteers": [draw(volunteers(i)) for i in range(n_vol)],
        "referrals": [draw(referrals(i)) for i in range(n_ref)],
    }
