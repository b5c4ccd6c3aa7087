"""Engine benchmark, run from the project root.

    python -m benchmarks.engine --write-docs     # the full run, written into docs/benchmarks.md
    python -m benchmarks.engine --sizes small --what-if demo-catchment --before 15becb5

Generates synthetic instances over Norway's real municipalities (people placed by
population, jittered a few km), solves them with the engine and, where it fits, with a
baseline in the same process: a staged MILP of the exact objective over every feasible
pair (size small) and a vectorised dense `linear_sum_assignment` over the full cost matrix
(size singles-2k, also timed end to end as its own process, from the JSON file).

Each size runs in child processes: one generates the instance (JSON for the CLI, a pickled
`Instance`); one loads the pickle, notes its resident set size (RSS) and solves once, so its
peak RSS (ru_maxrss) covers interpreter, numpy/scipy, the parsed instance and the solve;
one times reading the JSON and `solve()` repeatedly - with `--before REF`, interleaved with
the engine of that git revision (read with `git archive`, imported as `engine_before`) on the
same bytes. The CLI (`python -m matching solve FILE`, and the old revision's) is timed as whole
processes, with their peak RSS. Instances have volunteers' language levels and activities on
both sides (issue 17); an engine from before that refuses them reads the instance without them
(`without_leisure`), and so does the current one in runs of its own, beside those on the full
instance. What-if scenarios ask `matching.engine.what_if` about
hypothetical volunteers, in a child of their own. Figures are printed as Markdown, never
asserted; `--markdown FILE` writes them between the markers of FILE.
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
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linear_sum_assignment, milp

import matching.engine
from benchmarks import report as report_doc
from benchmarks import revision
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
# Rules of issue 17 (language levels, activities); engines before it refuse these fields.
LEISURE_RULES = {
    "min_language_level": "conversational",
    "km_per_shared_activity": 4.0,
    "max_shared_activities": 3,
}
# What a volunteer can do with children, and how popular each is.
ACTIVITIES = {
    "football": 0.14,
    "swimming": 0.12,
    "outdoors": 0.11,
    "cycling": 0.08,
    "skiing": 0.07,
    "music": 0.07,
    "drawing": 0.07,
    "library": 0.06,
    "cinema": 0.06,
    "dance": 0.05,
    "climbing": 0.04,
    "skating": 0.04,
    "gaming": 0.05,
    "cooking": 0.04,
}
LEVELS = ("native", "fluent", "conversational", "basic")
# How well a volunteer speaks Norwegian, and another language they list (best first).
NORWEGIAN_LEVELS = (0.80, 0.10, 0.06, 0.04)
OTHER_LEVELS = (0.35, 0.25, 0.25, 0.15)
LEVELS_NOT_STATED = 0.10  # volunteers who list plain codes
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
    # People with language levels and activities (issue 17). Without them the generator draws
    # exactly what it drew when issue 16 was filed, so that instance can be made again.
    leisure: bool = True


SIZES = {
    size.name: size
    for size in (
        Size("small", 120, 1_200, 0.10, 0.15, baseline="milp"),
        Size("regional", 500, 5_000, 0.10, 0.15, counties=("46",)),
        Size("singles-2k", 2_000, 20_000, 0.0, 0.0, baseline="dense-lsa"),
        Size("national", 5_000, 50_000, 0.10, 0.15),
        Size("national-stress", 20_000, 200_000, 0.10, 0.15),
        Size("scarce-families", 5_000, 3_000, 0.10, 0.15),
        # The 5,000 x 3,000 instance of issue 16's target, as the generator made it then.
        Size("scarce-families-as-filed", 5_000, 3_000, 0.10, 0.15, leisure=False),
        Size("scarce-20k", 20_000, 12_000, 0.10, 0.15),
        # Fritidsvenn's shape: every referral a family needing two volunteers, in one county.
        Size("fritidsvenn-county", 500, 300, 1.0, 0.15, counties=("46",)),
    )
}


@dataclass(frozen=True)
class Municipalities:
    number: list[str]
    name: list[str]
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
        name=[row["name"] for row in rows],
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
    rules = RULES | LEISURE_RULES if size.leisure else dict(RULES)
    return {"rules": rules, "volunteers": volunteers, "referrals": referrals}


def without_leisure(data: dict[str, Any]) -> dict[str, Any]:
    """The instance as engines before issue 17 read it: no activities, and every language a
    plain code (levels removed, so a language spoken only a little counts too)."""

    def plain(person: dict[str, Any]) -> dict[str, Any]:
        codes = [e if isinstance(e, str) else e["code"] for e in person["languages"]]
        return {key: value for key, value in person.items() if key != "activities"} | {
            "languages": codes
        }

    return {
        **data,
        "rules": {key: value for key, value in data["rules"].items() if key in RULES},
        "volunteers": [plain(v) for v in data["volunteers"]],
        "referrals": [plain(r) for r in data["referrals"]],
    }


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
    person: dict[str, Any] = {
        "id": f"v{i:06d}",
        "lat": lat,
        "lon": lon,
        "municipality": places.number[where],
        "languages": languages,
    }
    if size.leisure:
        person["languages"] = _with_levels(rng, languages)
        person["activities"] = _activities(rng, int(rng.integers(1, 5)))
    return person | {
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
    if size.leisure:
        family = rng.random() < size.family_share
        wished = int(rng.integers(1, 4)) if family else int(rng.integers(0, 3))
    availability = _slots(rng)
    if not size.leisure:  # where the generator of issue 16's day drew it
        family = rng.random() < size.family_share
    referral = {
        "id": f"r{i:06d}",
        "lat": lat,
        "lon": lon,
        "municipality": places.number[where],
        "languages": languages,
        "availability": availability,
        "volunteers_needed": 2 if family else 1,
        "volunteer_gender": _wanted_gender(gender_roll),
        "excluded_municipalities": _exclusions(rng, places, where, 0.03),
        "max_distance_km": 15.0 if rng.random() < 0.05 else None,
        "waiting_days": int(rng.exponential(45.0)),
    }
    if size.leisure:
        referral["activities"] = _activities(rng, wished)
    return referral


def _with_levels(rng: np.random.Generator, codes: list[str]) -> list[Any]:
    """Most volunteers state a level per language: Norwegian mostly native or fluent."""
    if rng.random() < LEVELS_NOT_STATED:
        return codes
    return [
        {
            "code": code,
            "level": str(rng.choice(LEVELS, p=NORWEGIAN_LEVELS if code == "nb" else OTHER_LEVELS)),
        }
        for code in codes
    ]


def _activities(rng: np.random.Generator, count: int) -> list[str]:
    codes, weights = list(ACTIVITIES), np.array(list(ACTIVITIES.values()))
    chosen = rng.choice(len(codes), size=count, replace=False, p=weights / weights.sum())
    return [codes[i] for i in sorted(chosen.tolist())]


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
        cost = index.pair_cost(checks.distance_km, checks.overlap_minutes, referral, volunteer)
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


@dataclass(frozen=True)
class WhatIfScenario:
    name: str
    size: Size
    scope: str  # "catchment": the largest demo centre's municipalities; "national": all
    profiles: int
    target_s: float


DEMO = Size("demo", 150, 600, 0.10, 0.15)  # demo/builder.py: 150 referrals, 600 volunteers
WHAT_IF_SCENARIOS = {
    scenario.name: scenario
    for scenario in (
        WhatIfScenario("demo-catchment", DEMO, "catchment", 3, 1.0),
        WhatIfScenario("national-sweep", SIZES["national"], "national", 5, 60.0),
    )
}
ISSUE_BASELINE_REVISION = "15becb5"  # the engine before issue 16
DOCS = PROJECT_ROOT / "docs/benchmarks.md"


@dataclass(frozen=True)
class Options:
    seed: int
    repeat: int
    budget_s: float
    timeout_s: float
    cli: bool
    before_dir: str | None  # an exported revision (benchmarks/revision.py)


def instance_sizes() -> dict[str, Size]:
    return {**SIZES, DEMO.name: DEMO}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def current_rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def write_instance(size: Size, seed: int, out_dir: str) -> None:
    """Child: generate, and store as JSON (for the CLI; also without what engines before
    issue 17 cannot read) and as a pickled Instance."""
    data = generate(size, seed)
    Path(out_dir, f"{size.name}.json").write_text(json.dumps(data), encoding="utf-8")
    plain = json.dumps(without_leisure(data))
    Path(out_dir, f"{size.name}.plain.json").write_text(plain, encoding="utf-8")
    with open(Path(out_dir, f"{size.name}.pickle"), "wb") as handle:
        pickle.dump(parse_instance(data), handle, protocol=pickle.HIGHEST_PROTOCOL)


def _load_pickle(size: Size, out_dir: str) -> Instance:
    with open(Path(out_dir, f"{size.name}.pickle"), "rb") as handle:
        instance: Instance = pickle.load(handle)
    return instance


def run_memory_worker(size: Size, out_dir: str) -> dict[str, Any]:
    """Child: load the parsed instance, solve once; its peak RSS belongs to the solve.
    The baseline, if any, runs after the peak has been read."""
    instance = _load_pickle(size, out_dir)
    rss_before = current_rss_mb()
    started = time.perf_counter()
    result = solve(instance)
    report: dict[str, Any] = {
        "size": size.name,
        "referrals": size.referrals,
        "volunteers": size.volunteers,
        "first_solve_s": time.perf_counter() - started,
        "rss_before_solve_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
        "objective": list(result.objective),
        "unmatched_reasons": _reason_counts(result),
    }
    report.update(_baseline(size, instance))
    return report


def _baseline(size: Size, instance: Instance) -> dict[str, Any]:
    runner = BASELINES.get(size.baseline)
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


def run_timing_worker(size: Size, out_dir: str, options: Options) -> None:
    """Child: from the same JSON bytes, read the input and solve with the current engine and,
    given `before_dir`, the old one, alternating which goes first; one JSON line per run."""
    text = Path(out_dir, f"{size.name}.json").read_bytes()
    engines: list[tuple[str, ModuleType, bytes]] = [("after", matching.engine, text)]
    if options.before_dir:
        before = revision.import_engine(Path(options.before_dir))
        plain = Path(out_dir, f"{size.name}.plain.json").read_bytes()
        if _reads_leisure_fields(before) or plain == text:
            engines.append(("before", before, text))
        else:  # both on the instance without activities and levels, and "after" on the full
            engines += [("after_plain", matching.engine, plain), ("before", before, plain)]
    for _, engine, _ in engines:
        _read_and_solve(engine, json.dumps(WARM_UP_INSTANCE).encode())
    by_label = {label: (engine, data) for label, engine, data in engines}

    def timed_run(label: str) -> float:
        figures = _read_and_solve(*by_label[label])
        print(json.dumps({"engine": label, **figures}), flush=True)
        return float(figures["parse_s"] + figures["solve_s"])

    interleave(list(by_label), options.repeat, options.budget_s, timed_run)


def _reads_leisure_fields(engine: ModuleType) -> bool:
    """Whether the engine reads language levels, activities and their rules (issue 17)."""
    probe = json.loads(json.dumps(WARM_UP_INSTANCE))
    probe["rules"] |= LEISURE_RULES
    probe["volunteers"][0]["languages"] = [{"code": "nb", "level": "fluent"}]
    probe["referrals"][0]["activities"] = ["football"]
    try:
        _input_reader(engine)(json.dumps(probe).encode())
    except engine.MatchingInputError:
        return False
    return True


def interleave(
    labels: list[str], repeat: int, budget_s: float, run: Callable[[str], float]
) -> None:
    """Call `run(label)` in rounds, alternating the order, until each label has `repeat` runs
    or its runs have taken `budget_s` seconds; at least one each. A slow old engine thus gets
    one run while the fast one still gets all of its."""
    runs = dict.fromkeys(labels, 0)
    spent = dict.fromkeys(labels, 0.0)
    rounds = 0
    while True:
        due = [
            label
            for label in labels
            if runs[label] == 0 or (runs[label] < repeat and spent[label] < budget_s)
        ]
        if not due:
            return
        for label in due if rounds % 2 == 0 else due[::-1]:
            spent[label] += run(label)
            runs[label] += 1
        rounds += 1


def _input_reader(engine: ModuleType) -> Any:
    """Bytes to `Instance` as the engine's fastest reader does it: `parse_instance_json`
    (msgspec, issue 16) where the revision has one, else `json.loads` + `parse_instance`."""
    fast = getattr(engine.validation, "parse_instance_json", None)
    if fast is not None:
        return fast
    return lambda raw: engine.parse_instance(json.loads(raw))


# Imports and first calls that neither engine should pay inside a timed run.
WARM_UP_INSTANCE = {
    "rules": RULES,
    "volunteers": [
        {"id": "v", "lat": 59.9, "lon": 10.7, "municipality": "0301", "languages": ["nb"],
         "availability": [{"day": 0, "start": "17:00", "end": "20:00"}]},
    ],
    "referrals": [
        {"id": "r", "lat": 59.91, "lon": 10.71, "municipality": "0301", "languages": ["nb"],
         "availability": [{"day": 0, "start": "18:00", "end": "20:00"}]},
    ],
}  # fmt: skip


def _read_and_solve(engine: ModuleType, text: bytes) -> dict[str, Any]:
    started = time.perf_counter()
    instance = _input_reader(engine)(text)
    parsed = time.perf_counter()
    result = engine.solve(instance)
    solved = time.perf_counter()
    return {
        "parse_s": parsed - started,
        "solve_s": solved - parsed,
        "objective": list(result.objective),
    }


def run_what_if_worker(scenario: WhatIfScenario, out_dir: str, options: Options) -> dict[str, Any]:
    """Child: load the instance, ask about every (profile, municipality); peak RSS included."""
    from benchmarks import what_if as sweeps  # imports this module: not at the top

    instance = _load_pickle(scenario.size, out_dir)
    rss_before = current_rss_mb()
    municipalities = load_municipalities()
    places = sweeps.Places(
        municipalities.number, municipalities.name, municipalities.lat, municipalities.lon
    )
    report: dict[str, Any] = {
        "scenario": scenario.name,
        "size": scenario.size.name,
        "referrals": scenario.size.referrals,
        "volunteers": scenario.size.volunteers,
        "target_s": scenario.target_s,
    }
    if scenario.scope == "catchment":
        centre, where = sweeps.largest_demo_catchment(places)
        report["centre_host"] = centre
    else:
        where = list(range(len(places.number)))
    profiles = sweeps.PROFILES[: scenario.profiles]
    candidates = sweeps.hypotheticals(places, where, profiles)
    report.update(municipalities=len(where), profiles=[profile.name for profile in profiles])
    figures = sweeps.sweep(places, instance, candidates, profiles, options.repeat, options.budget_s)
    report.update(figures)
    report.update(rss_before_mb=rss_before, peak_rss_mb=peak_rss_mb())
    return report


def run_baseline_end_to_end(size: Size, path: str) -> list[Any]:
    """Child: the baseline as a command would run it, from the JSON file to the objective,
    reading the file as the current CLI does."""
    instance = _input_reader(matching.engine)(Path(path).read_bytes())
    return list(BASELINES[size.baseline](instance))


# Running children


@dataclass
class ChildRun:
    seconds: float
    peak_rss_mb: float
    lines: list[str]
    stopped: bool  # killed by us at the timeout


class ChildStopped(Exception):
    """A child killed at the timeout before it reported anything."""


def run_child(
    command: list[str], timeout_s: float, cwd: Path = PROJECT_ROOT, keep_output: bool = True
) -> ChildRun:
    """Run to completion or `timeout_s`, keeping the stdout lines written until then
    (or sending them to /dev/null, like a CLI timing run's result)."""
    started = time.perf_counter()
    output = subprocess.PIPE if keep_output else subprocess.DEVNULL
    process = subprocess.Popen(command, stdout=output, text=True, cwd=cwd)
    stopped = threading.Event()

    def stop() -> None:
        stopped.set()
        process.kill()

    timer = threading.Timer(timeout_s, stop)
    timer.start()
    try:
        lines = [line for line in process.stdout or () if line.strip()]
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        timer.cancel()
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0 and not stopped.is_set():
        raise subprocess.CalledProcessError(process.returncode, command)
    return ChildRun(seconds, usage.ru_maxrss / 1024.0, lines, stopped.is_set())


def _bench_command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "benchmarks.engine", *arguments]


