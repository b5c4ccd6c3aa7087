"""What if one more volunteer joined: exact against re-solving the whole instance with it."""

import json
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks import engine as bench
from matching.engine import (
    Instance,
    MatchingInputError,
    Slot,
    Volunteer,
    canonical_order,
    parse_instance,
    solve,
)
from matching.engine.candidates import REFERRALS_PER_BLOCK
from matching.engine.pipeline import candidate_index
from matching.engine.tables import build_codebook
from matching.engine.what_if import (
    Place,
    WhatIfAnswer,
    _Baseline,
    _referrals_reached,
    hypotheticals_at,
    parse_hypotheticals,
    what_if,
)

from .strategies import instances, volunteers

REPO = Path(__file__).resolve().parents[2]
RULES = {
    "max_distance_km": 20.0,
    "min_overlap_hours": 1.0,
    "overlap_target_hours": 4.0,
    "km_per_overlap_hour": 2.5,
}
EVENING = [{"day": 1, "start": "17:00", "end": "21:00"}]
# A crisis centre's catchment: twelve municipalities in a row, 30 km apart (beyond reach
# of each other), volunteers only in the first.
TOWNS = [(f"46{i:02d}", 60.0, 5.0 + 0.55 * i) for i in range(12)]


def person(kind: str, number: int, town: int, **extra: Any) -> dict[str, Any]:
    municipality, lat, lon = TOWNS[town]
    return {
        "id": f"{kind}{number}",
        "lat": lat,
        "lon": lon,
        "municipality": municipality,
        "languages": ["nb"],
        "availability": EVENING,
        **extra,
    }


def catchment() -> dict[str, Any]:
    referrals = [person("r", i, i % 12, waiting_days=i) for i in range(24)]
    referrals.append(person("r", 24, 5, volunteers_needed=2, waiting_days=90))
    return {
        "rules": RULES,
        "volunteers": [person("v", i, 0) for i in range(2)],
        "referrals": referrals,
    }


def with_volunteer(instance: Instance, volunteer: Volunteer) -> Instance:
    return Instance(
        instance.rules,
        (*instance.volunteers, volunteer),
        instance.referrals,
        instance.forbidden_pairs,
    )


def matched_ids(instance: Instance) -> set[str]:
    return {a.referral for a in solve(instance).assignments}


def truth(instance: Instance, volunteer: Volunteer) -> tuple[int, set[str]]:
    before, after = matched_ids(instance), matched_ids(with_volunteer(instance, volunteer))
    return len(after) - len(before), after - before


def profile(capacity: int = 1, languages: tuple[str, ...] = ("nb",)) -> Volunteer:
    return Volunteer(
        id="evening",
        lat=0.0,
        lon=0.0,
        municipality="",
        languages=languages,
        availability=(Slot(day=1, start=17 * 60, end=21 * 60),),
        capacity=capacity,
    )


def everywhere(profiles: list[Volunteer]) -> tuple[Volunteer, ...]:
    return hypotheticals_at(profiles, [Place(m, lat, lon) for m, lat, lon in TOWNS])


def test_one_more_volunteer_matches_where_nobody_serves() -> None:
    instance = parse_instance(catchment())
    answers = what_if(instance, everywhere([profile()]))
    by_town = {a.volunteer_id: a for a in answers}
    assert by_town["evening@4600"] == WhatIfAnswer("evening@4600", 0, ())
    assert by_town["evening@4603"] == WhatIfAnswer("evening@4603", 1, ("r15",))
    assert [a.volunteer_id for a in answers] == [f"evening@{m}" for m, _, _ in TOWNS]


def test_capacity_two_matches_two_or_completes_a_family() -> None:
    instance = parse_instance(catchment())
    answers = {a.volunteer_id: a for a in what_if(instance, everywhere([profile(capacity=2)]))}
    assert answers["evening@4603"] == WhatIfAnswer("evening@4603", 2, ("r15", "r3"))
    # Town 5 holds two singles and a family (90 days waiting): two volunteer places go
    # to the family, one referral rather than two.
    assert answers["evening@4605"] == WhatIfAnswer("evening@4605", 2, ("r17", "r5"))


