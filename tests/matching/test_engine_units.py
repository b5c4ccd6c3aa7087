"""Small units: geometry and availability arithmetic."""

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.engine import canonical_order, parse_instance
from matching.engine.availability import (
    WeeklyOverlap,
    merged_intervals,
    overlap_minutes,
    padded_intervals,
)
from matching.engine.geo import (
    chord_for_km,
    haversine_km,
    km_for_chord,
    unit_vectors,
)
from matching.engine.instance import Slot
from matching.engine.pipeline import candidate_index
from matching.engine.tables import build_codebook

from .strategies import instances


def test_haversine_agrees_with_geopy_great_circle() -> None:
    great_circle = pytest.importorskip("geopy.distance").great_circle
    oslo, bergen = (59.9127, 10.7461), (60.3913, 5.3221)
    distance = haversine_km(*(np.array(x) for x in (*oslo, *bergen)))
    expected = great_circle(oslo, bergen, radius=6371.0088).km
    assert float(distance) == pytest.approx(expected, rel=1e-9)
    assert float(distance) == pytest.approx(304.76, abs=0.01)


@settings(max_examples=60, deadline=None)
@given(instances(max_referrals=8, max_volunteers=12))
def test_the_index_measures_every_pair_as_haversine_does_to_the_last_bit(
    data: dict[str, Any],
) -> None:
    """The tables keep each person's latitude in radians and its cosine, computed over all
    people at once; pairs measured from them must come out exactly as from the degrees."""
    canonical = canonical_order(parse_instance(data))
    index = candidate_index(canonical, build_codebook(canonical))
    rows, columns = np.meshgrid(
        np.arange(len(canonical.referrals)), np.arange(len(canonical.volunteers)), indexing="ij"
    )
    referral, volunteer = rows.ravel(), columns.ravel()
    lat_r, lon_r = (np.array([getattr(r, f) for r in canonical.referrals]) for f in ("lat", "lon"))
    lat_v, lon_v = (np.array([getattr(v, f) for v in canonical.volunteers]) for f in ("lat", "lon"))
    expected = haversine_km(lat_r[referral], lon_r[referral], lat_v[volunteer], lon_v[volunteer])
    assert index.distances(referral, volunteer).tobytes() == expected.tobytes()


def test_chord_round_trip_is_monotone_and_never_short() -> None:
    km = np.array([0.0, 1.0, 40.0, 400.0, 4000.0])
    back = km_for_chord(chord_for_km(km))
    assert np.all(back >= km) and np.allclose(back, km, rtol=1e-6, atol=1e-6)
    assert np.all(np.diff(chord_for_km(km)) > 0)


def test_unit_vectors_chord_matches_haversine() -> None:
    a, b = unit_vectors(np.array([59.9, 69.0]), np.array([10.7, 23.0]))
    chord = np.linalg.norm(a - b)
    assert float(km_for_chord(np.array(chord))) == pytest.approx(
        float(haversine_km(np.array(59.9), np.array(10.7), np.array(69.0), np.array(23.0))),
        rel=1e-9,
    )


def test_touching_and_overlapping_slots_merge() -> None:
    slots = (Slot(0, 600, 720), Slot(0, 720, 780), Slot(0, 700, 750), Slot(1, 0, 60))
    assert merged_intervals(slots) == [(600, 780), (1440, 1500)]


def test_overlap_counts_the_union_once() -> None:
    a_starts, a_ends = padded_intervals([(Slot(0, 600, 720), Slot(0, 660, 780))])
    b_starts, b_ends = padded_intervals([(Slot(0, 690, 900), Slot(2, 0, 1440))])
    assert overlap_minutes(a_starts, a_ends, b_starts, b_ends).tolist() == [90]


def test_slot_ending_at_midnight_does_not_touch_next_day() -> None:
    a_starts, a_ends = padded_intervals([(Slot(0, 1380, 1440),)])
    b_starts, b_ends = padded_intervals([(Slot(1, 0, 60),)])
    assert overlap_minutes(a_starts, a_ends, b_starts, b_ends).tolist() == [0]


