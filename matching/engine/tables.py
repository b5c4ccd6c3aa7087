"""Column-oriented numpy views of the people in an instance, with shared code books."""

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypedDict, TypeVar

import numpy as np
from numpy.typing import NDArray

from .availability import padded_intervals
from .geo import unit_vectors
from .instance import Instance, Referral, Volunteer, languages_by_level

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
    people: list[Volunteer | Referral] = [*instance.volunteers, *instance.referrals]
    languages = sorted({code for person in people for code in person.languages})
    activities = sorted({code for person in people for code in person.activities})
    municipalities = sorted(
        {p.municipality for p in people} | {m for p in people for m in p.excluded_municipalities}
    )
    genders = sorted({v.gender for v in instance.volunteers if v.gender is not None})
    return Codebook(
        languages={code: bit for bit, code in enumerate(languages)},
        municipalities={code: index for index, code in enumerate(municipalities)},
        genders={code: index for index, code in enumerate(genders)},
        activities={code: bit for bit, code in enumerate(activities)},
    )


def volunteer_table(
    volunteers: tuple[Volunteer, ...], codes: Codebook, min_language_level: str
) -> VolunteerTable:
    """Each volunteer's languages are filtered by level here, once: the candidate search, its
    KD-trees per language and every rule check then see only the languages that count."""

    def split(key: tuple[tuple[str, ...], tuple[str, ...]]) -> tuple[int, int]:
        counted, below = languages_by_level(*key, min_language_level)
        return _mask(counted, codes.languages), _mask(below, codes.languages)

    by_levels = _Cache(split)
    masks = [by_levels[v.languages, v.language_levels] for v in volunteers]
    n_languages = len(codes.languages)
    return VolunteerTable(
        **_people_columns(volunteers, codes, _words([m[0] for m in masks], n_languages)),
        gender=np.array([_gender_code(v.gender, codes, -2) for v in volunteers], dtype=np.int64),
        capacity=np.array([v.capacity for v in volunteers], dtype=np.int64),
        below_level_words=_words([m[1] for m in masks], n_languages),
    )


def referral_table(
    referrals: tuple[Referral, ...], instance: Instance, codes: Codebook
) -> ReferralTable:
    wanted = [_gender_code(r.volunteer_gender, codes, -3) for r in referrals]
    by_languages: _Cache[tuple[str, ...], int] = _Cache(lambda key: _mask(key, codes.languages))
    languages = _words([by_languages[r.languages] for r in referrals], len(codes.languages))
    return ReferralTable(
        **_people_columns(referrals, codes, languages),
        needed=np.array([r.volunteers_needed for r in referrals], dtype=np.int64),
        waiting_days=np.array([r.waiting_days for r in referrals], dtype=np.int64),
        wanted_gender=np.array(
            [
                NO_GENDER if r.volunteer_gender is None else code
                for r, code in zip(referrals, wanted, strict=True)
            ],
            dtype=np.int64,
        ),
        limit_km=np.array([instance.distance_limit_km(r) for r in referrals], dtype=np.float64),
    )


def _gender_code(gender: str | None, codes: Codebook, unknown: int) -> int:
    """Unknown codes get a value that equals nothing a counterpart can carry."""
    return codes.genders.get(gender, unknown) if gender is not None else unknown


def _people_columns(
    people: Sequence[Volunteer | Referral], codes: Codebook, language_words: WordArray
) -> _PeopleColumns:
    lat = np.array([p.lat for p in people], dtype=np.float64)
    lon = np.array([p.lon for p in people], dtype=np.float64)
    phi = np.radians(lat)
    starts, ends = padded_intervals([p.availability for p in people])
    by_activities: _Cache[tuple[str, ...], int] = _Cache(lambda key: _mask(key, codes.activities))
    return {
        "ids": tuple(p.id for p in people),
        "lat": lat,
        "lon": lon,
        "phi": phi,
        "cos_phi": np.cos(phi),
        "xyz": unit_vectors(lat, lon).reshape(-1, 3),
        "language_words": language_words,
        "activity_words": _words(
            [by_activities[p.activities] for p in people], len(codes.activities)
        ),
        "municipality": np.array(
            [codes.municipalities[p.municipality] for p in people], dtype=np.int64
        ),
        "slot_starts": starts,
        "slot_ends": ends,
        "excluded_keys": _excluded_keys(people, codes),
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


def _excluded_keys(people: Sequence[Volunteer | Referral], codes: Codebook) -> IntArray:
    width = len(codes.municipalities)
    keys = [
        row * width + codes.municipalities[code]
        for row, person in enumerate(people)
        for code in person.excluded_municipalities
    ]
    return np.unique(np.array(keys, dtype=np.int64))
