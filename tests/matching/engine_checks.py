"""What the engine's property tests check against the independent reference."""

from typing import Any

import pytest

from matching.engine import parse_instance, result_to_dict, solve

from .engine_reference import reference_objective


def solved(data: dict[str, Any]) -> dict[str, Any]:
    """The engine's answer to a JSON-shaped instance, as the CLI prints it."""
    return result_to_dict(solve(parse_instance(data)))


def assert_optimal(data: dict[str, Any], result: dict[str, Any]) -> None:
    """The engine's objective triple is the reference MILP's."""
    matched, waiting, cost = reference_objective(data)
    summary = result["summary"]
    assert (summary["matched"], summary["waiting_days_matched"]) == (matched, waiting)
    assert summary["total_cost"] == pytest.approx(cost, abs=2e-3)
