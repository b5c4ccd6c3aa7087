"""Column-oriented numpy views of the people in an instance, with shared code books."""

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import TypedDict, TypeVar

import numpy as np
from numpy.typing import NDArray

from .availability import padded_intervals
from .geo import unit_vectors
from .instance import Instance, Referral, Volunteer, languages_by_level
from .people import Records

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
WordArray = NDArray[np.uint64]
NO_GENDER = -1
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True)
class Codebook:
    languages: dict[str, int]
    municipalities: dict[str, int]
    genders: dict[str, int]
    activities: dict[str, int]


@dataclass(frozen=True)
class People:
    ids: tuple[str, ...]
    lat: FloatArray
    lon: FloatArray
    phi: FloatArray  # latitude in radians
    cos_phi: FloatArray
    xyz: FloatArray
    # Bitsets over the codebook. A volunteer's languages are those spoken at the rules'
    # level or better: the only ones that count as shared.
    language_words: WordArray
    activity_words: WordArray
    municipality: IntArray
    slot_starts: IntArray
    slot_ends: IntArray
    excluded_keys: IntArray  # sorted row * n_municipalities + municipality code

    def __len__(self) -> int:
        return len(self.ids)


class _PeopleColumns(TypedDict):
    ids: tuple[str, ...]
    lat: FloatArray
    lon: FloatArray
    phi: FloatArray
    cos_phi: FloatArray
    xyz: FloatArray
    language_words: WordArray
    activity_words: WordArray
    municipality: IntArray
    slot_starts: IntArray
    slot_ends: IntArray
    excluded_keys: IntArray


@dataclass(frozen=True)
class VolunteerTable(People):
    gender: IntArray
    capacity: IntArray
    below_level_words: WordArray  # languages spoken only below the rules' level


@dataclass(frozen=True)
class ReferralTable(People):
    needed: IntArray
    waiting_days: IntArray
    wanted_gender: IntArray
    limit_km: FloatArray


def build_codebook(instance: Instance) -> Codebook:
    volunteers = Records.of(Volunteer, instance.volunteers)
    referrals = Records.of(Referral, instance.referrals)
    both = (volunteers, referrals)
    languages = sorted(_items_of(people.column("languages") for people in both))
    activities = sorted(_items_of(people.column("activities") for people in both))
    municipalities = sorted(
        set(chain.from_iterable(people.column("municipality") for people in both))
        | _items_of(people.column("excluded_municipalities") for people in both)
    )
    genders = sorted(set(volunteers.column("gender")) - {None})
    return Codebook(
        languages={code: bit for bit, code in enumerate(languages)},
        municipalities={code: index for index, code in enumerate(municipalities)},
        genders={code: index for index, code in enumerate(genders)},
        activities={code: bit for bit, code in enumerate(activities)},
    )


def _items_of(columns: Iterable[tuple[tuple[str, ...], ...]]) -> set[str]:
    """Every code in columns of code tuples."""
    return set(chain.from_iterable(chain.from_iterable(columns)))


def volunteer_table(
    volunteers: Sequence[Volunteer], codes: Codebook, min_language_level: str
) -> VolunteerTable:
    """Each volunteer's languages are filtered by level here, once: the candidate search, its
    KD-trees per language and every rule check then see only the languages that count."""

    def split(key: tuple[tuple[str, ...], tuple[str, ...]]) -> tuple[int, int]:
        counted, below = languages_by_level(*key, min_language_level)
        return _mask(counted, codes.languages), _mask(below, codes.languages)

    people = Records.of(Volunteer, volunteers)
    by_levels = _Cache(split)
    spoken = zip(people.column("languages"), people.column("language_levels"), strict=True)
    masks = list(map(by_levels.__getitem__, spoken))
    gender_codes: _Cache[str | None, int] = _Cache(lambda gender: _gender_code(gender, codes, -2))
    n_languages = len(codes.languages)
    return VolunteerTable(
        **_people_columns(people, codes, _words([m[0] for m in masks], n_languages)),
        gender=_codes(people.column("gender"), gender_codes),
        capacity=np.array(people.column("capacity"), dtype=np.int64),
        below_level_words=_words([m[1] for m in masks], n_languages),
    )


