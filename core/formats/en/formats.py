"""English (United States) dates and numbers: the one format every page, email and export heading uses.

Templates name these formats (``|date:"DATE_FORMAT"``) rather than spell them, so that the same
place reads the same way on every page and in the other language (``tests/config/test_formats.py``).
"""

DATE_FORMAT = "M j, Y"  # Dec 7, 2026
DATETIME_FORMAT = "M j, Y, H:i"  # Dec 7, 2026, 14:30
SHORT_DATETIME_FORMAT = "M j, H:i"  # Dec 7, 14:30 — a time within weeks of today (due times)
MONTH_DAY_FORMAT = "M j"  # Dec 7
TIME_FORMAT = "H:i"  # 14:30
YEAR_MONTH_FORMAT = "F Y"  # December 2026
SHORT_DATE_FORMAT = "m/d/Y"  # 12/07/2026

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
