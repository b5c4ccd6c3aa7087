"""Dates as a page in bokmål or English shows them (config/formats): "29. nov. 2026" and
"29 Nov 2026"."""

import datetime

from django.utils import translation
from django.utils.formats import date_format


def short_date(day: datetime.date, language: str = "nb") -> str:
    with translation.override(language):
        return date_format(day, "SHORT_DATE_FORMAT")
