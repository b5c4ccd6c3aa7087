"""An independent reference for the matching rules: plain Python loops and one MILP.

Shares no code with matching.engine beyond the JSON shape, so agreement is evidence.
"""

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

RADIUS_KM = 6371.0088
LEVELS_BEST_FIRST = ["native", "fluent", "conversational", "basic"]


@dataclass(frozen=True)
class PairFacts:
    distance_km: float
    shared_languages: frozenset[str]
    shared_activities: frozenset[str]
    overlap_hours: float
    gender_ok: bool
    safe: bool


def haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


def minutes_of(person: dict[str, Any]) -> set[int]:
    covered: set[int] = set()
    for slot in person["availability"]:
        start = _clock(slot["start"])
        end = _clock(slot["end"])
        covered.update(range(slot["day"] * 1440 + start, slot["day"] * 1440 + end))
    return covered


def _clock(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def spoken_well_enough(data: dict[str, Any], vol: dict[str, Any]) -> frozenset[str]:
    """Codes without a level always count; others at the rules' level or better."""
    floor = LEVELS_BEST_FIRST.index(data["rules"].get("min_language_level", "conversational"))
    return frozenset(
        entry if isinstance(entry, str) else entry["code"]
        for entry in vol["languages"]
        if isinstance(entry, str) or LEVELS_BEST_FIRST.index(entry["level"]) <= floor
    )


def facts(data: dict[str, Any], ref: dict[str, Any], vol: dict[str, Any]) -> PairFacts:
    wanted = ref.get("volunteer_gender")
    return PairFacts(
        distance_km=haversine(ref["lat"], ref["lon"], vol["lat"], vol["lon"]),
        shared_languages=frozenset(ref["languages"]) & spoken_well_enough(data, vol),
        shared_activities=frozenset(ref.get("activities", []))
        & frozenset(vol.get("activities", [])),
        overlap_hours=len(minutes_of(ref) & minutes_of(vol)) / 60.0,
        gender_ok=wanted is None or wanted == vol.get("gender"),
        safe=vol["municipality"] not in ref.get("excluded_municipalities", [])
        and ref["municipality"] not in vol.get("excluded_municipalities", []),
    )


def limit_km(data: dict[str, Any], ref: dict[str, Any]) -> float:
    own = ref.get("max_distance_km")
    return float(data["rules"]["max_distance_km"] if own is None else own)


def rule_results(data: dict[str, Any], ref: dict[str, Any], vol: dict[str, Any]) -> list[bool]:
    f = facts(data, ref, vol)
    return [
        f.distance_km <= limit_km(data, ref),
        bool(f.shared_languages),
        f.overlap_hours >= data["rules"]["min_overlap_hours"] - 1e-9,
        f.gender_ok,
        f.safe,
    ]


def pair_cost(data: dict[str, Any], ref: dict[str, Any], vol: dict[str, Any]) -> float:
    rules = data["rules"]
    f = facts(data, ref, vol)
    bonus = rules["km_per_overlap_hour"] * min(f.overlap_hours, rules["overlap_target_hours"])
    activities = min(len(f.shared_activities), rules.get("max_shared_activities", 0))
    return f.distance_km - bonus - rules.get("km_per_shared_activity", 0.0) * activities


@dataclass(frozen=True)
class ReferenceModel:
    """Every feasible pair as a binary x (edges, as (referral, volunteer) positions in the
    JSON), then a binary y per referral; its rows: each referral gets all the volunteers it
    needs or none, no volunteer beyond capacity."""

    edges: list[tuple[int, int]]
    rows: list[LinearConstraint]


def reference_model(data: dict[str, Any]) -> ReferenceModel:
    refs, vols = data["referrals"], data["volunteers"]
    edges = [
        (i, j)
        for i, r in enumerate(refs)
        for j, v in enumerate(vols)
        if all(rule_results(data, r, v))
    ]
    n_e, n_r = len(edges), len(refs)
    a_ref = np.zeros((n_r, n_e + n_r))
    a_vol = np.zeros((len(vols), n_e + n_r))
    for e, (i, j) in enumerate(edges):
        a_ref[i, e] = 1.0
        a_vol[j, e] = 1.0
    for i, r in enumerate(refs):
        a_ref[i, n_e + i] = -r.get("volunteers_needed", 1)
    caps = np.array([v.get("capacity", 1) for v in vols], dtype=float)
    rows = [LinearConstraint(a_ref, 0, 0), LinearConstraint(a_vol, -np.inf, caps)]
    return ReferenceModel(edges, rows)


def reference_maximum(model: ReferenceModel, objective: np.ndarray) -> float:
    """The largest value of objective (over edges, then referrals) any solution reaches."""
    return -_minimise(-objective, list(model.rows))


def reference_objective(data: dict[str, Any]) -> tuple[int, int, float]:
    """(matched, waiting days, total cost) of a lexicographic optimum, by a staged MILP."""
    refs, vols = data["referrals"], data["volunteers"]
    model = reference_model(data)
    edges = model.edges
    if not edges:
        return (0, 0, 0.0)
    n_e, n_r = len(edges), len(refs)
    waiting = np.array([r.get("waiting_days", 0) for r in refs], dtype=float)
    costs = np.array([pair_cost(data, refs[i], vols[j]) for i, j in edges])
    count_obj = np.concatenate((np.zeros(n_e), -np.ones(n_r)))
    wait_obj = np.concatenate((np.zeros(n_e), -waiting))
    cost_obj = np.concatenate((costs, np.zeros(n_r)))
    constraints = list(model.rows)
    count = -_minimise(count_obj, constraints)
    constraints.append(LinearConstraint(-count_obj.reshape(1, -1), round(count), np.inf))
    wait = -_minimise(wait_obj, constraints)
    constraints.append(LinearConstraint(-wait_obj.reshape(1, -1), round(wait) - 1e-9, np.inf))
    cost = _minimise(cost_obj, constraints)
    return (round(count), round(wait), cost)


def _minimise(objective: np.ndarray, constraints: list[LinearConstraint]) -> float:
    result = milp(
        objective,
        integrality=np.ones(objective.size),
        bounds=Bounds(0, 1),
        constraints=constraints,
        options={"mip_rel_gap": 0.0},
    )
    assert result.status == 0, result.message
    return float(result.fun)


REASONS = (
    "no_volunteer_within_distance",
    "no_shared_language",
    "no_availability_overlap",
    "gender_preference",
    "safety_exclusion",
)


def expected_reason(data: dict[str, Any], ref: dict[str, Any]) -> str:
    survivors = list(data["volunteers"])
    for rule, reason in enumerate(REASONS):
        survivors = [v for v in survivors if rule_results(data, ref, v)[rule]]
        if not survivors:
            return reason
    if len(survivors) < ref.get("volunteers_needed", 1):
        return "not_enough_volunteers"
    return "capacity_taken"


def speakers_below_level(data: dict[str, Any], ref: dict[str, Any]) -> int:
    """Volunteers within the limit who list one of the referral's languages but do not
    speak any of them at the rules' level."""
    wanted = set(ref["languages"])
    count = 0
    for vol in data["volunteers"]:
        if not rule_results(data, ref, vol)[0]:
            continue
        listed = {entry if isinstance(entry, str) else entry["code"] for entry in vol["languages"]}
        if listed & wanted and not spoken_well_enough(data, vol) & wanted:
            count += 1
    return count


def assert_feasible(data: dict[str, Any], result: dict[str, Any]) -> None:
    refs = {r["id"]: r for r in data["referrals"]}
    vols = {v["id"]: v for v in data["volunteers"]}
    load: dict[str, int] = {}
    total = 0.0
    for assignment in result["assignments"]:
        ref = refs[assignment["referral"]]
        chosen = assignment["volunteers"]
        assert len(chosen) == len(set(chosen)) == ref.get("volunteers_needed", 1)
        for vid in chosen:
            assert all(rule_results(data, ref, vols[vid])), (ref["id"], vid)
            load[vid] = load.get(vid, 0) + 1
            total += pair_cost(data, ref, vols[vid])
        for pair in assignment["pairs"]:
            shared = facts(data, ref, vols[pair["volunteer"]])
            assert pair["shared_languages"] == sorted(shared.shared_languages)
            assert pair["shared_activities"] == sorted(shared.shared_activities)
    for vid, used in load.items():
        assert used <= vols[vid].get("capacity", 1)
    matched = {a["referral"] for a in result["assignments"]}
    unmatched = {u["referral"] for u in result["unmatched"]}
    assert matched.isdisjoint(unmatched) and matched | unmatched == set(refs)
    assert abs(result["summary"]["total_cost"] - total) < 1e-2
