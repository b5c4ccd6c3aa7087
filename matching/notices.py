"""E-mail about a match's lifecycle: who hears what when a match is approved, a referral is
withdrawn, a match ends, a volunteer leaves or asks to end, or a replacement joins. Messages
name the participant by alias only and never carry notes, reasons typed by people or places
beyond the municipality; everything is queued after the transaction commits
(``email_after_commit``)."""

from django.utils.translation import gettext as _

from matching.models import Match
from programmes.models import Referral
from programmes.notifications import email_after_commit, link_to


def _named(volunteer) -> str:
    """A volunteer as coordinators know them: full name and home municipality (several may share
    a first name, or a full name)."""
    if volunteer.home_postal_code is None:
        return str(volunteer)
    return f"{volunteer} ({volunteer.home_postal_code.municipality.name})"


def _volunteer_users(places) -> list:
    return [place.volunteer.user for place in places]


def _each_volunteer(places, subject: str, body: str) -> None:
    """One message per volunteer: volunteers never see each other's addresses."""
    for user in _volunteer_users(places):
        email_after_commit([user], subject, body)


def _coordinators(referral: Referral):
    return referral.site.coordinators.all()


def _centre_staff(referral: Referral):
    return referral.site.crisis_centre.staff.all()


def notify_match_approved(match: Match, places) -> None:
    """Each new volunteer gets their own message (never a shared To: line); the crisis centre
    hears its referral is matched."""
    referral = match.referral
    _each_volunteer(
        places,
        _("You have been matched in %s") % referral.site.programme,
        _(
            "A coordinator has matched you with a participant in %(municipality)s. "
            "Log in to Kobling to read and accept the agreement."
        )
        % {"municipality": referral.municipality.name},
    )
    email_after_commit(
        _centre_staff(referral),
        _("Referral %s is matched") % referral.alias,
        _(
            "Referral %(alias)s has been matched in %(programme)s. Please record the "
            "participant's consent to the agreement in Kobling."
        )
        % {"alias": referral.alias, "programme": referral.site.programme},
    )


def notify_referral_withdrawn(referral: Referral, places) -> None:
    """The volunteers who were matched and the coordinators hear it; no reason is passed on."""
    _each_volunteer(
        places,
        _("Your match %s has ended") % referral.alias,
        _(
            "The referral %(alias)s was withdrawn, so your match has ended. Please do not "
            "contact the participant. Your coordinator will be in touch if anything is needed."
        )
        % {"alias": referral.alias},
    )
    email_after_commit(
        _coordinators(referral),
        _("Referral %s was withdrawn") % referral.alias,
        _("The referral %(alias)s in %(programme)s was withdrawn.")
        % {"alias": referral.alias, "programme": referral.site.programme},
    )


def notify_match_ended(match: Match, places) -> None:
    referral = match.referral
    _each_volunteer(
        places,
        _("Your match %s has ended") % referral.alias,
        _(
            "Your coordinator has ended the match with %(alias)s (%(reason)s). Please do not "
            "contact the participant any more. Thank you for your time."
        )
        % {"alias": referral.alias, "reason": match.get_closure_reason_display().lower()},
    )
    email_after_commit(
        _centre_staff(referral),
        _("The match for %s has ended") % referral.alias,
        _("The match for %(alias)s has ended: %(reason)s.")
        % {"alias": referral.alias, "reason": match.get_closure_reason_display().lower()},
    )


def notify_volunteer_left(match: Match, leaving, remaining) -> None:
    """One of two volunteers left: the other volunteer, the centre and the coordinators hear that
    the family needs a replacement."""
    referral = match.referral
    _each_volunteer(
        remaining,
        _("%s needs a new volunteer") % referral.alias,
        _(
            "%(name)s is no longer part of the match with %(alias)s. You carry on; your "
            "coordinator is looking for a new volunteer to join you."
        )
        % {"name": str(leaving.volunteer), "alias": referral.alias},
    )
    email_after_commit(
        _coordinators(referral),
        _("%s needs a replacement volunteer") % referral.alias,
        _(
            "%(name)s is no longer part of the match with %(alias)s in %(programme)s. "
            "Find a replacement or end the match in Kobling: %(link)s"
        )
        % {
            "name": _named(leaving.volunteer),
            "alias": referral.alias,
            "programme": referral.site.programme,
            "link": link_to("coordinator_match", match.pk),
        },
    )
    email_after_commit(
        _centre_staff(referral),
        _("%s needs a replacement volunteer") % referral.alias,
        _(
            "%(name)s is no longer part of the match with %(alias)s in %(programme)s. "
            "The coordinator finds a replacement or ends the match in Kobling."
        )
        % {
            "name": str(leaving.volunteer),
            "alias": referral.alias,
            "programme": referral.site.programme,
        },
    )


def notify_end_requested(match: Match, place) -> None:
    referral = match.referral
    email_after_commit(
        _coordinators(referral),
        _("%s asks to end a match") % str(place.volunteer),
        _(
            "%(name)s asks to end the match with %(alias)s (%(reason)s). Confirm it in Kobling: "
            "end the match, or let the volunteer go and find a replacement: %(link)s"
        )
        % {
            "name": _named(place.volunteer),
            "alias": referral.alias,
            "reason": place.get_end_request_reason_display().lower(),
            "link": link_to("coordinator_match", match.pk),
        },
    )


def notify_ended_for_safety(match: Match, place, others) -> None:
    """A volunteer ended a match for safety reasons: it took effect at once; any other volunteer
    of the match must stop too, and the coordinators must follow up."""
    referral = match.referral
    _each_volunteer(
        others,
        _("Your match %s has ended") % referral.alias,
        _(
            "The match with %(alias)s has ended at once. Please do not contact the "
            "participant any more. Your coordinator will be in touch."
        )
        % {"alias": referral.alias},
    )
    email_after_commit(
        _coordinators(referral),
        _("Match %s ended for safety reasons") % referral.alias,
        _(
            "%(name)s ended the match with %(alias)s for safety reasons. It took effect at "
            "once and %(alias)s is back in the queue. Please get in touch with the volunteer and "
            "the crisis centre: %(link)s"
        )
        % {
            "name": _named(place.volunteer),
            "alias": referral.alias,
            "link": link_to("coordinator_match", match.pk),
        },
    )


def notify_check_in_needs_contact(check_in) -> None:
    """A volunteer's check-in answer asks for contact or says the match is not working: each of
    the site's coordinators hears at once, with a link to the match. Never the volunteer's note
    (it is read in Kobling) nor where the participant lives."""
    referral = check_in.match.referral
    name = check_in.answered_by
    if check_in.wants_contact:
        subject = _("%(name)s asks you to get in touch about %(alias)s")
        asks = _("%(name)s asks you to get in touch.")
    else:
        subject = _("%(name)s says the match for %(alias)s is not working")
        asks = _("%(name)s does not ask you to get in touch, but says it is not working.")
    words = {"name": name, "alias": referral.alias}
    email_after_commit(
        _coordinators(referral),
        subject % words,
        _(
            "%(name)s has answered the %(months)s-month check-in for %(alias)s in "
            "%(programme)s: “%(wellbeing)s”. %(asks)s\n"
            "Read the answer and mark it handled when you have followed it up: %(link)s"
        )
        % {
            **words,
            "months": check_in.months_after_start,
            "programme": referral.site.programme,
            "wellbeing": check_in.get_wellbeing_display(),
            "asks": asks % words,
            "link": link_to("coordinator_match", check_in.match_id),
        },
    )
