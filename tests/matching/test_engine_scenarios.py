"""Named scenarios from the field, on real coordinates."""

import csv
from pathlib import Path
from typing import Any

import pytest

from matching.engine import MatchingInputError, parse_instance, result_to_dict, solve
from matching.engine import solver as engine_solver

from .engine_reference import haversine

MUNICIPALITIES = Path(__file__).resolve().parents[2] / "programmes/data/municipalities.csv"
RULES = {
    "max_distance_km": 40,
    "min_overlap_hours": 1.0,
    "overlap_target_hours": 4.0,
    "km_per_overlap_hour": 2.5,
}
EVENING = [{"day": 1, "start": "17:00", "end": "21:00"}]


def volunteer(vid: str, lat: float, lon: float, municipality: str, **extra: Any) -> dict[str, Any]:
    base = {"id": vid, "lat": lat, "lon": lon, "municipality": municipality,
            "languages": ["nb"], "gender": "female", "availability": EVENING}  # fmt: skip
    return base | extra


def referral(rid: str, lat: float, lon: float, municipality: str, **extra: Any) -> dict[str, Any]:
    base = {"id": rid, "lat": lat, "lon": lon, "municipality": municipality,
            "languages": ["nb"], "availability": EVENING, "waiting_days": 10}  # fmt: skip
    return base | extra


def run(volunteers: list[dict[str, Any]], referrals: list[dict[str, Any]]) -> dict[str, Any]:
    data = {"rules": RULES, "volunteers": volunteers, "referrals": referrals}
    return result_to_dict(solve(parse_instance(data)))


def by_referral(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["referral"]: a for a in result["assignments"]} | {
        u["referral"]: u for u in result["unmatched"]
    }


def nordland_municipalities() -> list[dict[str, str]]:
    with MUNICIPALITIES.open(encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["county_number"] == "18"]
    bodo = next(row for row in rows if row["name"] == "Bodø")
    rows.sort(key=lambda row: haversine(*_at(bodo), *_at(row)))
    return rows[:12]


def _at(row: dict[str, str]) -> tuple[float, float]:
    return float(row["lat"]), float(row["lon"])


def test_crisis_centre_with_volunteers_in_one_of_twelve_municipalities() -> None:
    served = nordland_municipalities()
    bodo = served[0]
    lat, lon = _at(bodo)
    volunteers = [volunteer(f"v{i}", lat + 0.002 * i, lon, bodo["number"]) for i in range(12)]
    referrals = [referral(f"r-{row['number']}", *_at(row), row["number"]) for row in served]
    outcome = by_referral(run(volunteers, referrals))
    for row in served:
        distance = haversine(lat, lon, *_at(row))
        answer = outcome[f"r-{row['number']}"]
        if distance < 39:
            assert "volunteers" in answer, row["name"]
        elif distance > 41:
            assert answer["reason"] == "no_volunteer_within_distance", row["name"]
            assert f"(municipality {bodo['number']})" in answer["detail"]
            assert f"{distance:.0f} km away" in answer["detail"] or "km away" in answer["detail"]
    assert any("reason" in answer for answer in outcome.values())


def test_sami_speaker_in_kautokeino_is_matched_to_a_northern_sami_speaker() -> None:
    kautokeino = (69.0117, 23.0425)
    volunteers = [
        volunteer("v-nb-near", kautokeino[0] + 0.005, kautokeino[1], "5612"),
        volunteer(
            "v-se", kautokeino[0] + 0.09, kautokeino[1] + 0.05, "5612", languages=["se", "nb"]
        ),
    ]
    participant = referral("r-sami", *kautokeino, "5612", languages=["se"])
    result = run(volunteers, [participant])
    (assignment,) = result["assignments"]
    assert assignment["volunteers"] == ["v-se"]
    assert assignment["pairs"][0]["shared_languages"] == ["se"]


