"""The joint lifecycle of a referral, its proposals, its match with the agreement, and the
volunteers' capacity. Every change of their states — from the portal, the API, the back office
and the daily tasks — goes through a function here, so the rules below hold after every step.

Referral (``REFERRAL_STEPS``: each action, the statuses it starts from, where it goes)::

    submitted ─accept→ waiting ─propose (a run)→ proposed ─approve→ matched ─countersign→ active
    proposed ─reject→ waiting
    matched, active ─end and find someone new / last volunteer leaves→ waiting
    matched, active ─end and close→ closed          active ─agreement period over→ closed
    submitted, waiting, proposed, matched, active ─withdraw→ withdrawn
    closed and withdrawn are final.

Proposal: pending → approved | rejected | withdrawn (its referral was withdrawn, or the match a
replacement was proposed for ended). Match: awaiting_agreement → active → closed, or
awaiting_agreement → declined (its last volunteer declined) | closed. A volunteer's place in a
match (MatchVolunteer) is *current* until they decline or leave; it stays as the record of who
signed and who left.

Invariants (tests/matching/lifecycle_invariants.py checks each; the state-machine test in
tests/matching/test_lifecycle_machine.py calls it after every step):

1. A volunteer's ``commitments`` is the number of their current places in open matches, and
   commitments plus their places in pending proposals never exceed their capacity.
2. A referral has at most one open match and at most one pending proposal.
3. A referral is ``proposed`` exactly when it has a pending proposal for a new match, ``matched``
   exactly when its open match awaits the agreement and ``active`` exactly when its match is
   active; in every other status it has no open match and no pending proposal.
4. A match needs a replacement exactly when it is open with fewer current places than its
   programme's volunteers per referral; a pending replacement proposal exists only for such a
   match.
5. An active match's agreement has the crisis centre's consent and the coordinator's
   countersignature, and the countersignature came last: after the consent and after every
   volunteer then in the match had accepted.
6. A volunteer sees more of the participant than the alias only while their place is current in
   an open match (``matching.selectors.participant_view_for``).

Locks are taken in one order — referral, proposal, match, volunteers by id — so two people acting
on the same case wait for each other instead of deadlocking. A step that no longer fits the
current state raises ``MatchConflict`` (HTTP 409) or ``ValidationError`` on ``status`` (400), in
words.
"""

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.roles import user_coordinates
from core.exceptions import StateConflict
from matching import notices
from matching.agreements import (
    agreement_create,
    agreement_ends_on,
    check_ins_schedule,
    vetting_running_out_during_agreement,
)
from matching.models import Agreement, Match, MatchVolunteer, Proposal, RejectedPair
from programmes.audit import objects_log_created, queryset_update_logged
from programmes.models import ProgrammeSite, Referral
from programmes.validators import screened_text
from volunteers.models import Volunteer

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class MatchConflict(StateConflict):
    """A match, proposal or referral moved on before this action could."""


Status = Referral.Status
OPEN_REFERRAL = frozenset(
    {Status.SUBMITTED, Status.WAITING, Status.PROPOSED, Status.MATCHED, Status.ACTIVE}
)

# action: (statuses it may start from, status it leads to, what to say when it may not)
REFERRAL_STEPS: dict[str, tuple[frozenset, str, "StrOrPromise"]] = {
    "accept": (
        frozenset({Status.SUBMITTED}),
        Status.WAITING,
        gettext_lazy("Only a submitted referral can be accepted into the queue."),
    ),
    "propose": (frozenset({Status.WAITING}), Status.PROPOSED, ""),
    "approve": (
        frozenset({Status.PROPOSED}),
        Status.MATCHED,
        gettext_lazy("Only a referral with a proposal can be matched."),
    ),
    "reject": (frozenset({Status.PROPOSED}), Status.WAITING, ""),
    "activate": (
        frozenset({Status.MATCHED}),
        Status.ACTIVE,
        gettext_lazy("Only a matched referral can become active."),
    ),
    "requeue": (
        frozenset({Status.MATCHED, Status.ACTIVE}),
        Status.WAITING,
        gettext_lazy("Only a matched or active referral can go back to the queue."),
    ),
    "close": (
        frozenset({Status.MATCHED, Status.ACTIVE}),
        Status.CLOSED,
        gettext_lazy("Only a matched or active referral can be closed."),
    ),
    "withdraw": (
        OPEN_REFERRAL,
        Status.WITHDRAWN,
        gettext_lazy("A closed or withdrawn referral cannot be withdrawn."),
    ),
}


