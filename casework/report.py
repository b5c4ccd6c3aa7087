"""The programme report: what organisations tell municipalities and funders about a period, per
programme site and in total. Counts only, never a person: no alias, no name, no referral.

Every count goes through ``count_shown``: 1 to 4 people are few enough to be found, so such a
count reads "< 5"; 0 is shown, since it says nothing about anyone. A total is shown only when
none of the counts it adds up is hidden (``total_shown``): otherwise the total less the other
rows would give the hidden one back. So every figure shown follows from other figures shown or
from no hidden one, and no combination of rows, columns and totals in a table recovers a hidden
count. A waiting time (median and 90th percentile, in days) needs at least 5 people behind it.

The counts of a period (``start`` to ``end``, both included, local dates):
- received: referrals submitted in the period;
- matched: referrals that got a match (approved) in the period; their wait runs from the
  referral's submission to its first match in the period, the participant's whole wait;
- still waiting: referrals submitted by the period's end that still wait for a volunteer today
  (submitted, in the queue or proposed); their wait runs from submission to today;
- matches active: matches whose agreement was in force on some day of the period;
- matches ended: matches that ended in the period, by why they ended;
- check-ins due in the period, and answered in the period;
- volunteers: active today, in a match (had accepted an agreement in force on some day of the
  period), recruited (joined in the period) and retired in the period. A volunteer belongs to
  the sites that their organisation runs for a programme they take part in.

Each count is one grouped query over every site at once, so the report costs the same number of
queries for one site or a hundred.
"""

import datetime
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db.models import Count, F, Min, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from casework.lists import STILL_WAITING
from matching.models import CheckIn, Match, MatchVolunteer
from programmes.models import ProgrammeSite, Referral
from volunteers.models import Volunteer

# Fewer people than this are few enough to be found: their count is hidden.
SMALL_COUNT = 5
FEWER_THAN_SMALL = f"< {SMALL_COUNT}"
# A median or percentile of fewer people than this is not shown either.
SMALL_WAIT_GROUP = SMALL_COUNT


def count_shown(count: int | None) -> str:
    """How a count reads in every form of the report: 1 to 4 as "< 5", others as digits.
    ``None`` is a total left out because it would give a hidden count back."""
    if count is None:
        return gettext("not shown")
    if 0 < count < SMALL_COUNT:
        return FEWER_THAN_SMALL
    return str(count)


def is_hidden(count: int) -> bool:
    return 0 < count < SMALL_COUNT


def total_shown(total: int, parts: Iterable[int]) -> str:
    """A total of ``parts``, left out when one of them is hidden (total less the others would
    give it back)."""
    if any(is_hidden(part) for part in parts):
        return count_shown(None)
    return count_shown(total)


