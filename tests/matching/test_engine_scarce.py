"""Scarce volunteers, families and capacity 2, in several separate clusters: the regime where
relaxations are fractional and the engine solves MILPs one component at a time."""

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.engine import canonical_order, parse_instance
from matching.engine import lp as engine_lp
from matching.engine import solver as engine_solver
from matching.engine.components import label_components
from matching.engine.pipeline import candidate_index
from matching.engine.tables import build_codebook

from .engine_checks import assert_optimal, every_stage_through_milps, solved
from .engine_reference import assert_feasible, rule_results
from .strategies import ONE_TOWN_RULES, codes_of, referrals, rules, volunteers

# Centres far enough apart (> 40 km) that no pair across two clusters is feasible.
CLUSTER_CENTRES = ((59.91, 10.75), (60.39, 5.32), (63.43, 10.40))
SCARCE_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# Up to the contract's limit (wire.MAX_WAITING_DAYS), for each referral of an instance.
LONG_WAITS = st.lists(st.sampled_from([0, 1, 99_999, 100_000]), min_size=18, max_size=18)


@st.composite
def scarce_instances(draw: st.DrawFn) -> dict[str, Any]:
    """Two or three clusters, each with fewer volunteer places than referral needs."""
    people: dict[str, list[dict[str, Any]]] = {"referrals": [], "volunteers": []}
    for lat, lon in CLUSTER_CENTRES[: draw(st.integers(2, 3))]:
        n_ref = draw(st.integers(2, 6))
        n_vol = draw(st.integers(1, max(1, n_ref - 1)))
        for _ in range(n_ref):
            referral = draw(referrals(len(people["referrals"])))
            referral["volunteers_needed"] = draw(st.sampled_from([1, 2, 2]))
            people["referrals"].append(_near(draw, referral, lat, lon))
        for _ in range(n_vol):
            volunteer = draw(volunteers(len(people["volunteers"])))
            volunteer["capacity"] = draw(st.sampled_from([1, 2, 2]))
            people["volunteers"].append(_near(draw, volunteer, lat, lon))
    return {"rules": draw(rules([40.0], [0.5])), **people}


def _near(draw: st.DrawFn, person: dict[str, Any], lat: float, lon: float) -> dict[str, Any]:
    """Close together, speaking nb (a volunteer perhaps not well enough), mostly free on
    Monday evening: contested on purpose."""
    person["lat"] = lat + draw(st.floats(-0.08, 0.08))
    person["lon"] = lon + draw(st.floats(-0.15, 0.15))
    if "nb" not in codes_of(person["languages"]):
        person["languages"] = ["nb", *person["languages"]]
    person["availability"] = [{"day": 0, "start": "17:00", "end": "21:00"}, *person["availability"]]
    person["excluded_municipalities"] = []
    return person


@SCARCE_SETTINGS
@given(scarce_instances())
def test_scarce_families_reach_the_reference_optimum(data: dict[str, Any]) -> None:
    result = solved(data)
    assert_feasible(data, result)
    assert_optimal(data, result)


@SCARCE_SETTINGS
@given(scarce_instances())
def test_scarce_families_through_per_component_milps(data: dict[str, Any]) -> None:
    """Every relaxation treated as fractional and exploration starting from one candidate:
    each stage solves a MILP per component and holds its optimum per component."""
    _assert_optimal_through_milps(data)


@SCARCE_SETTINGS
@given(scarce_instances(), st.integers(0, 30))
def test_scarce_families_with_interior_point_root_lps(data: dict[str, Any], days: int) -> None:
    """Where every referral has waited as long, stage 1 counts referrals alone, and its large
    component MILPs solve their root LP by interior point (with presolve): here every one
    does, and each stage goes through its MILPs."""
    _assert_optimal_through_milps(
        _waiting(data, [days] * len(data["referrals"])),
        (engine_lp, "INTERIOR_POINT_FROM_COLUMNS", 0),
    )


@SCARCE_SETTINGS
@given(scarce_instances(), LONG_WAITS)
def test_scarce_families_waiting_long_solve_stages_one_and_two_apart(
    data: dict[str, Any], waits: list[int]
) -> None:
    """Beyond MAX_COMBINED_SCORE_WEIGHT the count and the waiting days are solved one after
    the other (here from a lower limit, as the instances are small), with waits up to the
    contract's limit, each stage through its MILPs."""
    _assert_optimal_through_milps(
        _waiting(data, waits), (engine_solver, "MAX_COMBINED_SCORE_WEIGHT", 1.0)
    )


@SCARCE_SETTINGS
@given(scarce_instances(), LONG_WAITS)
def test_scarce_families_waiting_long_in_one_combined_score(
    data: dict[str, Any], waits: list[int]
) -> None:
    """Waits up to the contract's limit keep the combined score below
    MAX_COMBINED_SCORE_WEIGHT on instances this size: one stage for count and waiting days,
    through its MILPs, still reaches the reference's lexicographic optimum."""
    _assert_optimal_through_milps(_waiting(data, waits))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scarce_instances())
