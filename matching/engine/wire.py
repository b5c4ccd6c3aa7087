"""The instance contract as msgspec structs, and a fast encoder for results.

`decode` checks types, required and unknown fields and numeric ranges in C while it parses;
`validation.parse_instance_json` does the rest (texts, times, ids) and, whenever anything is
off, runs the plain validator instead, so error messages come from one place only.
"""

import json
import re
import sys
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct

# `le=` the largest float also rejects infinity (JSON 1e400); msgspec rejects NaN literals.
_FINITE = sys.float_info.max
Latitude = Annotated[float, Meta(ge=-90.0, le=90.0)]
Longitude = Annotated[float, Meta(ge=-180.0, le=180.0)]
Positive = Annotated[float, Meta(gt=0.0, le=_FINITE)]
NonNegative = Annotated[float, Meta(ge=0.0, le=_FINITE)]
AtLeastOne = Annotated[int, Meta(ge=1)]
Languages = Annotated[tuple[str, ...], Meta(min_length=1)]
# instance.LANGUAGE_LEVELS, best first (a test holds the two equal).
LanguageLevel = Literal["native", "fluent", "conversational", "basic"]
MAX_WAITING_DAYS = 100_000  # keeps stage-2 objectives exact in floating point


class SlotWire(Struct, forbid_unknown_fields=True, frozen=True, gc=False):
    """Frozen, hence hashable: identical slots share one parsed `Slot`."""

    day: Annotated[int, Meta(ge=0, le=6)]
    start: str
    end: str


class LanguageWire(Struct, forbid_unknown_fields=True, frozen=True, gc=False):
    """A language a volunteer speaks at a stated level; frozen, hence hashable: volunteers
    share few lists of languages."""

    code: str
    level: LanguageLevel


class VolunteerWire(Struct, forbid_unknown_fields=True, gc=False):
    id: str
    lat: Latitude
    lon: Longitude
    municipality: str
    languages: Annotated[tuple[str | LanguageWire, ...], Meta(min_length=1)]
    availability: list[SlotWire]
    gender: str | None = None
    capacity: AtLeastOne = 1
    excluded_municipalities: tuple[str, ...] = ()
    activities: tuple[str, ...] = ()


class ReferralWire(Struct, forbid_unknown_fields=True, gc=False):
    id: str
    lat: Latitude
    lon: Longitude
    municipality: str
    languages: Languages
    availability: list[SlotWire]
    volunteers_needed: AtLeastOne = 1
    volunteer_gender: str | None = None
    excluded_municipalities: tuple[str, ...] = ()
    max_distance_km: Positive | None = None
    waiting_days: Annotated[int, Meta(ge=0, le=MAX_WAITING_DAYS)] = 0
    activities: tuple[str, ...] = ()


class RulesWire(Struct, forbid_unknown_fields=True):
    max_distance_km: Positive
    min_overlap_hours: NonNegative
    overlap_target_hours: NonNegative
    km_per_overlap_hour: NonNegative
    min_language_level: LanguageLevel = "conversational"
    km_per_shared_activity: NonNegative = 0.0
    max_shared_activities: Annotated[int, Meta(ge=0)] = 0


class PairWire(Struct, forbid_unknown_fields=True):
    referral: str
    volunteer: str


class InstanceWire(Struct, forbid_unknown_fields=True):
    rules: RulesWire
    volunteers: list[VolunteerWire]
    referrals: list[ReferralWire]
    forbidden_pairs: list[PairWire] = []


_DECODER = msgspec.json.Decoder(InstanceWire)


def decode(raw: bytes) -> InstanceWire | None:
    """The typed instance, or None if the bytes break any rule msgspec can check."""
    try:
        return _DECODER.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None


# msgspec writes a float as Python's repr does, except below 1e-4 ("0.00001", "1e-7"), from
# 1e16 on ("1e16") and NaN or infinity ("null"). Output that may hold such a number (or text
# that looks alike) goes through `json` instead.
_EXPONENT = re.compile(rb"e[-+0-9]")


def encode(document: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON, byte for byte what `json.dumps(ensure_ascii=False)` writes."""
    encoded = msgspec.json.encode(document)
    if b"null" not in encoded and b"0.0000" not in encoded and not _EXPONENT.search(encoded):
        return encoded
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8")
