"""Validators for the values people type about themselves: languages, weekly availability,
children's birth years. Each error names the item it is about (``languages[1]``), so a form or
API can point at it."""

import datetime
import itertools
import re
from collections.abc import Iterable

import pycountry
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

LANGUAGE_LEVELS = ("native", "fluent", "conversational", "basic")
TIME_PATTERN = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
EARLIEST_CHILD_BIRTH_YEAR = 2000


def is_language_code(code: object) -> bool:
    """ISO 639-1 (``ar``) or ISO 639-3 (``smj``) code."""
    if not isinstance(code, str) or not code.islower():
        return False
    if len(code) == 2:
        return pycountry.languages.get(alpha_2=code) is not None
    return len(code) == 3 and pycountry.languages.get(alpha_3=code) is not None


def validate_language_codes(codes: object) -> None:
    if not isinstance(codes, list) or not codes:
        raise ValidationError(_("Give at least one language as a list of ISO 639 codes."))
    for index, code in enumerate(codes):
        if not is_language_code(code):
            raise ValidationError(
                _("languages[%(i)s]: %(code)r is not an ISO 639 language code."),
                params={"i": index, "code": code},
            )
    _refuse_duplicates(codes, "languages")


def validate_languages_with_level(entries: object) -> None:
    if not isinstance(entries, list) or not entries:
        raise ValidationError(_("Give at least one language with a level."))
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or set(entry) != {"code", "level"}:
            raise ValidationError(
                _("languages[%(i)s]: expected an object with 'code' and 'level'."),
                params={"i": index},
            )
        if not is_language_code(entry["code"]):
            raise ValidationError(
                _("languages[%(i)s].code: %(code)r is not an ISO 639 language code."),
                params={"i": index, "code": entry["code"]},
            )
        if entry["level"] not in LANGUAGE_LEVELS:
            raise ValidationError(
                _("languages[%(i)s].level: must be one of %(levels)s."),
                params={"i": index, "levels": ", ".join(LANGUAGE_LEVELS)},
            )
    _refuse_duplicates([entry["code"] for entry in entries], "languages")


def _refuse_duplicates(values: Iterable[object], field: str) -> None:
    seen: set[object] = set()
    for index, value in enumerate(values):
        if value in seen:
            raise ValidationError(
                _("%(field)s[%(i)s]: %(value)r is listed twice."),
                params={"field": field, "i": index, "value": value},
            )
        seen.add(value)


def minutes_of(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def validate_weekly_availability(slots: object) -> None:
    """A list of ``{"day": 0-6 (Monday=0), "start": "HH:MM", "end": "HH:MM"}``, no overlaps."""
    if not isinstance(slots, list):
        raise ValidationError(_("availability: expected a list of weekly slots."))
    for index, slot in enumerate(slots):
        _validate_slot(index, slot)
    _refuse_overlaps(slots)


def _validate_slot(index: int, slot: object) -> None:
    where = f"availability[{index}]"
    if not isinstance(slot, dict) or set(slot) != {"day", "start", "end"}:
        raise ValidationError(
            _("%(where)s: expected an object with 'day', 'start' and 'end'."),
            params={"where": where},
        )
    day = slot["day"]
    if not isinstance(day, int) or isinstance(day, bool) or not 0 <= day <= 6:
        raise ValidationError(
            _("%(where)s.day: must be 0 (Monday) to 6 (Sunday)."), params={"where": where}
        )
    for key in ("start", "end"):
        if not isinstance(slot[key], str) or not TIME_PATTERN.match(slot[key]):
            raise ValidationError(
                _("%(where)s.%(key)s: %(value)r is not a time HH:MM."),
                params={"where": where, "key": key, "value": slot[key]},
            )
    if minutes_of(slot["end"]) <= minutes_of(slot["start"]):
        raise ValidationError(
            _("%(where)s: end %(end)s is not after start %(start)s."),
            params={"where": where, "end": slot["end"], "start": slot["start"]},
        )


def _refuse_overlaps(slots: list[dict]) -> None:
    ordered = sorted(enumerate(slots), key=lambda item: (item[1]["day"], item[1]["start"]))
    for (_i, earlier), (later_index, later) in itertools.pairwise(ordered):
        if earlier["day"] == later["day"] and minutes_of(later["start"]) < minutes_of(
            earlier["end"]
        ):
            raise ValidationError(
                _("availability[%(i)s]: overlaps another slot on %(day)s."),
                params={"i": later_index, "day": DAY_NAMES[later["day"]]},
            )


def validate_children_birth_years(years: object) -> None:
    if not isinstance(years, list):
        raise ValidationError(_("children_birth_years: expected a list of years."))
    this_year = timezone.localdate().year
    for index, year in enumerate(years):
        if not isinstance(year, int) or isinstance(year, bool):
            raise ValidationError(
                _("children_birth_years[%(i)s]: %(year)r is not a year."),
                params={"i": index, "year": year},
            )
        if year > this_year:
            raise ValidationError(
                _("children_birth_years[%(i)s]: %(year)s is in the future."),
                params={"i": index, "year": year},
            )
        if year < EARLIEST_CHILD_BIRTH_YEAR:
            raise ValidationError(
                _("children_birth_years[%(i)s]: %(year)s is too early for a child."),
                params={"i": index, "year": year},
            )


def validate_not_future(value: datetime.date) -> None:
    if value > timezone.localdate():
        raise ValidationError(_("%(date)s is in the future."), params={"date": value})