def referral_transitions() -> dict[str, set[str]]:
    """Every status a referral may move to from each status, as the steps above allow."""
    table: dict[str, set[str]] = {status: set() for status in Status.values}
    for starts, to, _refusal in REFERRAL_STEPS.values():
        for status in starts:
            table[status].add(to)
    return table


PROPOSAL_TRANSITIONS = {
    Proposal.Status.PENDING: {
        Proposal.Status.APPROVED,
        Proposal.Status.REJECTED,
        Proposal.Status.WITHDRAWN,
    },
    Proposal.Status.APPROVED: set(),
    Proposal.Status.REJECTED: set(),
    Proposal.Status.WITHDRAWN: set(),
}
# Keyed by the statuses as stored: plain text, equal to the members.
MATCH_TRANSITIONS: dict[str, set[str]] = {
    Match.Status.AWAITING_AGREEMENT: {
        Match.Status.ACTIVE,
        Match.Status.DECLINED,
        Match.Status.CLOSED,
    },
    Match.Status.ACTIVE: {Match.Status.CLOSED},
    Match.Status.DECLINED: set(),
    Match.Status.CLOSED: set(),
}
EndReason = Match.EndReason
# What a coordinator, or a volunteer asking to end, may give as the reason.
END_REASONS = (
    EndReason.PARTICIPANT_ENDED,
    EndReason.VOLUNTEER_ENDED,
    EndReason.MOVED,
    EndReason.SAFETY,
    EndReason.OTHER,
)


# Who may act ---------------------------------------------------------------------------------


def _is_centre_staff(user, site: ProgrammeSite) -> bool:
    return site.crisis_centre.staff.filter(pk=user.pk).exists()


def _require_coordinator(user, site: ProgrammeSite) -> None:
    if not user_coordinates(user, site):
        raise PermissionDenied(_("Only a coordinator of this programme site may do that."))


# Referrals ------------------------------------------------------------------------------------


def _locked_referral(referral_id: int) -> Referral:
    return (
        Referral.objects.select_for_update(of=("self",))
        .select_related("site__programme", "site__crisis_centre", "municipality")
        .get(pk=referral_id)
    )


def _referral_step(referral: Referral, action: str, **fields) -> Referral:
    """Move a locked referral by one of REFERRAL_STEPS, refusing in words what it does not allow."""
    starts, to, refusal = REFERRAL_STEPS[action]
    if referral.status not in starts:
        raise ValidationError(
            {
                "status": _("%(alias)s is “%(status)s”. %(refusal)s")
                % {
                    "alias": referral.alias,
                    "status": referral.get_status_display().lower(),
                    "refusal": refusal,
                }
            }
        )
    now = timezone.now()
    referral.status, referral.status_changed_at = to, now
    changed = ["status", "status_changed_at", *fields]
    for name, value in fields.items():
        setattr(referral, name, value)
    if to == Status.WAITING and (referral.waiting_since is None or action == "requeue"):
        # Back in the queue after a match: the wait starts again, and so does the alert.
        referral.waiting_since, referral.long_wait_flagged_on = now, None
        changed += ["waiting_since", "long_wait_flagged_on"]
    referral.save(update_fields=changed)
    return referral


def referral_accept(referral: Referral, *, by) -> Referral:
    """A coordinator takes a submitted referral into the queue of those waiting for a volunteer."""
    with transaction.atomic():
        locked = _locked_referral(referral.pk)
        _require_coordinator(by, locked.site)
        return _referral_step(locked, "accept")


def _withdrawal_checked(reason: str, note: str) -> str:
    if reason not in Referral.WithdrawalReason.values:
        raise ValidationError({"reason": _("Choose why the referral is withdrawn.")})
    return _note_checked(note, 280)


