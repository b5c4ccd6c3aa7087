"""Demo volunteers, each drawn with their user, programmes, vetting records and dates. The
``builder`` passed in is the DemoBuilder (demo/builder.py) after its centres and sites."""

import datetime
import random
from dataclasses import dataclass

from django.utils import timezone

from demo.draws import volunteer_languages, weekly_slots, weighted
from demo.places import ascii_slug
from programmes.models import (
    Gender,
    Municipality,
    PolitiattestType,
    PostalCode,
    Programme,
    VettingKind,
)
from volunteers.models import VettingRecord, Volunteer

FEMALE_NAMES = (
    "Anne", "Inger", "Kari", "Marit", "Ingrid", "Liv", "Eva", "Berit", "Astrid", "Bjørg",
    "Hilde", "Anna", "Solveig", "Marianne", "Randi", "Ida", "Nina", "Maria", "Elisabeth",
    "Kristin", "Tone", "Silje", "Hanne", "Ragnhild", "Camilla", "Heidi", "Nora", "Emma",
    "Sara", "Ingeborg", "Thea", "Sigrid", "Maja", "Tuva", "Guro", "Mari", "Synnøve", "Åse",
)  # fmt: skip
MALE_NAMES = (
    "Jan", "Per", "Bjørn", "Ole", "Lars", "Kjell", "Knut", "Arne", "Svein", "Thomas",
    "Hans", "Geir", "Tor", "Morten", "Terje", "Odd", "Erik", "Martin", "Andreas", "Jon",
    "Magnus", "Sindre", "Håkon", "Eirik", "Kristian", "Øyvind", "Anders", "Henrik",
)  # fmt: skip
OTHER_NAMES = ("Kim", "Robin", "Alex", "Sam", "Eli", "Mika")
LAST_NAMES = (
    "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen",
    "Jensen", "Karlsen", "Johnsen", "Pettersen", "Eriksen", "Berg", "Haugen", "Hagen",
    "Johannessen", "Andreassen", "Jacobsen", "Dahl", "Jørgensen", "Halvorsen", "Henriksen",
)  # fmt: skip
# Twenty entries, the most common activities twice: the draw from them takes as many numbers
# as the demo's old draw of twenty free-text interests, so every later draw stays as it was.
ACTIVITY_DRAW = (
    "outdoor-life", "outdoor-life", "skiing", "football", "football", "handball", "swimming",
    "swimming", "climbing", "gaming", "art", "music", "library", "homework-reading", "dance",
    "scouting", "cycling", "music", "art", "homework-reading",
)  # fmt: skip
# Languages a volunteer may have picked up a little of, as participants speak them.
BASIC_LANGUAGES = ("ar", "so", "ti", "uk", "pl", "fa")
BASIC_LANGUAGE_SHARE = 0.12
FOURTH_ACTIVITY_SHARE = 0.25
# Kobling's assumed policy: volunteers renew their politiattest every three years.
POLITIATTEST_VALID_DAYS = 3 * 365
Status = Volunteer.Status


def _last_name(index: int) -> str:
    # Fixed by the index, not drawn: a draw here would change every later one of the demo.
    return LAST_NAMES[(index * 11) % len(LAST_NAMES)]


def staff_name(index: int) -> tuple[str, str]:
    """The ``index``-th demo staff member's first and last name: the header greets staff by
    name, as a real service would. Fixed, not drawn, so the rest of the demo stays the same."""
    first_names = FEMALE_NAMES + MALE_NAMES
    return first_names[(index * 7) % len(first_names)], LAST_NAMES[(index * 5) % len(LAST_NAMES)]


def _retired_at(index: int) -> datetime.datetime:
    """Spread over the last two years, so the retention task has some retirees to erase. Not
    drawn from the seeded generator, which would change every volunteer drawn after."""
    return timezone.now() - datetime.timedelta(days=30 + index * 97 % 690)


@dataclass
class VolunteerDraft:
    """A volunteer with everything written alongside it: user, programmes, vetting."""

    volunteer: Volunteer
    home: PostalCode
    attest: str
    programmes: list[Programme]
    avoid: list[Municipality]
    vetting: list[VettingRecord]
    history: dict[str, object]
    activities: list[str]

    @classmethod
    def draw(cls, builder, index: int, home: PostalCode, status: str, attest: str):
        rng = builder.rng
        programmes = _volunteer_programmes(builder, rng)
        gender = _volunteer_gender(rng, programmes[0].slug)
        first_name = rng.choice(_names_for(gender))
        username = f"frivillig-{ascii_slug(first_name)}-{index + 1:03d}"
        municipality = home.municipality
        row = builder.centres[builder.centre_of[municipality.pk]]
        volunteer = Volunteer(
            user=builder.new_user(username, name=(first_name, _last_name(index))),
            organisation=row.sites[programmes[0].slug].organisation,
            home_postal_code=home,
            languages=_with_a_basic_language(
                volunteer_languages(rng, municipality), builder.extra_rng
            ),
            gender=gender,
            availability=weekly_slots(rng),
            capacity=2 if rng.random() < 0.15 else 1,
            status=status,
            retired_at=_retired_at(index) if status == Status.RETIRED else None,
        )
        activities = _activities(rng, builder.extra_rng)
        vetting, history = _vetting_history(builder, volunteer, programmes, attest, row.coordinator)
        avoid = builder.avoidable_near(municipality, 1) if rng.random() < 0.05 else []
        return cls(volunteer, home, attest, programmes, avoid, vetting, history, activities)