def percentile(values: Sequence[int], fraction: float) -> float:
    """The inclusive percentile (as spreadsheets' PERCENTILE.INC): linear between the two
    nearest values, so the median of an even number of values is the mean of the middle two."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def whole_days(value: float) -> int:
    return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def wait_shown(days: Sequence[int], fraction: float) -> str:
    """A waiting time in whole days, or that too few people waited to show one."""
    if len(days) < SMALL_WAIT_GROUP:
        return gettext("too few to show")
    return str(whole_days(percentile(days, fraction)))


# The period ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date

    def holds(self, moment: datetime.datetime | datetime.date) -> bool:
        return self.start <= _local_date(moment) <= self.end


def _local_date(moment: datetime.datetime | datetime.date) -> datetime.date:
    return timezone.localdate(moment) if isinstance(moment, datetime.datetime) else moment


def period_presets(today: datetime.date) -> list[tuple[Any, Period]]:
    """The periods people report on, up to today: quarters and years, and the last 12 months."""
    quarter_start = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
    last_quarter_start = quarter_start - relativedelta(months=3)
    year_start = today.replace(month=1, day=1)
    last_year_start = year_start.replace(year=today.year - 1)
    one_day = datetime.timedelta(days=1)
    return [
        (_("This quarter so far"), Period(quarter_start, today)),
        (_("Last quarter"), Period(last_quarter_start, quarter_start - one_day)),
        (_("This year so far"), Period(year_start, today)),
        (_("Last year"), Period(last_year_start, year_start - one_day)),
        (_("Last 12 months"), Period(today - relativedelta(years=1) + one_day, today)),
    ]


def default_period(today: datetime.date) -> Period:
    return Period(today.replace(month=1, day=1), today)


# What a table shows ------------------------------------------------------------------------


COUNT, WAIT = "count", "wait"


@dataclass(frozen=True)
class Column:
    key: str
    header: Any  # a lazy translation
    kind: str = COUNT
    # A wait column: which list of waits, and which percentile of it.
    waits: str = ""
    fraction: float = 0.5


@dataclass(frozen=True)
class Table:
    key: str
    title: Any
    caption: Any
    columns: list[Column]


@dataclass
class Row:
    label: str
    cells: list[tuple[Column, str]]
    is_total: bool = False


ENDINGS = list(Match.EndReason.choices)
ALL_ENDINGS = "ended"

TABLES = [
    Table(
        "referrals",
        _("Referrals and waiting"),
        _(
            "Waiting times are in days from the referral to its first match in the period, and "
            "from the referral to today for those still waiting."
        ),
        [
            Column("received", _("Received")),
            Column("matched", _("Matched")),
            Column("matched_median", _("Days to a match, median"), WAIT, "matched", 0.5),
            Column("matched_p90", _("Days to a match, 90th percentile"), WAIT, "matched", 0.9),
            Column("waiting", _("Still waiting today")),
            Column("waiting_median", _("Days waited so far, median"), WAIT, "waiting", 0.5),
            Column("waiting_p90", _("Days waited so far, 90th percentile"), WAIT, "waiting", 0.9),
        ],
    ),
    Table(
        "matches",
        _("Matches"),
        _("Matches with an agreement in force during the period, and those that ended, by why."),
        [
            Column("active", _("Active in the period")),
            *(Column(f"ended_{value}", label) for value, label in ENDINGS),
            Column(ALL_ENDINGS, _("Ended, all reasons")),
        ],
    ),
    Table(
        "check_ins",
        _("Check-ins"),
        _("Check-ins due in the period, and those answered in it."),
        [
            Column("check_ins_due", _("Due in the period")),
            Column("check_ins_answered", _("Answered")),
        ],
    ),
    Table(
        "volunteers",
        _("Volunteers"),
        _(
            "Volunteers of the organisation behind each site who take part in its programme. "
            "In a match: had accepted an agreement in force during the period."
        ),
        [
            Column("volunteers_active", _("Active today")),
            Column("volunteers_in_match", _("In a match")),
            Column("recruited", _("Recruited")),
            Column("retired", _("Retired")),
        ],
    ),
]
# Totals that are not the sum of the rows: a volunteer may belong to two sites.
DISTINCT_TOTALS = ("volunteers_active", "volunteers_in_match", "recruited", "retired")


@dataclass
class Figures:
    """The raw figures of one site, or of all of them: never shown as they are."""

    counts: Counter = field(default_factory=Counter)
    waits: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))


@dataclass
class Report:
    period: Period
    sites: list[ProgrammeSite]
    tables: list[tuple[Table, list[Row]]]


def programme_report(sites: QuerySet[ProgrammeSite], period: Period, today: datetime.date):
    """The report of ``sites`` (already scoped to the reader) over ``period``: one row per
    site, and a total when there is more than one."""
    sites_list = list(sites.select_related("programme", "crisis_centre", "organisation"))
    ids = [site.pk for site in sites_list]
    per_site: dict[int, Figures] = defaultdict(Figures)
    _count_referrals(per_site, ids, period, today)
    _count_matches(per_site, ids, period)
    _count_check_ins(per_site, ids, period)
    volunteer_totals = _count_volunteers(per_site, ids, period)
    tables = [
        (table, _table_rows(table, sites_list, per_site, volunteer_totals)) for table in TABLES
    ]
    return Report(period=period, sites=sites_list, tables=tables)


def _table_rows(table: Table, sites, per_site, volunteer_totals: Counter) -> list[Row]:
    rows = [
        Row(str(site), [(c, _cell(c, per_site[site.pk])) for c in table.columns]) for site in sites
    ]
    if len(sites) > 1:
        figures = [per_site[site.pk] for site in sites]
        cells = [(c, _total_cell(c, figures, volunteer_totals)) for c in table.columns]
        rows.append(Row(gettext("Total"), cells, is_total=True))
    return rows


def _cell(column: Column, figures: Figures) -> str:
    if column.kind == WAIT:
        return wait_shown(figures.waits[column.waits], column.fraction)
    if column.key == ALL_ENDINGS:
        endings = [figures.counts[f"ended_{value}"] for value, _label in ENDINGS]
        return total_shown(sum(endings), endings)
    return count_shown(figures.counts[column.key])


def _total_cell(column: Column, figures: list[Figures], volunteer_totals: Counter) -> str:
    if column.kind == WAIT:
        everyone = [days for f in figures for days in f.waits[column.waits]]
        return wait_shown(everyone, column.fraction)
    if column.key == ALL_ENDINGS:
        keys = [f"ended_{value}" for value, _label in ENDINGS]
    else:
        keys = [column.key]
    parts = [f.counts[key] for f in figures for key in keys]
    total = volunteer_totals[column.key] if column.key in DISTINCT_TOTALS else sum(parts)
    return total_shown(total, parts)


# Counting ----------------------------------------------------------------------------------


def _within(field_name: str, period: Period) -> Q:
    return Q(**{f"{field_name}__date__gte": period.start, f"{field_name}__date__lte": period.end})


def _count_referrals(per_site, ids: list[int], period: Period, today: datetime.date) -> None:
    referrals = Referral.objects.filter(site__in=ids).order_by()
    received = referrals.filter(_within("submitted_at", period)).values("site")
    for site, count in received.annotate(n=Count("pk")).values_list("site", "n"):
        per_site[site].counts["received"] = count
    # One row per referral: its first match in the period.
    matched = (
        Match.objects.filter(referral__site__in=ids)
        .filter(_within("created_at", period))
        .order_by()
        .values("referral")
        .annotate(first=Min("created_at"))
        .values_list("referral__site", "referral__submitted_at", "first")
    )
    for site, submitted_at, first in matched:
        per_site[site].counts["matched"] += 1
        per_site[site].waits["matched"].append(_days_between(submitted_at, first))
    waiting = referrals.filter(status__in=STILL_WAITING, submitted_at__date__lte=period.end)
    for site, submitted_at in waiting.values_list("site", "submitted_at"):
        per_site[site].counts["waiting"] += 1
        per_site[site].waits["waiting"].append(_days_between(submitted_at, today))


def _days_between(since: datetime.datetime, until: datetime.datetime | datetime.date) -> int:
    return max(0, (_local_date(until) - timezone.localdate(since)).days)


def _in_force(period: Period, match: str = "") -> Q:
    """A match whose agreement was in force on some day of the period."""
    started = Q(**{f"{match}agreement__activated_at__date__lte": period.end})
    not_ended = Q(**{f"{match}ended_at__isnull": True})
    ended_within = Q(**{f"{match}ended_at__date__gte": period.start})
    return started & (not_ended | ended_within)


def _count_matches(per_site, ids: list[int], period: Period) -> None:
    matches = Match.objects.filter(referral__site__in=ids).order_by()
    active = matches.filter(_in_force(period)).values("referral__site").annotate(n=Count("pk"))
    for row in active:
        per_site[row["referral__site"]].counts["active"] = row["n"]
    ended = matches.filter(_within("ended_at", period)).values("referral__site", "closure_reason")
    for row in ended.annotate(n=Count("pk")):
        per_site[row["referral__site"]].counts[f"ended_{row['closure_reason']}"] = row["n"]


def _count_check_ins(per_site, ids: list[int], period: Period) -> None:
    due = Q(due_on__gte=period.start, due_on__lte=period.end)
    answered = _within("answered_at", period)
    check_ins = (
        CheckIn.objects.filter(match__referral__site__in=ids)
        .filter(due | answered)
        .order_by()
        .values("match__referral__site")
        .annotate(due=Count("pk", filter=due), answered=Count("pk", filter=answered))
    )
    for row in check_ins:
        counts = per_site[row["match__referral__site"]].counts
        counts["check_ins_due"], counts["check_ins_answered"] = row["due"], row["answered"]


def _volunteer_counts(period: Period) -> dict[str, Count]:
    return {
        "volunteers_active": Count("pk", filter=Q(status=Volunteer.Status.ACTIVE), distinct=True),
        "recruited": Count(
            "pk", filter=Q(joined_on__gte=period.start, joined_on__lte=period.end), distinct=True
        ),
        "retired": Count("pk", filter=_within("retired_at", period), distinct=True),
    }


def _count_volunteers(per_site, ids: list[int], period: Period) -> Counter:
    """Per site, and in total counting each volunteer once (one may belong to two sites)."""
    # One filter() call, so the site of the programme and of the organisation is one site.
    belonging = Volunteer.objects.filter(
        programmes__sites__in=ids, programmes__sites__organisation=F("organisation")
    ).order_by()
    counts = _volunteer_counts(period)
    keys = list(counts)
    per_volunteer_site = belonging.values("programmes__sites").annotate(**counts)
    for site, *values in per_volunteer_site.values_list("programmes__sites", *keys):
        for key, value in zip(keys, values, strict=True):
            per_site[site].counts[key] = value
    totals = Counter(belonging.aggregate(**counts))
    places = MatchVolunteer.objects.filter(
        _in_force(period, "match__"),
        match__referral__site__in=ids,
        accepted_at__date__lte=period.end,
    ).filter(Q(left_at__isnull=True) | Q(left_at__date__gte=period.start))
    places = places.order_by()
    in_match = places.values("match__referral__site").annotate(n=Count("volunteer", distinct=True))
    for site, count in in_match.values_list("match__referral__site", "n"):
        per_site[site].counts["volunteers_in_match"] = count
    everyone = places.aggregate(n=Count("volunteer", distinct=True))
    totals["volunteers_in_match"] = everyone["n"]
    return totals