def test_sami_speaker_without_a_sami_speaking_volunteer_nearby_is_told_where_one_is() -> None:
    kautokeino = (69.0117, 23.0425)
    volunteers = [
        volunteer("v-nb", kautokeino[0] + 0.005, kautokeino[1], "5612"),
        volunteer("v-se-far", 69.9689, 23.2716, "5603", languages=["se"]),  # Alta, ~107 km
    ]
    result = run(volunteers, [referral("r-sami", *kautokeino, "5612", languages=["se"])])
    (unmatched,) = result["unmatched"]
    assert unmatched["reason"] == "no_shared_language"
    assert "nearest 'se' speaker is 107 km away (municipality 5603)" in unmatched["detail"]


def test_family_with_only_one_volunteer_near_is_never_half_matched() -> None:
    oslo = (59.9127, 10.7461)
    volunteers = [
        volunteer("v-near", oslo[0] + 0.01, oslo[1], "0301", capacity=2),
        volunteer("v-far", 61.1153, 10.4662, "3405"),  # Lillehammer, far beyond 40 km
    ]
    family = referral("r-family", *oslo, "0301", volunteers_needed=2, waiting_days=200)
    single = referral("r-single", oslo[0] - 0.01, oslo[1], "0301", waiting_days=1)
    result = run(volunteers, [family, single])
    outcome = by_referral(result)
    assert outcome["r-family"]["reason"] == "not_enough_volunteers"
    assert "only 1 eligible" in outcome["r-family"]["detail"]
    assert outcome["r-single"]["volunteers"] == ["v-near"]


def test_family_gets_two_distinct_volunteers_even_from_a_capacity_two_volunteer() -> None:
    oslo = (59.9127, 10.7461)
    volunteers = [volunteer("v-a", oslo[0] + 0.01, oslo[1], "0301", capacity=2),
                  volunteer("v-b", oslo[0] + 0.2, oslo[1], "0301")]  # fmt: skip
    result = run(volunteers, [referral("r-family", *oslo, "0301", volunteers_needed=2)])
    assert result["assignments"][0]["volunteers"] == ["v-a", "v-b"]


def test_participant_avoiding_the_abusers_municipality() -> None:
    lillestrom = (59.9560, 11.0496)
    volunteers = [
        volunteer("v-abuser-town", lillestrom[0] + 0.005, lillestrom[1], "3205"),
        volunteer("v-elsewhere", 59.8600, 10.8400, "0301"),
    ]
    participant = referral("r-safe", *lillestrom, "3203", excluded_municipalities=["3205"])
    result = run(volunteers, [participant])
    assert result["assignments"][0]["volunteers"] == ["v-elsewhere"]
    only_abuser_town = run(volunteers[:1], [participant])
    (unmatched,) = only_abuser_town["unmatched"]
    assert unmatched["reason"] == "safety_exclusion"
    assert "3205" in unmatched["detail"]


def test_volunteer_may_exclude_a_municipality_too() -> None:
    oslo = (59.9127, 10.7461)
    volunteers = [volunteer("v1", *oslo, "0301", excluded_municipalities=["3201"])]
    result = run(volunteers, [referral("r1", oslo[0] + 0.05, oslo[1], "3201")])
    assert result["unmatched"][0]["reason"] == "safety_exclusion"


def test_more_matches_beat_longer_waits_and_longer_waits_beat_lower_cost() -> None:
    oslo = (59.9127, 10.7461)
    volunteers = [
        volunteer("v-shared", *oslo, "0301"),
        volunteer("v-only-b", oslo[0] + 0.3, oslo[1], "0301", languages=["ar"]),
    ]
    long_wait = referral("r-a", oslo[0] + 0.001, oslo[1], "0301", waiting_days=300)
    flexible = referral(
        "r-b", oslo[0] + 0.3, oslo[1], "0301", languages=["nb", "ar"], waiting_days=1
    )
    result = run(volunteers, [long_wait, flexible])
    assert result["summary"]["matched"] == 2
    near = referral("r-near", *oslo, "0301", waiting_days=1)
    far_but_waiting = referral("r-far", oslo[0] + 0.3, oslo[1], "0301", waiting_days=50)
    outcome = by_referral(run(volunteers[:1], [near, far_but_waiting]))
    assert outcome["r-far"]["volunteers"] == ["v-shared"]
    assert outcome["r-near"]["reason"] == "capacity_taken"
    assert outcome["r-near"]["detail"].startswith(
        "1 eligible volunteer(s) (nearest v-shared, 0.0 km)"
    )


