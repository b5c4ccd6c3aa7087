"""The benchmark's generator and baselines, on sizes small enough for the test run."""

from dataclasses import replace

import pytest

from benchmarks import engine as bench
from matching.engine import parse_instance, solve


def test_generated_national_sample_matches_the_exact_milp_baseline() -> None:
    size = replace(bench.SIZES["small"], referrals=60, volunteers=600)
    instance = parse_instance(bench.generate(size, seed=3))
    mine = solve(instance).objective
    reference = bench.exact_milp_baseline(instance)
    assert mine[:2] == reference[:2]
    assert mine[2] == pytest.approx(reference[2], abs=1e-6)


@pytest.mark.slow
def test_contested_capital_region_with_families_matches_the_exact_milp() -> None:
    """More referrals than volunteers around Oslo: fractional relaxations, MILPs and
    known edges outside the model (a regression: those must join the MILP when they
    could beat it)."""
    size = replace(bench.SIZES["national"], referrals=300, volunteers=200, counties=("03", "32"))
    instance = parse_instance(bench.generate(size, seed=2))
    mine = solve(instance).objective
    reference = bench.exact_milp_baseline(instance)
    assert mine[:2] == reference[:2]
    assert mine[2] == pytest.approx(reference[2], abs=1e-6)


def test_dense_assignment_baseline_agrees_on_singles() -> None:
    size = replace(
        bench.SIZES["singles-2k"], referrals=150, volunteers=1_500, counties=("03", "32")
    )
    instance = parse_instance(bench.generate(size, seed=5))
    mine = solve(instance).objective
    reference = bench.dense_lsa_baseline(instance)
    assert mine[:2] == reference[:2]
    assert mine[2] == pytest.approx(reference[2], abs=1e-6)


def test_generation_is_deterministic_and_valid() -> None:
    size = replace(bench.SIZES["small"], referrals=20, volunteers=50)
    first, second = bench.generate(size, seed=9), bench.generate(size, seed=9)
    assert first == second
    parse_instance(first)
