"""Check-ins: the short answers a volunteer gives 1, 3 and 6 months into an active match, and
the coordinator's follow-up of those that need it.

An answer *needs attention* when the volunteer asks the coordinator to get in touch or says the
match is not working; a check-in left unanswered past its due date needs attention too. The
coordinator marks it handled with a note on what they did, and it leaves the list. Asking for
contact, or saying it is not working, e-mails the site's coordinators at once."""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, F, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.roles import sites_coordinated_by, user_coordinates
from matching.lifecycle import MatchConflict
from matching.models import CheckIn, Match, MatchVolunteer
from matching.notices import notify_check_in_needs_contact
from programmes.validators import screened_text

NOTE_MAX_LENGTH = CheckIn._meta.get_field("note").max_length
HANDLED_NOTE_MAX_LENGTH = CheckIn._meta.get_field("handled_note").max_length
MEETINGS_MAX = 99
Wellbeing = CheckIn.Wellbeing

# Most urgent first. An explicit request for contact is a person asking for help, so it comes
# before "not working" without one; silence (an overdue check-in) comes last.
URGENCY = [
    ("contact_not_working", Q(wants_contact=True, wellbeing=Wellbeing.POOR)),
    ("contact_difficulties", Q(wants_contact=True, wellbeing=Wellbeing.MIXED)),
    ("contact", Q(wants_contact=True)),
    ("not_working", Q(wellbeing=Wellbeing.POOR)),
    ("overdue", Q(answered_at__isnull=True)),
]

ATTENTION_WORDS = {
    "contact_not_working": gettext_lazy("Asks you to get in touch: it is not working"),
    "contact_difficulties": gettext_lazy("Asks you to get in touch: there are some difficulties"),
    "contact": gettext_lazy("Asks you to get in touch"),
    "not_working": gettext_lazy("Says it is not working"),
}


def check_in_answer(
    check_in: CheckIn,
    *,
    by,
    meetings_held: int,
    wellbeing: str,
    wants_contact: bool = False,
    note: str = "",
) -> CheckIn:
    """Save a volunteer's answer once. Refused if the other volunteer of the pair (or this one,
    in another tab) answered first, or the match ended or the volunteer left meanwhile."""
    values = _answer_checked(meetings_held, wellbeing, note)
    with transaction.atomic():
        # The match first: an ending that committed meanwhile is seen, and waits for us if not.
        Match.objects.select_for_update().filter(pk=check_in.match_id).first()
        locked = CheckIn.objects.select_for_update().select_related("match").get(pk=check_in.pk)
        refusal = check_in_refusal(locked, by)
        if refusal:
            raise MatchConflict(refusal)
        locked.meetings_held, locked.wellbeing, locked.note = values
        locked.wants_contact = bool(wants_contact)
        locked.answered_at, locked.answered_by = timezone.now(), _place_of(locked, by).volunteer
        locked.save()
        if check_in_asks_for_contact(locked):
            notify_check_in_needs_contact(locked)
    return locked


def check_ins_reachable_by(user) -> QuerySet:
    """Due check-ins of every match the user is or was a volunteer in: those they may still
    answer, and those where the page says why not (answered, ended, left)."""
    return CheckIn.objects.filter(
        match__in=Match.objects.filter(volunteers__volunteer__user=user).values("pk"),
        due_on__lte=timezone.localdate(),
    ).select_related("match__referral")


def check_in_refusal(check_in: CheckIn, user) -> str:
    """Why this volunteer may not answer this check-in now, in words; "" if they may."""
    place = _place_of(check_in, user)
    if place.left_at is not None:
        return _("You are no longer part of this match, so it has no check-ins for you.")
    if check_in.answered_at is not None:
        return _("This check-in is already answered. Thank you all the same.")
    if check_in.match.status != Match.Status.ACTIVE:
        return _("The match has ended, so this check-in is no longer needed.")
    return ""


def _place_of(check_in: CheckIn, user) -> MatchVolunteer:
    place = check_in.match.volunteers.filter(volunteer__user=user).select_related("volunteer")
    if not place:
        raise PermissionDenied(_("Only a volunteer of this match answers its check-ins."))
    return place[0]


def _answer_checked(meetings_held, wellbeing, note) -> tuple[int, str, str]:
    if wellbeing not in Wellbeing.values:
        raise ValidationError({"wellbeing": _("Choose how it is going.")})
    if not isinstance(meetings_held, int) or not 0 <= meetings_held <= MEETINGS_MAX:
        raise ValidationError(
            {"meetings_held": _("Give a number from 0 to %(max)d.") % {"max": MEETINGS_MAX}}
        )
    return meetings_held, wellbeing, screened_text(note, "note", NOTE_MAX_LENGTH)


