"""Small draws from the builder's seeded generator: quotas, weekly slots, languages, aliases."""

import random

from programmes.models import ALIAS_FORBIDDEN, Municipality

# Native languages besides Norwegian among volunteers, in percent.
VOLUNTEER_OTHER_NATIVE = {
    "ar": 2.5, "so": 1.5, "pl": 2.0, "ti": 1.0, "uk": 1.5, "fa": 1.0, "ku": 0.7, "ru": 1.0,
}  # fmt: skip
REFERRAL_MAIN_LANGUAGE = {
    "ar": 22, "so": 15, "ti": 12, "uk": 12, "pl": 8, "fa": 8, "ku": 4, "ru": 4, "nb": 15,
}  # fmt: skip
# Dari speakers are recorded as "fa" throughout so that they match Persian-speaking volunteers.
NORTHERN_SAMI = "se"
# The Sami language area is mostly Northern Sami; these municipalities use South or Lule Sami.
OTHER_SAMI = {
    "1826": "sma",  # Hattfjelldal
    "1875": "smj",  # Hamarøy
    "5025": "sma",  # Røros
    "5041": "sma",  # Snåsa
    "5043": "sma",  # Røyrvik
}


def sami_language(municipality: Municipality) -> str:
    return OTHER_SAMI.get(municipality.number, NORTHERN_SAMI)


def shuffled_quota(rng: random.Random, shares: dict, count: int) -> list:
    """Exactly ``count`` values in the given shares, in random order, so totals are stable."""
    values = [value for value, share in shares.items() for _ in range(round(share * count))]
    first = next(iter(shares))
    values = (values + [first] * count)[:count]
    rng.shuffle(values)
    return values


def weekly_slots(rng: random.Random) -> list[dict]:
    """One to three evening or weekend slots, at most one a day so they never overlap."""
    days = sorted(rng.sample(range(7), rng.choice((1, 2, 2, 3))))
    return [_slot(rng, day) for day in days]


def _slot(rng: random.Random, day: int) -> dict:
    if day >= 5:
        start, minutes = rng.choice(range(10, 15)) * 60, rng.choice((120, 180, 240))
    else:
        start, minutes = rng.choice(range(33, 39)) * 30, rng.choice((120, 150, 180))
    end = start + minutes
    return {"day": day, "start": _clock(start), "end": _clock(end)}


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def volunteer_languages(rng: random.Random, municipality: Municipality) -> list[dict]:
    native = weighted(
        rng, {"nb": 100 - sum(VOLUNTEER_OTHER_NATIVE.values()), **VOLUNTEER_OTHER_NATIVE}
    )
    entries = [{"code": native, "level": "native"}]
    if native != "nb" and not (native in ("pl", "uk", "ru") and rng.random() < 0.15):
        entries.append({"code": "nb", "level": rng.choice(("fluent", "fluent", "conversational"))})
    if municipality.sami_language_area and rng.random() < 0.45:
        level = rng.choice(("native", "fluent"))
        entries.append({"code": sami_language(municipality), "level": level})
    if rng.random() < 0.6:
        entries.append({"code": "en", "level": rng.choice(("fluent", "conversational"))})
    return entries


def referral_languages(rng: random.Random, municipality: Municipality) -> list[str]:
    main = weighted(rng, REFERRAL_MAIN_LANGUAGE)
    extra = weighted(rng, {"nb": 45, "en": 25, "": 30}) if main != "nb" else ""
    if main == "nb" and municipality.sami_language_area and rng.random() < 0.4:
        extra = sami_language(municipality)
    return [main, extra] if extra else [main]


def weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def new_demo_alias(rng: random.Random, taken: set[str]) -> str:
    """Like ``programmes.models.new_alias`` but drawn from the seed, and never all digits
    (``P-123456`` would look like part of an ID number and fail ``validate_alias``)."""
    while True:
        alias = f"P-{rng.getrandbits(24):06X}"
        if alias not in taken and not ALIAS_FORBIDDEN.search(alias):
            taken.add(alias)
            return alias
