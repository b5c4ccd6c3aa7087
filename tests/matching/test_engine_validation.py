"""Malformed instances are rejected with the path of the offending field."""

import copy
import json
from typing import Any, get_args

import pytest

from benchmarks import engine as bench
from matching.engine import Instance, MatchingInputError, Rules, parse_instance, validation, wire
from matching.engine.instance import LANGUAGE_LEVELS
from matching.engine.validation import parse_instance_json

VALID: dict[str, Any] = {
    "rules": {"max_distance_km": 40, "min_overlap_hours": 1.0,
              "overlap_target_hours": 4.0, "km_per_overlap_hour": 2.5},
    "volunteers": [{"id": "v1", "lat": 59.91, "lon": 10.75, "municipality": "0301",
                    "languages": ["nb", "ar"], "gender": "female",
                    "availability": [{"day": 0, "start": "17:00", "end": "20:00"}],
                    "capacity": 1, "excluded_municipalities": []}],
    "referrals": [{"id": "r1", "lat": 59.93, "lon": 10.71, "municipality": "0301",
                   "languages": ["ar"], "volunteers_needed": 1,
                   "availability": [{"day": 2, "start": "18:00", "end": "24:00"}],
                   "volunteer_gender": "female", "excluded_municipalities": ["3203"],
                   "max_distance_km": None, "waiting_days": 12}],
}  # fmt: skip


