"""The validators of weekly availability, children's birth years and languages: every problem
at once, in plain words, each naming its item as a person counts it (from 1)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from programmes.validators import (
    availability_problems,
    validate_children_birth_years,
    validate_languages_with_level,
    validate_weekly_availability,
    weekday_name,
)


def messages_of(validator, value) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        validator(value)
    return caught.value.messages


def test_every_slot_problem_is_reported_in_one_go():
    slots = [
        {"day": 1, "start": "17:00", "end": "19:00"},
        {"day": 9, "start": "10:00", "end": "11:00"},
        {"day": 2, "start": "12:00", "end": "10:00"},
        {"day": 1, "start": "18:30", "end": "20:00"},
        {"day": 4, "start": "5pm", "end": "19:00"},
    ]

    assert messages_of(validate_weekly_availability, slots) == [
        "Time slot 2: the day must be a number from 0 (Monday) to 6 (Sunday).",
        "Time slot 3: it must end after it starts (now from 12:00 to 10:00).",
        "Time slot 4: overlaps the slot on Tuesday 17–19.",
        "Time slot 5: “5pm” is not a time of day; write it as HH:MM, such as 17:30.",
    ]


def test_an_overlap_is_reported_once_and_names_the_earlier_slot_with_its_minutes():
    slots = [
        {"day": 6, "start": "10:30", "end": "12:00"},
        {"day": 6, "start": "11:00", "end": "13:00"},
        {"day": 6, "start": "11:30", "end": "12:30"},
    ]
    problems = availability_problems(slots)
    assert [(p.position, p.part, p.text) for p in problems] == [
        (1, "", "overlaps the slot on Sunday 10:30–12."),
        (2, "", "overlaps the slot on Sunday 10:30–12."),
    ]


def test_slots_that_touch_and_a_slot_until_midnight_are_accepted():
    validate_weekly_availability(
        [
            {"day": 0, "start": "17:00", "end": "19:00"},
            {"day": 0, "start": "19:00", "end": "24:00"},
        ]
    )


def test_weekdays_are_named_in_the_interface_language():
    with translation.override("nb"):
        assert [weekday_name(day) for day in (0, 1, 6)] == ["mandag", "tirsdag", "søndag"]
    assert weekday_name(1) == "Tuesday"


def test_every_birth_year_problem_is_reported_in_one_go():
    next_year = datetime.date.today().year + 1
    assert messages_of(validate_children_birth_years, [2015, next_year, 1990, "2016"]) == [
        f"Child 2: {next_year} is in the future.",
        f"Child 3: 1990: the child must be under 18 (born {next_year - 18} or later).",
        "Child 4: “2016” is not a year.",
    ]


def test_language_entries_are_checked_all_at_once_and_duplicates_named():
    entries = [
        {"code": "ar", "level": "basic"},
        {"code": "xx", "level": "native"},
        {"code": "ar", "level": "fluent"},
        {"code": "so"},
    ]
    assert messages_of(validate_languages_with_level, entries) == [
        "Language 2: “xx” is not an ISO 639 language code.",
        "Language 4: give it as a code and a level.",
        "Language 3: “ar” is listed twice.",
    ]