def test_unmatched_reasons_follow_the_rule_order() -> None:
    oslo = (59.9127, 10.7461)
    base = volunteer("v1", *oslo, "0301", gender="male")
    cases = {
        "no_shared_language": referral("r1", *oslo, "0301", languages=["ti"]),
        "no_availability_overlap": referral(
            "r1", *oslo, "0301", availability=[{"day": 1, "start": "20:30", "end": "22:00"}]
        ),
        "gender_preference": referral("r1", *oslo, "0301", volunteer_gender="female"),
        "safety_exclusion": referral("r1", *oslo, "0301", excluded_municipalities=["0301"]),
    }
    for reason, participant in cases.items():
        (unmatched,) = run([base], [participant])["unmatched"]
        assert unmatched["reason"] == reason, unmatched
    overlap_detail = run([base], [cases["no_availability_overlap"]])["unmatched"][0]["detail"]
    assert "0.50 h (volunteer v1); need 1 h" in overlap_detail
    gender_detail = run([base], [cases["gender_preference"]])["unmatched"][0]["detail"]
    assert gender_detail.endswith("(male); none is female")


def test_empty_sides() -> None:
    assert run([], [referral("r1", 59.9, 10.7, "0301")])["unmatched"][0]["reason"] == (
        "no_volunteer_within_distance"
    )
    assert run([volunteer("v1", 59.9, 10.7, "0301")], [])["summary"] == {
        "matched": 0, "unmatched": 0, "waiting_days_matched": 0, "total_cost": 0.0,
    }  # fmt: skip


def test_pair_a_coordinator_rejected_is_never_proposed_again() -> None:
    volunteers = [
        volunteer("v-near", 59.913, 10.746, "0301"),
        volunteer("v-farther", 59.95, 10.75, "0301"),
    ]
    referrals = [referral("r1", 59.912, 10.745, "0301")]
    data = {"rules": RULES, "volunteers": volunteers, "referrals": referrals}
    assert result_to_dict(solve(parse_instance(data)))["assignments"][0]["volunteers"] == ["v-near"]

    data["forbidden_pairs"] = [{"referral": "r1", "volunteer": "v-near"}]
    result = result_to_dict(solve(parse_instance(data)))
    assert result["assignments"][0]["volunteers"] == ["v-farther"]

    data["forbidden_pairs"].append({"referral": "r1", "volunteer": "v-farther"})
    unmatched = result_to_dict(solve(parse_instance(data)))["unmatched"][0]
    assert unmatched["reason"] == "rejected_before"
    assert "v-farther, v-near" in unmatched["detail"]


def test_forbidden_pair_naming_an_unknown_volunteer_is_refused() -> None:
    data = {
        "rules": RULES,
        "volunteers": [volunteer("v1", 59.9, 10.7, "0301")],
        "referrals": [referral("r1", 59.9, 10.7, "0301")],
        "forbidden_pairs": [{"referral": "r1", "volunteer": "v9"}],
    }
    with pytest.raises(MatchingInputError, match=r"forbidden_pairs\[0\].volunteer: unknown id"):
        parse_instance(data)


def run_with_rules(
    rules: dict[str, Any], volunteers: list[dict[str, Any]], referrals: list[dict[str, Any]]
) -> dict[str, Any]:
    data = {"rules": RULES | rules, "volunteers": volunteers, "referrals": referrals}
    return result_to_dict(solve(parse_instance(data)))


LEISURE = {"km_per_shared_activity": 4.0, "max_shared_activities": 3}


