"""What-if sweeps for the benchmark: where would one more volunteer of a given profile help?

A scenario asks `matching.engine.what_if.what_if` about one hypothetical volunteer per
(profile, municipality), placed at the municipality's centre, and ranks the municipalities
by the referrals the volunteer would add. The engine function may be missing in older trees:
the sweep then reports itself unavailable and the rest of the benchmark runs on.
"""

import importlib
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from matching.engine import Instance, Slot, Volunteer, solve

# The hosts of the demo's crisis centres (demo/places.py CENTRE_PLACES); each municipality is
# served by the nearest one. Copied, because demo/ needs Django and the benchmark must not.
DEMO_CENTRE_HOSTS = (
    "0301", "3107", "3301", "4003", "4204", "1103", "4601", "4647",
    "1508", "5001", "5006", "3403", "3405", "1804", "5501", "5601",
)  # fmt: skip


@dataclass(frozen=True)
class Profile:
    name: str
    languages: tuple[str, ...]
    gender: str
    availability: tuple[Slot, ...]
    capacity: int = 1
    language_levels: tuple[str, ...] = ()  # one per language, as `Volunteer` has them
    activities: tuple[str, ...] = ()


def _slot(day: int, start: str, end: str) -> Slot:
    def minutes(clock: str) -> int:
        hours, mins = clock.split(":")
        return int(hours) * 60 + int(mins)

    return Slot(day=day, start=minutes(start), end=minutes(end))


PROFILES = (
    Profile(
        "nb+en woman, Tue/Thu evenings",
        ("nb", "en"),
        "female",
        (_slot(1, "17:00", "20:00"), _slot(3, "17:00", "20:00")),
        language_levels=("native", "fluent"),
        activities=("football", "swimming"),
    ),
    Profile(
        "nb+ar man, weekends",
        ("nb", "ar"),
        "male",
        (_slot(5, "11:00", "15:00"), _slot(6, "12:00", "16:00")),
        language_levels=("fluent", "native"),
        activities=("outdoors", "cycling", "skiing"),
    ),
    Profile(
        "nb+uk+en woman, two people",
        ("nb", "uk", "en"),
        "female",
        (_slot(0, "16:30", "19:30"), _slot(2, "16:30", "19:30"), _slot(5, "10:00", "14:00")),
        capacity=2,
        language_levels=("fluent", "native", "conversational"),
        activities=("music", "drawing"),
    ),
    Profile(
        "nb+so woman, Wed evening and Sunday",
        ("nb", "so"),
        "female",
        (_slot(2, "17:00", "21:00"), _slot(6, "12:00", "16:00")),
        language_levels=("fluent", "native"),
        activities=("library", "cooking"),
    ),
    Profile(
        "nb+ti man, Tue and Fri evenings",
        ("nb", "ti"),
        "male",
        (_slot(1, "18:00", "21:00"), _slot(4, "17:00", "20:00")),
        language_levels=("conversational", "native"),
        activities=("football", "gaming"),
    ),
)


@dataclass(frozen=True)
class Places:
    """Municipality centres, in the order of the municipality table."""

    number: list[str]
    name: list[str]
    lat: np.ndarray
    lon: np.ndarray


def largest_demo_catchment(places: Places) -> tuple[str, list[int]]:
    """The demo centre serving the most municipalities, and the indices of those."""
    host_at = [places.number.index(number) for number in DEMO_CENTRE_HOSTS]
    distance = np.stack([_km(places, host) for host in host_at], axis=1)
    nearest = distance.argmin(axis=1)
    counts = np.bincount(nearest, minlength=len(host_at))
    centre = int(counts.argmax())
    return DEMO_CENTRE_HOSTS[centre], [int(i) for i in np.flatnonzero(nearest == centre)]


def _km(places: Places, origin: int) -> np.ndarray:
    lat, lon = np.radians(places.lat), np.radians(places.lon)
    dlat, dlon = lat - lat[origin], lon - lon[origin]
    a = np.sin(dlat / 2) ** 2 + np.cos(lat) * np.cos(lat[origin]) * np.sin(dlon / 2) ** 2
    km: np.ndarray = 2 * 6371.0088 * np.arcsin(np.sqrt(a))
    return km


def hypotheticals(
    places: Places, where: Sequence[int], profiles: Sequence[Profile]
) -> list[Volunteer]:
    return [
        Volunteer(
            id=f"what-if-{p}-{places.number[m]}",
            lat=float(places.lat[m]),
            lon=float(places.lon[m]),
            municipality=places.number[m],
            languages=profile.languages,
            availability=profile.availability,
            gender=profile.gender,
            capacity=profile.capacity,
            language_levels=profile.language_levels,
            activities=profile.activities,
        )
        for p, profile in enumerate(profiles)
        for m in where
    ]


WhatIf = Callable[[Instance, Sequence[Volunteer]], tuple[Any, ...]]


def engine_what_if() -> WhatIf | None:
    try:
        module = importlib.import_module("matching.engine.what_if")
    except ImportError:
        return None
    function: WhatIf | None = getattr(module, "what_if", None)
    return function


def sweep(
    places: Places,
    instance: Instance,
    candidates: Sequence[Volunteer],
    profiles: Sequence[Profile],
    repeat: int,
    budget_s: float,
) -> dict[str, Any]:
    """Time `what_if` over all candidates; rank places per profile; check each best answer."""
    what_if = engine_what_if()
    if what_if is None:
        return {"available": False}
    times: list[float] = []
    answers: tuple[Any, ...] = ()
    started = time.perf_counter()
    while not times or (len(times) < repeat and time.perf_counter() - started < budget_s):
        begun = time.perf_counter()
        answers = what_if(instance, candidates)
        times.append(time.perf_counter() - begun)
    per_profile = len(candidates) // len(profiles)
    best = [
        _best(places, profile, answers[p * per_profile : (p + 1) * per_profile], candidates)
        for p, profile in enumerate(profiles)
    ]
    return {
        "available": True,
        "hypotheticals": len(candidates),
        "what_if_s": times,
        "what_if_median_s": statistics.median(times),
        "places_with_gain": sum(1 for answer in answers if answer.extra_matched > 0),
        "best": best,
        "best_confirmed_by_solve": _confirm(instance, candidates, answers, best),
    }


def _best(
    places: Places, profile: Profile, answers: Sequence[Any], candidates: Sequence[Volunteer]
) -> dict[str, Any]:
    by_id = {volunteer.id: volunteer for volunteer in candidates}
    top = max(answers, key=lambda answer: answer.extra_matched)
    number = by_id[top.volunteer_id].municipality
    return {
        "profile": profile.name,
        "volunteer_id": top.volunteer_id,
        "municipality": f"{places.name[places.number.index(number)]} ({number})",
        "extra_matched": top.extra_matched,
    }


def _confirm(
    instance: Instance,
    candidates: Sequence[Volunteer],
    answers: Sequence[Any],
    best: Sequence[dict[str, Any]],
) -> bool:
    """Re-solve with each profile's best volunteer added: the gain must be what was promised."""
    by_id = {volunteer.id: volunteer for volunteer in candidates}
    base = solve(instance).summary.matched
    for top in best:
        grown = replace(instance, volunteers=(*instance.volunteers, by_id[top["volunteer_id"]]))
        if solve(grown).summary.matched - base != top["extra_matched"]:
            return False
    return len(answers) == len(candidates)
