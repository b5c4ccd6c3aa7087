"""Odd-capacity cuts (matching/engine/cuts.py): every one the engine adds holds for every
matching of the whole instance, and they settle the relaxation where families and singles
share volunteers by halves."""

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from matching.engine import canonical_order, parse_instance
from matching.engine import lp as engine_lp
from matching.engine import solver as engine_solver
from matching.engine.cuts import OddCut
from matching.engine.pipeline import candidate_index
from matching.engine.tables import build_codebook

from .engine_checks import assert_optimal, solved
from .engine_reference import assert_feasible, reference_maximum, reference_model
from .strategies import ONE_TOWN_RULES
from .test_engine_scarce import SCARCE_SETTINGS, scarce_instances

EVENING = [{"day": 0, "start": "17:00", "end": "21:00"}]
OSLO = {"lat": 59.91, "lon": 10.75, "municipality": "0301", "availability": EVENING}


@st.composite
def crowded_instances(draw: st.DrawFn) -> dict[str, Any]:
    """One town: families and singles contest volunteers of capacity 1 (some 2), a pair
    feasible where they share one of three languages; the relaxations share volunteers by
    halves far more often than on scarce_instances."""
    speaks = st.lists(st.sampled_from(["nb", "ar", "so"]), min_size=1, max_size=2, unique=True)

    def person(kind: str, n: int) -> dict[str, Any]:
        return {
            "id": f"{kind}{n}",
            **OSLO,
            "lat": 59.91 + draw(st.floats(-0.03, 0.03)),
            "lon": 10.75 + draw(st.floats(-0.05, 0.05)),
            "languages": draw(speaks),
        }

    return {
        "rules": ONE_TOWN_RULES,
        "volunteers": [
            {**person("v", n), "gender": "female", "capacity": draw(st.sampled_from([1, 1, 2]))}
            for n in range(draw(st.integers(2, 6)))
        ],
        "referrals": [
            {
                **person("r", n),
                "volunteers_needed": draw(st.sampled_from([1, 2])),
                "waiting_days": draw(st.integers(0, 30)),
            }
            for n in range(draw(st.integers(2, 8)))
        ],
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(crowded_instances(), scarce_instances()))
def test_every_cut_the_engine_adds_holds_for_every_matching(data: dict[str, Any]) -> None:
    """The largest left-hand side any matching of the whole instance reaches (by the
    reference's MILP over every feasible pair) stays within the cut's bound."""
    cuts = _cuts_added_solving(data)
    event(f"cuts added: {min(len(cuts), 2)}+" if cuts else "no cut")
    canonical = canonical_order(parse_instance(data))
    model = reference_model(data)
    for cut in cuts:
        objective = _reference_objective(cut, canonical, data, model)
        assert reference_maximum(model, objective) <= cut.bound + 1e-9


@SCARCE_SETTINGS
@given(crowded_instances())
def test_crowded_instances_reach_the_reference_optimum(data: dict[str, Any]) -> None:
    result = solved(data)
    assert_feasible(data, result)
    assert_optimal(data, result)


def test_a_family_and_a_single_sharing_two_volunteers_are_settled_by_one_cut() -> None:
    """The relaxation serves the single from both volunteers by halves and the family at
    one half (1.5 referrals); one cut leaves one referral, as any matching can, and no
    MILP is needed."""
    data = _instance(volunteers=2, needs=[2, 1])
    index = _index(data)
    stats = engine_solver.select_matches(index).stats
    assert (stats.cuts, stats.milp_solves) == (1, 0)
    result = solved(data)
    assert_feasible(data, result)
    assert_optimal(data, result)
    assert result["summary"]["matched"] == 1


def test_without_cuts_the_same_instance_needs_a_milp() -> None:
    """The case above is one the cuts change: without them the relaxation stays fractional."""
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(engine_solver, "MAX_CUT_ROUNDS", 0)
        stats = engine_solver.select_matches(_index(_instance(2, [2, 1]))).stats
    assert stats.cuts == 0
    assert stats.milp_solves >= 1


def _cuts_added_solving(data: dict[str, Any]) -> list[OddCut]:
    added: list[OddCut] = []
    add_cuts = engine_lp.RestrictedModel.add_cuts

    def recording(model: engine_lp.RestrictedModel, cuts: list[OddCut]) -> None:
        added.extend(cuts)
        add_cuts(model, cuts)

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(engine_lp.RestrictedModel, "add_cuts", recording)
        solved(data)
    return added


def _reference_objective(
    cut: OddCut, canonical: Any, data: dict[str, Any], model: Any
) -> np.ndarray:
    """The cut's left-hand side over the reference's variables (pairs, then referrals)."""
    ref_position = {r["id"]: i for i, r in enumerate(data["referrals"])}
    vol_position = {v["id"]: j for j, v in enumerate(data["volunteers"])}
    in_r = {ref_position[canonical.referrals[row].id] for row in np.flatnonzero(cut.referrals)}
    in_v = {vol_position[canonical.volunteers[row].id] for row in np.flatnonzero(cut.volunteers)}
    edges = np.array([1.0 if i in in_r and j in in_v else 0.0 for i, j in model.edges])
    y = np.zeros(len(data["referrals"]))
    for row, coefficient in enumerate(cut.y_coefficient):
        y[ref_position[canonical.referrals[row].id]] = coefficient
    return np.concatenate((edges, y))


def _instance(volunteers: int, needs: list[int]) -> dict[str, Any]:
    return {
        "rules": ONE_TOWN_RULES,
        "volunteers": [
            {"id": f"v{n}", **OSLO, "languages": ["nb"], "gender": "female", "capacity": 1}
            for n in range(volunteers)
        ],
        "referrals": [
            {"id": f"r{n}", **OSLO, "languages": ["nb"], "volunteers_needed": need}
            for n, need in enumerate(needs)
        ],
    }


def _index(data: dict[str, Any]) -> Any:
    canonical = canonical_order(parse_instance(data))
    return candidate_index(canonical, build_codebook(canonical))
