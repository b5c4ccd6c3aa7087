"""Why a referral waits, for templates: ``{{ unmatched|waiting_sentence }}`` and
``{{ near_miss|near_miss_sentence }}`` (see matching/reasons.py). A page listing many rows
calls ``reasons.unmatched_explain`` in its view instead, so municipality names are looked up
once."""

from django import template

from matching import reasons
from programmes import languages

register = template.Library()


@register.filter
def waiting_sentence(unmatched) -> str:
    explained = getattr(unmatched, "explanation", None)
    return explained if explained is not None else reasons.unmatched_sentence(unmatched)


@register.filter
def near_miss_sentence(near_miss) -> str:
    explained = getattr(near_miss, "explanation", None)
    return explained if explained is not None else reasons.near_miss_sentence(near_miss)


@register.filter
def language_names(codes) -> str:
    """["nb", "ar"] → "norsk bokmål, arabisk" in the reader's language."""
    return languages.language_names(codes or [])


@register.filter
def hours_in_words(hours) -> str:
    """1.5 → "1 time 30 minutter"."""
    return reasons.duration((hours or 0) * 60)


@register.filter
def relaxed_in_words(rules) -> str:
    """["distance"] → "the distance limit"."""
    return reasons.relaxed_rules_words(rules or [])
