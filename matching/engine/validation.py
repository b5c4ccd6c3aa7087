"""Turn decoded JSON (`parse_instance`) or JSON bytes (`parse_instance_json`) into an
`Instance`, naming the path of the first bad field."""

import json
import math
import re
from collections.abc import Callable, Mapping
from itertools import chain
from typing import TypedDict, TypeVar

from .collector import garbage_collector_paused
from .errors import MatchingInputError, one_line
from .instance import (
    LANGUAGE_LEVELS,
    MINUTES_PER_DAY,
    Instance,
    Referral,
    Rules,
    Slot,
    Volunteer,
)
from .people import Records
from .wire import (
    MAX_WAITING_DAYS,
    InstanceWire,
    LanguageWire,
    ReferralWire,
    SlotWire,
    VolunteerWire,
    decode,
)

T = TypeVar("T")
_TIME = re.compile(r"^(\d{2}):(\d{2})$")
_RULE_FIELDS = (
    "max_distance_km",
    "min_overlap_hours",
    "overlap_target_hours",
    "km_per_overlap_hour",
)
_OPTIONAL_RULE_FIELDS = ("min_language_level", "km_per_shared_activity", "max_shared_activities")
_VOLUNTEER_FIELDS = {
    "id", "lat", "lon", "municipality", "languages", "gender", "availability",
    "capacity", "excluded_municipalities", "activities",
}  # fmt: skip
_REFERRAL_FIELDS = {
    "id", "lat", "lon", "municipality", "languages", "volunteers_needed", "availability",
    "volunteer_gender", "excluded_municipalities", "max_distance_km", "waiting_days",
    "activities",
}  # fmt: skip
# A code given without a level, in a list where others have one: it always counts.
UNSTATED_LEVEL = LANGUAGE_LEVELS[0]


class _PersonFields(TypedDict):
    id: str
    lat: float
    lon: float
    municipality: str
    languages: tuple[str, ...]
    availability: tuple[Slot, ...]


def parse_instance(data: object) -> Instance:
    """Validate decoded JSON and build the instance; raise `MatchingInputError` if malformed."""
    top = _mapping(data, "", {"rules", "volunteers", "referrals", "forbidden_pairs"})
    instance = Instance(
        rules=_rules(_required(top, "rules", "")),
        volunteers=tuple(_items(top, "volunteers", _volunteer)),
        referrals=tuple(_items(top, "referrals", _referral)),
    )
    _reject_duplicate_ids("volunteers", [v.id for v in instance.volunteers])
    _reject_duplicate_ids("referrals", [r.id for r in instance.referrals])
    forbidden = (
        tuple(_items(top, "forbidden_pairs", _forbidden_pair)) if "forbidden_pairs" in top else ()
    )
    _reject_unknown_people(instance, forbidden)
    return Instance(instance.rules, instance.volunteers, instance.referrals, forbidden)


def parse_instance_json(raw: bytes, source: str = "instance") -> Instance:
    """`parse_instance(json.loads(raw))`, several times faster on valid input.

    msgspec decodes the bytes straight into typed structs (`wire`) and the few remaining
    checks run over them in bulk. Input that fails either is decoded again with `json` and
    validated by `parse_instance`, so every error reads exactly as before. `source` names the
    input in errors about bytes that are not UTF-8 JSON.
    """
    with garbage_collector_paused():
        wire = decode(raw)
        instance = None if wire is None else _from_wire(wire)
    if instance is not None:
        return instance
    return parse_instance(_load_json(raw, source))


def _load_json(raw: bytes, source: str) -> object:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MatchingInputError("", f"cannot read {source}: {one_line(error)}") from error
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise MatchingInputError("", f"{source} is not valid JSON: {one_line(error)}") from error


def _from_wire(wire: InstanceWire) -> Instance | None:
    """The instance, or None if the typed input breaks a rule msgspec does not check."""
    slots, texts = _SlotCache(), _TextSet()
    levels = _LevelCache(texts)
    volunteers = _volunteers_from_wire(wire.volunteers, slots, levels)
    referrals = _referrals_from_wire(wire.referrals, slots)
    forbidden = tuple([(pair.referral, pair.volunteer) for pair in wire.forbidden_pairs])
    volunteer_ids, referral_ids = volunteers.column("id"), referrals.column("id")
    texts.update(_texts_of(volunteers, "gender"), _texts_of(referrals, "volunteer_gender"))
    texts.update(chain.from_iterable(referrals.column("languages")), *forbidden)
    if (
        slots.rejected
        or not texts.all_non_empty()
        or not all(map(str.strip, volunteer_ids))
        or not all(map(str.strip, referral_ids))
        or not _unique(volunteer_ids)
        or not _unique(referral_ids)
        or not {r for r, _ in forbidden} <= set(referral_ids)
        or not {v for _, v in forbidden} <= set(volunteer_ids)
    ):
        return None
    rules = wire.rules
    return Instance(
        rules=Rules(
            rules.max_distance_km,
            rules.min_overlap_hours,
            rules.overlap_target_hours,
            rules.km_per_overlap_hour,
            rules.min_language_level,
            rules.km_per_shared_activity,
            rules.max_shared_activities,
        ),
        volunteers=volunteers,
        referrals=referrals,
        forbidden_pairs=forbidden,
    )