def _last_json(run: ChildRun) -> dict[str, Any]:
    if not run.lines:
        raise ChildStopped(f"stopped after {run.seconds:.0f} s")
    report: dict[str, Any] = json.loads(run.lines[-1])
    return report


def measure(size: Size, options: Options) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        _generate(size, options, scratch)
        memory = run_child(
            _bench_command("--worker", size.name, "--dir", scratch), options.timeout_s
        )
        report = _last_json(memory)
        report.update(_timings(size, options, scratch))
        instance_path = os.path.join(scratch, f"{size.name}.json")
        if options.cli:
            plain_path = os.path.join(scratch, f"{size.name}.plain.json")
            report.update(_cli_timings((instance_path, plain_path), options, report))
        if size.baseline == "dense-lsa":
            report.update(_baseline_end_to_end(size, instance_path, options))
    return report


def measure_what_if(scenario: WhatIfScenario, options: Options) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        _generate(scenario.size, options, scratch)
        command = _bench_command(
            "--what-if-worker", scenario.name, "--dir", scratch, *_timing_arguments(options)
        )
        return _last_json(run_child(command, options.timeout_s))


def _generate(size: Size, options: Options, scratch: str) -> None:
    command = _bench_command("--generate", size.name, "--seed", str(options.seed))
    subprocess.run([*command, "--dir", scratch], check=True, cwd=PROJECT_ROOT)