def test_a_family_may_take_the_place_of_a_single_without_more_matched() -> None:
    """Two singles hold the two volunteers a long-waiting family needs; one more volunteer
    for the family alone lets it in, in place of the single who waited less."""
    data = {
        "rules": RULES,
        "volunteers": [
            person("v", 1, 0, languages=["ar"]),
            person("v", 2, 0, languages=["so"]),
        ],
        "referrals": [
            person("r", 1, 0, languages=["ar", "so", "ti"], volunteers_needed=2, waiting_days=90),
            person("r", 2, 0, languages=["ar"], waiting_days=1),
            person("r", 3, 0, languages=["so"], waiting_days=2),
        ],
    }
    instance = parse_instance(data)
    speaks_tigrinya = Volunteer("h", 60.0, 5.0, "4600", ("ti",), profile().availability)
    assert what_if(instance, [speaks_tigrinya]) == (WhatIfAnswer("h", 0, ("r1",)),)
    assert truth(instance, speaks_tigrinya) == (0, {"r1"})


def test_nobody_within_reach_or_speaking_the_language_answers_zero() -> None:
    instance = parse_instance(catchment())
    far = Volunteer("far", 70.0, 25.0, "5601", ("nb",), profile().availability)
    mute = Volunteer("mute", 60.0, 6.65, "4603", ("ar",), profile().availability)
    assert what_if(instance, [far, mute]) == (
        WhatIfAnswer("far", 0, ()),
        WhatIfAnswer("mute", 0, ()),
    )


def test_every_answer_equals_re_solving_the_catchment() -> None:
    instance = parse_instance(catchment())
    hypotheticals = everywhere([profile(), profile(capacity=2)])
    for answer, volunteer in zip(what_if(instance, hypotheticals), hypotheticals, strict=True):
        extra, newly = truth(instance, volunteer)
        assert (answer.extra_matched, set(answer.newly_matched)) == (extra, newly)


def test_a_hypothetical_may_not_reuse_an_instance_volunteer_id() -> None:
    instance = parse_instance(catchment())
    with pytest.raises(MatchingInputError, match=r"^volunteers\[0\]\.id: 'v1'"):
        what_if(instance, [Volunteer("v1", 60.0, 5.0, "4600", ("nb",), ())])


def test_hypotheticals_parse_like_instance_volunteers() -> None:
    data = {"volunteers": [person("h", 1, 3, capacity=2)]}
    assert parse_hypotheticals(data)[0].capacity == 2
    bad = {"volunteers": [person("h", 1, 3), {**person("h", 2, 3), "languages": [""]}]}
    with pytest.raises(MatchingInputError, match=r"^volunteers\[1\]\.languages\[0\]: "):
        parse_hypotheticals(bad)
    with pytest.raises(MatchingInputError, match=r"^volunteers\[1\]\.id: duplicate"):
        parse_hypotheticals({"volunteers": [person("h", 1, 3), person("h", 1, 4)]})


@st.composite
def instances_with_hypotheticals(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    data = draw(instances(max_referrals=12, max_volunteers=draw(st.sampled_from([4, 10]))))
    extra = [draw(volunteers(i)) for i in range(draw(st.integers(1, 3)))]
    for volunteer in extra:
        volunteer["id"] = "h" + volunteer["id"]
    return data, extra


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances_with_hypotheticals())
def test_answers_equal_re_solving_the_whole_instance(
    case: tuple[dict[str, Any], list[dict[str, Any]]],
) -> None:
    """The count exactly, always. The set too, unless several matched sets are optimal (as
    many matched, as many waiting days): then the one reported is optimal as well."""
    data, extra = case
    instance = parse_instance(data)
    hypotheticals = parse_hypotheticals({"volunteers": extra})
    before = matched_ids(instance)
    for answer, volunteer in zip(what_if(instance, hypotheticals), hypotheticals, strict=True):
        after = matched_ids(with_volunteer(instance, volunteer))
        assert answer.extra_matched == len(after) - len(before)
        mine = reported_matched_set(instance, volunteer)
        assert answer.newly_matched == tuple(sorted(mine - before))
        if mine != after:
            assert objective(instance, mine) == objective(instance, after)


