"""CSV export helpers shared by every page that offers a download."""

from datetime import datetime
from decimal import Decimal

from django.utils import timezone

# Spreadsheets run a cell that starts with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """Numbers stay numbers; datetimes in local time; formula-like text is quoted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="minutes")
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text
