"""Engine benchmark, run from the project root:
`python -m benchmarks.engine [--sizes small,regional] [--repeat 3]`.

Generates synthetic instances over Norway's real municipalities (people placed by
population, jittered a few km), solves them with the engine and, where it fits, with a
baseline in the same process: a staged MILP of the exact objective over every feasible
pair (size small) and a vectorised dense `linear_sum_assignment` over the full cost matrix
(size singles-2k).

Memory: one child process generates the instance (JSON for the CLI, a pickled `Instance`
for the engine); a second child loads the pickle, notes its resident set size (RSS), then
solves. Its peak RSS (ru_maxrss) therefore covers interpreter, numpy/scipy, the parsed
instance and the solve - not generation - and is reported beside the RSS before solving.
Engine time is wall time of `solve()` from a parsed instance to the explained result;
the CLI time is a whole `python -m matching solve FILE` run (start-up and JSON included).
"""

import argparse
import csv
import json
import math
import os
import pickle
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linear_sum_assignment, milp

from matching.engine import Instance, MatchResult, canonical_order, parse_instance, solve
from matching.engine.candidates import CandidateIndex
from matching.engine.pipeline import candidate_index
from matching.engine.tables import build_codebook

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MUNICIPALITIES_CSV = PROJECT_ROOT / "programmes/data/municipalities.csv"
RULES = {
    "max_distance_km": 40.0,
    "min_overlap_hours": 1.0,
    "overlap_target_hours": 4.0,
    "km_per_overlap_hour": 2.5,
}
REFERRAL_LANGUAGES = {
    "nb": 0.40,
    "ar": 0.12,
    "uk": 0.12,
    "so": 0.08,
    "ti": 0.07,
    "fa": 0.06,
    "pl": 0.05,
    "en": 0.05,
    "ur": 0.03,
    "ku": 0.02,
}
VOLUNTEER_EXTRA_LANGUAGES = {
    "en": 0.70,
    "ar": 0.04,
    "uk": 0.03,
    "so": 0.02,
    "ti": 0.015,
    "fa": 0.02,
    "pl": 0.02,
    "ur": 0.01,
    "ku": 0.01,
    "de": 0.05,
}


@dataclass(frozen=True)
class Size:
    name: str
    referrals: int
    volunteers: int
    family_share: float
    double_capacity_share: float
    counties: tuple[str, ...] = ()
    baseline: str = ""


SIZES = {
    size.name: size
    for size in (
        Size("small", 120, 1_200, 0.10, 0.15, baseline="milp"),
        Size("regional", 500, 5_000, 0.10, 0.15, counties=("46",)),
        Size("singles-2k", 2_000, 20_000, 0.0, 0.0, baseline="dense-lsa"),
        Size("national", 5_000, 50_000, 0.10, 0.15),
        Size("national-stress", 20_000, 200_000, 0.10, 0.15),
    )
}


@dataclass(frozen=True)
class Municipalities:
    number: list[str]
    weight: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    spread_km: np.ndarray
    sami: np.ndarray


def load_municipalities(counties: tuple[str, ...] = ()) -> Municipalities:
    with MUNICIPALITIES_CSV.open(encoding="utf-8") as handle:
        rows = [
            row
            for row in csv.DictReader(handle)
            if not counties or row["county_number"] in counties
        ]
    population = np.array([float(row["population"]) for row in rows])
    area = np.array([float(row["area_km2"]) for row in rows])
    return Municipalities(
        number=[row["number"] for row in rows],
        weight=population / population.sum(),
        lat=np.array([float(row["lat"]) for row in rows]),
        lon=np.array([float(row["lon"]) for row in rows]),
        spread_km=np.clip(0.25 * np.sqrt(area), 1.0, 6.0),  # people cluster near the centre
        sami=np.array([row["sami_language_area"] == "1" for row in rows]),
    )


def generate(size: Size, seed: int) -> dict[str, Any]:
    """A JSON-shaped instance; deterministic for (size, seed)."""
    rng = np.random.default_rng(seed)
    places = load_municipalities(size.counties)
    volunteers = [_volunteer(i, rng, places, size) for i in range(size.volunteers)]
    referrals = [_referral(i, rng, places, size) for i in range(size.referrals)]
    return {"rules": dict(RULES), "volunteers": volunteers, "referrals": referrals}


