"""The engine pauses the garbage collector while it parses and solves, and leaves it as it
found it: a worker process that runs matching keeps collecting afterwards."""

import gc
import json
from collections.abc import Iterator

import pytest

from matching.engine import parse_instance, solve
from matching.engine.collector import garbage_collector_paused
from matching.engine.validation import parse_instance_json

from .test_engine_scenarios import referral, volunteer

RULES = {
    "max_distance_km": 40.0,
    "min_overlap_hours": 1.0,
    "overlap_target_hours": 4.0,
    "km_per_overlap_hour": 2.0,
}


@pytest.fixture
def collections() -> Iterator[list[str]]:
    """Every collection that starts while the test runs. Switching the collector back on may
    start one at once (of the youngest objects only), as the call ends."""
    seen: list[str] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            seen.append(phase)

    gc.enable()
    gc.callbacks.append(note)
    try:
        yield seen
    finally:
        gc.callbacks.remove(note)
        gc.enable()


def instance_data(n: int) -> dict[str, object]:
    return {
        "rules": RULES,
        "volunteers": [volunteer(f"v{i}", 59.9 + i / 1000, 10.7, "0301") for i in range(n)],
        "referrals": [referral(f"r{i}", 59.9 + i / 1000, 10.71, "0301") for i in range(n)],
    }


def test_no_collection_runs_during_a_solve_and_the_collector_is_on_after(collections):
    instance = parse_instance(instance_data(300))
    gc.collect()
    collections.clear()
    result = solve(instance)
    assert len(result.assignments) == 300
    assert len(collections) <= 1
    assert gc.isenabled()


def test_no_collection_runs_while_parsing_and_the_collector_is_on_after(collections):
    raw = json.dumps(instance_data(2000)).encode()
    gc.collect()
    collections.clear()
    parse_instance_json(raw)
    assert len(collections) <= 1
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_caller_stays_off(collections):
    gc.disable()
    solve(parse_instance(instance_data(5)))
    assert not gc.isenabled()


def test_the_collector_is_on_again_after_an_error(collections):
    with pytest.raises(ZeroDivisionError), garbage_collector_paused():
        assert not gc.isenabled()
        _ = 1 / 0
    assert gc.isenabled()
