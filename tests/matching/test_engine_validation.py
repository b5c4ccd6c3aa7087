"""Malformed instances are rejected with the path of the offending field."""

import copy
from typing import Any

import pytest

from matching.engine import MatchingInputError, parse_instance

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


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
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
    ],
)
def test_malformed_field_is_named(path: tuple[Any, ...], value: Any, message: str) -> None:
    with pytest.raises(MatchingInputError) as raised:
        parse_instance(broken(path, value))
    assert str(raised.value) == message


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