def referral_withdraw(referral: Referral, *, by, reason: str, note: str = "") -> Referral:
    """Crisis-centre staff or a coordinator withdraw a referral from any open state. Pending
    proposals are withdrawn and free their volunteers; an open match ends at once, so its
    volunteers lose sight of the participant; they and the coordinators are told."""
    note = _withdrawal_checked(reason, note)
    with transaction.atomic():
        locked = _locked_referral(referral.pk)
        if not (_is_centre_staff(by, locked.site) or user_coordinates(by, locked.site)):
            raise PermissionDenied(
                _("Only the referring crisis centre or the site's coordinator may withdraw it.")
            )
        _referral_step(locked, "withdraw", withdrawal_reason=reason, withdrawal_note=note)
        _proposals_withdraw(Proposal.objects.filter(referral=locked), by)
        match = _locked_open_match_of(locked)
        places = []
        if match is not None:
            places = _current_places(match)
            _match_end(match, EndReason.WITHDRAWN)
        notices.notify_referral_withdrawn(locked, places)
    return locked


def referrals_lock_waiting(referral_ids: list[int]) -> set[int]:
    """Lock the referrals a run would propose for and return those still waiting (one withdrawn
    meanwhile is left alone)."""
    starts, _to, _refusal = REFERRAL_STEPS["propose"]
    waiting = Referral.objects.select_for_update().filter(pk__in=referral_ids, status__in=starts)
    return set(waiting.order_by("pk").values_list("pk", flat=True))


def referrals_propose(referral_ids: list[int]) -> set[int]:
    """A run's proposals: move the referrals still waiting to proposed, in one locked update,
    and return their ids."""
    moved = referrals_lock_waiting(referral_ids)
    _starts, to, _refusal = REFERRAL_STEPS["propose"]
    queryset_update_logged(
        Referral.objects.filter(pk__in=moved), status=to, status_changed_at=timezone.now()
    )
    return moved


# Proposals ------------------------------------------------------------------------------------


def _locked_pending(proposal: Proposal) -> Proposal:
    locked = Proposal.objects.select_for_update(of=("self",)).get(pk=proposal.pk)
    if locked.status != Proposal.Status.PENDING:
        raise MatchConflict(
            _("This proposal was already %s.") % locked.get_status_display().lower()
        )
    return locked


def _proposals_withdraw(proposals, by) -> None:
    pending = proposals.select_for_update().filter(status=Proposal.Status.PENDING)
    queryset_update_logged(
        Proposal.objects.filter(pk__in=list(pending.values_list("pk", flat=True))),
        status=Proposal.Status.WITHDRAWN,
        reviewed_by=by,
        reviewed_at=timezone.now(),
    )


def _mark_reviewed(proposal: Proposal, status: str, by, reason: str = "") -> None:
    proposal.status, proposal.reviewed_by, proposal.reviewed_at = status, by, timezone.now()
    proposal.rejection_reason = reason
    proposal.save(update_fields=["status", "reviewed_by", "reviewed_at", "rejection_reason"])


def proposal_approve(proposal: Proposal, *, by, acknowledge_vetting_expiry: bool = False) -> Match:
    """Approve a proposal. Its volunteers commit capacity (row-locked; a database constraint
    forbids going over it). A proposal for a new match matches the referral and draws up the
    agreement; a replacement joins the match that lost a volunteer. If a volunteer's vetting runs
    out before the agreement would end, the coordinator must say they know."""
    with transaction.atomic():
        referral = _locked_referral(proposal.referral_id)
        _require_coordinator(by, referral.site)
        locked = _locked_pending(proposal)
        volunteer_ids = list(locked.pairs.values_list("volunteer_id", flat=True))
        _require_vetting_acknowledged(referral, volunteer_ids, acknowledge_vetting_expiry)
        if locked.replacement_for_id:
            match = _locked_match(locked.replacement_for_id)
            _require_needs_replacement(match)
        else:
            match = None
        _commit_capacity(volunteer_ids)
        if match is None:
            _referral_step(referral, "approve")
            match = Match.objects.create(referral=referral, proposal=locked, approved_by=by)
            agreement_create(match)
        places = MatchVolunteer.objects.bulk_create(
            MatchVolunteer(match=match, volunteer_id=v) for v in volunteer_ids
        )
        objects_log_created(places)
        _replacement_need_update(match)
        _mark_reviewed(locked, Proposal.Status.APPROVED, by)
        if acknowledge_vetting_expiry:
            locked.vetting_expiry_acknowledged_at = timezone.now()
            locked.save(update_fields=["vetting_expiry_acknowledged_at"])
        notices.notify_match_approved(match, _with_users(places))
    return match


def _with_users(places) -> list[MatchVolunteer]:
    ids = [place.pk for place in places]
    return list(MatchVolunteer.objects.filter(pk__in=ids).select_related("volunteer__user"))


