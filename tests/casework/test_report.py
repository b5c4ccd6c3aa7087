"""The programme report (casework/report.py): counts per site for a period on a page, in a CSV
file and in a print view. Every count of 1 to 4 reads "< 5" in all three, a total that would give
such a count back is left out, waiting times need 5 people, coordinators see only their own
sites, bad dates are named, and the report costs the same queries at any size."""

import csv
import datetime
import io
import re
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from casework.report import (
    COUNT,
    TABLES,
    WAIT,
    Period,
    count_shown,
    percentile,
    period_presets,
    total_shown,
    wait_shown,
)
from matching.models import Agreement, CheckIn, Match, MatchRun, MatchVolunteer, Proposal
from programmes.models import AuditLogEntry, Referral
from tests.auth import login_verified
from tests.clock import TODAY
from tests.matching.factories import MatchRunFactory, publish_terms, site_with_people
from tests.programmes.factories import (
    CrisisCentreFactory,
    ProgrammeSiteFactory,
    ReferralFactory,
    UserFactory,
    programme,
)
from tests.volunteers.factories import VolunteerFactory
from volunteers.models import Volunteer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock_at_noon")]

URL = "/coordinator/report/"
YEAR = {"from_date": "2026-01-01", "to_date": TODAY.isoformat()}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


# Data with the dates the report counts by ------------------------------------------------------