def check_in_asks_for_contact(check_in: CheckIn) -> bool:
    """An answer the coordinators hear about at once: contact asked for, or it is not working."""
    return check_in.wants_contact or check_in.wellbeing == Wellbeing.POOR


def check_in_mark_handled(check_in: CheckIn, *, by, note: str) -> CheckIn:
    """A coordinator of the match's site records what they did. Refused once it is handled
    (another coordinator got there first), and for a check-in that needs nothing yet."""
    note = screened_text(note, "note", HANDLED_NOTE_MAX_LENGTH)
    if not note:
        raise ValidationError({"note": _("Say what you did, for example “called the volunteer”.")})
    with transaction.atomic():
        locked = CheckIn.objects.select_for_update().get(pk=check_in.pk)
        site = locked.match.referral.site
        if not user_coordinates(by, site):
            raise PermissionDenied(_("Only the site's coordinators follow up its check-ins."))
        if check_in_is_handled(locked):
            raise MatchConflict(_handled_words(locked))
        if locked.answered_at is None and locked.due_on >= timezone.localdate():
            raise ValidationError(
                _("The volunteer still has time to answer, so there is nothing to follow up yet.")
            )
        locked.handled_at, locked.handled_by, locked.handled_note = timezone.now(), by, note
        locked.save(update_fields=["handled_at", "handled_by", "handled_note"])
    return locked


def check_in_is_handled(check_in: CheckIn) -> bool:
    """Handled after the latest news: an overdue check-in followed up and answered later, asking
    for contact, needs following up again."""
    if check_in.handled_at is None:
        return False
    return check_in.answered_at is None or check_in.handled_at >= check_in.answered_at


def check_in_needs_attention(check_in: CheckIn, today: datetime.date) -> bool:
    """One check-in by the rules of check_ins_needing_attention (site aside)."""
    if check_in_is_handled(check_in):
        return False
    if check_in.answered_at is not None:
        return check_in_asks_for_contact(check_in)
    return check_in.due_on < today and check_in.match.status == Match.Status.ACTIVE


def _handled_words(check_in: CheckIn) -> str:
    handler = check_in.handled_by
    assert handler is not None  # check_in_mark_handled sets handled_at and handled_by together
    return _("%(name)s already marked this check-in handled, %(when)s: “%(note)s”") % {
        "name": handler.get_full_name() or handler.get_username(),
        "when": date_format(timezone.localtime(check_in.handled_at), "SHORT_DATETIME_FORMAT"),
        "note": check_in.handled_note,
    }


def check_ins_with_people(check_ins: QuerySet) -> QuerySet:
    """Check-ins ready to show with their referral, who answered, who followed up and, for those
    still unanswered, the volunteers in the match now: a fixed number of queries for any list."""
    current = MatchVolunteer.objects.filter(left_at__isnull=True).select_related(
        "volunteer__user", "volunteer__home_postal_code__municipality"
    )
    return check_ins.select_related(
        "match__referral__site",
        "answered_by__user",
        "answered_by__home_postal_code__municipality",
        "handled_by",
    ).prefetch_related(Prefetch("match__volunteers", queryset=current, to_attr="current_places"))


def check_ins_coordinated_by(user) -> QuerySet:
    """Check-ins of the sites the user coordinates (every site's, for an admin)."""
    if not user.is_authenticated:
        return CheckIn.objects.none()
    return CheckIn.objects.filter(match__referral__site__in=sites_coordinated_by(user))


def check_ins_needing_attention(user, today: datetime.date) -> QuerySet:
    """Check-ins of the sites the user coordinates that ask for contact, say it is not working,
    or are overdue, and are not handled since; most urgent first, then the longest waiting."""
    answered = Q(answered_at__isnull=False) & (Q(wants_contact=True) | Q(wellbeing=Wellbeing.POOR))
    unhandled_answer = Q(handled_at__isnull=True) | Q(handled_at__lt=F("answered_at"))
    overdue = Q(
        answered_at__isnull=True,
        due_on__lt=today,
        match__status=Match.Status.ACTIVE,
        handled_at__isnull=True,
    )
    needing = check_ins_coordinated_by(user).filter(answered & unhandled_answer | overdue)
    urgency = Case(
        *(When(condition, then=Value(rank)) for rank, (_name, condition) in enumerate(URGENCY)),
        output_field=IntegerField(),
    )
    needing = needing.annotate(urgency=urgency).order_by("urgency", "answered_at", "due_on", "pk")
    return check_ins_with_people(needing)


def attention_words(check_in: CheckIn) -> str:
    """Why an answered check-in is on the list, in words ("" for an overdue one: the page says
    how many days)."""
    return str(ATTENTION_WORDS.get(URGENCY[check_in.urgency][0], ""))
