"""What the volunteer page shows a coordinator: who the volunteer is and where they live, when
they can meet, their vetting and how long it holds, and the matches they are or were in with
their check-ins. Every read is scoped to what the coordinator manages, and the number of
queries does not grow with the volunteer's history."""

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Prefetch, QuerySet

from matching import wording
from matching.models import CheckIn, MatchVolunteer, Proposal
from matching.selectors import matches_managed_by
from programmes.activities import activity_names
from programmes.languages import LANGUAGE_LEVELS, language_name
from programmes.models import VettingKind
from programmes.selectors import User
from programmes.validators import slot_in_words
from volunteers.models import VettingRecord, Volunteer
from volunteers.selectors import VETTING_WARNING_DAYS, vetting_expires_soon, vetting_missing

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

LEVELS = dict(LANGUAGE_LEVELS)
# The latest group meetings, supervision and courses; the follow-up page lists them all.
FOLLOW_UPS_SHOWN = 5


@dataclass(frozen=True)
class VettingLine:
    record: VettingRecord
    expired: bool
    expiring: bool

    @property
    def label(self) -> str:
        kind = self.record.get_kind_display()
        if self.record.politiattest_type:
            return f"{kind} ({self.record.get_politiattest_type_display()})"
        return kind


@dataclass(frozen=True)
class MatchLine:
    place: MatchVolunteer
    state: list[str]
    part: str

    @property
    def match(self):
        return self.place.match

    @property
    def ended_on(self):
        return self.place.left_at or self.place.match.ended_at


def volunteer_page_for(volunteer: Volunteer, user: User, today: datetime.date) -> dict:
    """The page's content. The matches are those the user manages; of the others only how many
    there are, since their referrals belong to sites the user does not coordinate."""
    volunteer = _with_everything(volunteer)
    managed = matches_managed_by(user).values("pk")
    places = _places(volunteer).filter(match__in=managed)
    return {
        "volunteer": volunteer,
        "languages": [_language(entry) for entry in volunteer.languages],
        "activities": activity_names(volunteer.activities.all()),
        "availability": [slot_in_words(slot) for slot in volunteer.availability],
        "vetting": [_vetting_line(record, today) for record in volunteer.vetting.all()],
        "missing": {
            programme: _missing(volunteer, programme, today)
            for programme in volunteer.programmes.all()
        },
        "matches": [_match_line(place) for place in places],
        "other_matches": MatchVolunteer.objects.filter(volunteer=volunteer)
        .exclude(match__in=managed)
        .count(),
        "proposals_pending": Proposal.objects.filter(
            pairs__volunteer=volunteer, status=Proposal.Status.PENDING
        ).count(),
        "expiry_warning_days": VETTING_WARNING_DAYS,
        "follow_ups": volunteer.follow_ups.all()[:FOLLOW_UPS_SHOWN],
    }


def _with_everything(volunteer: Volunteer) -> Volunteer:
    return (
        Volunteer.objects.select_related("user", "organisation", "home_postal_code__municipality")
        .prefetch_related(
            "programmes",
            "avoid_municipalities",
            "activities",
            Prefetch("vetting", VettingRecord.objects.order_by("kind", "-issued_on")),
        )
        .get(pk=volunteer.pk)
    )


def _places(volunteer: Volunteer) -> QuerySet[MatchVolunteer]:
    return (
        MatchVolunteer.objects.filter(volunteer=volunteer)
        .select_related("match__referral__site__programme", "match__agreement")
        .prefetch_related(
            "match__volunteers__volunteer__user",
            Prefetch(
                "match__check_ins",
                CheckIn.objects.select_related(
                    "answered_by__user", "answered_by__home_postal_code__municipality", "handled_by"
                ).order_by("due_on"),
            ),
        )
        .order_by("-match__created_at")
    )


def _match_line(place: MatchVolunteer) -> MatchLine:
    return MatchLine(
        place=place,
        state=wording.match_state(place.match),
        part=wording.place_signature(place),
    )


def _vetting_line(record: VettingRecord, today: datetime.date) -> VettingLine:
    expired = record.expires_on is not None and record.expires_on < today
    return VettingLine(record, expired=expired, expiring=vetting_expires_soon(record, today))


def _missing(volunteer: Volunteer, programme, today: datetime.date) -> "list[StrOrPromise]":
    return [VettingKind(kind).label for kind in vetting_missing(volunteer, programme, today)]


def _language(entry: dict) -> str:
    level = LEVELS.get(entry.get("level", ""))
    name = language_name(entry["code"])
    return f"{name} ({str(level).lower()})" if level else name
