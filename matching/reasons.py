"""Why a referral waits, in the reader's language: the engine's reason code and figures
(``UnmatchedReferral.facts``) turned into sentences, and each near miss into the rule it fails
and by how much. Never an id, a code or a municipality number: places and languages by name,
distances as the ``km`` filter says them.

Rows saved before the engine gave figures have empty facts; they read a general sentence for
their reason, never the engine's old English detail."""

from collections.abc import Iterable, Mapping

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from matching.models import NearMiss, UnmatchedReferral
from programmes.geodata import distance_in_words as km
from programmes.languages import LANGUAGE_LEVELS, language_name
from programmes.models import Municipality

GENERAL = {
    "no_volunteer_within_distance": gettext_lazy("No volunteer lives within the distance limit."),
    "no_shared_language": gettext_lazy(
        "No volunteer within the distance limit speaks the participant's language."
    ),
    "no_availability_overlap": gettext_lazy(
        "No volunteer nearby who speaks the language has enough time in common."
    ),
    "gender_preference": gettext_lazy(
        "No volunteer nearby who meets the other rules is of the gender the participant wished for."
    ),
    "safety_exclusion": gettext_lazy(
        "Every volunteer who meets the other rules is ruled out for safety."
    ),
    "rejected_before": gettext_lazy(
        "A coordinator has already turned down every volunteer who meets the other rules."
    ),
    "not_enough_volunteers": gettext_lazy("Too few volunteers meet every rule."),
    "capacity_taken": gettext_lazy(
        "The volunteers who meet every rule were proposed for other referrals."
    ),
}
UNKNOWN = gettext_lazy("No volunteer could be proposed.")

# Headings for the run page, which groups waiting referrals by what stopped them.
HEADINGS = {
    "no_volunteer_within_distance": gettext_lazy("No volunteer within travel distance"),
    "no_shared_language": gettext_lazy("No volunteer with a shared language"),
    "no_availability_overlap": gettext_lazy("Too little time in common"),
    "gender_preference": gettext_lazy("No volunteer of the gender wished for"),
    "safety_exclusion": gettext_lazy("Ruled out for safety"),
    "rejected_before": gettext_lazy("Only volunteers already turned down"),
    "not_enough_volunteers": gettext_lazy("Not enough volunteers"),
    "capacity_taken": gettext_lazy("Volunteers taken by other referrals"),
}
OTHER_HEADING = gettext_lazy("Other reasons")
LEVELS = dict(LANGUAGE_LEVELS)

WANTED_GENDER = {
    "female": gettext_lazy("a woman"),
    "male": gettext_lazy("a man"),
}


def reason_heading(reason: str) -> str:
    return str(HEADINGS.get(reason, OTHER_HEADING))


def _either(codes: Iterable[str]) -> str:
    names = [language_name(code) for code in codes]
    if len(names) < 2:
        return "".join(names)
    return _("%(some)s or %(last)s") % {"some": ", ".join(names[:-1]), "last": names[-1]}


def duration(minutes: float) -> str:
    """A weekly time in words: "30 minutes", "1 hour", "1 hour 30 minutes"."""
    hours, rest = divmod(round(minutes), 60)
    parts = []
    if hours:
        parts.append(ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours})
    if rest or not hours:
        parts.append(ngettext("%(n)s minute", "%(n)s minutes", rest) % {"n": rest})
    return " ".join(parts)


def municipality_names(rows: Iterable[UnmatchedReferral]) -> dict[str, str]:
    """The names of every municipality the rows' facts mention, in one query."""
    numbers = {
        rows_facts.get(key)
        for rows_facts in (row.facts or {} for row in rows)
        for key in ("nearest_municipality", "nearest_speaker_municipality")
    } - {None, ""}
    if not numbers:
        return {}
    return dict(Municipality.objects.filter(number__in=numbers).values_list("number", "name"))


PLACE_KEYS = {
    "nearest_place": "nearest_municipality",
    "speaker_place": "nearest_speaker_municipality",
}


def with_place_names(rows: QuerySet[UnmatchedReferral]) -> QuerySet[UnmatchedReferral]:
    """Unmatched rows with the names of the municipalities their facts mention, for lists that
    cannot look them up together (the back office and the API)."""
    numbers = {f"{name}_number": KeyTextTransform(key, "facts") for name, key in PLACE_KEYS.items()}
    return rows.annotate(**numbers).annotate(
        **{
            name: Subquery(
                Municipality.objects.filter(number=OuterRef(f"{name}_number")).values("name")[:1]
            )
            for name in PLACE_KEYS
        }
    )