def _place(rng: np.random.Generator, places: Municipalities) -> tuple[int, float, float]:
    where = int(rng.choice(len(places.number), p=places.weight))
    spread = places.spread_km[where]
    lat = places.lat[where] + rng.normal(0.0, spread) / 111.2
    lon = places.lon[where] + rng.normal(0.0, spread) / (111.2 * math.cos(math.radians(lat)))
    return where, round(float(np.clip(lat, -90, 90)), 5), round(float(lon), 5)


def _slots(rng: np.random.Generator) -> list[dict[str, Any]]:
    slots = []
    for _ in range(int(rng.integers(1, 4))):
        weekend = rng.random() < 0.35
        day = int(rng.integers(5, 7)) if weekend else int(rng.integers(0, 5))
        start = int(rng.integers(20, 33)) * 30 if weekend else int(rng.integers(32, 40)) * 30
        length = int(rng.choice([90, 120, 180, 240]))
        end = min(start + length, 24 * 60)
        slots.append({"day": day, "start": _clock(start), "end": _clock(end)})
    return slots


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _volunteer(
    i: int, rng: np.random.Generator, places: Municipalities, size: Size
) -> dict[str, Any]:
    where, lat, lon = _place(rng, places)
    languages = ["nb"] + [code for code, p in VOLUNTEER_EXTRA_LANGUAGES.items() if rng.random() < p]
    if rng.random() < (0.35 if places.sami[where] else 0.002):
        languages.append("se")
    return {
        "id": f"v{i:06d}",
        "lat": lat,
        "lon": lon,
        "municipality": places.number[where],
        "languages": languages,
        "gender": "female" if rng.random() < 0.65 else "male",
        "availability": _slots(rng),
        "capacity": 2 if rng.random() < size.double_capacity_share else 1,
        "excluded_municipalities": _exclusions(rng, places, where, 0.01),
    }


def _referral(
    i: int, rng: np.random.Generator, places: Municipalities, size: Size
) -> dict[str, Any]:
    where, lat, lon = _place(rng, places)
    codes, weights = list(REFERRAL_LANGUAGES), np.array(list(REFERRAL_LANGUAGES.values()))
    languages = [str(rng.choice(codes, p=weights / weights.sum()))]
    if places.sami[where] and rng.random() < 0.4:
        languages = ["se"]
    if languages != ["nb"] and rng.random() < 0.45:
        languages.append("nb" if rng.random() < 0.7 else "en")
    gender_roll = rng.random()
    return {
        "id": f"r{i:06d}",
        "lat": lat,
        "lon": lon,
        "municipality": places.number[where],
        "languages": languages,
        "availability": _slots(rng),
        "volunteers_needed": 2 if rng.random() < size.family_share else 1,
        "volunteer_gender": _wanted_gender(gender_roll),
        "excluded_municipalities": _exclusions(rng, places, where, 0.03),
        "max_distance_km": 15.0 if rng.random() < 0.05 else None,
        "waiting_days": int(rng.exponential(45.0)),
    }


def _wanted_gender(roll: float) -> str | None:
    """A fifth of participants ask for a woman, one in twenty for a man."""
    if roll < 0.2:
        return "female"
    return "male" if roll < 0.25 else None


def _exclusions(
    rng: np.random.Generator, places: Municipalities, where: int, share: float
) -> list[str]:
    if rng.random() >= share:
        return []
    distance = np.hypot(places.lat - places.lat[where], (places.lon - places.lon[where]) * 0.5)
    distance[where] = np.inf
    return [places.number[int(np.argmin(distance))]]


# Baselines


