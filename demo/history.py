"""A year of history for the demo (``demo.builder``), so that a fresh demo looks like a
programme that has run for a while: the dashboard's charts have months to show, and the
coordinator has matches to follow.

1. Referrals matched over the last 12 months, spread evenly over the year at each centre: the
   larger centres have matches in every month.
2. Each match ran its course: the agreement was signed within days; Ressursvenn matches older
   than their six months are completed, a few of both programmes ended early, with a reason;
   the rest are active (the last few days' still await signatures). Active places hold their
   volunteers' capacity.
3. Check-ins at 1, 3 and 6 months were answered: mostly well, some with difficulties, a few not
   working (handled by the coordinator when older than a month). At the first centre (the demo
   coordinator's) two recent answers say it is not working, one asks for contact with a short
   note, and one check-in is overdue.

Rows are written in bulk, like the rest of the demo, with the dates they would have had; every
choice comes from the builder's seeded generator. The lifecycle invariants of
``matching/lifecycle.py`` hold for what is written here.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta
from django.utils import timezone
from geopy.distance import great_circle

from demo.draws import new_demo_alias
from demo.referrals import ReferralDraft
from demo.rows import restore_history
from matching.agreements import current_terms
from matching.models import (
    Agreement,
    CheckIn,
    Match,
    MatchRun,
    MatchVolunteer,
    Proposal,
    ProposalPair,
)
from matching.selectors import rules_for
from programmes.languages import codes_spoken_at_least
from programmes.models import Referral
from programmes.validators import screened_text
from volunteers.models import Volunteer

HISTORY_MATCHES = 160
# Fritidsvenn matches take two volunteers each and last a year; at the referrals' share they
# would leave no Fritidsvenn volunteer free for today's run.
RESSURSVENN_SHARE = 0.7
# Not counted as history: a match this young still waits for its agreement to be signed.
AWAITING_DAYS = 4
ENDED_EARLY_SHARE = 0.12
WELLBEING = {"good": 80, "mixed": 15, "poor": 5}
MEETINGS = {1: (2, 5), 3: (3, 8), 6: (5, 12)}
EARLY_ENDINGS = {
    Match.EndReason.PARTICIPANT_ENDED: "Deltakeren ønsket ikke å fortsette.",
    Match.EndReason.VOLUNTEER_ENDED: "Den frivillige fikk ny jobb og mindre tid.",
    Match.EndReason.MOVED: "Deltakeren flyttet til en annen kommune.",
    Match.EndReason.OTHER: "Avsluttet etter samtale med begge.",
}
HANDLED_NOTE = "Ringte den frivillige og avtalte en ny plan for møtene."
CONTACT_NOTE = (
    "Vi har ikke fått til å møtes de siste ukene, og jeg er usikker på hvordan jeg skal ta det "
    "opp. Kan du ringe meg?"
)
POOR_NOTE = "Det har vært vanskelig å finne tid som passer for begge."
DAYS = datetime.timedelta(days=1)


@dataclass
class HistorySummary:
    matches: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    check_ins_answered: int = 0


@dataclass
class Story:
    """One historical match and everything written for it."""

    referral: Referral
    history: dict
    match: Match
    proposal: Proposal
    places: list[MatchVolunteer]
    pairs: list[ProposalPair]
    agreement: Agreement
    check_ins: list[CheckIn]
    centre: int


def history_build(builder) -> HistorySummary:
    """Write the year of history; ``builder`` is the DemoBuilder after volunteers and referrals."""
    stories = [s for s in _stories(builder) if s is not None]
    _showcase_needs_attention(builder, stories)
    _write(builder, stories)
    statuses: defaultdict[str, int] = defaultdict(int)
    for story in stories:
        statuses[story.match.status] += 1
    return HistorySummary(
        matches=len(stories),
        by_status=dict(statuses),
        check_ins_answered=sum(c.answered_at is not None for s in stories for c in s.check_ins),
    )


def _stories(builder):
    rng = builder.rng
    pools = _volunteer_pools(builder)
    taken = set(Referral.objects.values_list("alias", flat=True))
    by_centre: dict[int, list] = defaultdict(list)
    for home in builder.place_people(HISTORY_MATCHES):
        by_centre[builder.centre_of[home.municipality_id]].append(home)
    for centre, homes in sorted(by_centre.items()):
        slot = 365 / len(homes)
        for index, home in enumerate(homes):
            days_ago = (len(homes) - 1 - index + rng.random()) * slot
            alias = new_demo_alias(rng, taken)
            referral = ReferralDraft.draw(builder, home, Referral.Status.WAITING, alias).referral
            if rng.random() < RESSURSVENN_SHARE:
                referral.site = builder.centres[centre].sites["ressursvenn"]
            yield _story(builder, referral, pools, centre, days_ago)


def _volunteer_pools(builder) -> dict:
    """Active, vetted volunteers per (centre, programme slug), with their free capacity."""
    pools: dict[tuple[int, str], list] = defaultdict(list)
    for draft in builder.volunteer_drafts:
        if draft.volunteer.status != Volunteer.Status.ACTIVE or draft.attest != "valid":
            continue
        centre = builder.centre_of[draft.home.municipality_id]
        for programme in draft.programmes:
            pools[(centre, programme.slug)].append(draft.volunteer)
    return pools


def _story(builder, referral: Referral, pools, centre: int, days_ago: float) -> Story | None:
    rng, programme = builder.rng, referral.site.programme
    created_at = builder.now - days_ago * DAYS
    open_match = days_ago < AWAITING_DAYS or _stays_open(programme, created_at, builder.today)
    pool = [v for v in pools[(centre, programme.slug)] if not open_match or _free(v)]
    if len(pool) < programme.volunteers_per_referral:
        return None
    volunteers = rng.sample(pool, programme.volunteers_per_referral)
    _fit_referral_to(referral, volunteers)
    waited = rng.triangular(3, 150, 25) * DAYS
    referral.waiting_since = created_at - waited
    submitted_at = referral.waiting_since - rng.uniform(0.05, 7) * DAYS
    referral.consent_given_on = timezone.localdate(submitted_at) - rng.randint(0, 5) * DAYS
    row = builder.centres[centre]
    proposal = Proposal(
        referral=referral,
        status=Proposal.Status.APPROVED,
        cost=0.0,
        reviewed_by=row.coordinator,
        reviewed_at=created_at,
    )
    match = Match(referral=referral, proposal=proposal, approved_by=row.coordinator)
    match.created_at = created_at
    story = Story(
        referral=referral,
        history={"submitted_at": submitted_at},
        match=match,
        proposal=proposal,
        places=[MatchVolunteer(match=match, volunteer=v) for v in volunteers],
        pairs=[_pair(proposal, referral, v) for v in volunteers],
        agreement=_agreement(match, programme, created_at),
        check_ins=[],
        centre=centre,
    )
    _unfold(builder, story, days_ago)
    if match.status in Match.OPEN_STATUSES:
        for volunteer in volunteers:
            volunteer.commitments += 1
    return story


def _stays_open(programme, created_at, today) -> bool:
    """Whether an undisturbed match made then is still running today."""
    months = current_terms(programme).period_months
    return timezone.localdate(created_at) + relativedelta(months=months) > today


def _free(volunteer: Volunteer) -> bool:
    return volunteer.commitments < volunteer.capacity


def _fit_referral_to(referral: Referral, volunteers: list[Volunteer]) -> None:
    """They were matched, so they share time and a language, spoken well enough."""
    referral.availability = [dict(slot) for slot in volunteers[0].availability]
    spoken = _spoken_well_enough(referral, volunteers[0])
    if not set(spoken) & set(referral.languages):
        referral.languages = [*referral.languages[:1], spoken[0]]


def _pair(proposal, referral: Referral, volunteer: Volunteer) -> ProposalPair:
    distance = great_circle(referral.point, volunteer.point).km
    minutes = sum(_minutes(slot["end"]) - _minutes(slot["start"]) for slot in referral.availability)
    return ProposalPair(
        proposal=proposal,
        volunteer=volunteer,
        distance_km=round(distance, 1),
        overlap_hours=round(minutes / 60, 1),
        shared_languages=[
            c for c in referral.languages if c in _spoken_well_enough(referral, volunteer)
        ],
        cost=0.0,
    )


def _spoken_well_enough(referral: Referral, volunteer: Volunteer) -> list[str]:
    return codes_spoken_at_least(volunteer.languages, referral.site.programme.min_language_level)


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _agreement(match: Match, programme, created_at) -> Agreement:
    terms = current_terms(programme)
    starts_on = timezone.localdate(created_at)
    return Agreement(
        match=match,
        terms=terms,
        starts_on=starts_on,
        ends_on=starts_on + relativedelta(months=terms.period_months),
    )


def _unfold(builder, story: Story, days_ago: float) -> None:
    """Signatures, check-ins and the ending, each at the date it would have happened."""
    rng, match, referral, agreement = builder.rng, story.match, story.referral, story.agreement
    row = builder.centres[story.centre]
    signed = match.created_at + rng.uniform(0.2, 1.5) * DAYS
    for place in story.places:
        place.accepted_at = signed
    if days_ago < AWAITING_DAYS:
        match.status, referral.status = Match.Status.AWAITING_AGREEMENT, Referral.Status.MATCHED
        story.history["status_changed_at"] = match.created_at
        return
    agreement.consent_recorded_at = signed + rng.uniform(0.1, 1) * DAYS
    agreement.consent_recorded_by = row.staff
    agreement.countersigned_at = agreement.activated_at = agreement.consent_recorded_at + DAYS
    agreement.countersigned_by = row.coordinator
    ends = _ending(builder, story, days_ago)
    story.check_ins = _check_ins(builder, story, ends)
    if ends is None:
        match.status, referral.status = Match.Status.ACTIVE, Referral.Status.ACTIVE
        story.history["status_changed_at"] = agreement.activated_at
        return
    ended_at, reason, note = ends
    match.status, match.ended_at = Match.Status.CLOSED, ended_at
    match.closure_reason, match.end_reason = reason, note
    referral.status, referral.closure_reason = Referral.Status.CLOSED, reason
    story.history["status_changed_at"] = ended_at


def _ending(builder, story: Story, days_ago: float):
    """(when, why, note) for a match that has ended, else None."""
    rng, agreement = builder.rng, story.agreement
    if days_ago > 40 and rng.random() < ENDED_EARLY_SHARE:
        lasted = rng.uniform(20, min(days_ago - 5, (agreement.ends_on - agreement.starts_on).days))
        reason = rng.choice(list(EARLY_ENDINGS))
        return story.match.created_at + lasted * DAYS, reason, EARLY_ENDINGS[reason]
    if agreement.ends_on <= builder.today:
        ended_at = timezone.make_aware(
            datetime.datetime.combine(agreement.ends_on, datetime.time(6))
        )
        return ended_at, Match.EndReason.COMPLETED, ""
    return None


def _check_ins(builder, story: Story, ends) -> list[CheckIn]:
    """The three check-ins scheduled at signing; answered when due before the match ended."""
    rng, match, starts_on = builder.rng, story.match, story.agreement.starts_on
    until = timezone.localdate(ends[0]) if ends else builder.today
    check_ins = []
    for months in CheckIn.MONTHS:
        due_on = starts_on + relativedelta(months=months)
        check_in = CheckIn(match=match, months_after_start=months, due_on=due_on)
        if due_on <= until:
            wellbeing = rng.choices(list(WELLBEING), weights=list(WELLBEING.values()))[0]
            _answer(builder, check_in, story.centre, wellbeing)
        check_ins.append(check_in)
    return check_ins


def _answer(
    builder, check_in: CheckIn, centre: int, wellbeing: str, note: str = "", handled: bool = True
) -> None:
    """Answer as the volunteer would have; a "not working" older than a month was handled."""
    rng = builder.rng
    check_in.handled_at, check_in.handled_by, check_in.handled_note = None, None, ""
    answered_on = check_in.due_on + rng.randint(0, 4) * DAYS
    answered_at = timezone.make_aware(datetime.datetime.combine(answered_on, datetime.time(19)))
    check_in.answered_at = min(answered_at, builder.now)
    check_in.meetings_held = rng.randint(*MEETINGS[check_in.months_after_start])
    check_in.wellbeing, check_in.note = wellbeing, screened_text(note, "note", 500)
    check_in.wants_contact = False
    if handled and wellbeing == "poor" and builder.now - check_in.answered_at > 30 * DAYS:
        check_in.handled_at = check_in.answered_at + rng.uniform(0.5, 3) * DAYS
        check_in.handled_by = builder.centres[centre].coordinator
        check_in.handled_note = HANDLED_NOTE


def _showcase_needs_attention(builder, stories: list[Story]) -> None:
    """At the demo coordinator's centre: two recent answers say it is not working, one asks for
    contact, and one check-in is overdue, none of them handled yet."""
    active = [s for s in stories if s.centre == 0 and s.match.status == Match.Status.ACTIVE]
    answered = [s for s in active if s.check_ins and s.check_ins[0].answered_at]
    recent = sorted(answered, key=lambda s: _last_answered(s).due_on, reverse=True)
    for story, (wellbeing, note, contact) in zip(
        recent,
        [("poor", POOR_NOTE, False), ("poor", "", False), ("mixed", CONTACT_NOTE, True)],
        strict=False,
    ):
        check_in = _last_answered(story)
        _answer(builder, check_in, 0, wellbeing, note, handled=False)
        check_in.wants_contact = contact
    overdue = next((s for s in recent[3:] if _last_answered(s).due_on < builder.today), None)
    if overdue is not None:
        check_in = _last_answered(overdue)
        check_in.answered_at = check_in.meetings_held = None
        check_in.wellbeing, check_in.note, check_in.wants_contact = "", "", False


def _last_answered(story: Story) -> CheckIn:
    return [c for c in story.check_ins if c.answered_at][-1]


def _write(builder, stories: list[Story]) -> None:
    if not stories:
        return
    referrals = [s.referral for s in stories]
    Referral.objects.bulk_create(referrals)
    restore_history(Referral, [(s.referral, s.history) for s in stories])
    runs = _runs(builder, stories)
    for story in stories:
        story.proposal.run = runs[_run_key(story)]
        story.proposal.referral = story.referral
    Proposal.objects.bulk_create([s.proposal for s in stories])
    for story in stories:
        story.match.referral, story.match.proposal = story.referral, story.proposal
    created = [s.match.created_at for s in stories]
    Match.objects.bulk_create([s.match for s in stories])
    restore_history(
        Match, [(s.match, {"created_at": at}) for s, at in zip(stories, created, strict=True)]
    )
    _bulk_after_match(stories)
    committed = {v.pk: v for s in stories for v in (p.volunteer for p in s.places)}
    Volunteer.objects.bulk_update(
        [v for v in committed.values() if v.commitments], ["commitments"], batch_size=500
    )


def _bulk_after_match(stories: list[Story]) -> None:
    for story in stories:
        rows: list[MatchVolunteer | Agreement | CheckIn] = [
            *story.places,
            story.agreement,
            *story.check_ins,
        ]
        for row in rows:
            row.match = story.match
        for pair in story.pairs:
            pair.proposal = story.proposal
    ProposalPair.objects.bulk_create([p for s in stories for p in s.pairs])
    MatchVolunteer.objects.bulk_create([p for s in stories for p in s.places])
    Agreement.objects.bulk_create([s.agreement for s in stories])
    CheckIn.objects.bulk_create([c for s in stories for c in s.check_ins])


def _run_key(story: Story) -> tuple[int, datetime.date]:
    return story.referral.site_id, timezone.localdate(story.match.created_at).replace(day=1)


def _runs(builder, stories: list[Story]) -> dict:
    """One finished run per site and month: the run the month's matches came from."""
    first_match: dict[tuple, datetime.datetime] = {}
    starters = {}
    for story in stories:
        key = _run_key(story)
        first_match[key] = min(first_match.get(key, story.match.created_at), story.match.created_at)
        starters[key] = (story.referral.site, builder.centres[story.centre].coordinator)
    runs = {}
    for key, at in first_match.items():
        site, coordinator = starters[key]
        started = at - builder.rng.uniform(0.01, 0.2) * DAYS
        runs[key] = MatchRun(
            programme=site.programme,
            scope=MatchRun.Scope.SITE,
            site=site,
            on_date=timezone.localdate(started),
            rules=rules_for(site.programme),
            started_by=coordinator,
            status=MatchRun.Status.SUCCEEDED,
            phase=MatchRun.Phase.DONE,
            progress=100,
            started_at=started,
            finished_at=started,
            heartbeat_at=started,
            attempt=1,
        )
    MatchRun.objects.bulk_create(list(runs.values()))
    restore_history(MatchRun, [(run, {"created_at": run.started_at}) for run in runs.values()])
    counts: defaultdict[tuple[int, datetime.date], int] = defaultdict(int)
    for story in stories:
        counts[_run_key(story)] += 1
    for key, run in runs.items():
        run.proposals_made = counts[key]
    MatchRun.objects.bulk_update(list(runs.values()), ["proposals_made"], batch_size=500)
    return runs
