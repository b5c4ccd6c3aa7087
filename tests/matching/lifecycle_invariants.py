"""The invariants of the joint lifecycle (matching/lifecycle.py, its module docstring), checked
against the whole database. ``assert_lifecycle_invariants()`` fails with the number of the rule
broken and the rows that break it; the state-machine test calls it after every step, and any test
may call it after its own steps."""

from collections import Counter, defaultdict

from django.db.models import Q

from matching.models import Agreement, Match, MatchVolunteer, Proposal, ProposalPair
from matching.selectors import participant_view_for
from programmes.models import Referral
from volunteers.models import Volunteer

OPEN = Match.OPEN_STATUSES
PENDING = Proposal.Status.PENDING
Status = Referral.Status


def assert_lifecycle_invariants() -> None:
    _capacity_is_what_holds_the_volunteer()
    _referrals_have_one_match_and_one_proposal_at_most()
    _referral_status_follows_its_proposal_and_match()
    _replacement_is_needed_exactly_when_a_place_is_empty()
    _countersignature_came_last()
    _participant_seen_only_from_a_current_place()
    _ended_things_say_why()


def _current_places():
    return MatchVolunteer.objects.filter(left_at__isnull=True, match__status__in=OPEN)


def _capacity_is_what_holds_the_volunteer() -> None:
    """1. commitments = current places in open matches; plus pending places <= capacity."""
    current = Counter(_current_places().values_list("volunteer_id", flat=True))
    pending = Counter(
        ProposalPair.objects.filter(proposal__status=PENDING).values_list("volunteer_id", flat=True)
    )
    for pk, capacity, commitments in Volunteer.objects.values_list("pk", "capacity", "commitments"):
        assert commitments == current[pk], (
            f"Invariant 1: volunteer {pk} has commitments={commitments} but {current[pk]} "
            "current places in open matches"
        )
        assert commitments + pending[pk] <= capacity, (
            f"Invariant 1: volunteer {pk} holds {commitments} places and {pending[pk]} pending "
            f"proposals, over their capacity {capacity}"
        )


def _open_matches_by_referral() -> dict[int, list[tuple[int, str]]]:
    matches = defaultdict(list)
    for pk, referral_id, status in Match.objects.filter(status__in=OPEN).values_list(
        "pk", "referral_id", "status"
    ):
        matches[referral_id].append((pk, status))
    return matches


def _pending_by_referral() -> dict[int, list[tuple[int, int | None]]]:
    pending = defaultdict(list)
    for pk, referral_id, replaces in Proposal.objects.filter(status=PENDING).values_list(
        "pk", "referral_id", "replacement_for_id"
    ):
        pending[referral_id].append((pk, replaces))
    return pending


def _referrals_have_one_match_and_one_proposal_at_most() -> None:
    """2. At most one open match and at most one pending proposal per referral."""
    for referral_id, matches in _open_matches_by_referral().items():
        assert len(matches) <= 1, f"Invariant 2: referral {referral_id} has open matches {matches}"
    for referral_id, proposals in _pending_by_referral().items():
        assert len(proposals) <= 1, (
            f"Invariant 2: referral {referral_id} has pending proposals {proposals}"
        )


def _referral_status_follows_its_proposal_and_match() -> None:
    """3. proposed ⇔ a pending new-match proposal; matched ⇔ its open match awaits the agreement;
    active ⇔ its match is active; every other status: no open match, no pending proposal."""
    matches, pending = _open_matches_by_referral(), _pending_by_referral()
    for pk, status in Referral.objects.values_list("pk", "status"):
        open_statuses = {match_status for _match, match_status in matches.get(pk, [])}
        new_match_pending = [p for p, replaces in pending.get(pk, []) if replaces is None]
        seen = f"referral {pk} is {status} with open matches {matches.get(pk, [])} and pending "
        seen += f"proposals {pending.get(pk, [])}"
        assert (status == Status.PROPOSED) == bool(new_match_pending), f"Invariant 3: {seen}"
        assert (status == Status.MATCHED) == (Match.Status.AWAITING_AGREEMENT in open_statuses), (
            f"Invariant 3: {seen}"
        )
        assert (status == Status.ACTIVE) == (Match.Status.ACTIVE in open_statuses), (
            f"Invariant 3: {seen}"
        )
        if status not in (Status.MATCHED, Status.ACTIVE):
            assert not open_statuses, f"Invariant 3: {seen}"
            assert len(pending.get(pk, [])) == len(new_match_pending), f"Invariant 3: {seen}"


