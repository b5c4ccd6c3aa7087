"""Validators for the values people type: languages, weekly availability, children's birth
years, and free text that must not identify anyone. Each list validator reports every problem at
once, in plain words, and names the item as a person counts it ("Time slot 2: ..."), so the
API's answer and a form's message read the same."""

import datetime
import itertools
import re
import unicodedata
from collections.abc import Iterable
from typing import NamedTuple

import pycountry
from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.dates import WEEKDAYS
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from programmes.languages import LEVEL_CODES

TIME_PATTERN = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
# A child is under 18 when referred: born no more than this many years before this year.
OLDEST_CHILD_AGE = 17


def is_language_code(code: object) -> bool:
    """ISO 639-1 (``ar``) or ISO 639-3 (``smj``) code."""
    if not isinstance(code, str) or not code.islower():
        return False
    if len(code) == 2:
        return pycountry.languages.get(alpha_2=code) is not None
    return len(code) == 3 and pycountry.languages.get(alpha_3=code) is not None


def _language_message(number: int, problem: str) -> str:
    return _("Language %(number)s: %(problem)s") % {"number": number, "problem": problem}


def not_a_language_code(code: object) -> str:
    return _("“%(code)s” is not an ISO 639 language code.") % {"code": code}


def validate_language_codes(codes: object) -> None:
    if not isinstance(codes, list) or not codes:
        raise ValidationError(_("Give at least one language as a list of ISO 639 codes."))
    problems = [
        _language_message(index + 1, not_a_language_code(code))
        for index, code in enumerate(codes)
        if not is_language_code(code)
    ]
    _raise_all(problems + _duplicates(codes))


def validate_languages_with_level(entries: object) -> None:
    if not isinstance(entries, list) or not entries:
        raise ValidationError(_("Give at least one language with a level."))
    problems = []
    for index, entry in enumerate(entries):
        problem = _language_entry_problem(entry)
        if problem:
            problems.append(_language_message(index + 1, problem))
    # An entry without a code stands for itself: it is never a duplicate.
    codes = [
        entry.get("code", object()) if isinstance(entry, dict) else object() for entry in entries
    ]
    _raise_all(problems + _duplicates(codes))


def _language_entry_problem(entry: object) -> str | None:
    if not isinstance(entry, dict) or set(entry) != {"code", "level"}:
        return _("give it as a code and a level.")
    if not is_language_code(entry["code"]):
        return not_a_language_code(entry["code"])
    if entry["level"] not in LEVEL_CODES:
        return _("the level must be one of %(levels)s.") % {"levels": ", ".join(LEVEL_CODES)}
    return None


def _duplicates(values: Iterable[object]) -> list[str]:
    seen: set[object] = set()
    problems = []
    for index, value in enumerate(values):
        if value in seen:
            problems.append(
                _language_message(index + 1, _("“%(code)s” is listed twice.") % {"code": value})
            )
        seen.add(value)
    return problems


def _raise_all(messages: list[str]) -> None:
    if messages:
        raise ValidationError(messages)