def test_family_gets_the_volunteer_who_shares_its_wished_activities() -> None:
    """Three volunteers alike but for where they live and what they do with children; the
    one who plays football and swims lives 2 km farther than the other two."""
    oslo = (59.9127, 10.7461)
    volunteers = [
        volunteer("v-a", oslo[0] + 0.010, oslo[1], "0301", activities=["chess"]),
        volunteer("v-b", oslo[0] + 0.011, oslo[1], "0301"),
        volunteer("v-sport", oslo[0] + 0.028, oslo[1], "0301", activities=["swimming", "football"]),
    ]
    family = referral(
        "r-family", *oslo, "0301", volunteers_needed=2, activities=["football", "swimming"]
    )
    (assignment,) = run_with_rules(LEISURE, volunteers, [family])["assignments"]
    assert assignment["volunteers"] == ["v-a", "v-sport"]
    pairs = {pair["volunteer"]: pair for pair in assignment["pairs"]}
    assert pairs["v-sport"]["shared_activities"] == ["football", "swimming"]
    assert pairs["v-a"]["shared_activities"] == []
    # 2 shared activities at 4 km each: 8 km off the pair's cost.
    assert pairs["v-sport"]["cost"] == pytest.approx(
        pairs["v-sport"]["distance_km"] - 2.5 * 4.0 - 8.0, abs=1e-3
    )
    # Without the bonus, distance decides; with a cap of one shared activity, 4 km < 2 km
    # farther is still worth it, but not 6 km farther.
    (nearest,) = run_with_rules({}, volunteers, [family])["assignments"]
    assert nearest["volunteers"] == ["v-a", "v-b"]
    farther = [*volunteers[:2], {**volunteers[2], "lat": oslo[0] + 0.065}]
    capped = LEISURE | {"max_shared_activities": 1}
    assert run_with_rules(capped, farther, [family])["assignments"][0]["volunteers"] == [
        "v-a",
        "v-b",
    ]
    assert run_with_rules(LEISURE, farther, [family])["assignments"][0]["volunteers"] == [
        "v-a",
        "v-sport",
    ]


BASIC_ARABIC = [{"code": "nb", "level": "native"}, {"code": "ar", "level": "basic"}]


def test_basic_arabic_is_not_shared_arabic_unless_the_rules_ask_for_no_more() -> None:
    oslo = (59.9127, 10.7461)
    learner = volunteer("v-learner", oslo[0] + 0.01, oslo[1], "0301", languages=BASIC_ARABIC)
    arabic_only = referral("r-ar", *oslo, "0301", languages=["ar"])
    for rules in ({}, {"min_language_level": "conversational"}):
        result = run_with_rules(rules, [learner], [arabic_only])
        assert result["assignments"] == []
        (unmatched,) = result["unmatched"]
        assert unmatched["reason"] == "no_shared_language"
        assert unmatched["facts"]["speakers_below_level"] == 1
        assert unmatched["facts"]["required_level"] == "conversational"
        assert unmatched["facts"]["nearest_speaker_km"] is None
        assert "only below" in unmatched["detail"]
        assert unmatched["near_misses"] == []

    (assignment,) = run_with_rules({"min_language_level": "basic"}, [learner], [arabic_only])[
        "assignments"
    ]
    assert assignment["volunteers"] == ["v-learner"]
    assert assignment["pairs"][0]["shared_languages"] == ["ar"]


def test_a_volunteer_with_basic_arabic_shares_only_norwegian() -> None:
    oslo = (59.9127, 10.7461)
    learner = volunteer("v-learner", oslo[0] + 0.01, oslo[1], "0301", languages=BASIC_ARABIC)
    both = referral("r-ar-nb", *oslo, "0301", languages=["ar", "nb"])
    (assignment,) = run_with_rules({}, [learner], [both])["assignments"]
    assert assignment["pairs"][0]["shared_languages"] == ["nb"]
    (assignment,) = run_with_rules({"min_language_level": "basic"}, [learner], [both])[
        "assignments"
    ]
    assert assignment["pairs"][0]["shared_languages"] == ["ar", "nb"]