def broken(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


def test_valid_instance_parses() -> None:
    instance = parse_instance(VALID)
    assert instance.referrals[0].availability[0].end == 24 * 60
    assert instance.volunteers[0].languages == ("nb", "ar")


MALFORMED: list[tuple[tuple[Any, ...], Any, str]] = [
    (
        ("volunteers", 0, "availability", 0, "end"),
        "09:00",
        "volunteers[0].availability[0]: end 09:00 is before start 17:00",
    ),
    (
        ("volunteers", 0, "availability", 0, "end"),
        "17:00",
        "volunteers[0].availability[0]: end 17:00 equals start 17:00",
    ),
    (
        ("volunteers", 0, "availability", 0, "start"),
        "24:00",
        "volunteers[0].availability[0].start: '24:00' is not a time of day",
    ),
    (
        ("volunteers", 0, "availability", 0, "start"),
        "5pm",
        "volunteers[0].availability[0].start: '5pm' is not a time HH:MM",
    ),
    (
        ("volunteers", 0, "availability", 0, "day"),
        7,
        "volunteers[0].availability[0].day: 7 is not a weekday 0..6 (0 is Monday)",
    ),
    (("volunteers", 0, "lat"), 91, "volunteers[0].lat: 91.0 is outside -90..90"),
    (("referrals", 0, "lon"), "10.7", "referrals[0].lon: must be a number"),
    (("volunteers", 0, "capacity"), 0, "volunteers[0].capacity: 0 is less than 1"),
    (("volunteers", 0, "capacity"), True, "volunteers[0].capacity: must be an integer"),
    (
        ("referrals", 0, "volunteers_needed"),
        0,
        "referrals[0].volunteers_needed: 0 is less than 1",
    ),
    (("referrals", 0, "waiting_days"), -1, "referrals[0].waiting_days: -1 is negative"),
    (
        ("referrals", 0, "waiting_days"),
        10**9,
        "referrals[0].waiting_days: 1000000000 is more than 100000 days",
    ),
    (
        ("referrals", 0, "max_distance_km"),
        0,
        "referrals[0].max_distance_km: must be positive or null",
    ),
    (
        ("referrals", 0, "languages"),
        [],
        "referrals[0].languages: must name at least one language",
    ),
    (
        ("referrals", 0, "languages"),
        ["ar", 3],
        "referrals[0].languages[1]: must be a non-empty string",
    ),
    (("referrals", 0, "id"), KeyError, "referrals[0].id: is required"),
    (
        ("referrals", 0, "volunter_gender"),
        "female",
        "referrals[0].volunter_gender: unknown field",
    ),
    (("rules", "max_distance_km"), -5, "rules.max_distance_km: must be positive"),
    (("rules", "km_per_overlap_hour"), KeyError, "rules.km_per_overlap_hour: is required"),
    (("rules", "min_overlap_hours"), float("nan"), "rules.min_overlap_hours: must be finite"),
    (("volunteers",), {}, "volunteers: must be a list"),
    (("volunteers", 0), "v1", "volunteers[0]: must be an object"),
]
LEVEL_CHOICES = "must be one of native, fluent, conversational, basic"
# Language levels and activities (issue 17): every new way to get them wrong.
LEISURE_MALFORMED: list[tuple[tuple[Any, ...], Any, str]] = [
    (
        ("volunteers", 0, "languages", 1),
        {"code": "ar", "level": "good"},
        f"volunteers[0].languages[1].level: {LEVEL_CHOICES}",
    ),
    (
        ("volunteers", 0, "languages", 1),
        {"code": "ar", "level": None},
        f"volunteers[0].languages[1].level: {LEVEL_CHOICES}",
    ),
    (
        ("volunteers", 0, "languages", 1),
        {"code": "ar"},
        "volunteers[0].languages[1].level: is required",
    ),
    (
        ("volunteers", 0, "languages", 1),
        {"level": "basic"},
        "volunteers[0].languages[1].code: is required",
    ),
    (
        ("volunteers", 0, "languages", 0),
        {"code": " ", "level": "basic"},
        "volunteers[0].languages[0].code: must be a non-empty string",
    ),
    (
        ("volunteers", 0, "languages", 1),
        {"code": "ar", "level": "basic", "since": 2019},
        "volunteers[0].languages[1].since: unknown field",
    ),
    (
        ("volunteers", 0, "languages"),
        "nb",
        "volunteers[0].languages: must be a list of codes or {code, level} objects",
    ),
    (
        ("volunteers", 0, "languages"),
        [],
        "volunteers[0].languages: must name at least one language",
    ),
    (
        ("referrals", 0, "languages", 0),
        {"code": "ar", "level": "basic"},
        "referrals[0].languages[0]: must be a non-empty string",
    ),
    (
        ("volunteers", 0, "activities"),
        "football",
        "volunteers[0].activities: must be a list of strings",
    ),
    (
        ("volunteers", 0, "activities"),
        ["football", ""],
        "volunteers[0].activities[1]: must be a non-empty string",
    ),
    (("referrals", 0, "activities"), [3], "referrals[0].activities[0]: must be a non-empty string"),
    (("referrals", 0, "activities"), None, "referrals[0].activities: must be a list of strings"),
    (("rules", "min_language_level"), "good", f"rules.min_language_level: {LEVEL_CHOICES}"),
    (("rules", "min_language_level"), None, f"rules.min_language_level: {LEVEL_CHOICES}"),
    (
        ("rules", "km_per_shared_activity"),
        -1,
        "rules.km_per_shared_activity: must not be negative",
    ),
    (("rules", "km_per_shared_activity"), "4", "rules.km_per_shared_activity: must be a number"),
    (
        ("rules", "km_per_shared_activity"),
        float("inf"),
        "rules.km_per_shared_activity: must be finite",
    ),
    (("rules", "max_shared_activities"), 1.5, "rules.max_shared_activities: must be an integer"),
    (("rules", "max_shared_activities"), True, "rules.max_shared_activities: must be an integer"),
    (("rules", "max_shared_activities"), -1, "rules.max_shared_activities: -1 is negative"),
]
MALFORMED += LEISURE_MALFORMED


@pytest.mark.parametrize(("path", "value", "message"), MALFORMED)
def test_malformed_field_is_named(path: tuple[Any, ...], value: Any, message: str) -> None:
    with pytest.raises(MatchingInputError) as raised:
        parse_instance(broken(path, value))
    assert str(raised.value) == message


def test_languages_may_state_a_level_and_people_may_list_activities() -> None:
    data = copy.deepcopy(VALID)
    data["rules"] |= {
        "min_language_level": "basic",
        "km_per_shared_activity": 4,
        "max_shared_activities": 3,
    }
    data["volunteers"][0] |= {
        "languages": ["nb", {"code": "ar", "level": "basic"}],
        "activities": ["football", "music"],
    }
    data["referrals"][0]["activities"] = ["football"]
    for instance in (parse_instance(data), parse_instance_json(as_json(data))):
        volunteer = instance.volunteers[0]
        assert volunteer.languages == ("nb", "ar")
        # A code without a level always counts: it is held as the best level.
        assert volunteer.language_levels == ("native", "basic")
        assert volunteer.activities == ("football", "music")
        assert instance.referrals[0].activities == ("football",)
        assert instance.rules == Rules(40.0, 1.0, 4.0, 2.5, "basic", 4.0, 3)


def test_levels_and_activities_default_to_not_stated_and_not_counted() -> None:
    for instance in (parse_instance(VALID), parse_instance_json(as_json(VALID))):
        assert instance.volunteers[0].language_levels == ()
        assert instance.volunteers[0].activities == instance.referrals[0].activities == ()
        rules = instance.rules
        assert (rules.min_language_level, rules.km_per_shared_activity) == ("conversational", 0.0)
        assert rules.max_shared_activities == 0


def test_both_paths_know_the_same_levels() -> None:
    assert get_args(wire.LanguageLevel) == LANGUAGE_LEVELS


def test_duplicate_ids_are_named() -> None:
    data = copy.deepcopy(VALID)
    data["volunteers"].append(copy.deepcopy(data["volunteers"][0]))
    with pytest.raises(MatchingInputError, match=r"^volunteers\[1\]\.id: duplicate id 'v1'$"):
        parse_instance(data)


def test_error_carries_the_path() -> None:
    with pytest.raises(MatchingInputError) as raised:
        parse_instance(broken(("referrals", 0, "lat"), None))
    assert raised.value.path == "referrals[0].lat"
    assert raised.value.message == "must be a number"


def test_root_must_be_an_object() -> None:
    with pytest.raises(MatchingInputError, match=r"^instance: must be an object$"):
        parse_instance([])


# parse_instance_json: msgspec fast path, today's validator for every message.


def as_json(data: Any) -> bytes:
    return json.dumps(data).encode("utf-8")


def slow_outcome(raw: bytes) -> Instance | str:
    """Instance or message, as the CLI's `json.loads` and `parse_instance` made them before."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"cannot read instance: {error}"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        return f"instance is not valid JSON: {error}"
    try:
        return parse_instance(data)
    except MatchingInputError as error:
        return str(error)


def fast_outcome(raw: bytes) -> Instance | str:
    try:
        return parse_instance_json(raw)
    except MatchingInputError as error:
        return str(error)


@pytest.mark.parametrize(("path", "value", "message"), MALFORMED)
def test_json_path_names_the_same_field(path: tuple[Any, ...], value: Any, message: str) -> None:
    with pytest.raises(MatchingInputError) as raised:
        parse_instance_json(as_json(broken(path, value)))
    assert str(raised.value) == message


def test_json_path_builds_the_same_instance() -> None:
    raw = as_json(bench.generate(bench.SIZES["small"], seed=4))
    fast, slow = parse_instance_json(raw), parse_instance(json.loads(raw))
    assert fast == slow
    assert repr(fast) == repr(slow)
    people = (*fast.volunteers, *fast.referrals, *fast.referrals[0].availability)
    same_people = (*slow.volunteers, *slow.referrals, *slow.referrals[0].availability)
    assert [list(vars(p).items()) for p in people] == [list(vars(p).items()) for p in same_people]


def test_fast_path_accepts_valid_instances() -> None:
    for data in (VALID, bench.generate(bench.SIZES["small"], seed=6)):
        decoded = wire.decode(as_json(data))
        assert decoded is not None
        assert validation._from_wire(decoded) == parse_instance(data)


def test_fast_path_knows_the_waiting_days_limit() -> None:
    at_limit = broken(("referrals", 0, "waiting_days"), validation.MAX_WAITING_DAYS)
    assert parse_instance_json(as_json(at_limit)).referrals[0].waiting_days == 100_000


def with_text(path: tuple[Any, ...], text: str) -> bytes:
    """VALID with the JSON text `text` (any literal, even invalid) at `path`."""
    return as_json(broken(path, "@@HOLE@@")).replace(b'"@@HOLE@@"', text.encode("utf-8"))


EDGE_CASES = [
    with_text(("rules", "min_overlap_hours"), "NaN"),
    with_text(("rules", "min_overlap_hours"), "-Infinity"),
    with_text(("rules", "max_distance_km"), "1e400"),
    with_text(("referrals", 0, "max_distance_km"), "1e400"),
    with_text(("volunteers", 0, "lat"), "59"),
    with_text(("volunteers", 0, "lon"), "-180"),
    with_text(("volunteers", 0, "lat"), "90.0000001"),
    with_text(("volunteers", 0, "capacity"), "1.0"),
    with_text(("volunteers", 0, "capacity"), "18446744073709551616"),
    with_text(("referrals", 0, "waiting_days"), "100001"),
    with_text(("referrals", 0, "waiting_days"), "null"),
    with_text(("volunteers", 0, "gender"), "null"),
    with_text(("volunteers", 0, "gender"), '" \\t"'),
    with_text(("volunteers", 0, "gender"), '"\\u00a0"'),
    with_text(("volunteers", 0, "id"), '" "'),
    with_text(("referrals", 0, "id"), '"\\ud800"'),
    with_text(("volunteers", 0, "municipality"), '"\\u2003"'),
    with_text(("volunteers", 0, "languages"), '["nb", ""]'),
    with_text(("volunteers", 0, "excluded_municipalities"), '[" "]'),
    with_text(("volunteers", 0, "excluded_municipalities"), "null"),
    with_text(("referrals", 0, "volunteer_gender"), '"\\n"'),
    with_text(("volunteers", 0, "availability", 0, "start"), '"17:00\\n"'),
    with_text(("volunteers", 0, "availability", 0, "start"), '"\\u0661\\u0667:00"'),
    with_text(("volunteers", 0, "availability", 0, "end"), '"24:00"'),
    with_text(("volunteers", 0, "availability", 0, "end"), '"24:01"'),
    with_text(("volunteers", 0, "availability", 0, "day"), "-1"),
    with_text(("volunteers", 0, "availability", 0, "day"), "true"),
    with_text(("volunteers", 0, "availability"), "[]"),
    with_text(("volunteers", 0, "availability"), '[{"day": 0, "start": "17:00"}]'),
    with_text(("volunteers", 0, "lat"), '59.91, "lat": 91'),  # duplicate key: the last wins
    with_text(("volunteers", 0, "lat"), '91, "lat": 59.91'),
    with_text(("volunteers", 0), '{"id": "v1"}'),
    with_text(("rules",), "[]"),
    b'{"rules": {"max_distance_km": 40, "min_overlap_hours": 1, "overlap_target_hours": 4,'
    b' "km_per_overlap_hour": 2.5}, "volunteers": [], "referrals": []}',
    b"[]",
    b"",
    b"\xef\xbb\xbf{}",
    b'{"rules": \xff}',
    b"{} {}",
    as_json({**VALID, "forbidden_pairs": [{"referral": "r1", "volunteer": "v1"}]}),
    as_json({**VALID, "forbidden_pairs": [{"referral": "r2", "volunteer": "v1"}]}),
    as_json({**VALID, "forbidden_pairs": [{"referral": "r1", "volunteer": "v2"}]}),
    as_json({**VALID, "forbidden_pairs": [{"referral": "r1", "volunteer": " "}]}),
    as_json({**VALID, "forbidden_pairs": None}),
    as_json({**VALID, "volunteers": VALID["volunteers"] * 2}),
    as_json({**VALID, "referrals": VALID["referrals"] * 2}),
    as_json({**VALID, "extra": 1}),
    with_text(("volunteers", 0, "languages"), '["nb", {"code": "ar", "level": "basic"}]'),
    with_text(("volunteers", 0, "languages"), '[{"code": "nb", "level": "native"}, "nb"]'),
    with_text(("volunteers", 0, "languages"), '[{"code": "ar", "level": "Basic"}]'),
    with_text(("volunteers", 0, "languages"), '[{"code": "\\u2003", "level": "basic"}]'),
    with_text(("volunteers", 0, "languages"), '[{"code": "ar"}]'),
    with_text(("volunteers", 0, "languages"), '[{"level": "basic", "code": "ar", "x": 1}]'),
    with_text(("volunteers", 0, "languages"), '[["ar", "basic"]]'),
    with_text(("volunteers", 0, "languages"), "[{}]"),
    with_text(("volunteers", 0, "activities"), '["football", " "]'),
    with_text(("volunteers", 0, "activities"), "[]"),
    with_text(("volunteers", 0, "activities"), "null"),
    with_text(("referrals", 0, "activities"), '["football", "football"]'),
    with_text(("referrals", 0, "activities"), '{"football": 1}'),
    with_text(("rules", "min_language_level"), '"basic"'),
    with_text(("rules", "min_language_level"), '"BASIC"'),
    with_text(("rules", "min_language_level"), "3"),
    with_text(("rules", "km_per_shared_activity"), "4"),
    with_text(("rules", "km_per_shared_activity"), "-0.0"),
    with_text(("rules", "km_per_shared_activity"), "1e400"),
    with_text(("rules", "max_shared_activities"), "3"),
    with_text(("rules", "max_shared_activities"), "3.0"),
    with_text(("rules", "max_shared_activities"), "-1"),
    with_text(("rules", "max_shared_activities"), "18446744073709551616"),
]


@pytest.mark.parametrize("raw", EDGE_CASES)
def test_fast_and_slow_paths_agree(raw: bytes) -> None:
    assert fast_outcome(raw) == slow_outcome(raw)
