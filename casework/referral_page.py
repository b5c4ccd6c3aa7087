"""What the referral page says is known about a referral, in words: languages and places by
name, weekdays in the reader's language, and how long the participant has waited."""

import datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from matching.models import Match
from programmes.activities import activity_names
from programmes.languages import language_names
from programmes.models import Referral
from programmes.services import CONSENT_STATUSES
from programmes.validators import slot_in_words

Status = Referral.Status
# While the participant waits for someone, the page counts the days.
STILL_WAITING = (Status.SUBMITTED, Status.WAITING, Status.PROPOSED)


def referral_facts(referral: Referral) -> dict:
    programme = referral.site.programme
    return {
        "status": status_in_words(referral),
        "waited": days_waited(referral, timezone.localdate()),
        "home": _home(referral),
        "languages": language_names(referral.languages),
        "availability": [slot_in_words(slot) for slot in referral.availability],
        "children": ", ".join(str(year) for year in referral.children_birth_years),
        "families": programme.requires_children or bool(referral.children_birth_years),
        "gender_wish": referral.get_volunteer_gender_display(),
        "max_distance": _max_distance(referral),
        "avoid": ", ".join(m.name for m in referral.avoid_municipalities.all()),
        "activities": activity_names(referral.wished_activities.all()),
    }


def status_in_words(referral: Referral) -> str:
    """The status, with why it was closed or withdrawn, or that its match lost a volunteer."""
    said = referral.get_status_display()
    if referral.status == Status.WITHDRAWN and referral.withdrawal_reason:
        return f"{said}: {referral.get_withdrawal_reason_display().lower()}"
    if referral.status == Status.CLOSED and referral.closure_reason:
        return f"{said}: {referral.get_closure_reason_display().lower()}"
    needing = referral.matches.filter(status__in=Match.OPEN_STATUSES, needs_replacement=True)
    if needing.exists():
        return f"{said}: {_('needs a replacement volunteer')}"
    return said


def days_waited(referral: Referral, today: datetime.date) -> str:
    """How long the participant has waited for a volunteer, while they still wait."""
    if referral.status not in STILL_WAITING:
        return ""
    since = timezone.localdate(referral.waiting_since or referral.submitted_at)
    days = max(0, (today - since).days)
    return ngettext(
        "Has waited %(count)s day, since %(date)s.",
        "Has waited %(count)s days, since %(date)s.",
        days,
    ) % {"count": days, "date": _day(since)}


def consent_to_another_gender_possible(referral: Referral) -> bool:
    return bool(referral.volunteer_gender) and referral.status in CONSENT_STATUSES


def _home(referral: Referral) -> str:
    if referral.postal_code is None:
        return referral.municipality.name
    return (
        f"{referral.municipality.name} ({referral.postal_code.code} {referral.postal_code.place})"
    )


def _max_distance(referral: Referral) -> str:
    if referral.max_distance_km:
        return _("%(distance)s km") % {"distance": referral.max_distance_km}
    return _("the programme's default, %(distance)s km") % {
        "distance": referral.site.programme.default_max_distance_km
    }


def _day(day: datetime.date) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")