def _timing_arguments(options: Options) -> list[str]:
    return ["--repeat", str(options.repeat), "--budget", str(options.budget_s)]


def _timings(size: Size, options: Options, scratch: str) -> dict[str, Any]:
    command = _bench_command("--timing-worker", size.name, "--dir", scratch)
    command += _timing_arguments(options)
    if options.before_dir:
        command += ["--before-dir", options.before_dir]
    run = run_child(command, options.timeout_s)
    runs = [json.loads(line) for line in run.lines]
    report = _engine_figures([r for r in runs if r["engine"] == "after"])
    if options.before_dir:
        report["before"] = _engine_figures([r for r in runs if r["engine"] == "before"])
        plain = [r for r in runs if r["engine"] == "after_plain"]
        if plain:  # the old engine read the instance without activities and levels
            report["after_plain"] = _engine_figures(plain)
        # How long the run that was killed had been going (plus the child's start-up).
        unfinished = run.seconds - sum(r["parse_s"] + r["solve_s"] for r in runs)
        report["before"]["stopped_after_s"] = unfinished if run.stopped else None
    elif run.stopped:
        report["stopped_after_s"] = run.seconds
    return report


def _engine_figures(runs: list[dict[str, Any]]) -> dict[str, Any]:
    if not runs:
        return {}
    solve_times = [r["solve_s"] for r in runs]
    parse_times = [r["parse_s"] for r in runs]
    return {
        "engine_s": solve_times,
        "engine_median_s": statistics.median(solve_times),
        "parse_s": parse_times,
        "parse_median_s": statistics.median(parse_times),
        "run_objective": list(runs[0]["objective"]),
        "objective_stable": len({tuple(r["objective"]) for r in runs}) == 1,
    }


