"""Bokmål as Norway writes it: "29. nov. 2026", "kl. 14:11". Django's bokmål writes short dates
as digits (29.11.2026); Kobling names the month, which reads the same in both languages and
cannot be mistaken for another order."""

DATE_FORMAT = "j. F Y"  # 29. november 2026
TIME_FORMAT = "H:i"  # 14:11
DATETIME_FORMAT = r"j. F Y \k\l. H:i"  # 29. november 2026 kl. 14:11
YEAR_MONTH_FORMAT = "F Y"  # november 2026
MONTH_DAY_FORMAT = "j. F"  # 29. november
SHORT_DATE_FORMAT = "j. N Y"  # 29. nov. 2026 (mai, juni and juli unabbreviated)
SHORT_DATETIME_FORMAT = r"j. N Y \k\l. H:i"  # 29. nov. 2026 kl. 14:11
FIRST_DAY_OF_WEEK = 1  # Monday