def at(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


def days_ago(days: int) -> datetime.date:
    return TODAY - datetime.timedelta(days=days)


def referral(site, submitted: datetime.date, status=Referral.Status.WAITING) -> Referral:
    made = ReferralFactory(site=site, status=status, consent_recorded_by=site.coordinators.first())
    Referral.objects.filter(pk=made.pk).update(submitted_at=at(submitted))
    made.refresh_from_db()
    return made


def matched(referral_, approved, *, active_from=None, ended=None, reason="", volunteers=()):
    """A match made on ``approved``, in force from ``active_from``, ended on ``ended`` for
    ``reason``: written as it is, since the report only reads what the lifecycle leaves."""
    site = referral_.site
    coordinator = site.coordinators.first()
    run = MatchRunFactory(site=site, started_by=coordinator, status=MatchRun.Status.SUCCEEDED)
    proposal = Proposal.objects.create(
        run=run, referral=referral_, cost=1.0, status=Proposal.Status.APPROVED
    )
    status = Match.Status.CLOSED if ended else Match.Status.ACTIVE
    match = Match.objects.create(
        referral=referral_, proposal=proposal, approved_by=coordinator, status=status
    )
    Match.objects.filter(pk=match.pk).update(
        created_at=at(approved),
        ended_at=at(ended) if ended else None,
        closure_reason=reason,
    )
    if ended:
        closing = {"status": Referral.Status.CLOSED, "closure_reason": reason}
    else:
        closing = {"status": Referral.Status.ACTIVE}
    Referral.objects.filter(pk=referral_.pk).update(**closing)
    if active_from:
        Agreement.objects.create(
            match=match,
            terms=publish_terms(site.programme.slug),
            starts_on=active_from,
            ends_on=active_from + datetime.timedelta(days=365),
            activated_at=at(active_from),
        )
    for volunteer in volunteers:
        MatchVolunteer.objects.create(match=match, volunteer=volunteer, accepted_at=at(approved))
    return match


def volunteer(site, joined: datetime.date, status=Volunteer.Status.ACTIVE, retired=None):
    made = VolunteerFactory(
        organisation=site.organisation, programmes=[site.programme], status=status
    )
    Volunteer.objects.filter(pk=made.pk).update(
        joined_on=joined, retired_at=at(retired) if retired else None
    )
    return made


def two_sites():
    """Oslo and Bergen, each with its coordinator; an admin sees both."""
    oslo, oslo_staff, oslo_coordinator = site_with_people(name="Oslo")
    bergen, _staff, bergen_coordinator = site_with_people(name="Bergen")
    admin = UserFactory(username="admin", is_superuser=True, is_staff=True)
    return {
        "oslo": oslo,
        "bergen": bergen,
        "oslo_coordinator": oslo_coordinator,
        "bergen_coordinator": bergen_coordinator,
        "staff": oslo_staff,
        "admin": admin,
    }


def mixed_counts(world) -> None:
    """Oslo with counts of 5 and more, Bergen with counts of 1 to 4 in every column it can have,
    so that every kind of cell, and every total, is met hidden and shown."""
    oslo, bergen = world["oslo"], world["bergen"]
    oslo_volunteers = [volunteer(oslo, days_ago(30)) for _ in range(6)]
    bergen_volunteers = [volunteer(bergen, days_ago(30)) for _ in range(2)]
    volunteer(bergen, days_ago(400), Volunteer.Status.RETIRED, retired=days_ago(20))
    for i in range(7):
        made = referral(oslo, days_ago(100 + i))
        match = matched(
            made,
            days_ago(50 + i),
            active_from=days_ago(40),
            volunteers=oslo_volunteers[i % 6 :][:1],
        )
        CheckIn.objects.create(
            match=match, months_after_start=1, due_on=days_ago(10), answered_at=at(days_ago(9))
        )
    for i in range(5):
        referral(oslo, days_ago(3 + i))
    for i in range(3):
        made = referral(bergen, days_ago(60 + i))
        matched(
            made,
            days_ago(20),
            active_from=days_ago(15),
            ended=days_ago(5) if i == 0 else None,
            reason=Match.EndReason.SAFETY if i == 0 else "",
            volunteers=bergen_volunteers[:1],
        )
    referral(bergen, days_ago(2))


def get_as(client, user, query=None, **headers):
    login_verified(client, user)
    return client.get(URL, query or YEAR, **(headers or EN))


# Reading the three outputs --------------------------------------------------------------------


class Cells(HTMLParser):
    """The report tables' cells: (kind, text) per td, and each row's header."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.cells: list[tuple[str, str]] = []
        self.row_headers: list[str] = []
        self._in: str | None = None
        self._kind = ""
        self._text: list[str] = []
        self._in_report_table = False

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "table":
            self._in_report_table = "report-table" in (values.get("class") or "")
        if not self._in_report_table:
            return
        if tag == "td":
            self._in, self._kind, self._text = "td", values.get("data-kind", ""), []
        elif tag == "th" and values.get("scope") == "row":
            self._in, self._text = "th", []

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_report_table = False
        if self._in == tag:
            text = re.sub(r"\s+", " ", "".join(self._text)).strip()
            if tag == "td":
                self.cells.append((self._kind, text))
            else:
                self.row_headers.append(text)
            self._in = None

    def handle_data(self, data):
        if self._in:
            self._text.append(data)


def html_cells(response) -> Cells:
    assert response.status_code == 200, response.content[:500]
    parser = Cells()
    parser.feed(response.content.decode())
    return parser


def csv_table(response) -> tuple[list[str], list[list[str]]]:
    assert response.status_code == 200
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    delimiter = ";" if response.wsgi_request.LANGUAGE_CODE == "nb" else ","
    header, *rows = list(csv.reader(io.StringIO(text[1:]), delimiter=delimiter))
    return header, rows


# Every number in a count's place: in the CSV after the period and the site, in that order.
COUNT_COLUMNS = [
    3 + i
    for i, column in enumerate(c for table in TABLES for c in table.columns)
    if column.kind == COUNT
]
SMALL = re.compile(r"(?<!\d)[1-4](?!\d)")


def words_for(response) -> dict[str, str]:
    """The words that stand in for a figure, in the response's language."""
    with translation.override(response.wsgi_request.LANGUAGE_CODE):
        return {"hidden": count_shown(None), "too_few": wait_shown([], 0.5)}


def assert_no_small_count(text: str, words: dict[str, str], where: str) -> None:
    """A count holds 0, "< 5", a number of 5 or more, or the words for a total left out; no
    number from 1 to 4 anywhere in it."""
    assert text == words["hidden"] or re.fullmatch(r"0|< 5|[5-9]|[1-9]\d+", text), (where, text)
    assert not SMALL.search(text.replace("< 5", "")), (where, text)


def assert_page_hides_small_counts(response) -> Cells:
    cells, words = html_cells(response), words_for(response)
    assert cells.cells, "the report shows no table"
    for kind, text in cells.cells:
        if kind == WAIT:
            assert text == words["too_few"] or text.isdigit(), text
        else:
            assert kind == COUNT
            assert_no_small_count(text, words, "page")
    return cells


def assert_csv_hides_small_counts(response) -> tuple[list[str], list[list[str]]]:
    header, rows = csv_table(response)
    words = words_for(response)
    assert len(header) == 3 + sum(len(table.columns) for table in TABLES)
    for row in rows:
        for i in COUNT_COLUMNS:
            assert_no_small_count(row[i], words, f"CSV {header[i]}")
    return header, rows


# The rules themselves -------------------------------------------------------------------------


def test_a_count_of_1_to_4_reads_under_5_and_0_and_5_read_as_they_are():
    assert [count_shown(n) for n in range(7)] == ["0", "< 5", "< 5", "< 5", "< 5", "5", "6"]
    assert count_shown(None) == "not shown"


def test_a_total_is_left_out_when_one_of_its_counts_is_hidden():
    assert total_shown(9, [6, 3]) == "not shown"
    assert total_shown(12, [6, 6, 0]) == "12"
    assert total_shown(0, [0, 0]) == "0"


def test_median_and_90th_percentile_of_five_hand_made_waits():
    waits = [30, 2, 14, 9, 5]
    assert percentile(waits, 0.5) == 9
    # Between the 4th (14) and 5th (30) value, 0.6 of the way: 23.6.
    assert percentile(waits, 0.9) == pytest.approx(23.6)
    assert wait_shown(waits, 0.9) == "24"
    assert wait_shown(waits[:4], 0.5) == "too few to show"
    # Even counts take the mean of the middle two, rounded half up to whole days.
    assert wait_shown([1, 2, 3, 4, 5, 6], 0.5) == "4"


def test_presets_are_whole_quarters_and_years_up_to_today():
    presets = {str(label): period for label, period in period_presets(TODAY)}
    assert presets["Last quarter"] == Period(datetime.date(2026, 7, 1), datetime.date(2026, 9, 30))
    assert presets["This year so far"] == Period(datetime.date(2026, 1, 1), TODAY)
    assert presets["Last year"] == Period(datetime.date(2025, 1, 1), datetime.date(2025, 12, 31))
    assert presets["This quarter so far"].start == datetime.date(2026, 10, 1)


# Suppression in every output ------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "nb"])
def test_no_count_under_5_is_shown_on_the_page_in_the_csv_or_in_print(client, language):
    world = two_sites()
    mixed_counts(world)
    headers = {"HTTP_ACCEPT_LANGUAGE": language}
    for reader in ("admin", "bergen_coordinator", "oslo_coordinator"):
        user = world[reader]
        page = assert_page_hides_small_counts(get_as(client, user, **headers))
        printed = assert_page_hides_small_counts(
            get_as(client, user, {**YEAR, "format": "print"}, **headers)
        )
        assert printed.cells == page.cells
        _header, rows = assert_csv_hides_small_counts(
            get_as(client, user, {**YEAR, "format": "csv"}, **headers)
        )
        assert [row[3:] for row in rows] == _rows_of_cells(page)


def _rows_of_cells(page: Cells) -> list[list[str]]:
    """The page's cells per row, across its tables, as the CSV lines them up."""
    rows: list[list[str]] = [[] for _ in range(len(page.row_headers) // len(TABLES))]
    texts = iter(text for _kind, text in page.cells)
    for table in TABLES:
        for row in rows:
            row.extend(next(texts) for _column in table.columns)
    return rows


def test_the_scan_meets_real_small_counts_and_the_shown_figures_are_right(client):
    """Not a vacuous pass: Bergen's counts are 1 to 4 and read "< 5"; Oslo's are shown; the
    totals that would give Bergen's back are left out, the others are given."""
    world = two_sites()
    mixed_counts(world)
    header, rows = csv_table(get_as(client, world["admin"], {**YEAR, "format": "csv"}))
    by_site = {row[2]: dict(zip(header, row, strict=True)) for row in rows}
    bergen, oslo, total = (
        by_site[str(world["bergen"])],
        by_site[str(world["oslo"])],
        by_site["Total"],
    )
    assert oslo["Received"] == "12" and bergen["Received"] == "< 5"
    assert total["Received"] == "not shown"
    assert oslo["Matched"] == "7" and bergen["Matched"] == "< 5" and total["Matched"] == "not shown"
    assert oslo["Still waiting today"] == "5" and bergen["Still waiting today"] == "< 5"
    assert bergen["Ended for safety reasons"] == "< 5"
    assert (
        bergen["Ended, all reasons"] == "not shown" and total["Ended, all reasons"] == "not shown"
    )
    assert oslo["Ended, all reasons"] == "0"
    # Nobody in either site completed an agreement: that total is shown.
    assert total["Agreement period completed"] == "0"
    assert oslo["Due in the period"] == "7" and oslo["Answered"] == "7"
    assert total["Due in the period"] == "7"
    assert oslo["Active today"] == "6" and bergen["Active today"] == "< 5"
    assert bergen["Retired"] == "< 5" and oslo["Retired"] == "0"
    assert bergen["Days to a match, median"] == "too few to show"
    assert oslo["Days to a match, median"] == "50"


def test_waiting_times_of_five_hand_made_referrals(client):
    """Matched after 2, 5, 9, 14 and 30 days: median 9, 90th percentile 24 (23.6 rounded).
    Four still waiting: too few to show."""
    world = two_sites()
    oslo = world["oslo"]
    for waited in (2, 5, 9, 14, 30):
        made = referral(oslo, days_ago(60 + waited))
        matched(made, days_ago(60))
    for days in (1, 2, 3, 4):
        referral(oslo, days_ago(days))
    header, rows = csv_table(get_as(client, world["oslo_coordinator"], {**YEAR, "format": "csv"}))
    line = dict(zip(header, rows[0], strict=True))
    assert line["Days to a match, median"] == "9"
    assert line["Days to a match, 90th percentile"] == "24"
    assert line["Days waited so far, median"] == "too few to show"
    assert line["Days waited so far, 90th percentile"] == "too few to show"
    assert line["Matched"] == "5" and line["Still waiting today"] == "< 5"


def test_a_total_with_every_row_shown_is_the_sum_and_a_volunteer_counts_once(client):
    """Two sites of one organisation and programme share its volunteers: each row counts
    them, the total counts each person once."""
    world = two_sites()
    shared = ProgrammeSiteFactory(
        programme=programme("ressursvenn"),
        crisis_centre=CrisisCentreFactory(name="Krisesenteret Drammen"),
        organisation=world["oslo"].organisation,
        coordinators=[world["oslo_coordinator"]],
    )
    for _ in range(5):
        volunteer(world["oslo"], days_ago(10))
    for i in range(6):
        referral(world["oslo"], days_ago(20 + i))
        referral(shared, days_ago(20 + i))
    header, rows = csv_table(get_as(client, world["oslo_coordinator"], {**YEAR, "format": "csv"}))
    by_site = {row[2]: dict(zip(header, row, strict=True)) for row in rows}
    assert set(by_site) == {str(world["oslo"]), str(shared), "Total"}
    assert by_site[str(shared)]["Recruited"] == by_site[str(world["oslo"])]["Recruited"] == "5"
    assert by_site["Total"]["Recruited"] == "5"
    assert by_site["Total"]["Received"] == "12"


# Who sees what --------------------------------------------------------------------------------


def test_a_coordinator_sees_only_the_sites_they_coordinate_in_every_output(client):
    world = two_sites()
    mixed_counts(world)
    oslo, bergen = str(world["oslo"]), str(world["bergen"])
    page = get_as(client, world["oslo_coordinator"])
    assert html_cells(page).row_headers == [oslo] * 4
    printed = get_as(client, world["oslo_coordinator"], {**YEAR, "format": "print"})
    assert html_cells(printed).row_headers == [oslo] * 4
    _header, rows = csv_table(get_as(client, world["oslo_coordinator"], {**YEAR, "format": "csv"}))
    assert [row[2] for row in rows] == [oslo]
    for response in (page, printed):
        assert bergen not in response.content.decode()
    admin = html_cells(get_as(client, world["admin"])).row_headers
    assert admin == [bergen, oslo, "Total"] * 4


@pytest.mark.parametrize("output", ["", "csv", "print"])
def test_another_sites_id_is_refused_naming_the_site_field(client, output):
    world = two_sites()
    mixed_counts(world)
    query = {**YEAR, "site": str(world["bergen"].pk), "format": output}
    response = get_as(client, world["oslo_coordinator"], query)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "Site: Select a valid choice" in body
    assert str(world["bergen"]) not in body and "report-table" not in body


@pytest.mark.parametrize("reader", ["staff", "volunteer"])
def test_crisis_centre_staff_and_volunteers_are_refused(client, reader):
    world = two_sites()
    user = world["staff"] if reader == "staff" else volunteer(world["oslo"], TODAY).user
    assert get_as(client, user).status_code == 403
    assert get_as(client, user, {**YEAR, "format": "csv"}).status_code == 403


def test_signed_out_readers_are_sent_to_log_in(client):
    response = client.get(URL, YEAR)
    assert response.status_code == 302 and "/login" in response["Location"]


def test_the_report_holds_no_alias_or_name_and_logs_no_referral_read(client):
    world = two_sites()
    mixed_counts(world)
    aliases = list(Referral.objects.values_list("alias", flat=True))
    names = [v.user.username for v in Volunteer.objects.select_related("user")]
    reads = AuditLogEntry.objects.filter(action=AuditLogEntry.Action.ACCESS).count()
    outputs = [
        get_as(client, world["admin"], {**YEAR, "format": output}).content.decode("utf-8")
        for output in ("", "csv", "print")
    ]
    for output in outputs:
        for word in aliases + names:
            assert word not in output
    assert AuditLogEntry.objects.filter(action=AuditLogEntry.Action.ACCESS).count() == reads


def test_the_dashboard_links_the_report(client):
    world = two_sites()
    login_verified(client, world["oslo_coordinator"])
    assert URL in client.get("/coordinator/", **EN).content.decode()


# The period -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "error"),
    [
        (
            {"from_date": "2026-13-01", "to_date": "2026-11-01"},
            "From: Write the first day as a date",
        ),
        (
            {"from_date": "yesterday", "to_date": "2026-11-01"},
            "From: Write the first day as a date",
        ),
        ({"from_date": "2026-01-01", "to_date": "31.02.2026"}, "To: Write the last day as a date"),
        ({"from_date": "", "to_date": "2026-11-01"}, "From: Give the first day of the period."),
        ({"from_date": "2026-06-01", "to_date": "2026-05-31"}, "To: The last day must not be"),
        ({"from_date": "2026-06-01", "to_date": "2027-01-01"}, "To: The period can end today"),
    ],
)
def test_a_bad_period_is_refused_naming_the_field(client, query, error):
    world = two_sites()
    for output in ("", "csv", "print"):
        response = get_as(client, world["oslo_coordinator"], {**query, "format": output})
        assert response.status_code == 400
        body = response.content.decode()
        assert error in body, body[:3000]
        assert 'id="error-summary"' in body and "report-table" not in body


def test_without_dates_the_report_covers_this_year_so_far(client):
    world = two_sites()
    referral(world["oslo"], datetime.date(2025, 12, 31))
    for day in range(5):
        referral(world["oslo"], datetime.date(2026, 1, 1 + day))
    response = get_as(client, world["oslo_coordinator"], {"format": "csv"})
    header, rows = csv_table(response)
    line = dict(zip(header, rows[0], strict=True))
    assert (line["From"], line["To"]) == ("2026-01-01", TODAY.isoformat())
    assert line["Received"] == "5"
    # The one from last year still waits, so it is counted as waiting, not as received.
    assert line["Still waiting today"] == "6"


def test_a_preset_link_changes_the_period(client):
    world = two_sites()
    for day in range(6):
        referral(world["oslo"], datetime.date(2026, 8, 1 + day))
    page = get_as(client, world["oslo_coordinator"]).content.decode()
    assert "from_date=2026-07-01&amp;to_date=2026-09-30" in page
    last_quarter = {"from_date": "2026-07-01", "to_date": "2026-09-30", "format": "csv"}
    header, rows = csv_table(get_as(client, world["oslo_coordinator"], last_quarter))
    assert dict(zip(header, rows[0], strict=True))["Received"] == "6"
    outside = {"from_date": "2026-10-01", "to_date": "2026-10-31", "format": "csv"}
    header, rows = csv_table(get_as(client, world["oslo_coordinator"], outside))
    assert dict(zip(header, rows[0], strict=True))["Received"] == "0"


def test_the_bokmal_file_has_a_byte_order_mark_semicolons_and_a_dated_name(client):
    world = two_sites()
    response = get_as(
        client, world["oslo_coordinator"], {**YEAR, "format": "csv"}, HTTP_ACCEPT_LANGUAGE="nb"
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f"2026-01-01-{TODAY.isoformat()}.csv" in response["Content-Disposition"]
    assert (
        response.content.decode("utf-8").startswith("\ufeff") and ";" in response.content.decode()
    )


# Cost ----------------------------------------------------------------------------------------


def queries_for(client, user, output: str) -> int:
    login_verified(client, user)
    client.get(URL, {**YEAR, "format": output}, **EN)  # the session's first write after login
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, {**YEAR, "format": output}, **EN)
    assert response.status_code == 200
    return len(queries)


def test_the_report_costs_the_same_queries_for_few_and_many_sites_and_people(client):
    world = two_sites()
    mixed_counts(world)
    few = {output: queries_for(client, world["admin"], output) for output in ("", "csv", "print")}
    for n in range(4):
        site, _staff, _coordinator = site_with_people(name=f"Sted {n}")
        mixed_counts({"oslo": site, "bergen": world["bergen"]})
    many = {output: queries_for(client, world["admin"], output) for output in ("", "csv", "print")}
    assert many == few