def referral_table(
    referrals: Sequence[Referral], instance: Instance, codes: Codebook
) -> ReferralTable:
    people = Records.of(Referral, referrals)

    def wanted(gender: str | None) -> int:
        return NO_GENDER if gender is None else _gender_code(gender, codes, -3)

    by_languages: _Cache[tuple[str, ...], int] = _Cache(lambda key: _mask(key, codes.languages))
    languages = _words(
        list(map(by_languages.__getitem__, people.column("languages"))), len(codes.languages)
    )
    limit_km = instance.rules.distance_limit_km
    return ReferralTable(
        **_people_columns(people, codes, languages),
        needed=np.array(people.column("volunteers_needed"), dtype=np.int64),
        waiting_days=np.array(people.column("waiting_days"), dtype=np.int64),
        wanted_gender=_codes(people.column("volunteer_gender"), _Cache(wanted)),
        limit_km=np.array(list(map(limit_km, people.column("max_distance_km"))), dtype=np.float64),
    )


def _gender_code(gender: str | None, codes: Codebook, unknown: int) -> int:
    """Unknown codes get a value that equals nothing a counterpart can carry."""
    return codes.genders.get(gender, unknown) if gender is not None else unknown


def _codes(values: Sequence[K], code_of: "_Cache[K, int]") -> IntArray:
    return np.fromiter(map(code_of.__getitem__, values), dtype=np.int64, count=len(values))


def _people_columns(
    people: Records[Volunteer] | Records[Referral], codes: Codebook, language_words: WordArray
) -> _PeopleColumns:
    lat = np.array(people.column("lat"), dtype=np.float64)
    lon = np.array(people.column("lon"), dtype=np.float64)
    phi = np.radians(lat)
    starts, ends = padded_intervals(people.column("availability"))
    by_activities: _Cache[tuple[str, ...], int] = _Cache(lambda key: _mask(key, codes.activities))
    municipality = people.column("municipality")
    return {
        "ids": people.column("id"),
        "lat": lat,
        "lon": lon,
        "phi": phi,
        "cos_phi": np.cos(phi),
        "xyz": unit_vectors(lat, lon).reshape(-1, 3),
        "language_words": language_words,
        "activity_words": _words(
            list(map(by_activities.__getitem__, people.column("activities"))),
            len(codes.activities),
        ),
        "municipality": np.fromiter(
            map(codes.municipalities.__getitem__, municipality),
            dtype=np.int64,
            count=len(municipality),
        ),
        "slot_starts": starts,
        "slot_ends": ends,
        "excluded_keys": _excluded_keys(people.column("excluded_municipalities"), codes),
    }


class _Cache(dict[K, V]):
    """Values computed once per distinct key: people share few language and activity lists."""

    def __init__(self, compute: Callable[[K], V]) -> None:
        super().__init__()
        self.compute = compute

    def __missing__(self, key: K) -> V:
        value = self[key] = self.compute(key)
        return value


def _mask(codes: Iterable[str], bits: dict[str, int]) -> int:
    return sum(1 << bits[code] for code in set(codes))


def _words(masks: list[int], n_bits: int) -> WordArray:
    """Python-int bitsets as rows of 64-bit words (at least one word)."""
    n_words = max(1, (n_bits + 63) // 64)
    if n_words == 1:
        return np.array(masks, dtype=np.uint64).reshape(len(masks), 1)
    word_mask = (1 << 64) - 1
    columns = [
        np.array([(mask >> (64 * word)) & word_mask for mask in masks], dtype=np.uint64)
        for word in range(n_words)
    ]
    return np.column_stack(columns).reshape(len(masks), n_words)


def _excluded_keys(excluded: tuple[tuple[str, ...], ...], codes: Codebook) -> IntArray:
    width = len(codes.municipalities)
    keys = [
        row * width + codes.municipalities[code]
        for row, municipalities in enumerate(excluded)
        if municipalities
        for code in municipalities
    ]
    return np.unique(np.array(keys, dtype=np.int64))
