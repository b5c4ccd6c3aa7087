"""Property tests: feasible, exactly optimal (against an independent MILP), explained, stable."""

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.engine import lp
from matching.engine import solver as engine_solver

from .engine_checks import assert_optimal, solved
from .engine_reference import assert_feasible, expected_reason
from .strategies import instances

PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def assert_reasons(data: dict[str, Any], result: dict[str, Any]) -> None:
    by_id = {r["id"]: r for r in data["referrals"]}
    for unmatched in result["unmatched"]:
        assert unmatched["reason"] == expected_reason(data, by_id[unmatched["referral"]])
        assert unmatched["detail"]


@PROPERTY_SETTINGS
@given(instances())
def test_result_is_feasible_optimal_and_explained(data: dict[str, Any]) -> None:
    result = solved(data)
    assert_feasible(data, result)
    assert_optimal(data, result)
    assert_reasons(data, result)


@PROPERTY_SETTINGS
@given(instances(max_referrals=14, max_volunteers=30))
def test_column_generation_reaches_the_same_optimum(data: dict[str, Any]) -> None:
    """Start from one nearest candidate each, so exploration and phantoms do the work."""
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(engine_solver, "INITIAL_NEIGHBOURS", 1)
        patched.setattr(engine_solver, "SPARE_CANDIDATES", 0)
        result = solved(data)
    assert_feasible(data, result)
    assert_optimal(data, result)
    assert_reasons(data, result)


@settings(max_examples=30, deadline=None)
@given(instances(max_referrals=10, max_volunteers=20))
def test_milp_path_reaches_the_same_optimum(data: dict[str, Any]) -> None:
    """Treat every relaxation as fractional, so each stage goes through the MILP with
    phantoms."""
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(engine_solver, "INITIAL_NEIGHBOURS", 1)
        patched.setattr(engine_solver, "SPARE_CANDIDATES", 0)
        patched.setattr(engine_solver, "ENTERING_PER_REFERRAL", 1)
        patched.setattr(lp.Solution, "integral", property(lambda self: False))
        patched.setattr(lp, "is_integral", lambda values: values != values)
        result = solved(data)
    assert_feasible(data, result)
    assert_optimal(data, result)
    assert_reasons(data, result)


@settings(max_examples=25, deadline=None)
@given(instances(), st.randoms(use_true_random=False))
def test_output_is_byte_identical_across_runs_and_input_order(
    data: dict[str, Any], rng: Any
) -> None:
    first = json.dumps(solved(data), sort_keys=False)
    assert json.dumps(solved(data)) == first
    shuffled = dict(data, volunteers=list(data["volunteers"]), referrals=list(data["referrals"]))
    rng.shuffle(shuffled["volunteers"])
    rng.shuffle(shuffled["referrals"])
    assert json.dumps(solved(shuffled)) == first


@settings(max_examples=25, deadline=None)
@given(instances())
def test_output_is_sorted(data: dict[str, Any]) -> None:
    result = solved(data)
    ids = [a["referral"] for a in result["assignments"]]
    assert ids == sorted(ids)
    assert [u["referral"] for u in result["unmatched"]] == sorted(
        u["referral"] for u in result["unmatched"]
    )
    for assignment in result["assignments"]:
        assert assignment["volunteers"] == sorted(assignment["volunteers"])
        assert [p["volunteer"] for p in assignment["pairs"]] == assignment["volunteers"]