def _require_vetting_acknowledged(referral: Referral, volunteer_ids, acknowledged: bool) -> None:
    programme = referral.site.programme
    today = timezone.localdate()
    expiring = vetting_running_out_during_agreement(programme, volunteer_ids, today)
    if not expiring or acknowledged:
        return
    ends_on = agreement_ends_on(programme, today)
    names = {v.pk: str(v) for v in Volunteer.objects.filter(pk__in=expiring).select_related("user")}
    raise ValidationError(
        {
            "acknowledge_vetting_expiry": [
                _(
                    "The vetting of %(name)s runs out on %(date)s, before the agreement would "
                    "end on %(end)s. Confirm that you know and will follow up the renewal."
                )
                % {
                    "name": names.get(volunteer_id) or _("a volunteer"),
                    "date": date_format(day, "SHORT_DATE_FORMAT"),
                    "end": date_format(ends_on, "SHORT_DATE_FORMAT"),
                }
                for volunteer_id, day in sorted(expiring.items())
            ]
        }
    )


def proposals_approve(proposals, *, by) -> tuple[list[Proposal], list[tuple[Proposal, str]]]:
    """Approve several proposals, as a coordinator does with the rows ticked on a run page.
    Each is approved in its own transaction, so one that can no longer be approved (its referral
    was withdrawn meanwhile, a volunteer is no longer free) is left as it was while the others
    are approved; it is returned with why, in words. None is approved with a volunteer's vetting
    running out unacknowledged: that needs the coordinator's word on the proposal itself."""
    approved, refused = [], []
    for proposal in proposals:
        try:
            proposal_approve(proposal, by=by)
        except (MatchConflict, ValidationError, PermissionDenied) as error:
            refused.append((proposal, review_refused_because(proposal, error)))
        else:
            approved.append(proposal)
    return approved, refused


def approvals_in_words(approved, refused) -> list[tuple[bool, str]]:
    """What ``proposals_approve`` did, as the coordinator is told it: (approved?, words)."""
    said = []
    if approved:
        aliases = ", ".join(proposal.referral.alias for proposal in approved)
        count = ngettext(
            "%(count)s proposal approved: %(aliases)s.",
            "%(count)s proposals approved: %(aliases)s.",
            len(approved),
        )
        said.append((True, count % {"count": len(approved), "aliases": aliases}))
    elif refused:
        said.append((False, _("None of the selected proposals could be approved.")))
    for proposal, why in refused:
        not_approved = _("%(alias)s was not approved. %(why)s")
        said.append((False, not_approved % {"alias": proposal.referral.alias, "why": why}))
    return said


def review_refused_because(proposal: Proposal, error: Exception) -> str:
    """Why approving or rejecting ``proposal`` was refused, told from what changed since the
    proposal was made: the referral withdrawn, the match ended, another coordinator first."""
    now = Proposal.objects.select_related("referral").get(pk=proposal.pk)
    referral = now.referral
    if now.status == Proposal.Status.WITHDRAWN and referral.status == Status.WITHDRAWN:
        if referral.withdrawal_reason:
            return _("The referral was withdrawn in the meantime: %s.") % (
                referral.get_withdrawal_reason_display().lower()
            )
        return _("The referral was withdrawn in the meantime.")
    if now.status == Proposal.Status.WITHDRAWN and now.replacement_for_id:
        return _("The match it was proposed for has ended in the meantime.")
    if isinstance(error, MatchConflict) and now.status != Proposal.Status.PENDING:
        return _("Someone else got there first: %s") % error
    if not isinstance(error, ValidationError):
        return str(error)
    said = " ".join(error.messages)
    if "acknowledge_vetting_expiry" in getattr(error, "error_dict", {}):
        there = _("Confirm it in the proposal's own row and approve it there.")
        return f"{said} {there}"
    return said


def proposal_reject(proposal: Proposal, *, by, reason: str) -> Proposal:
    """Reject with a reason: none of the pairs is proposed again. A new-match proposal's referral
    waits again; a match that needed a replacement still needs one."""
    reason = screened_text(reason, "reason", 300)
    if not reason:
        raise ValidationError({"reason": _("Say why the proposal is rejected.")})
    with transaction.atomic():
        referral = _locked_referral(proposal.referral_id)
        _require_coordinator(by, referral.site)
        locked = _locked_pending(proposal)
        RejectedPair.objects.bulk_create(
            [
                RejectedPair(referral=referral, volunteer_id=v, rejected_by=by, reason=reason)
                for v in locked.pairs.values_list("volunteer_id", flat=True)
            ],
            ignore_conflicts=True,
        )
        _mark_reviewed(locked, Proposal.Status.REJECTED, by, reason)
        if not locked.replacement_for_id:
            _referral_step(referral, "reject")
    return locked