def reported_matched_set(instance: Instance, volunteer: Volunteer) -> frozenset[str]:
    baseline = _Baseline(canonical_order(instance))
    reached = _referrals_reached(baseline.instance, [volunteer])[0]
    return baseline.matched_with(volunteer, reached)


def objective(instance: Instance, matched: Iterable[str]) -> tuple[int, int]:
    waiting = {r.id: r.waiting_days for r in instance.referrals}
    ids = set(matched)
    return len(ids), sum(waiting[r] for r in ids)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "matching", *args],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def write(tmp_path: Path, name: str, data: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_cli_prints_one_answer_per_hypothetical(tmp_path: Path) -> None:
    hypotheticals = {"volunteers": [person("h", 1, 3), person("h", 2, 0)]}
    completed = run_cli(
        "what-if",
        write(tmp_path, "instance.json", catchment()),
        write(tmp_path, "hypotheticals.json", hypotheticals),
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == {
        "answers": [
            {"volunteer": "h1", "extra_matched": 1, "newly_matched": ["r15"]},
            {"volunteer": "h2", "extra_matched": 0, "newly_matched": []},
        ]
    }


def test_cli_malformed_hypothetical_exits_2_naming_the_field(tmp_path: Path) -> None:
    hypotheticals = {"volunteers": [person("h", 1, 3), {**person("h", 2, 3), "languages": [7]}]}
    completed = run_cli(
        "what-if",
        write(tmp_path, "instance.json", catchment()),
        write(tmp_path, "hypotheticals.json", hypotheticals),
    )
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert completed.stderr == "volunteers[1].languages[0]: must be a non-empty string\n"


def test_cli_hypothetical_with_an_unknown_language_level_exits_2_naming_it(
    tmp_path: Path,
) -> None:
    wrong = {**person("h", 1, 3), "languages": [{"code": "nb", "level": "good"}]}
    completed = run_cli(
        "what-if",
        write(tmp_path, "instance.json", catchment()),
        write(tmp_path, "hypotheticals.json", {"volunteers": [wrong]}),
    )
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert completed.stderr == (
        "volunteers[0].languages[0].level: must be one of native, fluent, conversational, basic\n"
    )


def test_the_baseline_knows_every_feasible_pair_though_it_searches_in_blocks() -> None:
    """The open referrals rest on every feasible pair being known. They are searched a block
    of referrals at a time (all at once, a national sweep held 1.9 GB); across the blocks the
    pairs must be exactly those a check of every referral against every volunteer finds."""
    size = replace(bench.SIZES["regional"], referrals=600, volunteers=1_500)
    canonical = canonical_order(parse_instance(bench.generate(size, seed=4)))
    index = candidate_index(canonical, build_codebook(canonical))
    assert len(index.referrals) > 2 * REFERRALS_PER_BLOCK
    referral = np.repeat(np.arange(len(index.referrals)), len(index.volunteers))
    volunteer = np.tile(np.arange(len(index.volunteers)), len(index.referrals))
    feasible = index.check_pairs(referral, volunteer).feasible
    every_pair = set(zip(referral[feasible].tolist(), volunteer[feasible].tolist(), strict=True))
    found = set(zip(*(rows.tolist() for rows in index.all_feasible_pairs()), strict=True))
    assert found == every_pair
    assert max(r for r, _ in found) >= 2 * REFERRALS_PER_BLOCK  # pairs in the third block too
