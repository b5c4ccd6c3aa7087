"""The coordinator's lists at a real programme's size: referrals, volunteers, matches and
check-ins, each filtered (casework/filters.py), 50 to a page, and exported as CSV.

A list reads only through the role-scoped selectors, so the filters narrow what the user may see
and nothing else. Each page costs the same number of queries however many rows there are: what a
row shows is joined or prefetched for the page, never fetched per row. The page's referrals go to
the access log as a portal read; an export's, all of them, as an export."""

import csv
import datetime
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import (
    Case,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
    prefetch_related_objects,
)
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.http import content_disposition_header
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.roles import (
    CASE_ROLES,
    COORDINATING_ROLES,
    Role,
    require_role,
    sites_coordinated_by,
    user_has_role,
)
from casework import filters
from matching.lifecycle import OPEN_REFERRAL
from matching.models import CheckIn, Match, MatchVolunteer
from matching.selectors import matches_managed_by
from programmes.activities import activity_names
from programmes.audit import objects_log_read, referral_ids_of, referrals_log_read
from programmes.languages import language_names, languages_and_levels
from programmes.models import Programme, ProgrammeSite, Referral, VettingKind
from programmes.selectors import referrals_visible_to, sites_visible_to
from volunteers.models import VettingRecord, Volunteer
from volunteers.selectors import (
    VETTING_WARNING_DAYS,
    vetting_expires_soon,
    vetting_missing,
    volunteers_visible_to,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

PAGE_SIZE = 50
# Rows an export reads at a time, so its memory stays bounded at any size. A list that
# prefetches (matches: their volunteers) costs one more query per chunk.
EXPORT_CHUNK = 2000
# Spreadsheet programs run a cell that starts with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A referral still waiting for a volunteer, from the participant's point of view.
STILL_WAITING = (Referral.Status.SUBMITTED, Referral.Status.WAITING, Referral.Status.PROPOSED)


@dataclass(frozen=True)
class Column:
    header: Any  # a lazy translation
    value: Any  # row -> a str, date, number, bool or None


class PortalList:
    """One list: the rows a user may see, its filters, what a page and an export show."""

    template: str
    filterset: type[filters.ScopedFilterSet]
    export_name: Any
    columns: list[Column]
    # The access log: where a row keeps its referral, or None for a list of volunteers.
    referral_field: str | None = "referral"

    def rows(self, user) -> QuerySet:
        raise NotImplementedError

    def sites(self, user) -> QuerySet[ProgrammeSite]:
        return sites_coordinated_by(user)

    def context(self, user) -> dict:
        """What the page shows besides the rows, even when a filter is wrong."""
        return {}

    def page_context(self, objects: list, user) -> dict:
        return {}

    def export(self, rows: QuerySet) -> tuple[QuerySet, list[Column]]:
        """The rows and columns of the CSV file."""
        return rows, self.columns


def list_response(request, portal_list: PortalList):
    """The filtered list, one page of it, or (``?format=csv``) all of it as CSV. A filter
    value that is not one of the choices is named in the error summary, with status 400."""
    user = request.user
    rows = portal_list.rows(user)
    found = portal_list.filterset(request.GET, rows, user, portal_list.sites(user))
    context: dict[str, Any] = {
        "filter": found,
        "page": None,
        "export_query": _export_query(request),
    }
    context |= portal_list.context(user)
    if not found.is_valid():
        return render(request, portal_list.template, context, status=400)
    if request.GET.get("format") == "csv":
        return csv_export(request, portal_list, found.qs)
    page = Paginator(found.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    objects = list(page.object_list)
    _log_page_read(user, portal_list, objects)
    context |= {
        "page": page,
        "objects": objects,
        "page_numbers": list(page.paginator.get_elided_page_range(page.number, on_ends=1)),
        "filtered": any(
            value not in (None, "", False) for value in found.form.cleaned_data.values()
        ),
        **portal_list.page_context(objects, user),
    }
    return render(request, portal_list.template, context)


def _export_query(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    query["format"] = "csv"
    return query.urlencode()


def _log_page_read(user, portal_list: PortalList, objects: list) -> None:
    if portal_list.referral_field is None:
        objects_log_read(user, Volunteer, objects, "portal")
    else:
        referrals_log_read(user, referral_ids_of(objects), "portal")


def _log_export(user, portal_list: PortalList, rows: QuerySet) -> None:
    field = portal_list.referral_field
    ids = rows.order_by().values_list(field or "pk", flat=True)
    if field is None:
        objects_log_read(user, Volunteer, ids, "export")
    else:
        referrals_log_read(user, ids, "export")


def csv_export(request, portal_list: PortalList, rows: QuerySet) -> StreamingHttpResponse:
    """Every row of the filtered list, streamed in chunks, headed in the reader's language.
    UTF-8 with a byte-order mark so that Excel reads æøå; semicolons in bokmål, where Excel
    expects them, because the comma is the decimal sign there."""
    _log_export(request.user, portal_list, rows)
    language = translation.get_language()
    stream = _csv_lines(*portal_list.export(rows), language)
    today = timezone.localdate().isoformat()
    filename = f"{gettext(portal_list.export_name)}-{today}.csv"
    return StreamingHttpResponse(
        stream,
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": content_disposition_header(True, filename)},
    )


class _Lines:
    """csv.writer writes to this and gets the line back, to stream it."""

    def write(self, line: str) -> str:
        return line


def _csv_lines(rows: QuerySet, columns: list[Column], language: str):
    # The response streams after the view has returned, so the language is set here again.
    with translation.override(language):
        delimiter = ";" if language == "nb" else ","
        writer = csv.writer(_Lines(), delimiter=delimiter)
        yield "\ufeff" + writer.writerow([str(c.header) for c in columns])
        for row in rows.iterator(chunk_size=EXPORT_CHUNK):
            yield writer.writerow([csv_cell(c.value(row)) for c in columns])


def csv_cell(value) -> str:
    """A value as a spreadsheet cell: words for booleans, ISO dates, and text that a
    spreadsheet would run as a formula made plain text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, datetime.datetime):
        return timezone.localdate(value).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _date(value) -> datetime.date | None:
    return timezone.localdate(value) if value else None


# Referrals -------------------------------------------------------------------------------------


class NeedsReplacement(TypedDict):
    needs_replacement: bool


def referral_status_words(referral: "WithAnnotations[Referral, NeedsReplacement]") -> str:
    """The status, with why it was withdrawn or closed, or that a volunteer must be replaced."""
    status = referral.get_status_display()
    if referral.status == Referral.Status.WITHDRAWN and referral.withdrawal_reason:
        return f"{status}: {referral.get_withdrawal_reason_display()}"
    if referral.status == Referral.Status.CLOSED and referral.closure_reason:
        return f"{status}: {referral.get_closure_reason_display()}"
    if referral.needs_replacement:
        return f"{status}: {gettext('needs a replacement volunteer')}"
    return status


def days_waited(referral: Referral) -> int | None:
    if referral.status not in STILL_WAITING:
        return None
    return (timezone.localdate() - timezone.localdate(referral.submitted_at)).days


class ReferralList(PortalList):
    template = "programmes/referral_list.html"
    filterset = filters.ReferralFilter
    export_name = _("referrals")
    columns = [
        Column(_("Alias"), lambda r: r.alias),
        Column(_("Programme"), lambda r: r.site.programme.name),
        Column(_("Crisis centre"), lambda r: r.site.crisis_centre.name),
        Column(_("Municipality"), lambda r: r.municipality.name),
        Column(_("Languages"), lambda r: language_names(r.languages)),
        Column(_("Status"), referral_status_words),
        Column(_("Submitted"), lambda r: _date(r.submitted_at)),
        Column(_("Days waited"), days_waited),
    ]
    referral_field = "pk"

    def rows(self, user) -> QuerySet[Referral]:
        """Still-waiting referrals first, the longest waiting at the top; then the rest,
        newest first."""
        replacing = Match.objects.filter(
            referral=OuterRef("pk"), status__in=Match.OPEN_STATUSES, needs_replacement=True
        )
        waiting = Q(status__in=STILL_WAITING)
        return (
            referrals_visible_to(user)
            .annotate(
                needs_replacement=Exists(replacing),
                done=Case(When(waiting, then=Value(0)), default=Value(1)),
                waited_from=Case(When(waiting, then=F("submitted_at"))),
            )
            .order_by("done", "waited_from", "-submitted_at", "-pk")
        )

    def sites(self, user) -> QuerySet[ProgrammeSite]:
        return sites_visible_to(user)

    def context(self, user) -> dict:
        return {
            "coordinating": user_has_role(user, *COORDINATING_ROLES),
            "can_refer": user_has_role(user, Role.CRISIS_CENTRE_STAFF),
        }

    def page_context(self, objects: list, user) -> dict:
        rows = [
            {
                "referral": referral,
                "status": referral_status_words(referral),
                "days_waited": days_waited(referral),
                "withdrawable": referral.status in OPEN_REFERRAL,
                "languages": language_names(referral.languages),
            }
            for referral in objects
        ]
        return {"rows": rows}


# Volunteers ------------------------------------------------------------------------------------


def vetting_expiring_among(records, on: datetime.date) -> list:
    """The records valid on ``on`` that run out within the warning window, soonest first."""
    soon = [record for record in records if vetting_expires_soon(record, on)]
    return sorted(soon, key=lambda r: r.expires_on)


def _vetting_gaps(volunteer: Volunteer, on: datetime.date) -> dict:
    return {
        programme: [VettingKind(kind).label for kind in vetting_missing(volunteer, programme, on)]
        for programme in volunteer.programmes.all()
    }


class VolunteerList(PortalList):
    template = "volunteers/volunteer_list.html"
    filterset = filters.VolunteerFilter
    export_name = _("volunteers")
    columns = [
        Column(_("Name"), attrgetter("display_name")),
        Column(_("Municipality"), lambda v: v.home_postal_code.municipality.name),
        Column(_("E-mail"), lambda v: v.user.email),
        Column(_("Organisation"), lambda v: v.organisation.name),
        Column(_("Status"), lambda v: v.get_status_display()),
        Column(_("Languages"), lambda v: languages_and_levels(v.languages)),
        Column(_("Activities"), lambda v: activity_names(v.activities.all())),
        Column(_("Open matches"), lambda v: v.commitments),
        Column(_("Capacity"), lambda v: v.capacity),
    ]
    referral_field = None

    def rows(self, user) -> QuerySet[Volunteer]:
        """Alphabetical by name, as people are shown. Never the coordinator themself (they vet
        others), nor anyone whose personal data is erased: nothing is left to show."""
        visible = volunteers_visible_to(user).exclude(user=user)
        return visible.filter(erased_at__isnull=True).order_by(
            "user__first_name", "user__last_name", "pk"
        )

    def page_context(self, objects: list, user) -> dict:
        today = timezone.localdate()
        # Each volunteer's records in the order of the volunteer page; the model's own order
        # (by volunteer, so by username) would join every volunteer and user to sort them.
        vetting = Prefetch("vetting", VettingRecord.objects.order_by("kind", "-issued_on"))
        prefetch_related_objects(objects, "programmes", vetting, "activities")
        for volunteer in objects:
            volunteer.languages_in_words = languages_and_levels(volunteer.languages)
            volunteer.activities_in_words = activity_names(volunteer.activities.all())
        rows = [
            (v, _vetting_gaps(v, today), vetting_expiring_among(v.vetting.all(), today))
            for v in objects
        ]
        return {"rows": rows, "warning_days": VETTING_WARNING_DAYS}

    def export(self, rows: QuerySet) -> tuple[QuerySet, list[Column]]:
        """Which programmes each volunteer takes part in, as one column per programme in SQL
        rather than a prefetch per chunk, so the export costs the same at any size."""
        programmes = list(Programme.objects.order_by("name"))
        takes_part = {
            f"in_programme_{p.pk}": Exists(
                Volunteer.programmes.through.objects.filter(volunteer=OuterRef("pk"), programme=p)
            )
            for p in programmes
        }

        def names(volunteer) -> str:
            return ", ".join(
                p.name for p in programmes if getattr(volunteer, f"in_programme_{p.pk}")
            )

        columns = [*self.columns]
        columns.insert(4, Column(_("Programmes"), names))
        # Activities are a prefetch: one more query per chunk.
        return rows.annotate(**takes_part).prefetch_related("activities"), columns


# Matches ---------------------------------------------------------------------------------------


def matches_coordinated_by(user) -> QuerySet[Match]:
    """The matches of the sites a user coordinates (all for admins): those on the match page."""
    return matches_managed_by(user).filter(referral__site__in=sites_coordinated_by(user))


def _current_places() -> Prefetch:
    places = MatchVolunteer.objects.filter(left_at__isnull=True).select_related(
        "volunteer__user", "volunteer__home_postal_code__municipality"
    )
    return Prefetch("volunteers", queryset=places.order_by("pk"), to_attr="current_places")


def match_status_words(match: Match) -> str:
    status = match.get_status_display()
    if match.is_open and match.needs_replacement:
        return f"{status}: {gettext('needs a replacement volunteer')}"
    if match.closure_reason:
        return f"{status}: {match.get_closure_reason_display()}"
    return status


class MatchList(PortalList):
    template = "casework/match_list.html"
    filterset = filters.MatchFilter
    export_name = _("matches")
    columns = [
        Column(_("Alias"), lambda m: m.referral.alias),
        Column(_("Programme"), lambda m: m.referral.site.programme.name),
        Column(_("Crisis centre"), lambda m: m.referral.site.crisis_centre.name),
        Column(_("Municipality"), lambda m: m.referral.municipality.name),
        Column(
            _("Volunteers"),
            lambda m: ", ".join(
                f"{p.volunteer.display_name} ({p.volunteer.home_postal_code.municipality.name})"
                for p in m.current_places
            ),
        ),
        Column(_("Status"), match_status_words),
        Column(_("Approved"), lambda m: _date(m.created_at)),
        Column(_("Ended"), lambda m: _date(m.ended_at)),
    ]

    def rows(self, user) -> QuerySet[Match]:
        """Those that need a replacement first, then open ones, newest first."""
        return (
            matches_coordinated_by(user)
            .select_related(
                "referral__site__programme",
                "referral__site__crisis_centre",
                "referral__municipality",
            )
            .prefetch_related(_current_places())
            .annotate(
                closed=Case(When(status__in=Match.OPEN_STATUSES, then=Value(0)), default=Value(1))
            )
            .order_by("-needs_replacement", "closed", "-created_at", "-pk")
        )

    def page_context(self, objects: list, user) -> dict:
        return {"rows": [{"match": m, "status": match_status_words(m)} for m in objects]}


# Check-ins -------------------------------------------------------------------------------------


def check_in_state_words(check_in: CheckIn) -> str:
    today = timezone.localdate()
    if check_in.handled_at:
        return gettext("Handled %(date)s") % {"date": _short(check_in.handled_at)}
    if check_in.answered_at:
        return gettext("Answered %(date)s") % {"date": _short(check_in.answered_at)}
    if check_in.due_on < today and check_in.match.status == Match.Status.ACTIVE:
        return gettext("Overdue since %(date)s") % {"date": _short(check_in.due_on)}
    if check_in.due_on < today:
        return gettext("Not answered")
    return gettext("Due %(date)s") % {"date": _short(check_in.due_on)}


def _short(value: datetime.date) -> str:
    day = timezone.localdate(value) if isinstance(value, datetime.datetime) else value
    return date_format(day, "SHORT_DATE_FORMAT")


class CheckInList(PortalList):
    template = "casework/check_in_list.html"
    filterset = filters.CheckInFilter
    export_name = _("check-ins")
    referral_field = "match__referral"
    columns = [
        Column(_("Alias"), lambda c: c.match.referral.alias),
        Column(_("Programme"), lambda c: c.match.referral.site.programme.name),
        Column(_("Crisis centre"), lambda c: c.match.referral.site.crisis_centre.name),
        Column(_("Months after start"), lambda c: c.months_after_start),
        Column(_("Due on"), lambda c: c.due_on),
        Column(_("Answered"), lambda c: _date(c.answered_at)),
        Column(_("How it is going"), lambda c: c.get_wellbeing_display()),
        Column(_("Meetings since last check-in"), lambda c: c.meetings_held),
        Column(
            _("Wants the coordinator to get in touch"),
            lambda c: c.wants_contact if c.answered_at else None,
        ),
        Column(_("Needs attention"), lambda c: c.needs_attention),
        Column(_("Handled"), lambda c: _date(c.handled_at)),
    ]

    def rows(self, user) -> QuerySet[CheckIn]:
        """Those that need attention first, oldest due first; then the rest, latest due first."""
        attention = filters.check_in_needs_attention(timezone.localdate())
        return (
            CheckIn.objects.filter(match__in=matches_coordinated_by(user).values("pk"))
            .select_related(
                "match__referral__site__programme", "match__referral__site__crisis_centre"
            )
            .annotate(
                needs_attention=Case(When(attention, then=Value(True)), default=Value(False)),
                attention_from=Case(When(attention, then=F("due_on"))),
            )
            .order_by("-needs_attention", "attention_from", "-due_on", "-pk")
        )

    def page_context(self, objects: list, user) -> dict:
        return {"rows": [{"check_in": c, "state": check_in_state_words(c)} for c in objects]}


REFERRALS = ReferralList()
VOLUNTEERS = VolunteerList()
MATCHES = MatchList()
CHECK_INS = CheckInList()


@login_required
def referral_list(request):
    """Crisis-centre staff see their centre's referrals, coordinators their sites'."""
    require_role(request.user, *CASE_ROLES)
    return list_response(request, REFERRALS)


@login_required
def volunteer_list(request):
    require_role(request.user, *COORDINATING_ROLES)
    return list_response(request, VOLUNTEERS)


@login_required
def match_list(request):
    require_role(request.user, *COORDINATING_ROLES)
    return list_response(request, MATCHES)


@login_required
def check_in_list(request):
    require_role(request.user, *COORDINATING_ROLES)
    return list_response(request, CHECK_INS)