# Capacity -------------------------------------------------------------------------------------


def _commit_capacity(volunteer_ids: list[int]) -> None:
    # Lock in a fixed order so two approvals sharing volunteers cannot deadlock.
    volunteers = Volunteer.objects.select_for_update().filter(pk__in=volunteer_ids).order_by("pk")
    for volunteer in volunteers:
        if volunteer.status != Volunteer.Status.ACTIVE:
            raise MatchConflict(_("%s is no longer active.") % volunteer)
        if volunteer.commitments >= volunteer.capacity:
            raise MatchConflict(_("%s has no free capacity any more.") % volunteer)
    try:
        with transaction.atomic():
            committing = Volunteer.objects.filter(pk__in=volunteer_ids)
            queryset_update_logged(committing, commitments=F("commitments") + 1)
    except IntegrityError as error:
        raise MatchConflict(_("A volunteer has no free capacity any more.")) from error


def _capacity_release(volunteer_ids: list[int]) -> None:
    if not volunteer_ids:
        return
    locked = Volunteer.objects.select_for_update().filter(pk__in=volunteer_ids).order_by("pk")
    ids = list(locked.values_list("pk", flat=True))
    queryset_update_logged(
        Volunteer.objects.filter(pk__in=ids, commitments__gt=0),
        commitments=F("commitments") - 1,
    )


# Matches and their agreements -----------------------------------------------------------------


def _locked_match(match_id: int) -> Match:
    return (
        Match.objects.select_for_update(of=("self",))
        .select_related("referral__site__programme", "agreement")
        .get(pk=match_id)
    )


def _locked_open_match_of(referral: Referral) -> Match | None:
    match = (
        Match.objects.select_for_update(of=("self",))
        .filter(referral=referral, status__in=Match.OPEN_STATUSES)
        .first()
    )
    if match is not None:
        match.referral = referral
    return match


def _require_open(match: Match) -> None:
    if not match.is_open:
        raise MatchConflict(_("This match has already ended."))


def _require_needs_replacement(match: Match) -> None:
    _require_open(match)
    if not match.needs_replacement:
        raise MatchConflict(_("This match has all the volunteers it needs."))


def _current_places(match: Match) -> list[MatchVolunteer]:
    return list(match.volunteers.filter(left_at__isnull=True).select_related("volunteer__user"))


def _replacement_need_update(match: Match) -> None:
    needed = match.referral.site.programme.volunteers_per_referral
    match.needs_replacement = match.is_open and len(_current_places(match)) < needed
    match.save(update_fields=["needs_replacement"])


def _match_end(match: Match, reason: str, note: str = "") -> None:
    """End an open match: every current volunteer's capacity is freed, and a replacement still
    under review is withdrawn. The referral's own step is the caller's."""
    ends_as = Match.Status.DECLINED if reason == EndReason.DECLINED else Match.Status.CLOSED
    assert ends_as in MATCH_TRANSITIONS[match.status], (match.status, ends_as)
    _capacity_release([place.volunteer_id for place in _current_places(match)])
    match.status, match.ended_at = ends_as, timezone.now()
    match.closure_reason, match.end_reason, match.needs_replacement = reason, note, False
    match.save(
        update_fields=["status", "ended_at", "closure_reason", "end_reason", "needs_replacement"]
    )
    _proposals_withdraw(match.replacement_proposals.all(), None)


def _end_reason_checked(reason: str, note: str) -> str:
    if reason not in END_REASONS:
        raise ValidationError({"reason": _("Choose why the match ends.")})
    return _note_checked(note, 300)


def _note_checked(note: str, limit: int) -> str:
    """A short note about a case: never an ID number, phone number or e-mail address."""
    return screened_text(note, "note", limit)


def _coordinated_open_match(match: Match, by) -> tuple[Referral, Match]:
    """Lock the referral, then the match, for a coordinator's step on a match still open."""
    referral = _locked_referral(match.referral_id)
    _require_coordinator(by, referral.site)
    locked = _locked_match(match.pk)
    _require_open(locked)
    locked.referral = referral
    return referral, locked