def _activities(rng: random.Random, extra: random.Random) -> list[str]:
    """One to four activity codes: up to three from the demo's own generator, sometimes one
    more from ``extra`` (the builder's generator for what came later)."""
    chosen = list(dict.fromkeys(rng.sample(ACTIVITY_DRAW, rng.randint(1, 3))))
    if extra.random() < FOURTH_ACTIVITY_SHARE:
        chosen.append(extra.choice([code for code in ACTIVITY_DRAW if code not in chosen]))
    return chosen


def _with_a_basic_language(entries: list[dict], extra: random.Random) -> list[dict]:
    """Some volunteers also speak a participant's language a little: not well enough to count
    as shared under the programmes' "conversational" rule, so the demo shows one held back."""
    if extra.random() >= BASIC_LANGUAGE_SHARE:
        return entries
    spoken = {entry["code"] for entry in entries}
    options = [code for code in BASIC_LANGUAGES if code not in spoken]
    return [*entries, {"code": extra.choice(options), "level": "basic"}]


def _volunteer_programmes(builder, rng: random.Random) -> list[Programme]:
    ressursvenn, fritidsvenn = builder.programmes["ressursvenn"], builder.programmes["fritidsvenn"]
    roll = rng.random()
    if roll < 0.55:
        return [ressursvenn]
    if roll < 0.95:
        return [fritidsvenn]
    return [ressursvenn, fritidsvenn]


def _volunteer_gender(rng: random.Random, first_programme: str) -> str:
    if first_programme == "ressursvenn":
        shares = {Gender.FEMALE: 92, Gender.MALE: 6, Gender.OTHER: 2}
    else:
        shares = {Gender.FEMALE: 62, Gender.MALE: 36, Gender.OTHER: 2}
    return weighted(rng, shares)


def _names_for(gender: str) -> tuple[str, ...]:
    by_gender: dict[str, tuple[str, ...]] = {Gender.FEMALE: FEMALE_NAMES, Gender.MALE: MALE_NAMES}
    return by_gender.get(gender, OTHER_NAMES)


def _vetting_history(
    builder,
    volunteer: Volunteer,
    programmes: list[Programme],
    attest: str,
    coordinator,
) -> tuple[list[VettingRecord], dict[str, object]]:
    """The volunteer's vetting records, and when they joined and last changed status."""
    rng, today = builder.rng, builder.today
    required = {kind for p in programmes for kind in p.required_vetting}
    others = sorted(required - {VettingKind.POLITIATTEST})
    if attest == "none":
        joined_on = today - datetime.timedelta(days=rng.randint(0, 60))
        others = rng.sample(others, rng.randint(0, 2))
        records = []
    else:
        attest_record = _politiattest(rng, volunteer, programmes, attest, today, coordinator)
        joined_on = attest_record.issued_on - datetime.timedelta(days=rng.randint(7, 60))
        records = [attest_record]
    records += [_record(rng, volunteer, kind, joined_on, today, coordinator) for kind in others]
    latest = max([r.issued_on for r in records], default=joined_on)
    changed_on = min(latest + datetime.timedelta(days=rng.randint(1, 30)), today)
    changed_at = min(_at_noon(changed_on), builder.now)
    return records, {"joined_on": joined_on, "status_changed_at": changed_at}


def _politiattest(rng, volunteer, programmes, attest, today, coordinator) -> VettingRecord:
    if attest == "expired":
        issued = today - datetime.timedelta(days=POLITIATTEST_VALID_DAYS + rng.randint(1, 200))
    elif attest == "expiring":
        issued = today - datetime.timedelta(days=POLITIATTEST_VALID_DAYS - rng.randint(1, 30))
    else:
        issued = today - datetime.timedelta(days=rng.randint(14, POLITIATTEST_VALID_DAYS - 31))
    for_children = any(
        p.required_politiattest_type == PolitiattestType.CHILDREN for p in programmes
    )
    kind = (
        PolitiattestType.CHILDREN
        if for_children or rng.random() < 0.1
        else PolitiattestType.ORDINARY
    )
    return VettingRecord(
        volunteer=volunteer,
        kind=VettingKind.POLITIATTEST,
        politiattest_type=kind,
        issued_on=issued,
        expires_on=issued + datetime.timedelta(days=POLITIATTEST_VALID_DAYS),
        recorded_by=coordinator,
    )


def _record(rng, volunteer, kind, joined_on, today, coordinator) -> VettingRecord:
    issued = min(joined_on + datetime.timedelta(days=rng.randint(3, 45)), today)
    return VettingRecord(volunteer=volunteer, kind=kind, issued_on=issued, recorded_by=coordinator)


def _at_noon(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