def test_people_without_slots_get_empty_padding() -> None:
    starts, ends = padded_intervals([(), (Slot(3, 60, 120),), ()])
    assert starts.tolist() == [[0], [4380], [0]] and ends.tolist() == [[0], [4440], [0]]
    starts, ends = padded_intervals([(), ()])
    assert starts.shape == (2, 1) and not ends.any()


@st.composite
def weekly_slots(draw: st.DrawFn, grain: int) -> tuple[Slot, ...]:
    slots = []
    for _ in range(draw(st.integers(0, 4))):
        start = draw(st.integers(0, 1440 // grain - 1)) * grain
        end = draw(st.integers(start // grain + 1, 1440 // grain)) * grain
        slots.append(Slot(draw(st.integers(0, 6)), start, end))
    return tuple(slots)


def brute_force_minutes(a: tuple[Slot, ...], b: tuple[Slot, ...]) -> int:
    def covered(slots: tuple[Slot, ...]) -> set[int]:
        return {m for s in slots for m in range(s.week_start, s.week_end)}

    return len(covered(a) & covered(b))


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([1, 7, 30]).flatmap(lambda g: st.lists(
    st.tuples(weekly_slots(g), weekly_slots(g)), min_size=1, max_size=6)))  # fmt: skip
def test_bitset_and_interval_overlaps_agree_with_brute_force(
    pairs: list[tuple[tuple[Slot, ...], tuple[Slot, ...]]],
) -> None:
    referrals = padded_intervals([a for a, _ in pairs])
    volunteers = padded_intervals([b for _, b in pairs])
    index = np.arange(len(pairs))
    weekly = WeeklyOverlap(referrals, volunteers)
    expected = [brute_force_minutes(a, b) for a, b in pairs]
    assert weekly.minutes(index, index).tolist() == expected
    assert overlap_minutes(*referrals, *volunteers).tolist() == expected
    weekly.use_bits = not weekly.use_bits and weekly.grain >= 30
    if weekly.use_bits:
        weekly.referral_bits = weekly._bitsets(*referrals)
        weekly.volunteer_bits = weekly._bitsets(*volunteers)
        assert weekly.minutes(index, index).tolist() == expected


def test_best_bonus_bounds_every_pair_of_a_referral_and_includes_its_activities() -> None:
    """Unknown pairs are priced at `explored km - referral_bonus_km` (solver phantoms): the
    bonus must be at least what any pair of the referral can earn, activities included."""
    evening = [{"day": 1, "start": "17:00", "end": "19:00"}]
    person = {"lat": 59.9, "lon": 10.7, "municipality": "0301", "availability": evening}
    data = {
        "rules": {"max_distance_km": 40, "min_overlap_hours": 1, "overlap_target_hours": 4,
                  "km_per_overlap_hour": 2.5, "km_per_shared_activity": 4.0,
                  "max_shared_activities": 2},
        "volunteers": [
            {**person, "id": f"v{i}", "languages": ["nb"], "activities": activities}
            for i, activities in enumerate([[], ["a"], ["a", "b", "c"], ["a", "b", "c", "d"]])
        ],
        "referrals": [
            {**person, "id": "r1", "languages": ["nb"], "activities": ["a", "b", "c", "a"]},
            {**person, "id": "r2", "languages": ["nb"], "activities": ["d"]},
            {**person, "id": "r3", "languages": ["nb"]},
        ],
    }  # fmt: skip
    canonical = canonical_order(parse_instance(data))
    index = candidate_index(canonical, build_codebook(canonical))
    # 2 h shared at 2.5 km, and at most 2 activities at 4 km
    assert index.referral_bonus_km.tolist() == [5.0 + 8.0, 5.0 + 4.0, 5.0]
    referral = np.repeat(np.arange(3), 4)
    volunteer = np.tile(np.arange(4), 3)
    assert index.shared_activities(referral, volunteer).tolist() == [
        0, 1, 3, 3, 0, 0, 0, 1, 0, 0, 0, 0,
    ]  # fmt: skip
    edges = index.feasible_edges(referral, volunteer)
    bound = edges.distance_km - index.referral_bonus_km[edges.referral]
    assert np.all(edges.cost >= bound - 1e-9)
    # The bound is reached: r1 with v2 and v3, r2 with v3, r3 (wishing for nothing) with all.
    assert np.isclose(edges.cost, bound).sum() == 7