def match_end(match: Match, *, by, reason: str, note: str = "", requeue: bool) -> Match:
    """A coordinator ends a match early, with a reason. The referral goes back to the queue to
    find someone new (``requeue``) or closes with that reason. Takes effect at once: the
    volunteers lose sight of the participant and are told."""
    note = _end_reason_checked(reason, note)
    with transaction.atomic():
        referral, locked = _coordinated_open_match(match, by)
        places = _current_places(locked)
        _match_end(locked, reason, note)
        if requeue:
            _referral_step(referral, "requeue")
        else:
            _referral_step(referral, "close", closure_reason=reason)
        notices.notify_match_ended(locked, places)
    return locked


def match_complete(match: Match) -> Match:
    """The daily task: an active match whose agreement period is over closes as completed."""
    with transaction.atomic():
        referral = _locked_referral(match.referral_id)
        locked = _locked_match(match.pk)
        if locked.status != Match.Status.ACTIVE:
            return locked
        _match_end(locked, EndReason.COMPLETED)
        _referral_step(referral, "close", closure_reason=EndReason.COMPLETED)
    return locked


def _own_current_place(match: Match, user, *, asked_by_them: bool = True) -> MatchVolunteer:
    place = (
        match.volunteers.select_for_update(of=("self",))
        .filter(volunteer__user=user, left_at__isnull=True)
        .select_related("volunteer__user")
        .first()
    )
    if place is None:
        if match.volunteers.filter(volunteer__user=user).exists():
            if not asked_by_them:
                raise MatchConflict(_("This volunteer has already left the match."))
            raise MatchConflict(_("You are no longer part of this match."))
        raise PermissionDenied(_("Only a volunteer of this match may do that."))
    return place


def _place_leave(match: Match, place: MatchVolunteer, reason: str, note: str, by) -> None:
    """One volunteer leaves: their capacity is freed and they are not proposed for this referral
    again. If nobody is left, the match ends and the referral waits for someone new; otherwise
    the match needs a replacement, and the others are told."""
    place.left_at, place.left_reason, place.left_note = timezone.now(), reason, note
    place.save(update_fields=["left_at", "left_reason", "left_note"])
    _capacity_release([place.volunteer_id])
    RejectedPair.objects.get_or_create(
        referral=match.referral,
        volunteer_id=place.volunteer_id,
        defaults={"rejected_by": by, "reason": _left_reason_text(reason, note)},
    )
    remaining = _current_places(match)
    if not remaining:
        _match_end(match, reason, note)
        _referral_step(match.referral, "requeue")
        return
    _replacement_need_update(match)
    notices.notify_volunteer_left(match, place, remaining)


def _left_reason_text(reason: str, note: str) -> str:
    label = str(EndReason(reason).label)
    return f"{label}: {note}"[:300] if note else label


def match_volunteer_release(match: Match, *, volunteer, by, reason: str, note: str = "") -> Match:
    """A coordinator lets one volunteer go (they asked to end, or cannot continue). With others
    left, the match needs a replacement; with none, it ends and the referral waits again."""
    note = _end_reason_checked(reason, note)
    with transaction.atomic():
        _referral, locked = _coordinated_open_match(match, by)
        place = _own_current_place(locked, volunteer.user, asked_by_them=False)
        _place_leave(locked, place, reason, note, by)
    return locked


def match_end_request(match: Match, *, by, reason: str, note: str = "") -> Match:
    """A volunteer asks to end their part in a match; the coordinator is told and confirms
    (``match_end`` or ``match_volunteer_release``). For safety reasons it takes effect at once:
    the whole match ends, every volunteer loses sight of the participant, and the referral goes
    back to the queue for the coordinator to follow up."""
    note = _end_reason_checked(reason, note)
    with transaction.atomic():
        referral = _locked_referral(match.referral_id)
        locked = _locked_match(match.pk)
        _require_open(locked)
        locked.referral = referral
        place = _own_current_place(locked, by)
        place.end_requested_at = timezone.now()
        place.end_request_reason, place.end_request_note = reason, note
        place.save(update_fields=["end_requested_at", "end_request_reason", "end_request_note"])
        if reason == EndReason.SAFETY:
            others = [p for p in _current_places(locked) if p.pk != place.pk]
            _match_end(locked, EndReason.SAFETY, note)
            _referral_step(referral, "requeue")
            notices.notify_ended_for_safety(locked, place, others)
        else:
            notices.notify_end_requested(locked, place)
    return locked