def test_a_fluent_speaker_farther_away_is_named_before_a_nearby_learner() -> None:
    oslo = (59.9127, 10.7461)
    volunteers = [
        volunteer("v-learner", oslo[0] + 0.01, oslo[1], "0301", languages=BASIC_ARABIC),
        volunteer(
            "v-fluent", 60.7945, 11.0680, "3403", languages=[{"code": "ar", "level": "fluent"}]
        ),  # Hamar, ~100 km
    ]
    (unmatched,) = run_with_rules(
        {}, volunteers, [referral("r-ar", *oslo, "0301", languages=["ar"])]
    )["unmatched"]
    assert unmatched["facts"]["speakers_below_level"] == 1
    assert unmatched["facts"]["nearest_speaker_municipality"] == "3403"
    assert (
        "nearest 'ar' speaker at that level is 100 km away (municipality 3403)"
        in unmatched["detail"]
    )


def test_levels_not_stated_count_at_any_level() -> None:
    oslo = (59.9127, 10.7461)
    speaker = volunteer("v-ar", oslo[0] + 0.01, oslo[1], "0301", languages=["ar"])
    result = run_with_rules(
        {"min_language_level": "native"},
        [speaker],
        [referral("r-ar", *oslo, "0301", languages=["ar"])],
    )
    assert result["assignments"][0]["pairs"][0]["shared_languages"] == ["ar"]
    native_nb = volunteer("v-nb", *oslo, "0301", languages=[{"code": "nb", "level": "native"}])
    (unmatched,) = run([native_nb], [referral("r-ar", *oslo, "0301", languages=["ar"])])[
        "unmatched"
    ]
    assert unmatched["reason"] == "no_shared_language"
    assert "speakers_below_level" not in unmatched["facts"]
    assert "required_level" not in unmatched["facts"]


def test_the_volunteer_sharing_every_wish_is_found_beyond_the_nearest_candidates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The solver starts from the nearest candidate or two and looks farther only while an
    unexplored pair could still be cheaper: with three shared activities worth 12 km, a
    volunteer 5 km farther than the nearest is such a pair."""
    monkeypatch.setattr(engine_solver, "INITIAL_NEIGHBOURS", 1)
    monkeypatch.setattr(engine_solver, "SPARE_CANDIDATES", 0)
    oslo = (59.9127, 10.7461)
    near = [volunteer(f"v-near-{i}", oslo[0] + 0.01 * i, oslo[1], "0301") for i in range(1, 5)]
    sporty = volunteer(
        "v-sporty", oslo[0] + 0.06, oslo[1], "0301", activities=["football", "music", "swimming"]
    )
    family = referral("r1", *oslo, "0301", activities=["football", "music", "swimming"])
    (assignment,) = run_with_rules(LEISURE, [*near, sporty], [family])["assignments"]
    assert assignment["volunteers"] == ["v-sporty"]


def test_ties_fall_the_same_way_when_numbered_ids_gain_a_digit() -> None:
    """The portal numbers people as r<number> and v<number> in the order they were created.
    Among equally good answers the engine picks by id, as numbers: renumbering everyone
    across a power of ten (r995 ... r1004) picks the same people, in creation order."""

    def chosen(first_number: int) -> list[tuple[int, int]]:
        ids = range(first_number, first_number + 10)
        referrals = [referral(f"r{n}", 59.91, 10.75, "0301") for n in ids]
        volunteers = [volunteer(f"v{n}", 59.91, 10.75, "0301") for n in list(ids)[:4]]
        result = run(volunteers, referrals)
        return sorted(
            (
                int(a["referral"][1:]) - first_number,
                int(a["pairs"][0]["volunteer"][1:]) - first_number,
            )
            for a in result["assignments"]
        )

    assert len(chosen(1)) == 4
    assert chosen(995) == chosen(1) == chosen(99_995)