def test_scarce_families_solved_again_strictly_integral(data: dict[str, Any]) -> None:
    """Where HiGHS's incumbent does not round to its value (never, on these), each component
    MILP is solved again at a strict integrality tolerance: forced here for every one."""
    _assert_optimal_through_milps(data, (engine_lp, "MAX_ROUNDING_SLACK", -1.0))


def _assert_optimal_through_milps(data: dict[str, Any], *patches: tuple[Any, str, float]) -> None:
    with pytest.MonkeyPatch.context() as patched, every_stage_through_milps():
        for module, name, value in patches:
            patched.setattr(module, name, value)
        result = solved(data)
    assert_feasible(data, result)
    assert_optimal(data, result)


def _waiting(data: dict[str, Any], waits: list[int]) -> dict[str, Any]:
    for referral, days in zip(data["referrals"], waits, strict=False):
        referral["waiting_days"] = days
    return data


@settings(max_examples=20, deadline=None)
@given(scarce_instances(), st.randoms(use_true_random=False))
def test_scarce_output_is_independent_of_input_order(data: dict[str, Any], rng: Any) -> None:
    first = json.dumps(solved(data))
    shuffled = dict(data, volunteers=list(data["volunteers"]), referrals=list(data["referrals"]))
    rng.shuffle(shuffled["volunteers"])
    rng.shuffle(shuffled["referrals"])
    assert json.dumps(solved(shuffled)) == first


@settings(max_examples=30, deadline=None)
@given(scarce_instances())
def test_the_components_of_every_feasible_pair_are_those_the_rules_give(
    data: dict[str, Any],
) -> None:
    """What-if re-solves one component of the full candidate graph at a time: its pairs
    (`all_feasible_pairs`) and their components against the rules checked pair by pair."""
    canonical = canonical_order(parse_instance(data))
    index = candidate_index(canonical, build_codebook(canonical))
    components = label_components(
        len(canonical.referrals), len(canonical.volunteers), index.all_feasible_pairs()
    )
    by_id = {person["id"]: person for person in data["referrals"] + data["volunteers"]}
    refs = [by_id[r.id] for r in canonical.referrals]
    vols = [by_id[v.id] for v in canonical.volunteers]
    expected = _union_find_labels(
        len(refs),
        len(vols),
        [
            (i, j)
            for i, r in enumerate(refs)
            for j, v in enumerate(vols)
            if all(rule_results(data, r, v))
        ],
    )
    labels = np.concatenate((components.referral, components.volunteer))
    assert _same_partition(labels.tolist(), expected)
    assert components.count == len(set(expected))


def _union_find_labels(n_ref: int, n_vol: int, edges: list[tuple[int, int]]) -> list[int]:
    parent = list(range(n_ref + n_vol))

    def root(node: int) -> int:
        while parent[node] != node:
            node = parent[node]
        return node

    for i, j in edges:
        parent[root(i)] = root(n_ref + j)
    return [root(node) for node in range(n_ref + n_vol)]


def _same_partition(first: list[int], second: list[int]) -> bool:
    return len(set(first)) == len(set(second)) == len(set(zip(first, second, strict=True)))


@pytest.mark.parametrize(
    ("waits", "stages"),
    [
        ([7] * 12, ["COUNT", "COST"]),
        ([0, 30] * 6, ["MATCHED_THEN_WAITING", "COST"]),
        # The largest score, M + 100,000 days, is 1.2 million, below 2^24 (16.8 million).
        ([100_000] * 11 + [0], ["MATCHED_THEN_WAITING", "COST"]),
    ],
)
def test_stages_one_and_two_are_combined_unless_waits_are_all_equal(
    waits: list[int], stages: list[str]
) -> None:
    assert [stage.name for stage in _solved_stages(waits)] == stages


def test_stages_one_and_two_are_apart_when_the_combined_score_would_be_too_large() -> None:
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(engine_solver, "MAX_COMBINED_SCORE_WEIGHT", 1_200_000.0)
        stages = _solved_stages([100_000] * 11 + [0])
    assert [stage.name for stage in stages] == ["COUNT", "WAITING", "COST"]


def _solved_stages(waits: list[int]) -> list[engine_solver.Stage]:
    """The stages solved for referrals waiting so long, three to each of four volunteers."""
    evening = [{"day": 0, "start": "17:00", "end": "21:00"}]
    place = {"lat": 59.91, "lon": 10.75, "municipality": "0301", "availability": evening}
    data = {
        "rules": ONE_TOWN_RULES,
        "volunteers": [
            {"id": f"v{n}", **place, "languages": ["nb"], "gender": "female", "capacity": 1}
            for n in range(4)
        ],
        "referrals": [
            {"id": f"r{n}", **place, "languages": ["nb"], "waiting_days": days}
            for n, days in enumerate(waits)
        ],
    }
    canonical = canonical_order(parse_instance(data))
    index = candidate_index(canonical, build_codebook(canonical))
    return engine_solver.select_matches(index).stats.stages
