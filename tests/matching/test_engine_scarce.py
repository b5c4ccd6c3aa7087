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
from matching.engine.components import label_components
from matching.engine.pipeline import candidate_index
from matching.engine.tables import build_codebook

from .engine_checks import assert_optimal, every_stage_through_milps, solved
from .engine_reference import assert_feasible, rule_results
from .strategies import codes_of, referrals, rules, volunteers

# Centres far enough apart (> 40 km) that no pair across two clusters is feasible.
CLUSTER_CENTRES = ((59.91, 10.75), (60.39, 5.32), (63.43, 10.40))
SCARCE_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


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
    with every_stage_through_milps():
        result = solved(data)
    assert_feasible(data, result)
    assert_optimal(data, result)


@SCARCE_SETTINGS
@given(scarce_instances())
def test_scarce_families_with_interior_point_root_lps(data: dict[str, Any]) -> None:
    """Large component MILPs of stage 1 solve their root LP by interior point (with
    presolve): here every one does, and each stage goes through its MILPs."""
    with pytest.MonkeyPatch.context() as patched, every_stage_through_milps():
        patched.setattr(engine_lp, "INTERIOR_POINT_FROM_COLUMNS", 0)
        result = solved(data)
    assert_feasible(data, result)
    assert_optimal(data, result)


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
