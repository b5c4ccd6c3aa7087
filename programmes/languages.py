"""The languages Kobling names and offers, in one place: the list people choose from, the few
the referral form offers as checkboxes, the levels a volunteer gives, and a language's name in
the reader's language. Any ISO 639 code is accepted (programmes.validators); these are the ones
with a name of our own."""

from collections.abc import Iterable

from django.conf.locale import LANG_INFO
from django.utils.text import capfirst
from django.utils.translation import get_language_info, gettext_lazy
from django.utils.translation import gettext as _

# Names as they read in running text: bokmål writes them in lower case ("snakker arabisk").
_NAMES = [
    ("nb", gettext_lazy("Norwegian bokmål")),
    ("nn", gettext_lazy("Norwegian nynorsk")),
    ("en", gettext_lazy("English")),
    ("ar", gettext_lazy("Arabic")),
    ("so", gettext_lazy("Somali")),
    ("ti", gettext_lazy("Tigrinya")),
    ("pl", gettext_lazy("Polish")),
    ("uk", gettext_lazy("Ukrainian")),
    ("ru", gettext_lazy("Russian")),
    ("fa", gettext_lazy("Persian")),
    ("prs", gettext_lazy("Dari")),
    ("ku", gettext_lazy("Kurdish")),
    ("ckb", gettext_lazy("Sorani Kurdish")),
    ("ur", gettext_lazy("Urdu")),
    ("tr", gettext_lazy("Turkish")),
    ("es", gettext_lazy("Spanish")),
    ("fr", gettext_lazy("French")),
    ("de", gettext_lazy("German")),
    ("se", gettext_lazy("Northern Sami")),
    ("sma", gettext_lazy("South Sami")),
    ("smj", gettext_lazy("Lule Sami")),
    ("am", gettext_lazy("Amharic")),
    ("sw", gettext_lazy("Swahili")),
    ("th", gettext_lazy("Thai")),
    ("vi", gettext_lazy("Vietnamese")),
    ("zh", gettext_lazy("Chinese")),
]
LANGUAGE_NAMES = dict(_NAMES)
# The list people choose from, where each name stands alone and so starts with a capital
# ("Arabisk").
SPOKEN_LANGUAGES = [(code, capfirst(name)) for code, name in _NAMES]
# The referral form's checkboxes, most asked for first; other codes are typed in.
COMMON_LANGUAGE_CODES = (
    "ar", "so", "ti", "pl", "uk", "fa", "prs", "ku", "ru", "en", "nb", "se", "sma", "smj",
)  # fmt: skip
COMMON_LANGUAGES = [(code, capfirst(LANGUAGE_NAMES[code])) for code in COMMON_LANGUAGE_CODES]

LANGUAGE_LEVELS = [
    ("native", gettext_lazy("Native language")),
    ("fluent", gettext_lazy("Fluent")),
    ("conversational", gettext_lazy("Conversational")),
    ("basic", gettext_lazy("Basic")),
]
LEVEL_CODES = tuple(code for code, _label in LANGUAGE_LEVELS)


def language_name(code: str) -> str:
    """A language's name in the reader's language, as running text writes it (bokmål: lower
    case): ours first, then Django's; a code neither knows is said to be a code, so it never
    reads as a word. Where the name starts a cell or a line, the template capitalises it."""
    label = LANGUAGE_NAMES.get(code)
    if label is not None:
        return str(label)
    if "name" in LANG_INFO.get(code, {}):
        return str(get_language_info(code)["name_translated"])
    return _("language with code %s") % code


def language_names(codes: Iterable[str]) -> str:
    """Names in the reader's language, in the order given: "norsk bokmål, arabisk"."""
    return ", ".join(language_name(code) for code in codes)


# From the best level down: a level "counts" for a rule when it is at least the rule's.
LEVEL_RANK = {"native": 3, "fluent": 2, "conversational": 1, "basic": 0}
# How a volunteer speaks a language, as a sentence part: bokmål puts the level after the
# language ("snakker arabisk flytende", "snakker arabisk som morsmål").
_SPEAKS = {
    "native": gettext_lazy("speaks %(language)s as a native language"),
    "fluent": gettext_lazy("speaks %(language)s fluently"),
    "conversational": gettext_lazy("speaks %(language)s well enough for a conversation"),
    "basic": gettext_lazy("speaks some %(language)s"),
}


def level_at_least(level: str, minimum: str) -> bool:
    """Whether ``level`` is as good as ``minimum`` or better; an unknown level never is."""
    return level in LEVEL_RANK and LEVEL_RANK[level] >= LEVEL_RANK.get(minimum, 0)


def codes_spoken_at_least(entries: Iterable[dict], minimum: str) -> list[str]:
    """The codes of a volunteer's languages (``{"code", "level"}``) spoken at least as well as
    ``minimum``, in the order given."""
    return [entry["code"] for entry in entries if level_at_least(entry.get("level", ""), minimum)]


def language_with_level(code: str, level: str) -> str:
    """How someone speaks a language, in the reader's language: "snakker arabisk flytende",
    "speaks Arabic fluently"; without a known level, just the language's name."""
    phrase = _SPEAKS.get(level)
    if phrase is None:
        return language_name(code)
    return str(phrase) % {"language": language_name(code)}


def levels_in_words(codes: Iterable[str], entries: Iterable[dict]) -> str:
    """How a volunteer speaks each of ``codes``, by the levels in their ``entries``: "snakker
    arabisk flytende, snakker norsk bokmål som morsmål"."""
    levels = {entry["code"]: entry.get("level", "") for entry in entries}
    return ", ".join(language_with_level(code, levels.get(code, "")) for code in codes)


def languages_and_levels(entries: Iterable[dict]) -> str:
    """A volunteer's languages for a list or a fact: "arabisk (morsmål), engelsk (flytende)"."""
    labels = dict(LANGUAGE_LEVELS)
    return ", ".join(
        f"{language_name(entry['code'])} ({str(labels[entry['level']]).lower()})"
        if entry.get("level") in labels
        else language_name(entry["code"])
        for entry in entries
    )
