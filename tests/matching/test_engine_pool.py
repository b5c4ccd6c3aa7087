"""The edge pool's promise to the solver: after widening, every feasible pair of activity tier
k closer than the referral's reach for tier k is known (the bounds on unknown pairs rest on it)."""

from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.engine import canonical_order, parse_instance
from matching.engine.pipeline import candidate_index
from matching.engine.pool import EdgePool
from matching.engine.tables import build_codebook
from tests.matching.strategies import ACTIVITIES


def _pool(data: dict[str, Any]) -> EdgePool:
    canonical = canonical_order(parse_instance(data))
    return EdgePool(candidate_index(canonical, build_codebook(canonical)))


def _known_keys(pool: EdgePool) -> set[tuple[int, int]]:
    return set(zip(pool.referral.tolist(), pool.volunteer.tolist(), strict=True))


def _feasible_within_reach(pool: EdgePool) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """(every feasible pair, those strictly inside their tier's reach), by brute force."""
    index = pool.index
    referral = np.repeat(np.arange(len(index.referrals)), len(index.volunteers))
    volunteer = np.tile(np.arange(len(index.volunteers)), len(index.referrals))
    checks = index.check_pairs(referral, volunteer)
    reach = pool.reach_km[referral, index.activity_tier(referral, volunteer)]
    inside = checks.feasible & (checks.distance_km < reach * (1.0 - 1e-9))
    feasible = set(
        zip(referral[checks.feasible].tolist(), volunteer[checks.feasible].tolist(), strict=True)
    )
    return feasible, set(zip(referral[inside].tolist(), volunteer[inside].tolist(), strict=True))


@st.composite
def _person(draw: st.DrawFn, prefix: str, index: int) -> dict[str, Any]:
    """Mostly feasible pairs (one evening for all, no gender or place wishes), spread over
    60 km, so that the tiers' reaches decide which are known."""
    return {
        "id": f"{prefix}{index}",
        "lat": draw(st.floats(59.7, 60.2)),
        "lon": draw(st.floats(10.3, 11.2)),
        "municipality": "0301",
        "languages": draw(st.lists(st.sampled_from(["nb", "en"]), min_size=1, unique=True)),
        "availability": [{"day": 1, "start": "17:00", "end": "20:00"}],
        "activities": draw(st.lists(st.sampled_from(ACTIVITIES), max_size=4, unique=True)),
    }


@st.composite
def widenings(draw: st.DrawFn) -> tuple[dict[str, Any], list[list[list[float]]]]:
    """An instance whose activities count (one to three tiers above tier 0), and two rounds
    of radii per referral and tier."""
    cap = draw(st.integers(1, 3))
    data = {
        "rules": {"max_distance_km": 40.0, "min_overlap_hours": 1.0,
                  "overlap_target_hours": 4.0, "km_per_overlap_hour": 2.5,
                  "km_per_shared_activity": 4.0, "max_shared_activities": cap},
        "volunteers": [draw(_person("v", i)) for i in range(draw(st.integers(1, 16)))],
        "referrals": [draw(_person("r", i)) for i in range(draw(st.integers(1, 6)))],
    }  # fmt: skip
    radius = st.floats(0.0, 45.0)
    rounds = [
        [draw(st.lists(radius, min_size=cap + 1, max_size=cap + 1)) for _ in data["referrals"]]
        for _ in range(2)
    ]
    return data, rounds


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(widenings())
def test_widening_knows_every_feasible_pair_within_its_tiers_reach_and_nothing_else(
    case: tuple[dict[str, Any], list[list[list[float]]]],
) -> None:
    data, rounds = case
    pool = _pool(data)
    rows = np.arange(len(pool.index.referrals), dtype=np.int64)
    for radii in rounds:
        pool.explore_within(rows, np.array(radii, dtype=np.float64))
        feasible, inside = _feasible_within_reach(pool)
        known = _known_keys(pool)
        assert inside <= known
        assert known <= feasible
        assert len(known) == pool.referral.size  # each pair once


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(widenings(), st.integers(1, 4))
def test_the_nearest_search_knows_every_feasible_pair_within_its_tiers_reach(
    case: tuple[dict[str, Any], list[list[list[float]]]], k: int
) -> None:
    """The first search (k nearest speakers, and k nearest doers of each wished activity)
    keeps the same promise, then a widening after it too."""
    data, rounds = case
    pool = _pool(data)
    rows = np.arange(len(pool.index.referrals), dtype=np.int64)
    pool.explore_nearest(rows, k)
    feasible, inside = _feasible_within_reach(pool)
    known = _known_keys(pool)
    assert inside <= known
    assert known <= feasible
    assert np.all(np.diff(pool.reach_km, axis=1) >= 0)  # never decreasing along the tiers
    pool.explore_within(rows, np.array(rounds[0], dtype=np.float64))
    feasible, inside = _feasible_within_reach(pool)
    assert inside <= _known_keys(pool) <= feasible


def test_activity_sets_across_words_find_each_sharing_pair_once() -> None:
    """With more than 64 activities a pair's shared ones span two words; the searches by one
    and by two activities each find it once (from its lowest-numbered shared activities)."""
    many = [f"a{n:02d}" for n in range(70)]
    evening = [{"day": 1, "start": "17:00", "end": "19:00"}]
    person = {"lat": 59.9, "lon": 10.7, "municipality": "0301", "availability": evening}
    data = {
        "rules": {"max_distance_km": 40, "min_overlap_hours": 1, "overlap_target_hours": 4,
                  "km_per_overlap_hour": 2.5, "km_per_shared_activity": 4.0,
                  "max_shared_activities": 3},
        "volunteers": [
            {**person, "id": "v-all", "languages": ["nb"], "activities": many},
            {**person, "id": "v-one", "languages": ["nb"], "activities": ["a66"]},
        ],
        "referrals": [
            {**person, "id": "r", "languages": ["nb"], "activities": ["a03", "a66", "a69"]}
        ],
    }  # fmt: skip
    index = _pool(data).index
    row, radius = np.array([0]), np.array([5.0])
    for n_shared, expected in ((1, [0, 1]), (2, [0])):
        _, volunteer = index.within_sharing(row, radius, n_shared)
        assert sorted(volunteer.tolist()) == expected
