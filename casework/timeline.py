"""A referral's story for its page: every step from submission to the end, each as a small event
(when, a sentence, a link). Read from the referral, its runs, proposals, matches, agreements and
check-ins, and from the access log for who accepted, withdrew or changed it; the number of queries
does not grow with the number of events.

Who reads decides what a sentence names. A coordinator of the site sees volunteers by name and
municipality, linked, with the reasons and notes coordinators write. Crisis-centre staff see what
the agreement page shows them: the names of the volunteers in a match, never where they live,
who was only proposed or turned down, or what volunteers report in a check-in.
"""

import datetime
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db.models import Field, Prefetch, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import conditional_escape, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from casework.templatetags.casework import volunteer_link
from matching import reasons
from matching.models import (
    CheckIn,
    Match,
    MatchVolunteer,
    Proposal,
    ProposalPair,
    UnmatchedReferral,
)
from programmes.models import AuditLogEntry, Referral
from programmes.services import EDITABLE_FIELDS

Action = AuditLogEntry.Action
Status = Referral.Status
# Changes a crisis centre makes on the referral page or through the API.
EDITED_FIELDS = (*EDITABLE_FIELDS, "postal_code", "municipality", "avoid_municipalities")
# The access log writes the fields of one correction as one row per save; rows this close by the
# same person read as one change.
SAME_CHANGE = datetime.timedelta(minutes=1)


def _field_label(name: str) -> str:
    field = Referral._meta.get_field(name)
    assert isinstance(field, Field)  # EDITED_FIELDS are the referral's own fields, no relations
    return str(field.verbose_name)


@dataclass
class Event:
    """One thing that happened. ``sentence`` is safe HTML (names may be links); ``note`` is a
    person's own words, shown quoted; ``unmatched`` is the latest run's reason with its near
    misses, shown in full (matching/includes/waiting_reason.html)."""

    when: datetime.datetime
    sentence: SafeString
    link: str = ""
    link_text: str = ""
    note: str = ""
    all_day: bool = False
    unmatched: UnmatchedReferral | None = None


def referral_timeline(referral: Referral, *, coordinating: bool) -> list[Event]:
    """Everything that happened to the referral, newest first: the step people act on is at the
    top, however long the story."""
    story = _Story(referral, coordinating)
    events = [
        *story.submitted(),
        *story.status_changes(),
        *story.runs(),
        *story.proposals(),
        *story.matches(),
    ]
    order = {id(event): index for index, event in enumerate(events)}
    return sorted(events, key=lambda event: (event.when, order[id(event)]), reverse=True)


def _html(template: str, **parts) -> SafeString:
    """A translated sentence with its parts escaped (volunteer links are safe already)."""
    escaped = {name: conditional_escape(value) for name, value in parts.items()}
    return mark_safe(conditional_escape(template) % escaped)