class _SlotCache(dict[SlotWire, Slot | None]):
    """Slots repeat a lot: each distinct one is parsed (by `_slot`) once and shared."""

    rejected = False

    def __missing__(self, key: SlotWire) -> Slot | None:
        try:
            slot: Slot | None = _slot({"day": key.day, "start": key.start, "end": key.end}, "")
        except MatchingInputError:
            slot, self.rejected = None, True
        self[key] = slot
        return slot


def _texts_of(people: Records[Volunteer] | Records[Referral], gender: str) -> set[str | None]:
    """The people's municipalities, exclusions, activities and gender (or wished gender)."""
    lists = ("excluded_municipalities", "activities")
    listed = chain.from_iterable(chain.from_iterable(map(people.column, lists)))
    return {*people.column("municipality"), *people.column(gender), *listed}


class _TextSet(set[str | None]):
    """Every text field but the ids (unique, so checked apart); None for absent optionals.
    The volunteers' language codes join as `_LevelCache` meets their lists."""

    def all_non_empty(self) -> bool:
        return all(text.strip() for text in self if text is not None)


class _LevelCache(dict[tuple[str | LanguageWire, ...], tuple[tuple[str, ...], tuple[str, ...]]]):
    """A volunteer's languages as (codes, levels); lists repeat a lot, so each is split (and
    its codes put in `texts`) once."""

    def __init__(self, texts: _TextSet) -> None:
        super().__init__()
        self.texts = texts

    def __missing__(
        self, key: tuple[str | LanguageWire, ...]
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        codes = tuple(item if isinstance(item, str) else item.code for item in key)
        stated = [item.level for item in key if not isinstance(item, str)]
        levels: tuple[str, ...] = ()
        if stated:
            levels = tuple(UNSTATED_LEVEL if isinstance(item, str) else item.level for item in key)
        self.texts.update(codes)
        value = self[key] = (codes, levels)
        return value


def _volunteers_from_wire(
    wires: list[VolunteerWire], slots: _SlotCache, levels: _LevelCache
) -> Records[Volunteer]:
    """One pass over the decoded volunteers, each read into a row of `Volunteer`'s fields."""
    split, slot = levels.__getitem__, slots.__getitem__
    rows = []
    for v in wires:
        languages, language_levels = split(v.languages)
        rows.append(
            (
                v.id,
                v.lat,
                v.lon,
                v.municipality,
                languages,
                tuple(map(slot, v.availability)),
                v.gender,
                v.capacity,
                v.excluded_municipalities,
                language_levels,
                v.activities,
            )
        )
    return Records.from_rows(Volunteer, rows)


def _referrals_from_wire(wires: list[ReferralWire], slots: _SlotCache) -> Records[Referral]:
    slot = slots.__getitem__
    rows = [
        (
            r.id,
            r.lat,
            r.lon,
            r.municipality,
            r.languages,
            tuple(map(slot, r.availability)),
            r.volunteers_needed,
            r.volunteer_gender,
            r.excluded_municipalities,
            r.max_distance_km,
            r.waiting_days,
            r.activities,
        )
        for r in wires
    ]
    return Records.from_rows(Referral, rows)


def _unique(ids: tuple[str, ...]) -> bool:
    return len(set(ids)) == len(ids)


def _forbidden_pair(data: object, path: str) -> tuple[str, str]:
    pair = _mapping(data, path, {"referral", "volunteer"})
    return (
        _text(_required(pair, "referral", path), f"{path}.referral"),
        _text(_required(pair, "volunteer", path), f"{path}.volunteer"),
    )


def _reject_unknown_people(instance: Instance, pairs: tuple[tuple[str, str], ...]) -> None:
    referrals = {r.id for r in instance.referrals}
    volunteers = {v.id for v in instance.volunteers}
    for index, (referral, volunteer) in enumerate(pairs):
        if referral not in referrals:
            raise MatchingInputError(
                f"forbidden_pairs[{index}].referral", f"unknown id {referral!r}"
            )
        if volunteer not in volunteers:
            raise MatchingInputError(
                f"forbidden_pairs[{index}].volunteer", f"unknown id {volunteer!r}"
            )


def _rules(data: object) -> Rules:
    rules = _mapping(data, "rules", {*_RULE_FIELDS, *_OPTIONAL_RULE_FIELDS})
    values = {
        name: _number(_required(rules, name, "rules"), f"rules.{name}") for name in _RULE_FIELDS
    }
    if values["max_distance_km"] <= 0:
        raise MatchingInputError("rules.max_distance_km", "must be positive")
    for name in _RULE_FIELDS[1:]:
        if values[name] < 0:
            raise MatchingInputError(f"rules.{name}", "must not be negative")
    level = _level(rules.get("min_language_level", "conversational"), "rules.min_language_level")
    per_activity = _number(rules.get("km_per_shared_activity", 0.0), "rules.km_per_shared_activity")
    if per_activity < 0:
        raise MatchingInputError("rules.km_per_shared_activity", "must not be negative")
    return Rules(
        **values,
        min_language_level=level,
        km_per_shared_activity=per_activity,
        max_shared_activities=_non_negative_int(
            rules.get("max_shared_activities", 0), "rules.max_shared_activities"
        ),
    )


def _volunteer(data: object, path: str) -> Volunteer:
    fields = _mapping(data, path, _VOLUNTEER_FIELDS)
    languages, levels = _spoken_languages(_required(fields, "languages", path), path)
    return Volunteer(
        **_person_fields(fields, path, languages),
        gender=_optional_text(fields.get("gender"), f"{path}.gender"),
        capacity=_positive_int(fields.get("capacity", 1), f"{path}.capacity"),
        excluded_municipalities=_texts(
            fields.get("excluded_municipalities", []), path, "excluded_municipalities"
        ),
        language_levels=levels,
        activities=_texts(fields.get("activities", []), path, "activities"),
    )


def _referral(data: object, path: str) -> Referral:
    fields = _mapping(data, path, _REFERRAL_FIELDS)
    languages = _texts(_required(fields, "languages", path), path, "languages")
    return Referral(
        **_person_fields(fields, path, _at_least_one(languages, path)),
        volunteers_needed=_positive_int(
            fields.get("volunteers_needed", 1), f"{path}.volunteers_needed"
        ),
        volunteer_gender=_optional_text(fields.get("volunteer_gender"), f"{path}.volunteer_gender"),
        excluded_municipalities=_texts(
            fields.get("excluded_municipalities", []), path, "excluded_municipalities"
        ),
        max_distance_km=_optional_distance(
            fields.get("max_distance_km"), f"{path}.max_distance_km"
        ),
        waiting_days=_waiting_days(fields.get("waiting_days", 0), f"{path}.waiting_days"),
        activities=_texts(fields.get("activities", []), path, "activities"),
    )


def _spoken_languages(value: object, parent: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A volunteer's languages: codes, each alone (level not stated) or as {"code", "level"};
    returns (codes, levels), levels empty when none is stated."""
    path = f"{parent}.languages"
    if not isinstance(value, list):
        raise MatchingInputError(path, "must be a list of codes or {code, level} objects")
    codes: list[str] = []
    levels: list[str | None] = []
    for index, item in enumerate(value):
        item_path = f"{path}[{index}]"
        if isinstance(item, dict):
            spoken = _mapping(item, item_path, {"code", "level"})
            codes.append(_text(_required(spoken, "code", item_path), f"{item_path}.code"))
            levels.append(_level(_required(spoken, "level", item_path), f"{item_path}.level"))
        else:
            codes.append(_text(item, item_path))
            levels.append(None)
    stated = any(level is not None for level in levels)
    return (
        _at_least_one(tuple(codes), parent),
        tuple(UNSTATED_LEVEL if level is None else level for level in levels) if stated else (),
    )


def _at_least_one(languages: tuple[str, ...], parent: str) -> tuple[str, ...]:
    if not languages:
        raise MatchingInputError(f"{parent}.languages", "must name at least one language")
    return languages


def _level(value: object, path: str) -> str:
    if not isinstance(value, str) or value not in LANGUAGE_LEVELS:
        raise MatchingInputError(path, f"must be one of {', '.join(LANGUAGE_LEVELS)}")
    return value


def _person_fields(
    fields: Mapping[str, object], path: str, languages: tuple[str, ...]
) -> _PersonFields:
    return {
        "id": _text(_required(fields, "id", path), f"{path}.id"),
        "lat": _coordinate(_required(fields, "lat", path), f"{path}.lat", 90.0),
        "lon": _coordinate(_required(fields, "lon", path), f"{path}.lon", 180.0),
        "municipality": _text(_required(fields, "municipality", path), f"{path}.municipality"),
        "languages": languages,
        "availability": tuple(_items(fields, "availability", _slot, path)),
    }


def _slot(data: object, path: str) -> Slot:
    fields = _mapping(data, path, {"day", "start", "end"})
    day = _int(_required(fields, "day", path), f"{path}.day")
    if not 0 <= day <= 6:
        raise MatchingInputError(f"{path}.day", f"{day} is not a weekday 0..6 (0 is Monday)")
    start_text = _text(_required(fields, "start", path), f"{path}.start")
    end_text = _text(_required(fields, "end", path), f"{path}.end")
    start = _minutes(start_text, f"{path}.start", allow_midnight_end=False)
    end = _minutes(end_text, f"{path}.end", allow_midnight_end=True)
    if end <= start:
        relation = "equals" if end == start else "is before"
        raise MatchingInputError(path, f"end {end_text} {relation} start {start_text}")
    return Slot(day=day, start=start, end=end)


def _minutes(text: str, path: str, allow_midnight_end: bool) -> int:
    match = _TIME.match(text)
    if match is None:
        raise MatchingInputError(path, f"{text!r} is not a time HH:MM")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if allow_midnight_end and (hours, minutes) == (24, 0):
        return MINUTES_PER_DAY
    if hours > 23 or minutes > 59:
        raise MatchingInputError(path, f"{text!r} is not a time of day")
    return hours * 60 + minutes


def _items(
    fields: Mapping[str, object], name: str, parse: Callable[[object, str], T], parent: str = ""
) -> list[T]:
    path = f"{parent}.{name}" if parent else name
    value = _required(fields, name, parent)
    if not isinstance(value, list):
        raise MatchingInputError(path, "must be a list")
    return [parse(item, f"{path}[{index}]") for index, item in enumerate(value)]


def _mapping(data: object, path: str, allowed: set[str]) -> Mapping[str, object]:
    if not isinstance(data, dict):
        raise MatchingInputError(path or "instance", "must be an object")
    unknown = sorted(str(key) for key in data if key not in allowed)
    if unknown:
        raise MatchingInputError(f"{path}.{unknown[0]}" if path else unknown[0], "unknown field")
    return data


def _required(fields: Mapping[str, object], name: str, parent: str) -> object:
    if name not in fields:
        raise MatchingInputError(f"{parent}.{name}" if parent else name, "is required")
    return fields[name]


def _text(value: object, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MatchingInputError(path, "must be a non-empty string")
    return value


def _optional_text(value: object, path: str) -> str | None:
    return None if value is None else _text(value, path)


def _texts(value: object, parent: str, name: str) -> tuple[str, ...]:
    path = f"{parent}.{name}"
    if not isinstance(value, list):
        raise MatchingInputError(path, "must be a list of strings")
    return tuple(_text(item, f"{path}[{index}]") for index, item in enumerate(value))


def _number(value: object, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MatchingInputError(path, "must be a number")
    if not math.isfinite(value):
        raise MatchingInputError(path, "must be finite")
    return float(value)


def _coordinate(value: object, path: str, limit: float) -> float:
    number = _number(value, path)
    if not -limit <= number <= limit:
        raise MatchingInputError(path, f"{number} is outside -{limit:g}..{limit:g}")
    return number


def _optional_distance(value: object, path: str) -> float | None:
    if value is None:
        return None
    distance = _number(value, path)
    if distance <= 0:
        raise MatchingInputError(path, "must be positive or null")
    return distance


def _int(value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise MatchingInputError(path, "must be an integer")
    return value


def _positive_int(value: object, path: str) -> int:
    number = _int(value, path)
    if number < 1:
        raise MatchingInputError(path, f"{number} is less than 1")
    return number


def _non_negative_int(value: object, path: str) -> int:
    number = _int(value, path)
    if number < 0:
        raise MatchingInputError(path, f"{number} is negative")
    return number


def _waiting_days(value: object, path: str) -> int:
    days = _non_negative_int(value, path)
    if days > MAX_WAITING_DAYS:
        raise MatchingInputError(path, f"{days} is more than {MAX_WAITING_DAYS} days")
    return days


def _reject_duplicate_ids(kind: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for index, person_id in enumerate(ids):
        if person_id in seen:
            raise MatchingInputError(f"{kind}[{index}].id", f"duplicate id {person_id!r}")
        seen.add(person_id)