def minutes_of(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def weekday_name(day: int) -> str:
    """The weekday (0 is Monday) in the interface's language, from Django's own catalogue."""
    return str(WEEKDAYS[day])


def slot_in_words(slot: dict) -> str:
    """A weekly time on a line of its own: "Mandag 17:00–19:00"."""
    return _("%(day)s %(start)s–%(end)s") % {
        "day": capfirst(weekday_name(slot["day"])),
        "start": slot["start"],
        "end": slot["end"],
    }


def clock_text(clock: str) -> str:
    """A time as people say it in a span: "17" for 17:00, "17:30" otherwise."""
    return clock[:2] if clock.endswith(":00") else clock


class SlotProblem(NamedTuple):
    """What is wrong with one weekly slot: its place in the list (from 0), the part the problem
    is in ("day", "start", "end" or "" for the slot as a whole) and, in plain words, what."""

    position: int
    part: str
    text: str


def slot_message(number: int, problem: str) -> str:
    """A problem with the weekly slot a person counts as ``number`` (from 1), as the forms'
    legends name it."""
    return _("Time slot %(number)s: %(problem)s") % {"number": number, "problem": problem}


def validate_weekly_availability(slots: object) -> None:
    """A list of ``{"day": 0-6 (Monday=0), "start": "HH:MM", "end": "HH:MM"}``, no overlaps."""
    if not isinstance(slots, list):
        raise ValidationError(_("Give the weekly availability as a list of time slots."))
    _raise_all(
        [
            slot_message(problem.position + 1, problem.text)
            for problem in availability_problems(slots)
        ]
    )


def availability_problems(slots: list) -> list[SlotProblem]:
    """Every problem with the slots, in the order of the list: first each slot on its own, then
    each slot that overlaps one listed before it."""
    problems, valid = [], []
    for index, slot in enumerate(slots):
        problem = _slot_problem(index, slot)
        if problem is None:
            valid.append((index, slot))
        else:
            problems.append(problem)
    return sorted(problems + _overlaps(valid))


def _slot_problem(index: int, slot: object) -> SlotProblem | None:
    if not isinstance(slot, dict) or set(slot) != {"day", "start", "end"}:
        return SlotProblem(index, "", _("give it as a day, a start and an end."))
    day = slot["day"]
    if not isinstance(day, int) or isinstance(day, bool) or not 0 <= day <= 6:
        text = _("the day must be a number from 0 (%(monday)s) to 6 (%(sunday)s).") % {
            "monday": weekday_name(0),
            "sunday": weekday_name(6),
        }
        return SlotProblem(index, "day", text)
    for key in ("start", "end"):
        if not isinstance(slot[key], str) or not TIME_PATTERN.match(slot[key]):
            text = _("“%(value)s” is not a time of day; write it as HH:MM, such as 17:30.")
            return SlotProblem(index, key, text % {"value": slot[key]})
    if minutes_of(slot["end"]) <= minutes_of(slot["start"]):
        text = _("it must end after it starts (now from %(start)s to %(end)s).")
        return SlotProblem(index, "end", text % {"start": slot["start"], "end": slot["end"]})
    return None


def _overlaps(slots: list[tuple[int, dict]]) -> list[SlotProblem]:
    """Each slot that overlaps one listed before it, named by that one's day and times."""
    problems = []
    for position, (index, later) in enumerate(slots):
        for _earlier_index, earlier in slots[:position]:
            if _overlap(earlier, later):
                text = _("overlaps the slot on %(day)s %(start)s–%(end)s.") % {
                    "day": weekday_name(earlier["day"]),
                    "start": clock_text(earlier["start"]),
                    "end": clock_text(earlier["end"]),
                }
                problems.append(SlotProblem(index, "", text))
                break
    return problems


def _overlap(one: dict, other: dict) -> bool:
    return (
        one["day"] == other["day"]
        and minutes_of(other["start"]) < minutes_of(one["end"])
        and minutes_of(one["start"]) < minutes_of(other["end"])
    )


def children_birth_year_problems(years: list) -> list[tuple[int, str]]:
    """Every problem with the birth years, as (place in the list, what is wrong). A child must
    be under 18 in the year of the referral (age counted as this year less the birth year)."""
    this_year = timezone.localdate().year
    earliest = this_year - OLDEST_CHILD_AGE
    problems = []
    for index, year in enumerate(years):
        if not isinstance(year, int) or isinstance(year, bool):
            problems.append((index, _("“%(year)s” is not a year.") % {"year": year}))
        elif year > this_year:
            problems.append((index, _("%(year)s is in the future.") % {"year": year}))
        elif year < earliest:
            text = _("%(year)s: the child must be under 18 (born %(earliest)s or later).")
            problems.append((index, text % {"year": year, "earliest": earliest}))
    return problems


def children_age_range_problem(years: list, programme) -> str | None:
    """What is wrong when none of the children is of an age ``programme`` is for
    (``child_min_age`` to ``child_max_age``, either end open), or None. Years that are wrong on
    their own are reported by ``children_birth_year_problems`` instead; no children, by the
    programme's ``requires_children``."""
    youngest, oldest = programme.child_min_age, programme.child_max_age
    if not years or (youngest is None and oldest is None) or children_birth_year_problems(years):
        return None
    this_year = timezone.localdate().year
    ages = [this_year - year for year in years]
    if any(
        (youngest is None or age >= youngest) and (oldest is None or age <= oldest) for age in ages
    ):
        return None
    values = {"programme": programme, "youngest": youngest, "oldest": oldest}
    if youngest is not None and oldest is not None:
        values |= {"earliest": this_year - oldest, "latest": this_year - youngest}
        return (
            _(
                "%(programme)s is for children aged %(youngest)s to %(oldest)s: at least one child "
                "must be born between %(earliest)s and %(latest)s."
            )
            % values
        )
    if youngest is not None:
        values["latest"] = this_year - youngest
        return (
            _(
                "%(programme)s is for children aged %(youngest)s or older: at least one child must "
                "be born in %(latest)s or earlier."
            )
            % values
        )
    assert oldest is not None
    values["earliest"] = this_year - oldest
    return (
        _(
            "%(programme)s is for children aged %(oldest)s or younger: at least one child must be "
            "born in %(earliest)s or later."
        )
        % values
    )


def validate_children_birth_years(years: object) -> None:
    if not isinstance(years, list):
        raise ValidationError(_("Give the children's birth years as a list of years."))
    _raise_all(
        [
            _("Child %(number)s: %(problem)s") % {"number": index + 1, "problem": problem}
            for index, problem in children_birth_year_problems(years)
        ]
    )


def validate_not_future(value: datetime.date) -> None:
    if value > timezone.localdate():
        raise ValidationError(
            _("%(date)s is in the future."),
            params={"date": formats.date_format(value, "SHORT_DATE_FORMAT")},
        )


# Free text: notes and reasons people type about a case. Kobling must never hold what identifies a
# participant, so national ID numbers, phone numbers and e-mail addresses are refused, also in
# the forms people use to slip them past a filter (separators, "(at)", full-width "＠").

# Control, format (bidirectional overrides and isolates, zero-width) and surrogate characters:
# invisible, they reorder or hide what a reader sees.
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
LINE_BREAKS = re.compile("\r\n|[\r\u0085\u2028\u2029]")

ID_NUMBER = "id_number"
PHONE_NUMBER = "phone_number"
EMAIL_ADDRESS = "email_address"
LONG_NUMBER = "long_number"
IDENTIFYING_KINDS = {
    ID_NUMBER: gettext_lazy("a national ID number"),
    PHONE_NUMBER: gettext_lazy("a phone number"),
    EMAIL_ADDRESS: gettext_lazy("an e-mail address"),
    LONG_NUMBER: gettext_lazy("a long number, such as an account or case number"),
}

# Digit groups joined by one separator (spaces may surround a dash, dot or slash): "41 23 45 67",
# "01.01.90-123.45", "412 - 34 - 567".
NUMBER_SEPARATOR = r"(?: ?[./\-\u2010-\u2015\u2212_] ?| )"
NUMBER_CHAIN = re.compile(rf"\d+(?:{NUMBER_SEPARATOR}\d+)*")
SEPARATOR = re.compile(NUMBER_SEPARATOR)
# How Norwegian phone numbers are written: 41234567, 41 23 45 67, 412 34 567, 4123 4567.
PHONE_GROUPINGS = {(8,), (2, 2, 2, 2), (3, 2, 3), (4, 4)}
YEAR = re.compile(r"(19|20)\d\d")
CLOCK = re.compile(r"([01]\d|2[0-4])[0-5]\d")
# Bank account numbers: 1234.56.78903.
ACCOUNT_GROUPING = (4, 2, 5)

AT_SIGN = re.compile(r"\s*[(\[{<]\s*(?:at|a|alfa|alfakrøll|krøll|snabel-?a)\s*[)\]}>]\s*")
DOT = re.compile(r"\s*[(\[{<]\s*(?:dot|punkt|punktum|prikk)\s*[)\]}>]\s*|\s+(?:dot|punktum)\s+")
SPOKEN_AT = re.compile(r"\s+(?:at|alfakrøll|krøll)\s+")
EMAIL = re.compile(r"[\w.+%-]+\s*@\s*[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,24}(?!\w)")
# "kari at example.no" is only an address when it ends like one; "at" is also a Norwegian word.
COMMON_DOMAINS = "no|com|net|org|se|dk|fi|is|de|uk|eu|info|io|me|nu|pl|ua|ru|fr|es|nl|biz"
SPOKEN_EMAIL = re.compile(rf"[\w.+%-]+@[\w-]+(?:\.[\w-]+)*\.(?:{COMMON_DOMAINS})(?!\w)")


def clean_free_text(text: str) -> str:
    """What is kept of typed text: line breaks become ``\\n``; control, bidirectional-override,
    zero-width and other invisible characters are dropped; outer whitespace is stripped."""
    text = LINE_BREAKS.sub("\n", text)
    kept = (
        char
        for char in text
        if char in "\n\t" or unicodedata.category(char) not in INVISIBLE_CATEGORIES
    )
    return "".join(kept).strip()


def _comparable(text: str) -> str:
    """The text as a filter reads it: cleaned, NFKC-normalised (full-width ``＠`` and digits
    become ASCII), every script's digits as 0-9, lower case, whitespace runs as one space."""
    text = unicodedata.normalize("NFKC", clean_free_text(text))
    text = re.sub(r"\d", lambda digit: str(unicodedata.digit(digit.group())), text)
    return re.sub(r"\s+", " ", text.casefold())


def _is_birth_date(digits: str) -> bool:
    """DDMMYY of a national ID number, also a D-number (day + 40), an H-number (month + 40) or
    a synthetic test number (month + 80)."""
    day, month = int(digits[:2]), int(digits[2:4])
    return (1 <= day <= 31 or 41 <= day <= 71) and 1 <= month % 40 <= 12 and month < 93


def _number_kind(groups: list[str], separators: list[str], after_plus: bool) -> str | None:
    """What a run of digit groups joined by separators looks like, if identifying."""
    digits = "".join(groups)
    # A country code: "+47 412 34 567", "0047 41234567", "+46 70 123 45 67".
    if (after_plus and len(digits) >= 8) or (digits.startswith("00") and len(digits) >= 10):
        return PHONE_NUMBER
    # Only runs split at plain spaces are read apart: "01.01.2024-01.03.2024" is one date
    # range, "010190 12345 2" an ID number and a count.
    cuts = [0] + [i + 1 for i, sep in enumerate(separators) if sep == " "] + [len(groups)]
    for start, end in itertools.combinations(cuts, 2):
        kind = _window_kind(groups[start:end], separators[start : end - 1])
        if kind:
            return kind
    if any(len(group) >= 9 for group in groups):
        return LONG_NUMBER
    return None


def _is_year_or_time_pair(groups: list[str]) -> bool:
    """Years ("2015 2019") and times ("2000-2200"), not a phone number ("4123 4567")."""
    return all(YEAR.fullmatch(group) for group in groups) or all(
        CLOCK.fullmatch(group) for group in groups
    )


def _window_kind(groups: list[str], separators: list[str]) -> str | None:
    digits = "".join(groups)
    sizes = tuple(len(group) for group in groups)
    if len(digits) == 11 and _is_birth_date(digits):
        return ID_NUMBER
    if sizes == ACCOUNT_GROUPING:
        return LONG_NUMBER
    if (
        len(digits) == 8
        and digits[0] in "23456789"
        and sizes in PHONE_GROUPINGS
        and len(set(separators)) <= 1
        and not (sizes == (4, 4) and _is_year_or_time_pair(groups))
    ):
        return PHONE_NUMBER
    return None


def _numbers_found(text: str) -> set[str]:
    found: set[str | None] = set()
    for chain in NUMBER_CHAIN.finditer(text):
        after_plus = text[: chain.start()].rstrip(" (").endswith("+")
        separators = SEPARATOR.findall(chain.group())
        groups = SEPARATOR.split(chain.group())
        found.add(_number_kind(groups, separators, after_plus))
    return {kind for kind in found if kind is not None}


def _email_found(text: str) -> bool:
    text = DOT.sub(".", AT_SIGN.sub("@", text))
    return bool(EMAIL.search(text) or SPOKEN_EMAIL.search(SPOKEN_AT.sub("@", text)))


def identifying_data_in(text: str) -> list[str]:
    """The kinds of identifying data the text seems to hold, in the order of
    ``IDENTIFYING_KINDS``; empty if none."""
    comparable = _comparable(text)
    found = _numbers_found(comparable)
    if _email_found(comparable):
        found.add(EMAIL_ADDRESS)
    return [kind for kind in IDENTIFYING_KINDS if kind in found]


def validate_no_identifying_data(value: str) -> None:
    """Refuse free text that holds a national ID number, phone number, e-mail address or another
    long number. The message says what kind of data was found, never the data."""
    kinds = identifying_data_in(value)
    if kinds:
        raise ValidationError(
            _(
                "Remove what looks like %(kinds)s. Kobling must hold nothing that could "
                "identify a person."
            ),
            code="identifying_data",
            params={"kinds": ", ".join(str(IDENTIFYING_KINDS[kind]) for kind in kinds)},
        )


def screened_text(value: object, field: str, max_length: int | None = None) -> str:
    """Typed text for ``field`` as a service keeps it: cleaned, within ``max_length`` and free of
    identifying data; otherwise a ValidationError on ``field``."""
    if not isinstance(value, str):
        raise ValidationError({field: _("Expected text.")})
    text = clean_free_text(value)
    if max_length is not None and len(text) > max_length:
        raise ValidationError(
            {field: _("Keep it to %(limit)d characters.") % {"limit": max_length}}
        )
    try:
        validate_no_identifying_data(text)
    except ValidationError as error:
        raise ValidationError({field: error.messages}) from error
    return text