def dense_lsa_baseline(instance: Instance) -> tuple[int, int, float]:
    """Singles with capacity 1 only: one dense cost matrix over ALL pairs, one LSA.

    Matched referral sets form a transversal matroid, so weight (1 + waiting) per referral
    gives most matches then most waiting days; M exceeds any total-cost difference.
    """
    index, _ = _index_for(instance)
    n_ref, n_vol = len(index.referrals), len(index.volunteers)
    spread = float(index.referrals.limit_km.max() + index.referral_bonus_km.max())
    big = 2.0 * n_ref * spread + 1.0
    weights = np.zeros((n_ref, n_vol))
    for rows in np.array_split(np.arange(n_ref), max(1, n_ref * n_vol // 2_000_000)):
        referral = np.repeat(rows, n_vol)
        volunteer = np.tile(np.arange(n_vol), rows.size)
        checks = index.check_pairs(referral, volunteer)
        cost = index.pair_cost(checks.distance_km, checks.overlap_minutes)
        reward = big * (1.0 + index.referrals.waiting_days[referral])
        weights[rows] = np.where(checks.feasible, cost - reward, 0.0).reshape(rows.size, n_vol)
    rows, cols = linear_sum_assignment(weights)
    taken = weights[rows, cols] < 0
    rows, cols = rows[taken], cols[taken]
    waiting = int(index.referrals.waiting_days[rows].sum())
    total = float((weights[rows, cols] + big * (1.0 + index.referrals.waiting_days[rows])).sum())
    return int(rows.size), waiting, total


def exact_milp_baseline(instance: Instance) -> tuple[int, int, float]:
    """Staged MILP of the exact objective over every feasible pair (small sizes only)."""
    index, _ = _index_for(instance)
    n_ref, n_vol = len(index.referrals), len(index.volunteers)
    referral = np.repeat(np.arange(n_ref), n_vol)
    volunteer = np.tile(np.arange(n_vol), n_ref)
    edges = index.feasible_edges(referral, volunteer)
    n_e = len(edges)
    a_ref = np.zeros((n_ref, n_e + n_ref))
    a_ref[edges.referral, np.arange(n_e)] = 1.0
    a_ref[np.arange(n_ref), n_e + np.arange(n_ref)] = -index.referrals.needed
    a_vol = np.zeros((n_vol, n_e + n_ref))
    a_vol[edges.volunteer, np.arange(n_e)] = 1.0
    rows = [
        LinearConstraint(a_ref, 0, 0),
        LinearConstraint(a_vol, -np.inf, index.volunteers.capacity),
    ]
    count_row = np.concatenate((np.zeros(n_e), np.ones(n_ref)))
    wait_row = np.concatenate((np.zeros(n_e), index.referrals.waiting_days.astype(float)))
    count = round(-_milp_min(-count_row, rows))
    rows.append(LinearConstraint(count_row.reshape(1, -1), count, np.inf))
    waiting = round(-_milp_min(-wait_row, rows))
    rows.append(LinearConstraint(wait_row.reshape(1, -1), waiting, np.inf))
    cost = _milp_min(np.concatenate((edges.cost, np.zeros(n_ref))), rows)
    return count, waiting, cost


def _milp_min(objective: np.ndarray, rows: list[LinearConstraint]) -> float:
    result = milp(
        objective,
        integrality=np.ones(objective.size),
        bounds=Bounds(0, 1),
        constraints=rows,
        options={"mip_rel_gap": 0.0},
    )
    return float(result.fun)


def _index_for(instance: Instance) -> tuple[CandidateIndex, Instance]:
    canonical = canonical_order(instance)
    return candidate_index(canonical, build_codebook(canonical)), canonical


# Measuring


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def current_rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def write_instance(size: Size, seed: int, out_dir: str) -> None:
    """Child 1: generate, and store as JSON (for the CLI) and as a pickled Instance."""
    data = generate(size, seed)
    Path(out_dir, f"{size.name}.json").write_text(json.dumps(data), encoding="utf-8")
    with open(Path(out_dir, f"{size.name}.pickle"), "wb") as handle:
        pickle.dump(parse_instance(data), handle, protocol=pickle.HIGHEST_PROTOCOL)


def run_worker(size: Size, repeat: int, out_dir: str) -> dict[str, Any]:
    """Child 2: load the parsed instance, then solve; its peak RSS belongs to the solve."""
    with open(Path(out_dir, f"{size.name}.pickle"), "rb") as handle:
        instance: Instance = pickle.load(handle)
    rss_before = current_rss_mb()
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = solve(instance)
        times.append(time.perf_counter() - started)
    assert result is not None
    report: dict[str, Any] = {
        "size": size.name,
        "referrals": size.referrals,
        "volunteers": size.volunteers,
        "engine_s": times,
        "engine_median_s": statistics.median(times),
        "rss_before_solve_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
        "objective": list(result.objective),
        "unmatched_reasons": _reason_counts(result),
    }
    report.update(_baseline(size, instance))
    return report


def _baseline(size: Size, instance: Instance) -> dict[str, Any]:
    runner = {"dense-lsa": dense_lsa_baseline, "milp": exact_milp_baseline}.get(size.baseline)
    if runner is None:
        return {}
    started = time.perf_counter()
    objective = runner(instance)
    return {
        "baseline": size.baseline,
        "baseline_s": time.perf_counter() - started,
        "baseline_objective": list(objective),
    }


def _reason_counts(result: MatchResult) -> dict[str, int]:
    counts: dict[str, int] = {}
    for unmatched in result.unmatched:
        counts[unmatched.reason] = counts.get(unmatched.reason, 0) + 1
    return dict(sorted(counts.items()))


def time_cli(instance_path: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "matching", "solve", instance_path],
            check=True,
            stdout=subprocess.DEVNULL,
            cwd=PROJECT_ROOT,
        )
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(size: Size, seed: int, repeat: int, cli: bool) -> dict[str, Any]:
    bench = [sys.executable, "-m", "benchmarks.engine"]
    with tempfile.TemporaryDirectory() as scratch:
        generate_command = [*bench, "--generate", size.name, "--seed", str(seed), "--dir", scratch]
        subprocess.run(generate_command, check=True, cwd=PROJECT_ROOT)
        worker_command = [*bench, "--worker", size.name, "--repeat", str(repeat), "--dir", scratch]
        completed = subprocess.run(
            worker_command, check=True, capture_output=True, text=True, cwd=PROJECT_ROOT
        )
        report: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
        if cli:
            instance_path = os.path.join(scratch, f"{size.name}.json")
            report["cli_s"] = time_cli(instance_path, max(1, min(repeat, 3)))
    return report


def objectives_agree(mine: list[Any], theirs: list[Any]) -> bool:
    return mine[:2] == theirs[:2] and abs(mine[2] - theirs[2]) <= 1e-6 * max(1.0, abs(theirs[2]))


def table_row(report: dict[str, Any]) -> str:
    matched, waiting, cost = report["objective"]
    cells = [
        report["size"],
        f"{report['referrals']:,} x {report['volunteers']:,}",
        f"{report['engine_median_s']:.3f}",
        f"{report.get('cli_s', float('nan')):.2f}",
        f"{report['peak_rss_mb']:.0f} ({report['rss_before_solve_mb']:.0f})",
        f"{matched} / {waiting} / {cost:.3f}",
    ]
    if "baseline" in report:
        same = objectives_agree(report["objective"], report["baseline_objective"])
        ratio = report["baseline_s"] / report["engine_median_s"]
        cells += [
            f"{report['baseline']} {report['baseline_s']:.2f} s",
            f"{ratio:.1f}x",
            "yes" if same else "NO",
        ]
    else:
        cells += ["-", "-", "-"]
    return "| " + " | ".join(cells) + " |"


TABLE_HEADER = (
    "| size | referrals x volunteers | engine median s | CLI end-to-end s "
    "| peak RSS MB (before solve) | matched / waiting days / cost "
    "| baseline | speed-up | same objective |\n"
    "|---|---|---|---|---|---|---|---|---|"
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.engine", description=__doc__)
    parser.add_argument(
        "--sizes",
        default="small,regional,singles-2k,national",
        help=f"comma-separated, from: {', '.join(SIZES)}",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-cli", action="store_true", help="skip the end-to-end CLI timing")
    parser.add_argument("--json", action="store_true", help="print raw reports as JSON lines")
    parser.add_argument("--generate", help=argparse.SUPPRESS)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.generate:
        write_instance(SIZES[arguments.generate], arguments.seed, arguments.dir)
        return 0
    if arguments.worker:
        print(json.dumps(run_worker(SIZES[arguments.worker], arguments.repeat, arguments.dir)))
        return 0
    names = [name.strip() for name in arguments.sizes.split(",") if name.strip()]
    unknown = [name for name in names if name not in SIZES]
    if unknown:
        parser.error(f"unknown size {unknown[0]!r}; choose from {', '.join(SIZES)}")
    print(TABLE_HEADER, flush=True)
    for name in names:
        report = measure(SIZES[name], arguments.seed, arguments.repeat, not arguments.no_cli)
        print(json.dumps(report) if arguments.json else table_row(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