def _cli_timings(
    paths: tuple[str, str], options: Options, report: dict[str, Any]
) -> dict[str, Any]:
    """`python -m matching solve FILE`, now and (given a before tree whose solves finished
    in time) as it was, interleaved; median of up to three runs each, within the budget.
    An old CLI that cannot read activities and levels gets the instance without them, as
    does the current one in a run of its own ("after_plain")."""
    path, plain_path = paths
    commands = {"after": (PROJECT_ROOT, path)}
    before_ran = bool(report.get("before", {}).get("engine_s"))
    if options.before_dir and before_ran and not report["before"]["stopped_after_s"]:
        before_path = path
        if "after_plain" in report:
            commands["after_plain"] = (PROJECT_ROOT, plain_path)
            before_path = plain_path
        commands["before"] = (revision.cli_dir(Path(options.before_dir)), before_path)
    runs: dict[str, list[ChildRun]] = {label: [] for label in commands}

    def cli_run(label: str) -> float:
        cwd, instance = commands[label]
        argv = [sys.executable, "-m", "matching", "solve", instance]
        run = run_child(argv, options.timeout_s, cwd=cwd, keep_output=False)
        runs[label].append(run)
        return run.seconds

    interleave(list(commands), min(options.repeat, 3), options.budget_s, cli_run)
    figures: dict[str, Any] = {}
    for label, done in runs.items():
        prefix = "cli_" if label == "after" else f"cli_{label}_"
        figures[f"{prefix}s"] = [run.seconds for run in done]
        figures[f"{prefix}median_s"] = statistics.median(run.seconds for run in done)
        figures[f"{prefix}peak_rss_mb"] = max(run.peak_rss_mb for run in done)
        figures[f"{prefix}stopped"] = any(run.stopped for run in done)
    return figures


