"""Property tests: feasible, exactly optimal (against an independent MILP), explained, stable."""

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.engine import solver as engine_solver

from .engine_checks import assert_optimal, every_stage_through_milps, solved
from .engine_reference import assert_feasible, expected_reason, speakers_below_level
from .strategies import instances, referrals, volunteers

PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def assert_reasons(data: dict[str, Any], result: dict[str, Any]) -> None:
    by_id = {r["id"]: r for r in data["referrals"]}
    for unmatched in result["unmatched"]:
        ref = by_id[unmatched["referral"]]
        assert unmatched["reason"] == expected_reason(data, ref)
        assert unmatched["detail"]
        if unmatched["reason"] == "no_shared_language":
            below = speakers_below_level(data, ref)
            assert unmatched["facts"].get("speakers_below_level", 0) == below
            assert ("required_level" in unmatched["facts"]) == (below > 0)


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


WISHED = ["football", "music", "swimming"]


@st.composite
def wishes_far_away(draw: st.DrawFn) -> dict[str, Any]:
    """Referrals in one town wishing for activities; the volunteers nearest them do other
    things, those a few km farther do what is wished: where activities pay most, the best
    volunteer lies beyond the first ones the solver looks at."""
    centre = (59.91, 10.75)
    people: dict[str, list[dict[str, Any]]] = {"referrals": [], "volunteers": []}
    for i in range(draw(st.integers(1, 3))):
        person = draw(referrals(i))
        person["activities"] = draw(st.lists(st.sampled_from(WISHED), min_size=1, unique=True))
        people["referrals"].append(_around(draw, person, centre, 0.005))
    for i in range(draw(st.integers(2, 10))):
        person = draw(volunteers(i))
        far = draw(st.booleans())
        person["activities"] = draw(
            st.lists(st.sampled_from(WISHED if far else ["chess", "climbing"]), unique=True)
        )
        people["volunteers"].append(_around(draw, person, centre, 0.12 if far else 0.02))
    rules = {"max_distance_km": 40.0, "min_overlap_hours": 0.5, "overlap_target_hours": 4.0}
    rules |= {
        "km_per_overlap_hour": draw(st.sampled_from([0.0, 2.5])),
        "km_per_shared_activity": draw(st.sampled_from([4.0, 15.0])),
        "max_shared_activities": draw(st.sampled_from([1, 3])),
    }
    return {"rules": rules, **people}


def _around(
    draw: st.DrawFn, person: dict[str, Any], centre: tuple[float, float], spread: float
) -> dict[str, Any]:
    person["lat"] = centre[0] + draw(st.floats(-spread, spread))
    person["lon"] = centre[1] + draw(st.floats(-spread, spread))
    person["languages"] = ["nb"]
    person["availability"] = [{"day": 0, "start": "17:00", "end": "21:00"}]
    person["excluded_municipalities"] = []
    return person


@PROPERTY_SETTINGS
@given(wishes_far_away())
def test_volunteers_sharing_activities_beyond_the_nearest_are_found(data: dict[str, Any]) -> None:
    """The bounds on pairs not looked at yet must count the activities they might share."""
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(engine_solver, "INITIAL_NEIGHBOURS", 1)
        patched.setattr(engine_solver, "SPARE_CANDIDATES", 0)
        result = solved(data)
    assert_feasible(data, result)
    assert_optimal(data, result)


@settings(max_examples=30, deadline=None)
@given(instances(max_referrals=10, max_volunteers=20))
def test_milp_path_reaches_the_same_optimum(data: dict[str, Any]) -> None:
    """Treat every relaxation as fractional, so each stage goes through the MILP with
    phantoms."""
    with every_stage_through_milps():
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