def _annotated_places(row: UnmatchedReferral) -> dict[str, str] | None:
    if not all(hasattr(row, name) for name in PLACE_KEYS):
        return None
    facts = row.facts or {}
    # A fact missing gives no entry (``_place`` never looks a missing number up).
    return {
        number: getattr(row, name)
        for name, key in PLACE_KEYS.items()
        if (number := facts.get(key)) is not None
    }


def unmatched_sentence(row: UnmatchedReferral, places: Mapping[str, str] | None = None) -> str:
    """Why the row's referral waits. ``places`` maps municipality numbers to names (from
    ``municipality_names``, or ``with_place_names`` on the query); without either the names
    are looked up for this one row."""
    facts = row.facts or {}
    if not facts:
        return str(GENERAL.get(row.reason, UNKNOWN))
    if places is None:
        places = _annotated_places(row)
    if places is None:
        places = municipality_names([row])
    sentence = SENTENCES.get(row.reason)
    try:
        return sentence(facts, places) if sentence else str(GENERAL.get(row.reason, UNKNOWN))
    except (KeyError, TypeError, ValueError):
        # Facts of an unexpected shape (another engine version) still read as a sentence.
        return str(GENERAL.get(row.reason, UNKNOWN))


def _place(places: Mapping[str, str], number) -> str | None:
    return places.get(number) if number else None


def _within_distance(facts, places) -> str:
    first = _("No volunteer lives within %(limit)s.") % {"limit": km(facts["limit_km"])}
    nearest, place = facts.get("nearest_km"), _place(places, facts.get("nearest_municipality"))
    if nearest is None:
        then = _("The programme has no volunteer free to take on a referral.")
        return f"{first} {then}"
    if place is None:
        then = _("The nearest lives %(distance)s away.") % {"distance": km(nearest)}
        return f"{first} {then}"
    then = _("The nearest lives %(distance)s away, in %(municipality)s.") % {
        "distance": km(nearest),
        "municipality": place,
    }
    return f"{first} {then}"


def _shared_language(facts, places) -> str:
    languages = list(facts.get("languages") or [])
    below = int(facts.get("speakers_below_level") or 0)
    first = _("No volunteer within %(limit)s speaks %(languages)s.") % {
        "limit": km(facts["limit_km"]),
        "languages": _either(languages),
    }
    if below:
        first = _below_level(facts, languages, below)
    nearest = facts.get("nearest_speaker_km")
    if nearest is None:
        then = (
            _("No volunteer in the programme speaks it that well.")
            if below
            else _("No volunteer in the programme speaks it.")
        )
        return f"{first} {then}"
    words = {
        "distance": km(nearest),
        "municipality": _place(places, facts.get("nearest_speaker_municipality")) or "",
        "language": language_name(facts.get("nearest_speaker_language") or ""),
    }
    if len(languages) > 1 and facts.get("nearest_speaker_language"):
        then = (
            _("The nearest who speaks %(language)s is %(distance)s away, in %(municipality)s.")
            if words["municipality"]
            else _("The nearest who speaks %(language)s is %(distance)s away.")
        )
    else:
        then = (
            _("The nearest is %(distance)s away, in %(municipality)s.")
            if words["municipality"]
            else _("The nearest is %(distance)s away.")
        )
    return f"{first} {then % words}"


def _below_level(facts, languages: list[str], below: int) -> str:
    """Some nearby speak the language, but below the level the programme asks for."""
    level = LEVELS.get(facts.get("required_level") or "", facts.get("required_level") or "")
    first = _(
        "No volunteer within %(limit)s speaks %(languages)s well enough: the programme asks for "
        "at least “%(level)s”."
    ) % {
        "limit": km(facts["limit_km"]),
        "languages": _either(languages),
        "level": str(level).lower(),
    }
    then = ngettext(
        "%(count)s volunteer nearby speaks it, but not that well.",
        "%(count)s volunteers nearby speak it, but not that well.",
        below,
    ) % {"count": below}
    return f"{first} {then}"


def _availability(facts, places) -> str:
    count = int(facts["candidates"])
    short = max(0, int(facts["needed_minutes"]) - int(facts["best_overlap_minutes"]))
    return ngettext(
        "%(count)s volunteer nearby speaks the language, but has %(short)s too little shared "
        "time a week.",
        "%(count)s volunteers nearby speak the language, but the best of them has %(short)s too "
        "little shared time a week.",
        count,
    ) % {"count": count, "short": duration(short)}


def _gender(facts, places) -> str:
    count = int(facts["candidates"])
    wanted = WANTED_GENDER.get(facts.get("wanted"))
    if wanted is None:
        return str(GENERAL["gender_preference"])
    return ngettext(
        "%(count)s volunteer nearby meets the other rules, but is not %(wanted)s as the "
        "participant wished.",
        "%(count)s volunteers nearby meet the other rules, but none is %(wanted)s as the "
        "participant wished.",
        count,
    ) % {"count": count, "wanted": wanted}