def _baseline_end_to_end(size: Size, path: str, options: Options) -> dict[str, Any]:
    command = _bench_command("--baseline-end-to-end", size.name, path)
    runs: list[ChildRun] = []

    def baseline_run(_: str) -> float:
        runs.append(run_child(command, options.timeout_s))
        return runs[-1].seconds

    interleave(["dense"], min(options.repeat, 3), options.budget_s, baseline_run)
    times = [run.seconds for run in runs]
    objective = None if runs[-1].stopped else json.loads(runs[-1].lines[-1])
    return {
        "baseline_end_to_end_s": times,
        "baseline_end_to_end_median_s": statistics.median(times),
        "baseline_end_to_end_objective": objective,
    }


BASELINES: dict[str, Any] = {"dense-lsa": dense_lsa_baseline, "milp": exact_milp_baseline}


# Command line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.engine",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--write-docs",
        action="store_true",
        help="the full run for docs/benchmarks.md: every size and what-if scenario, "
        f"--before {ISSUE_BASELINE_REVISION}, --repeat 5, --markdown docs/benchmarks.md "
        "(options given explicitly win)",
    )
    parser.add_argument("--sizes", help=f"comma-separated, from: {', '.join(SIZES)}; 'all', 'none'")
    parser.add_argument(
        "--what-if", help=f"comma-separated, from: {', '.join(WHAT_IF_SCENARIOS)}; 'all', 'none'"
    )
    parser.add_argument(
        "--before", metavar="REF", help="also time the engine (and CLI) of this git revision"
    )
    parser.add_argument("--markdown", metavar="FILE", help="write the results into FILE")
    parser.add_argument("--repeat", type=int, help="timed runs per measurement (default 3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--budget",
        type=float,
        default=120.0,
        help="seconds per measurement after which no further repeat starts (default 120)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        help="seconds after which a child is killed and its runs so far reported (default 600)",
    )
    parser.add_argument("--no-cli", action="store_true", help="skip the end-to-end CLI timing")
    parser.add_argument("--json", action="store_true", help="print the raw reports as JSON")
    for hidden in ("--generate", "--worker", "--timing-worker", "--what-if-worker", "--dir"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    parser.add_argument("--before-dir", help=argparse.SUPPRESS)
    parser.add_argument("--baseline-end-to-end", nargs=2, help=argparse.SUPPRESS)
    return parser


def _names(text: str, known: dict[str, Any], parser: argparse.ArgumentParser) -> list[str]:
    if text == "all":
        return list(known)
    names = [name.strip() for name in text.split(",") if name.strip() and name.strip() != "none"]
    unknown = [name for name in names if name not in known]
    if unknown:
        parser.error(f"unknown name {unknown[0]!r}; choose from {', '.join(known)}")
    return names


def _child(arguments: argparse.Namespace, options: Options) -> bool:
    """Run the hidden child entry point named on the command line, if any."""
    if arguments.generate:
        write_instance(instance_sizes()[arguments.generate], arguments.seed, arguments.dir)
    elif arguments.worker:
        print(json.dumps(run_memory_worker(SIZES[arguments.worker], arguments.dir)))
    elif arguments.timing_worker:
        run_timing_worker(SIZES[arguments.timing_worker], arguments.dir, options)
    elif arguments.what_if_worker:
        scenario = WHAT_IF_SCENARIOS[arguments.what_if_worker]
        print(json.dumps(run_what_if_worker(scenario, arguments.dir, options)))
    elif arguments.baseline_end_to_end:
        name, path = arguments.baseline_end_to_end
        print(json.dumps(run_baseline_end_to_end(SIZES[name], path)))
    else:
        return False
    return True


def _or_failure(
    measurement: Callable[[Any, Options], dict[str, Any]],
    subject: Any,
    options: Options,
    size: Size | None = None,
) -> dict[str, Any]:
    """The measurement's report, or a report of its failure: one crash or timeout must not
    cost the figures of a long run's other sizes."""
    size = size or subject
    try:
        return measurement(subject, options)
    except (subprocess.CalledProcessError, ChildStopped) as error:
        return {
            "size": size.name,
            "referrals": size.referrals,
            "volunteers": size.volunteers,
            "failed": _describe(error),
        }


def _describe(error: Exception) -> str:
    if isinstance(error, subprocess.CalledProcessError):
        child = " ".join(str(part) for part in error.cmd[3:5])  # after `python -m module`
        return f"child `{child}` exited with {error.returncode}"
    return str(error)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    arguments = parser.parse_args(argv)
    full = arguments.write_docs
    repeat = arguments.repeat or (5 if full else 3)
    options = Options(
        arguments.seed,
        repeat,
        arguments.budget,
        arguments.timeout,
        not arguments.no_cli,
        arguments.before_dir,
    )
    if _child(arguments, options):
        return 0
    sizes = _names(arguments.sizes or ("all" if full else DEFAULT_SIZES), SIZES, parser)
    scenarios = _names(
        arguments.what_if or ("all" if full else "demo-catchment"), WHAT_IF_SCENARIOS, parser
    )
    before_ref = arguments.before or (ISSUE_BASELINE_REVISION if full else None)
    markdown = arguments.markdown or (str(DOCS) if full else None)
    if markdown and not report_doc.has_markers(Path(markdown)):
        parser.error(f"{markdown} has no generated-section markers ({report_doc.BEGIN})")
    command = "python -m benchmarks.engine " + " ".join(argv if argv is not None else sys.argv[1:])
    with tempfile.TemporaryDirectory() as before_dir:
        before = None
        if before_ref:
            try:
                before = {"ref": before_ref, "commit": revision.resolve(before_ref)}
            except ValueError as error:
                parser.error(str(error))
            revision.export(before["commit"], Path(before_dir))
            options = replace(options, before_dir=before_dir)
        run = report_doc.start_run(command.strip(), before, asdict(options))
        for name in sizes:
            report = _or_failure(measure, SIZES[name], options)
            run["sizes"].append(report)
            print(report_doc.progress_line(report), file=sys.stderr, flush=True)
        for name in scenarios:
            scenario = WHAT_IF_SCENARIOS[name]
            report = _or_failure(measure_what_if, scenario, options, scenario.size)
            report = {"scenario": name, "target_s": scenario.target_s, **report}
            run["what_if"].append(report)
            print(report_doc.what_if_progress_line(report), file=sys.stderr, flush=True)
    report_doc.finish_run(run)
    if arguments.json:
        print(json.dumps(run, indent=1))
    else:
        print(report_doc.render(run))
    if markdown:
        report_doc.write_section(Path(markdown), report_doc.render(run))
    return 1 if any("failed" in report for report in run["sizes"] + run["what_if"]) else 0


DEFAULT_SIZES = "small,regional,singles-2k,national"


if __name__ == "__main__":
    sys.exit(main())