def _person(user) -> str:
    return user.get_full_name() or user.username


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class _Story:
    """The rows behind one referral's timeline, each kind fetched once."""

    def __init__(self, referral: Referral, coordinating: bool):
        self.referral = referral
        self.coordinating = coordinating
        self.unmatched = self._unmatched_rows()
        self.proposal_rows = list(self._proposals())
        self.match_rows = list(self._matches())
        self._log_rows()

    # What is read -------------------------------------------------------------------------------

    def _unmatched_rows(self) -> list[UnmatchedReferral]:
        rows = (
            UnmatchedReferral.objects.filter(referral=self.referral)
            .select_related("run")
            .prefetch_related(reasons.near_misses_prefetch())
            .order_by("run__created_at", "pk")
        )
        explained = reasons.unmatched_explain(rows)
        for row in explained:
            row.referral = self.referral
        return explained

    def _proposals(self):
        pairs = ProposalPair.objects.select_related(
            "volunteer__user", "volunteer__home_postal_code__municipality"
        )
        return (
            Proposal.objects.filter(referral=self.referral)
            .select_related("run", "reviewed_by", "match__agreement", "replacement_for__agreement")
            .prefetch_related(Prefetch("pairs", queryset=pairs))
            .order_by("pk")
        )

    def _matches(self):
        places = MatchVolunteer.objects.select_related(
            "volunteer__user", "volunteer__home_postal_code__municipality"
        ).order_by("pk")
        check_ins = CheckIn.objects.select_related(
            "handled_by", "answered_by__user", "answered_by__home_postal_code__municipality"
        ).order_by("due_on")
        return (
            Match.objects.filter(referral=self.referral)
            .select_related(
                "approved_by", "agreement__consent_recorded_by", "agreement__countersigned_by"
            )
            .prefetch_related(
                Prefetch("volunteers", queryset=places), Prefetch("check_ins", queryset=check_ins)
            )
            .order_by("created_at")
        )

    def _log_rows(self) -> None:
        """From the access log: the referral's changes, oldest first, and each proposal's
        making (who proposed by hand, and when)."""
        referral_type = ContentType.objects.get_for_model(Referral)
        proposal_type = ContentType.objects.get_for_model(Proposal)
        rows = AuditLogEntry.objects.filter(
            Q(content_type=referral_type, object_id=self.referral.pk, action=Action.UPDATE)
            | Q(
                content_type=proposal_type,
                object_id__in=[proposal.pk for proposal in self.proposal_rows],
                action=Action.CREATE,
            )
        )
        rows = list(rows.select_related("actor").order_by("timestamp", "pk"))
        self.referral_log = [r for r in rows if r.content_type_id == referral_type.pk]
        self.proposal_made = {r.object_id: r for r in rows if r.content_type_id == proposal_type.pk}

    # Names ------------------------------------------------------------------------------------

    def volunteer(self, volunteer) -> str:
        if self.coordinating and volunteer.home_postal_code is not None:
            return volunteer_link(volunteer)
        return str(volunteer)

    def volunteers(self, volunteers) -> SafeString:
        return format_html_join(", ", "{}", ((self.volunteer(v),) for v in volunteers))

    def match_link(self, match: Match) -> tuple[str, str]:
        if self.coordinating:
            return reverse("coordinator_match", args=[match.pk]), _("The match")
        return reverse("agreement", args=[match.agreement.pk]), _("The agreement")

    def run_link(self, run) -> tuple[str, str]:
        if self.coordinating:
            return reverse("match_run", args=[run.pk]), _("The run")
        return "", ""

    # The referral itself --------------------------------------------------------------------------

    def submitted(self) -> list[Event]:
        referral = self.referral
        sentence = _html(
            _("Submitted by %(name)s, %(centre)s. The participant gave consent on %(date)s."),
            name=_person(referral.consent_recorded_by),
            centre=referral.site.crisis_centre.name,
            date=_day(referral.consent_given_on),
        )
        return [Event(referral.submitted_at, sentence)]

    def status_changes(self) -> list[Event]:
        """Accepted into the queue, back in the queue after a match, corrections, consent to
        another gender, withdrawn or closed: from the access log, which names who did it."""
        events, edits = [], []
        accepted = False
        for row in self.referral_log:
            changes = row.changes or {}
            before, after = (changes.get("status") or [None, None])[:2]
            by = _person(row.actor) if row.actor else None
            if before == Status.SUBMITTED and after == Status.WAITING:
                accepted = True
                events.append(Event(row.timestamp, _accepted(by)))
            elif after == Status.WAITING and before in (Status.MATCHED, Status.ACTIVE):
                events.append(
                    Event(row.timestamp, _html(_("Back in the queue for a new volunteer.")))
                )
            if set(changes) & set(EDITED_FIELDS):
                edits.append(row)
        events += self._edits(edits)
        if not accepted and not self.match_rows:
            events += self._accepted_without_log()
        events += self._any_gender_consent()
        events += self._ended()
        return events

    def _accepted_without_log(self) -> list[Event]:
        # A referral from before the access log recorded the step: its wait began then.
        since = self.referral.waiting_since
        if since is None or self.referral.status == Status.SUBMITTED:
            return []
        return [Event(since, _accepted(None))]

    def _edits(self, rows: list[AuditLogEntry]) -> list[Event]:
        groups: list[list[AuditLogEntry]] = []
        for row in rows:
            last = groups[-1][-1] if groups else None
            if (
                last
                and last.actor_id == row.actor_id
                and row.timestamp - last.timestamp < SAME_CHANGE
            ):
                groups[-1].append(row)
            else:
                groups.append([row])
        return [self._edit(group) for group in groups]

    def _edit(self, rows: list[AuditLogEntry]) -> Event:
        changed = [name for name in EDITED_FIELDS if any(name in (r.changes or {}) for r in rows)]
        labels = ", ".join(_field_label(name) for name in changed)
        actor = rows[0].actor
        if actor is None:
            sentence = _html(_("Changed: %(fields)s."), fields=labels)
        else:
            sentence = _html(
                _("Changed by %(name)s: %(fields)s."), name=_person(actor), fields=labels
            )
        return Event(rows[0].timestamp, sentence)

    def _any_gender_consent(self) -> list[Event]:
        referral = self.referral
        if referral.any_gender_consent_on is None:
            return []
        rows = [r for r in self.referral_log if "any_gender_consent_on" in (r.changes or {})]
        when = rows[-1].timestamp if rows else _start_of(referral.any_gender_consent_on)
        by = referral.any_gender_consent_recorded_by
        if by is None:
            sentence = _html(
                _("The participant accepts a volunteer of another gender than wished.")
            )
        else:
            sentence = _html(
                _(
                    "%(name)s recorded that the participant accepts a volunteer of another "
                    "gender than wished."
                ),
                name=_person(by),
            )
        return [Event(when, sentence, all_day=not rows)]

    def _ended(self) -> list[Event]:
        referral = self.referral
        if referral.status not in (Status.WITHDRAWN, Status.CLOSED):
            return []
        rows = [
            r
            for r in self.referral_log
            if (r.changes or {}).get("status", [None, None])[1] == referral.status
        ]
        when = rows[-1].timestamp if rows else referral.status_changed_at
        actor = rows[-1].actor if rows else None
        if referral.status == Status.CLOSED:
            sentence = _html(
                _("The referral is closed: %(reason)s."),
                reason=referral.get_closure_reason_display().lower(),
            )
            return [Event(when, sentence)]
        reason = referral.get_withdrawal_reason_display().lower()
        if actor is None:
            sentence = _html(_("The referral was withdrawn: %(reason)s."), reason=reason)
        else:
            sentence = _html(
                _("%(name)s withdrew the referral: %(reason)s."), name=_person(actor), reason=reason
            )
        return [Event(when, sentence, note=referral.withdrawal_note)]

    def proposed_at(self, proposal: Proposal) -> datetime.datetime:
        """When a proposal was made: the log's record of it, else when its run ended."""
        made = self.proposal_made.get(proposal.pk)
        return made.timestamp if made is not None else _run_time(proposal.run)

    # Runs and proposals -------------------------------------------------------------------------

    def runs(self) -> list[Event]:
        """Each run that found nobody, with its reason; the latest one in full (near misses and
        proposing by hand) for a coordinator while the referral still waits."""
        events = []
        for row in self.unmatched:
            link, text = self.run_link(row.run)
            sentence = _html(
                _("A match run found nobody to propose. %(reason)s"), reason=row.explanation
            )
            events.append(Event(_run_time(row.run), sentence, link, text))
        latest = self.unmatched[-1] if self.unmatched else None
        if latest is not None and self.coordinating and self._still_waits_after(latest):
            events[-1].unmatched = latest
            events[-1].sentence = _html(_("A match run found nobody to propose."))
        return events

    def _still_waits_after(self, row: UnmatchedReferral) -> bool:
        later = [p for p in self.proposal_rows if self.proposed_at(p) > _run_time(row.run)]
        return self.referral.status == Status.WAITING and not later

    def proposals(self) -> list[Event]:
        events = []
        for proposal in self.proposal_rows:
            events.append(self._proposed(proposal))
            reviewed = self._reviewed(proposal)
            if reviewed is not None:
                events.append(reviewed)
        return events

    def _proposed(self, proposal: Proposal) -> Event:
        volunteers = [pair.volunteer for pair in proposal.pairs.all()]
        link, text = self.run_link(proposal.run)
        when = self.proposed_at(proposal)
        if not self.coordinating:
            return Event(when, _proposed_for_staff(proposal, len(volunteers)))
        names = self.volunteers(volunteers)
        if proposal.made_by_hand:
            made = self.proposal_made.get(proposal.pk)
            creator = made.actor if made is not None else None
            sentence = _html(
                _("%(name)s proposed %(volunteers)s by hand."),
                name=_person(creator) if creator else _("A coordinator"),
                volunteers=names,
            )
            return Event(when, sentence, link, text, note=proposal.hand_reason)
        if proposal.replacement_for_id:
            template = _("A match run proposed %(volunteers)s to replace a volunteer who left.")
        else:
            template = _("A match run proposed %(volunteers)s.")
        return Event(when, _html(template, volunteers=names), link, text)

    def _reviewed(self, proposal: Proposal) -> Event | None:
        if proposal.reviewed_at is None:
            return None
        by = _person(proposal.reviewed_by) if proposal.reviewed_by else _("A coordinator")
        if proposal.status == Proposal.Status.APPROVED:
            return self._approved(proposal, by)
        if proposal.status == Proposal.Status.REJECTED:
            if not self.coordinating:
                return Event(
                    proposal.reviewed_at, _html(_("The coordinator turned the proposal down."))
                )
            names = self.volunteers(pair.volunteer for pair in proposal.pairs.all())
            sentence = _html(
                _("%(name)s turned down the proposal of %(volunteers)s."), name=by, volunteers=names
            )
            return Event(proposal.reviewed_at, sentence, note=proposal.rejection_reason)
        if proposal.status == Proposal.Status.WITHDRAWN:
            return Event(proposal.reviewed_at, _html(_("The proposal was withdrawn.")))
        return None

    def _approved(self, proposal: Proposal, by: str) -> Event:
        assert proposal.reviewed_at is not None  # _reviewed asks only for reviewed proposals
        names = self.volunteers(pair.volunteer for pair in proposal.pairs.all())
        match = proposal.replacement_for or getattr(proposal, "match", None)
        link, text = self.match_link(match) if match else ("", "")
        if proposal.replacement_for_id:
            template = _("%(name)s approved %(volunteers)s to join the match.")
        else:
            template = _("%(name)s approved the match with %(volunteers)s.")
        return Event(proposal.reviewed_at, _html(template, name=by, volunteers=names), link, text)

    # Matches, agreements and check-ins ------------------------------------------------------------

    def matches(self) -> list[Event]:
        events = []
        for match in self.match_rows:
            link, text = self.match_link(match)
            of_match = [
                *self._signatures(match),
                *self._places(match),
                *self._check_ins(match),
                *self._match_ended(match),
            ]
            for event in of_match:
                event.link, event.link_text = link, text
            events += of_match
        return events

    def _signatures(self, match: Match) -> list[Event]:
        agreement = getattr(match, "agreement", None)
        if agreement is None:
            return []
        events = []
        if agreement.consent_recorded_at:
            sentence = _signed(
                _("%(name)s recorded the participant's consent to the agreement."),
                _("The participant's consent to the agreement was recorded."),
                agreement.consent_recorded_by,
            )
            events.append(Event(agreement.consent_recorded_at, sentence))
        for place in match.volunteers.all():
            if place.accepted_at:
                sentence = _html(
                    _("%(volunteer)s accepted the agreement."),
                    volunteer=self.volunteer(place.volunteer),
                )
                events.append(Event(place.accepted_at, sentence))
        if agreement.countersigned_at:
            sentence = _signed(
                _("%(name)s countersigned the agreement, and the match is active."),
                _("The agreement was countersigned, and the match is active."),
                agreement.countersigned_by,
            )
            events.append(Event(agreement.countersigned_at, sentence))
        return events

    def _places(self, match: Match) -> list[Event]:
        events = []
        for place in match.volunteers.all():
            who = self.volunteer(place.volunteer)
            if place.end_requested_at and self.coordinating:
                sentence = _html(
                    _("%(volunteer)s asked to end their part: %(reason)s."),
                    volunteer=who,
                    reason=place.get_end_request_reason_display().lower(),
                )
                events.append(Event(place.end_requested_at, sentence, note=place.end_request_note))
            if place.left_at:
                events.append(self._left(place, who))
        return events

    def _left(self, place: MatchVolunteer, who: str) -> Event:
        assert place.left_at is not None  # asked only for a place that was left
        if place.left_reason == Match.EndReason.DECLINED:
            sentence = _html(_("%(volunteer)s declined the agreement."), volunteer=who)
        else:
            sentence = _html(
                _("%(volunteer)s left the match: %(reason)s."),
                volunteer=who,
                reason=place.get_left_reason_display().lower(),
            )
        return Event(place.left_at, sentence, note=place.left_note if self.coordinating else "")

    def _check_ins(self, match: Match) -> list[Event]:
        events = []
        today = timezone.localdate()
        for check_in in match.check_ins.all():
            months = check_in.months_after_start
            if check_in.answered_at:
                events.append(self._answered(check_in))
            elif match.status == Match.Status.ACTIVE and check_in.due_on < today:
                sentence = _html(
                    ngettext(
                        "The check-in after %(months)s month, due %(date)s, is not answered.",
                        "The check-in after %(months)s months, due %(date)s, is not answered.",
                        months,
                    ),
                    months=months,
                    date=_day(check_in.due_on),
                )
                events.append(Event(_start_of(check_in.due_on), sentence, all_day=True))
            if check_in.handled_at and self.coordinating:
                sentence = _signed(
                    _("%(name)s followed up the check-in."),
                    _("A coordinator followed up the check-in."),
                    check_in.handled_by,
                )
                events.append(Event(check_in.handled_at, sentence, note=check_in.handled_note))
        return events

    def _answered(self, check_in: CheckIn) -> Event:
        assert check_in.answered_at is not None  # asked only for an answered check-in
        months = check_in.months_after_start
        said = ngettext(
            "The check-in after %(months)s month is answered.",
            "The check-in after %(months)s months is answered.",
            months,
        ) % {"months": months}
        if self.coordinating and check_in.answered_by is not None:
            said = ngettext(
                "%(volunteer)s answered the check-in after %(months)s month.",
                "%(volunteer)s answered the check-in after %(months)s months.",
                months,
            )
            said = _html(said, volunteer=self.volunteer(check_in.answered_by), months=months)
        if not self.coordinating:
            return Event(check_in.answered_at, conditional_escape(said))
        parts = [said, f"{check_in.get_wellbeing_display()}."]
        if check_in.meetings_held is not None:
            parts.append(
                ngettext(
                    "%(count)s meeting since the last check-in.",
                    "%(count)s meetings since the last check-in.",
                    check_in.meetings_held,
                )
                % {"count": check_in.meetings_held}
            )
        if check_in.wants_contact:
            parts.append(_("The volunteer asks the coordinator to get in touch."))
        sentence = mark_safe(" ".join(conditional_escape(part) for part in parts))
        return Event(check_in.answered_at, sentence, note=check_in.note)

    def _match_ended(self, match: Match) -> list[Event]:
        if match.ended_at is None:
            return []
        sentence = _html(
            _("The match ended: %(reason)s."), reason=match.get_closure_reason_display().lower()
        )
        return [Event(match.ended_at, sentence, note=match.end_reason if self.coordinating else "")]


def _day(day: datetime.date) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")


def _accepted(by: str | None) -> SafeString:
    if by is None:
        return _html(_("Accepted into the queue of those waiting for a volunteer."))
    return _html(
        _("%(name)s accepted it into the queue of those waiting for a volunteer."), name=by
    )


def _signed(with_name: str, without_name: str, user) -> SafeString:
    return _html(with_name, name=_person(user)) if user else _html(without_name)


def _run_time(run) -> datetime.datetime:
    return run.finished_at or run.started_at or run.created_at


def _proposed_for_staff(proposal: Proposal, count: int) -> SafeString:
    if proposal.replacement_for_id:
        return _html(_("A volunteer was proposed to replace one who left."))
    return _html(
        ngettext(
            "A volunteer was proposed; the coordinator reviews the proposal.",
            "%(count)s volunteers were proposed; the coordinator reviews the proposal.",
            count,
        ),
        count=count,
    )