def _replacement_is_needed_exactly_when_a_place_is_empty() -> None:
    """4. needs_replacement ⇔ open with fewer current places than the programme needs; a pending
    replacement proposal only for such a match, for its own referral, filling no more than the
    empty places."""
    current = Counter(_current_places().values_list("match_id", flat=True))
    needed = {}
    for pk, status, needs, referral_id, per_referral in Match.objects.values_list(
        "pk",
        "status",
        "needs_replacement",
        "referral_id",
        "referral__site__programme__volunteers_per_referral",
    ):
        needed[pk] = (status in OPEN and current[pk] < per_referral, referral_id, per_referral)
        assert needs == needed[pk][0], (
            f"Invariant 4: match {pk} ({status}) has {current[pk]} of {per_referral} places "
            f"filled but needs_replacement={needs}"
        )
    replacements = Proposal.objects.filter(status=PENDING, replacement_for__isnull=False)
    for pk, match_id, referral_id in replacements.values_list(
        "pk", "replacement_for_id", "referral_id"
    ):
        needs, match_referral, per_referral = needed[match_id]
        assert needs, f"Invariant 4: pending replacement {pk} for match {match_id}, not in need"
        assert referral_id == match_referral, (
            f"Invariant 4: replacement {pk} is for referral {referral_id}, its match's is "
            f"{match_referral}"
        )
        pairs = ProposalPair.objects.filter(proposal_id=pk).count()
        assert current[match_id] + pairs <= per_referral, (
            f"Invariant 4: replacement {pk} proposes {pairs} for match {match_id}, which has "
            f"{current[match_id]} of {per_referral} places filled"
        )


def _joined_at(match: Match) -> dict[int, object]:
    """When each volunteer joined the match: when the proposal that put them there was approved."""
    approved = Proposal.objects.filter(status=Proposal.Status.APPROVED).filter(
        pk=match.proposal_id
    ) | Proposal.objects.filter(status=Proposal.Status.APPROVED, replacement_for=match)
    joined = {}
    for volunteer_id, reviewed_at in ProposalPair.objects.filter(proposal__in=approved).values_list(
        "volunteer_id", "proposal__reviewed_at"
    ):
        joined[volunteer_id] = min(reviewed_at, joined.get(volunteer_id, reviewed_at))
    return joined


def _countersignature_came_last() -> None:
    """5. An active match's agreement has the consent and the countersignature; any
    countersignature came after the consent and after every volunteer then in the match had
    accepted, with every place filled."""
    for match in Match.objects.filter(status=Match.Status.ACTIVE).select_related("agreement"):
        agreement = match.agreement
        assert agreement.consent_recorded_at and agreement.countersigned_at, (
            f"Invariant 5: active match {match.pk} lacks the consent or the countersignature"
        )
    signed = Agreement.objects.filter(countersigned_at__isnull=False).select_related(
        "match__referral__site__programme"
    )
    for agreement in signed:
        _countersigned_last(agreement)


def _countersigned_last(agreement: Agreement) -> None:
    match, signed_at = agreement.match, agreement.countersigned_at
    assert agreement.consent_recorded_at and agreement.consent_recorded_at <= signed_at, (
        f"Invariant 5: match {match.pk} was countersigned before the consent was recorded"
    )
    joined = _joined_at(match)
    then_in = [
        place
        for place in match.volunteers.all()
        if joined.get(place.volunteer_id) is not None
        and joined[place.volunteer_id] < signed_at
        and (place.left_at is None or place.left_at > signed_at)
    ]
    for place in then_in:
        assert place.accepted_at and place.accepted_at <= signed_at, (
            f"Invariant 5: match {match.pk} was countersigned before volunteer "
            f"{place.volunteer_id} accepted"
        )
    needed = match.referral.site.programme.volunteers_per_referral
    assert len(then_in) == needed, (
        f"Invariant 5: match {match.pk} was countersigned with {len(then_in)} of {needed} "
        "volunteers in it"
    )


BEYOND_ALIAS = ("municipality", "municipality_name", "shared_languages", "availability")


def _participant_seen_only_from_a_current_place() -> None:
    """6. A volunteer sees more than the alias only while their place is current in an open
    match."""
    gone = MatchVolunteer.objects.filter(Q(left_at__isnull=False) | ~Q(match__status__in=OPEN))
    places = gone.select_related("match__referral__municipality", "volunteer")
    for place in places.prefetch_related("match__volunteers"):
        view = participant_view_for(place.match, place.volunteer)
        shown = [key for key in BEYOND_ALIAS if view[key] is not None]
        assert not shown, (
            f"Invariant 6: volunteer {place.volunteer_id} still sees {shown} of the participant "
            f"in match {place.match_id} ({place.match.status}, left_at={place.left_at})"
        )


def _ended_things_say_why() -> None:
    """And so on: an ended match and a closed or withdrawn referral record why."""
    ended = Match.objects.exclude(status__in=OPEN)
    silent = list(ended.filter(closure_reason="").values_list("pk", flat=True))
    silent += list(ended.filter(ended_at__isnull=True).values_list("pk", flat=True))
    assert not silent, f"An ended match without its reason or time: matches {sorted(set(silent))}"
    unexplained = Referral.objects.filter(status=Status.CLOSED, closure_reason="") | (
        Referral.objects.filter(status=Status.WITHDRAWN, withdrawal_reason="")
    )
    assert not unexplained.exists(), (
        "A closed or withdrawn referral without its reason: referrals "
        f"{list(unexplained.values_list('pk', flat=True))}"
    )
