"""Demo referrals: participants known by alias only, with their needs and dates. The ``builder``
passed in is the DemoBuilder (demo/builder.py) after its centres and sites."""

import datetime
import random
from dataclasses import dataclass

from django.utils import timezone

from demo.draws import referral_languages, weekly_slots, weighted
from programmes.models import Gender, Municipality, PostalCode, Referral

WITHDRAWAL_REASONS = (
    Referral.WithdrawalReason.PARTICIPANT_DECLINED,
    Referral.WithdrawalReason.MOVED,
    Referral.WithdrawalReason.HELP_ELSEWHERE,
)


# What families (Fritidsvenn) and women (Ressursvenn) most often wish for, most common first.
WISHED = {
    "fritidsvenn": (
        "football", "swimming", "outdoor-life", "library", "dance", "music", "art", "scouting",
        "handball", "skiing", "climbing", "homework-reading", "cycling", "gaming",
    ),
    "ressursvenn": (
        "outdoor-life", "swimming", "library", "art", "music", "dance", "cycling",
        "homework-reading",
    ),
}  # fmt: skip
WISHED_COUNT = {"fritidsvenn": (1, 3), "ressursvenn": (0, 2)}


@dataclass
class ReferralDraft:
    referral: Referral
    avoid: list[Municipality]
    history: dict[str, object]
    wished: list[str]

    @classmethod
    def draw(cls, builder, home: PostalCode, status: str, alias: str):
        rng = builder.rng
        municipality = home.municipality
        row = builder.centres[builder.centre_of[municipality.pk]]
        slug = "ressursvenn" if rng.random() < 0.55 else "fritidsvenn"
        referral = Referral(
            site=row.sites[slug],
            alias=alias,
            adults=2 if rng.random() < 0.08 else 1,
            children_birth_years=_children(rng, builder.today.year, slug == "fritidsvenn"),
            postal_code=home,
            municipality=municipality,
            languages=referral_languages(rng, municipality),
            availability=weekly_slots(rng),
            volunteer_gender=_preferred_gender(rng, slug),
            max_distance_km=rng.choice((15, 25, 30, 60)) if rng.random() < 0.25 else None,
            consent_recorded_by=row.staff,
            status=status,
        )
        history = _referral_history(rng, referral, builder.now)
        if status == Referral.Status.WITHDRAWN:
            referral.withdrawal_reason = rng.choice(WITHDRAWAL_REASONS)
        avoid = (
            builder.avoidable_near(municipality, rng.randint(1, 2)) if rng.random() < 0.12 else []
        )
        extra = builder.extra_rng
        if slug == "fritidsvenn":
            referral.children_birth_years = _one_child_in_range(
                referral.children_birth_years, builder.programmes[slug], builder.today.year, extra
            )
        return cls(referral, avoid, history, _wished(extra, slug))


def _children(rng: random.Random, this_year: int, required: bool) -> list[int]:
    if not required and rng.random() < 0.55:
        return []
    count = weighted(rng, {1: 40, 2: 35, 3: 18, 4: 7})
    return sorted(rng.randint(this_year - 16, this_year - 2) for _ in range(count))


def _one_child_in_range(years: list[int], programme, this_year: int, extra) -> list[int]:
    """The birth years with at least one child of an age the programme is for: if none is,
    the oldest child is drawn again within it (from ``extra``, so later draws stay)."""
    youngest, oldest = programme.child_min_age or 0, programme.child_max_age or 17
    if any(youngest <= this_year - year <= oldest for year in years):
        return years
    redrawn = extra.randint(this_year - min(oldest, 12), this_year - youngest)
    return sorted([redrawn, *years[1:]])


def _wished(extra: random.Random, slug: str) -> list[str]:
    """What the participant or the children wish to do, the common wishes more often."""
    least, most = WISHED_COUNT[slug]
    options = WISHED[slug]
    weights = [len(options) - rank for rank in range(len(options))]
    wished: list[str] = []
    for _ in range(extra.randint(least, most)):
        wished.append(extra.choices(options, weights=weights)[0])
    return list(dict.fromkeys(wished))


def _preferred_gender(rng: random.Random, slug: str) -> str:
    wants_female = rng.random() < (0.7 if slug == "ressursvenn" else 0.2)
    return Gender.FEMALE if wants_female else ""


def _referral_history(rng: random.Random, referral: Referral, now: datetime.datetime) -> dict:
    """Submitted, then (for most) waiting since 0–120 days ago; a few withdrawn on the way.
    Sets waiting_since and consent_given_on; returns submitted_at and status_changed_at."""
    days = datetime.timedelta(days=1)
    if referral.status == Referral.Status.SUBMITTED:
        submitted_at = now - rng.uniform(0, 10) * days
        changed_at = submitted_at
    elif referral.status == Referral.Status.WAITING or rng.random() < 0.7:
        referral.waiting_since = now - rng.uniform(0, 120) * days
        submitted_at = referral.waiting_since - rng.uniform(0.05, 7) * days
        changed_at = referral.waiting_since
        if referral.status == Referral.Status.WITHDRAWN:
            changed_at += (now - referral.waiting_since) * rng.random()
    else:
        submitted_at = now - rng.uniform(3, 60) * days
        changed_at = submitted_at + rng.uniform(0.05, 3) * days
    referral.consent_given_on = timezone.localdate(submitted_at) - rng.randint(0, 5) * days
    return {"submitted_at": submitted_at, "status_changed_at": changed_at}