def _safety(facts, places) -> str:
    count = int(facts["candidates"])
    return ngettext(
        "%(count)s volunteer nearby meets the other rules, but is ruled out for the "
        "participant's safety.",
        "%(count)s volunteers nearby meet the other rules, but each is ruled out for the "
        "participant's safety.",
        count,
    ) % {"count": count}


def _rejected(facts, places) -> str:
    count = int(facts["candidates"])
    return ngettext(
        "%(count)s volunteer nearby meets the other rules, but a coordinator has already turned "
        "them down for this referral.",
        "%(count)s volunteers nearby meet the other rules, but a coordinator has already turned "
        "each of them down for this referral.",
        count,
    ) % {"count": count}


def _not_enough(facts, places) -> str:
    needed, eligible = int(facts["needed"]), int(facts["eligible"])
    first = ngettext(
        "Needs %(needed)s volunteers, but only %(eligible)s meets every rule.",
        "Needs %(needed)s volunteers, but only %(eligible)s meet every rule.",
        eligible,
    ) % {"needed": needed, "eligible": eligible}
    return f"{first} {_nearest(facts)}".strip()


def _capacity(facts, places) -> str:
    if facts.get("by_another_run"):
        return _(
            "The volunteers found were proposed by another run while this one was working. "
            "Run the matching again."
        )
    eligible, free = int(facts["eligible"]), int(facts["free"])
    first = ngettext(
        "%(eligible)s volunteer meets every rule, but was proposed for another referral in "
        "this run.",
        "%(eligible)s volunteers meet every rule, but were proposed for other referrals in this "
        "run.",
        eligible,
    ) % {"eligible": eligible}
    if free:
        first = ngettext(
            "%(eligible)s volunteer meets every rule and has room, but the run gave them to a "
            "referral where they made more matches or helped someone who had waited longer.",
            "%(eligible)s volunteers meet every rule (%(free)s with room), but the run gave them "
            "to referrals where they made more matches or helped someone who had waited longer.",
            eligible,
        ) % {"eligible": eligible, "free": free}
    return f"{first} {_nearest(facts)}".strip()


def _nearest(facts) -> str:
    nearest = facts.get("nearest_km")
    if nearest is None:
        return ""
    return _("The nearest lives %(distance)s away.") % {"distance": km(nearest)}


SENTENCES = {
    "no_volunteer_within_distance": _within_distance,
    "no_shared_language": _shared_language,
    "no_availability_overlap": _availability,
    "gender_preference": _gender,
    "safety_exclusion": _safety,
    "rejected_before": _rejected,
    "not_enough_volunteers": _not_enough,
    "capacity_taken": _capacity,
}


def near_miss_sentence(near_miss: NearMiss) -> str:
    """The one rule a near miss fails, and by how much."""
    if near_miss.rule == NearMiss.Rule.DISTANCE:
        return _("%(distance)s beyond the limit") % {"distance": km(near_miss.shortfall)}
    if near_miss.rule == NearMiss.Rule.AVAILABILITY:
        return _("%(minutes)s min too little shared time") % {"minutes": round(near_miss.shortfall)}
    if near_miss.rule == NearMiss.Rule.GENDER:
        return _("not the gender the participant wished for")
    return _("meets every rule")


def near_misses_prefetch() -> Prefetch:
    """Near misses with what ``volunteer_link`` shows, for a list of unmatched rows."""
    return Prefetch(
        "near_misses",
        queryset=NearMiss.objects.select_related(
            "volunteer__user", "volunteer__home_postal_code__municipality"
        ),
    )


def unmatched_explain(rows: Iterable[UnmatchedReferral]) -> list[UnmatchedReferral]:
    """Give each row its ``explanation`` (and each prefetched near miss its ``explanation``),
    with the municipality names of them all looked up at once."""
    rows = list(rows)
    places = municipality_names(rows)
    for row in rows:
        row.explanation = unmatched_sentence(row, places)
        for near_miss in _prefetched_near_misses(row):
            near_miss.explanation = near_miss_sentence(near_miss)
    return rows


def _prefetched_near_misses(row: UnmatchedReferral) -> list[NearMiss]:
    cache = getattr(row, "_prefetched_objects_cache", {})
    return list(cache["near_misses"]) if "near_misses" in cache else []


RELAXED = {
    "distance": gettext_lazy("the distance limit"),
    "availability": gettext_lazy("the shared time"),
    "gender": gettext_lazy("the gender wished for"),
}


def relaxed_rules_words(rules: Iterable[str]) -> str:
    """The rules a hand-made proposal relaxed, in words: "the distance limit, the shared time"."""
    return ", ".join(str(RELAXED.get(rule, rule)) for rule in rules)
