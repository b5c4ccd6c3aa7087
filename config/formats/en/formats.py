"""English as read in Norway: the day before the month and a 24-hour clock ("29 Nov 2026",
"14:11"), never Django's American defaults ("11/29/2026", "2:11 p.m.")."""

DATE_FORMAT = "j F Y"  # 29 November 2026
TIME_FORMAT = "H:i"  # 14:11
DATETIME_FORMAT = "j F Y, H:i"  # 29 November 2026, 14:11
YEAR_MONTH_FORMAT = "F Y"  # November 2026
MONTH_DAY_FORMAT = "j F"  # 29 November
SHORT_DATE_FORMAT = "j M Y"  # 29 Nov 2026
SHORT_DATETIME_FORMAT = "j M Y, H:i"  # 29 Nov 2026, 14:11
FIRST_DAY_OF_WEEK = 1  # Monday

# Typed dates are read day first, as people in Norway write them; ISO first, as the forms send.
DATE_INPUT_FORMATS = [
    "%Y-%m-%d",  # 2026-11-29
    "%d.%m.%Y",  # 29.11.2026
    "%d/%m/%Y",  # 29/11/2026
    "%d %b %Y",  # 29 Nov 2026
    "%d %B %Y",  # 29 November 2026
]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M",
    "%d.%m.%Y %H:%M",
    "%d/%m/%Y %H:%M",
]