def _locked_agreement(agreement: Agreement) -> tuple[Referral, Agreement]:
    referral_id = Match.objects.filter(agreement=agreement).values_list("referral_id", flat=True)
    referral = _locked_referral(referral_id.get())
    locked = (
        Agreement.objects.select_for_update(of=("self",))
        .select_related("match")
        .get(pk=agreement.pk)
    )
    locked.match = _locked_match(locked.match_id)
    locked.match.referral = referral
    _require_open(locked.match)
    return referral, locked


def _require_awaiting(agreement: Agreement) -> None:
    if agreement.match.status != Match.Status.AWAITING_AGREEMENT:
        raise MatchConflict(_("This agreement is no longer awaiting signatures."))


def agreement_accept(agreement: Agreement, *, by) -> Agreement:
    """A volunteer accepts; also a replacement who joined an active match."""
    with transaction.atomic():
        _referral, locked = _locked_agreement(agreement)
        place = _own_current_place(locked.match, by)
        if place.accepted_at is None:
            place.accepted_at = timezone.now()
            place.save(update_fields=["accepted_at"])
    return locked


def agreement_record_consent(agreement: Agreement, *, by) -> Agreement:
    with transaction.atomic():
        _referral, locked = _locked_agreement(agreement)
        if not _is_centre_staff(by, locked.match.referral.site):
            raise PermissionDenied(_("Only staff of the referring crisis centre record consent."))
        _require_awaiting(locked)
        if locked.consent_recorded_at is None:
            locked.consent_recorded_at, locked.consent_recorded_by = timezone.now(), by
            locked.save(update_fields=["consent_recorded_at", "consent_recorded_by"])
    return locked


def agreement_waiting_for(agreement: Agreement) -> list[str]:
    """Who the agreement still waits for before the coordinator countersigns, in words."""
    match = agreement.match
    waiting = [
        _("%s to accept") % place.volunteer
        for place in match.volunteers.filter(left_at__isnull=True, accepted_at__isnull=True)
    ]
    if match.needs_replacement:
        waiting.append(_("a replacement volunteer"))
    if agreement.consent_recorded_at is None:
        waiting.append(_("the crisis centre to record the participant's consent"))
    return waiting


def agreement_countersign(agreement: Agreement, *, by) -> Agreement:
    """The coordinator signs last, after every volunteer and the crisis centre; the match is then
    active and its check-ins are scheduled."""
    with transaction.atomic():
        referral, locked = _locked_agreement(agreement)
        _require_coordinator(by, referral.site)
        _require_awaiting(locked)
        waiting = agreement_waiting_for(locked)
        if waiting:
            raise ValidationError(
                {"agreement": _("Countersign last. Still waiting for: %s.") % "; ".join(waiting)}
            )
        now = timezone.now()
        locked.countersigned_at, locked.countersigned_by, locked.activated_at = now, by, now
        locked.save(update_fields=["countersigned_at", "countersigned_by", "activated_at"])
        match = locked.match
        match.status = Match.Status.ACTIVE
        match.save(update_fields=["status"])
        _referral_step(referral, "activate")
        check_ins_schedule(match, locked.starts_on)
    return locked


def agreement_decline(agreement: Agreement, *, by, reason: str) -> Match:
    """A volunteer says no before the agreement is active. They leave the match (and are never
    proposed for this referral again); if nobody is left the referral waits for another
    volunteer, otherwise the match needs a replacement."""
    reason = screened_text(reason, "reason", 300)
    if not reason:
        raise ValidationError({"reason": _("Say why you decline.")})
    with transaction.atomic():
        _referral, locked = _locked_agreement(agreement)
        _require_awaiting(locked)
        place = _own_current_place(locked.match, by)
        _place_leave(locked.match, place, EndReason.DECLINED, reason, by)
    return locked.match


# Runs that need a lock on the same rows -------------------------------------------------------


def replacement_proposal_allowed(match_id: int) -> bool:
    """A replacement run may propose only while its match still needs someone and nobody is
    already proposed for it."""
    match = _locked_match(match_id)
    pending = match.replacement_proposals.filter(status=Proposal.Status.PENDING).exists()
    return match.needs_replacement and match.is_open and not pending
