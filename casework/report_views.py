"""The programme report's page, its CSV file and its print view (casework/report.py counts).

Coordinators see the sites they coordinate, admins every site. Crisis-centre staff do not: the
report counts the organisations' volunteers and matches, which their role never sees, and their
own referrals are on their list. The report shows no referral, so nothing goes to the access log
(that log records which referrals a person was shown)."""

import csv
import io

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.roles import COORDINATING_ROLES, require_role, sites_coordinated_by
from casework.filters import FilterForm
from casework.lists import csv_cell
from casework.report import (
    FEWER_THAN_SMALL,
    Period,
    Report,
    default_period,
    period_presets,
    programme_report,
)
from programmes.models import Programme

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ReportFilterForm(FilterForm):
    from_date = forms.DateField(
        label=_("From"),
        widget=DATE_WIDGET,
        error_messages={
            "required": _("Give the first day of the period."),
            "invalid": _("Write the first day as a date, such as 01.01.2026."),
        },
    )
    to_date = forms.DateField(
        label=_("To"),
        widget=DATE_WIDGET,
        error_messages={
            "required": _("Give the last day of the period."),
            "invalid": _("Write the last day as a date, such as 31.03.2026."),
        },
    )
    programme = forms.ModelChoiceField(
        label=_("Programme"),
        queryset=Programme.objects.none(),
        required=False,
        empty_label=_("All"),
    )
    site = forms.ModelChoiceField(
        label=_("Site"), queryset=Programme.objects.none(), required=False, empty_label=_("All")
    )
    # Every field has a value to start with, so none is marked.
    marked_kind = ""

    def __init__(self, data, *, sites, today):
        self.today = today
        period = default_period(today)
        start = {"from_date": period.start.isoformat(), "to_date": period.end.isoformat()}
        super().__init__({**start, **data.dict()})
        self.fields["site"].queryset = sites
        self.fields["programme"].queryset = Programme.objects.filter(
            pk__in=sites.values("programme")
        ).order_by("name")

    def clean(self):
        data = super().clean()
        start, end = data.get("from_date"), data.get("to_date")
        if end and end > self.today:
            self.add_error("to_date", _("The period can end today at the latest."))
        elif start and end and start > end:
            self.add_error("to_date", _("The last day must not be before the first day."))
        return data

    @property
    def period(self) -> Period:
        return Period(self.cleaned_data["from_date"], self.cleaned_data["to_date"])

    def sites(self):
        sites = self.fields["site"].queryset
        if self.cleaned_data.get("programme"):
            sites = sites.filter(programme=self.cleaned_data["programme"])
        if self.cleaned_data.get("site"):
            sites = sites.filter(pk=self.cleaned_data["site"].pk)
        return sites


@login_required
def programme_report_view(request):
    """The report as a page; ``?format=csv`` as a file, ``?format=print`` for paper."""
    require_role(request.user, *COORDINATING_ROLES)
    today = timezone.localdate()
    form = ReportFilterForm(request.GET, sites=sites_coordinated_by(request.user), today=today)
    context = {"form": form, "report": None, "fewer_than": FEWER_THAN_SMALL}
    if not form.is_valid():
        return render(request, "casework/report.html", context, status=400)
    report = programme_report(form.sites(), form.period, today)
    output = request.GET.get("format")
    if output == "csv":
        return _csv_response(report)
    context |= {
        "report": report,
        "presets": _preset_links(request, today),
        "query": _query_without_format(request),
        "programme": form.cleaned_data["programme"],
        "made_on": today,
    }
    template = "casework/report_print.html" if output == "print" else "casework/report.html"
    return render(request, template, context)


def _query_without_format(request) -> str:
    query = request.GET.copy()
    query.pop("format", None)
    return query.urlencode()


def _preset_links(request, today) -> list[tuple[str, str]]:
    links = []
    for label, period in period_presets(today):
        query = request.GET.copy()
        query.pop("format", None)
        query["from_date"], query["to_date"] = period.start.isoformat(), period.end.isoformat()
        links.append((label, query.urlencode()))
    return links


def _csv_response(report: Report) -> HttpResponse:
    """One line per site and a total, every column of every table, headed in the reader's
    language; UTF-8 with a byte-order mark and semicolons in bokmål, as the lists' exports."""
    language = translation.get_language()
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if language == "nb" else ",")
    columns = [column for table, _rows in report.tables for column in table.columns]
    writer.writerow(
        [gettext("From"), gettext("To"), gettext("Site"), *map(str, [c.header for c in columns])]
    )
    period = [report.period.start.isoformat(), report.period.end.isoformat()]
    lines = zip(*(rows for _table, rows in report.tables), strict=True)
    for parts in lines:
        cells = [text for row in parts for _column, text in row.cells]
        writer.writerow([*period, csv_cell(parts[0].label), *cells])
    name = gettext("programme-report")
    filename = f"{name}-{report.period.start.isoformat()}-{report.period.end.isoformat()}.csv"
    return HttpResponse(
        "\ufeff" + out.getvalue(),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": content_disposition_header(True, filename)},
    )
