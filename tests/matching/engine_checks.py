"""What the engine's property tests check against the independent reference."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from matching.engine import lp, parse_instance, result_to_dict, solve
from matching.engine import solver as engine_solver

from .engine_reference import reference_objective


def solved(data: dict[str, Any]) -> dict[str, Any]:
    """The engine's answer to a JSON-shaped instance, as the CLI prints it."""
    return result_to_dict(solve(parse_instance(data)))


@contextmanager
def every_stage_through_milps() -> Iterator[None]:
    """Every relaxation treated as fractional and exploration starting from one candidate,
    so each stage goes through the MILP with phantoms (and its proof)."""
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(engine_solver, "INITIAL_NEIGHBOURS", 1)
        patched.setattr(engine_solver, "SPARE_CANDIDATES", 0)
        patched.setattr(engine_solver, "ENTERING_PER_REFERRAL", 1)
        patched.setattr(lp.Solution, "integral", property(lambda self: False))
        patched.setattr(lp, "is_integral", lambda values: values != values)
        yield


def assert_optimal(data: dict[str, Any], result: dict[str, Any]) -> None:
    """The engine's objective triple is the reference MILP's."""
    matched, waiting, cost = reference_objective(data)
    summary = result["summary"]
    assert (summary["matched"], summary["waiting_days_matched"]) == (matched, waiting)
    assert summary["total_cost"] == pytest.approx(cost, abs=2e-3)
