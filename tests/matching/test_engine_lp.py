"""The restricted model's LP re-solves (matching/engine/lp.py): after only priced-in columns
have joined, primal simplex from the last basis; after anything else, dual simplex. Either
way the optimum is the one a model built afresh over the same columns reaches."""

from typing import Any

import numpy as np
import pytest

from matching.engine import canonical_order, parse_instance
from matching.engine import lp as engine_lp
from matching.engine import solver as engine_solver
from matching.engine.cuts import OddCut
from matching.engine.pipeline import candidate_index
from matching.engine.pool import EdgePool
from matching.engine.tables import build_codebook

from .strategies import ONE_TOWN_RULES

STAGE = engine_solver.Stage.MATCHED_THEN_WAITING


def test_a_re_solve_after_only_new_columns_is_primal_and_reaches_the_fresh_optimum() -> None:
    pool, model = _started()
    model.solve_relaxation(*_stage_inputs(pool))
    assert _strategy(model) == engine_lp.DUAL_SIMPLEX  # the first solve has no basis to keep
    _join_more_columns(pool)
    warm = model.solve_relaxation(*_stage_inputs(pool))
    assert _strategy(model) == engine_lp.PRIMAL_SIMPLEX
    fresh = engine_lp.RestrictedModel(pool).solve_relaxation(*_stage_inputs(pool))
    assert warm.value == pytest.approx(fresh.value, abs=1e-6)


@pytest.mark.parametrize(
    "change",
    [
        "a referral held unmatched",
        "a cut",
        "the stage's optimum held",
        "the next stage's costs",
        "columns dropped",
        "no new column",
    ],
)
def test_a_re_solve_after_any_other_change_is_dual(change: str) -> None:
    pool, model = _started()
    model.solve_relaxation(*_stage_inputs(pool))
    objective, fixings, y_upper = _stage_inputs(pool)
    if change == "columns dropped":
        model.drop_columns(model.columns[:3])
    _join_more_columns(pool)
    if change == "a referral held unmatched":
        y_upper[0] = 0.0
    elif change == "a cut":
        model.add_cuts([_cut_on_the_first_volunteer(pool)])
    elif change == "the stage's optimum held":
        fixings = [engine_lp.Fixing(np.arange(3), np.ones(3), 0.0)]
    elif change == "the next stage's costs":
        objective = engine_solver._objective(pool, engine_solver.Stage.COST)
    elif change == "no new column":
        model.solve_relaxation(objective, fixings, y_upper)
    model.solve_relaxation(objective, fixings, y_upper)
    assert _strategy(model) == engine_lp.DUAL_SIMPLEX


def _started() -> tuple[EdgePool, engine_lp.RestrictedModel]:
    """Thirty referrals in one place, forty volunteers along a road out of it: the first
    search knows only the nearest, and the first columns are a few of those."""
    data = _waiting_in_one_place_volunteers_along_a_road(30, 40)
    canonical = canonical_order(parse_instance(data))
    pool = EdgePool(candidate_index(canonical, build_codebook(canonical)))
    engine_solver._explore_initially(pool)
    engine_solver._start_with_cheapest_columns(pool)
    return pool, engine_lp.RestrictedModel(pool)


def _stage_inputs(
    pool: EdgePool,
) -> tuple[engine_lp.Objective, list[engine_lp.Fixing], np.ndarray]:
    return engine_solver._objective(pool, STAGE), [], engine_solver._y_upper(pool)


def _join_more_columns(pool: EdgePool) -> None:
    outside = np.flatnonzero(~pool.is_column)
    assert outside.size
    pool.is_column[outside[: outside.size // 2 + 1]] = True


def _cut_on_the_first_volunteer(pool: EdgePool) -> OddCut:
    """At most one edge into volunteer 0, whose capacity is 1 anyway (valid, if weak)."""
    n_referrals, n_volunteers = len(pool.index.referrals), pool.n_volunteers
    volunteers = np.zeros(n_volunteers, dtype=np.bool_)
    volunteers[0] = True
    return OddCut(
        referrals=np.ones(n_referrals, dtype=np.bool_),
        volunteers=volunteers,
        y_coefficient=np.zeros(n_referrals),
        bound=1.0,
    )


def _strategy(model: engine_lp.RestrictedModel) -> int:
    status, value = model.highs.getOptionValue("simplex_strategy")
    assert status == engine_lp.highspy.HighsStatus.kOk
    return int(value)


def _waiting_in_one_place_volunteers_along_a_road(
    n_referrals: int, n_volunteers: int
) -> dict[str, Any]:
    """Volunteers about 0.56 km apart eastwards, all within the 40 km limit."""
    evening = [{"day": 0, "start": "17:00", "end": "21:00"}]
    place = {"municipality": "0301", "availability": evening, "languages": ["nb"], "lat": 59.91}
    return {
        "rules": ONE_TOWN_RULES,
        "volunteers": [
            {"id": f"v{n}", **place, "lon": 10.75 + 0.01 * n, "gender": "female", "capacity": 1}
            for n in range(n_volunteers)
        ],
        "referrals": [
            {"id": f"r{n}", **place, "lon": 10.75, "waiting_days": n % 7}
            for n in range(n_referrals)
        ],
    }
