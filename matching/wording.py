"""Where a match, its agreement and each volunteer's place stand, in the sentences the portal
shows: never a status code, and people by their names."""

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from matching import lifecycle
from matching.models import Match, MatchVolunteer


def _day(moment) -> str:
    return date_format(timezone.localtime(moment), "SHORT_DATE_FORMAT")


def _names(places) -> str:
    return ", ".join(str(place.volunteer) for place in places)


def match_state(match: Match) -> list[str]:
    """A match's state as sentences, the most important first: ended and why; awaiting whom;
    active since when, and whom it still waits for; whether it needs a replacement volunteer."""
    if not match.is_open:
        return [_ended(match)]
    lines = [_("Needs a replacement volunteer.")] if match.needs_replacement else []
    agreement = match.agreement
    if match.status == Match.Status.ACTIVE:
        since = agreement.activated_at
        lines.append(_("Active since %s.") % _day(since) if since else _("Active."))
        joining = [p for p in _current_places(match) if p.accepted_at is None]
        if joining:
            lines.append(_("Waiting for %s to accept the agreement.") % _names(joining))
        return lines
    waiting = lifecycle.agreement_waiting_for(agreement)
    if waiting:
        lines.append(_("Awaiting: %s.") % "; ".join(waiting))
    else:
        lines.append(_("Everyone else has signed: waiting for the coordinator to countersign."))
    return lines


def _ended(match: Match) -> str:
    reason = match.get_closure_reason_display()
    if match.ended_at is None:
        return _("Ended. Reason: %s.") % reason if reason else _("Ended.")
    if not reason:
        return _("Ended on %s.") % _day(match.ended_at)
    return _("Ended on %(date)s. Reason: %(reason)s.") % {
        "date": _day(match.ended_at),
        "reason": reason,
    }


def _current_places(match: Match) -> list[MatchVolunteer]:
    return [place for place in match.volunteers.all() if place.is_current]


def place_signature(place: MatchVolunteer) -> str:
    """One volunteer's line in the agreement's list of signatures."""
    if not place.is_current:
        said = place.get_left_reason_display()
        if place.accepted_at:
            return _("accepted %(accepted)s, left on %(date)s: %(reason)s") % {
                "accepted": _day(place.accepted_at),
                "date": _day(place.left_at),
                "reason": said,
            }
        return _("left on %(date)s: %(reason)s") % {"date": _day(place.left_at), "reason": said}
    if place.accepted_at:
        return _("accepted %s") % _day(place.accepted_at)
    return _("not yet accepted")


def own_part(match: Match, place: MatchVolunteer | None) -> str:
    """What a volunteer sees of a match they are, or were, part of."""
    if place is not None and not place.is_current:
        return _("You left this match on %s.") % _day(place.left_at)
    if not match.is_open:
        if match.ended_at is None:
            return _("This match has ended.")
        return _("This match ended on %s.") % _day(match.ended_at)
    if match.needs_replacement:
        return _("%(status)s, needs a replacement volunteer") % {
            "status": match.get_status_display()
        }
    return match.get_status_display()
