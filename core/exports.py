"""CSV export helpers shared by every page that offers a download."""

from datetime import datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import pgettext_lazy

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


# The column headings of the staff CSV exports. In English they are the identifiers scripts read
# (unchanged since the exports began); in Spanish they are Spanish words, for the supervisor who
# opens the file in a spreadsheet. ``?headings=keys`` gives the identifiers in any language.
HEADINGS_PARAM = "headings"
_HEADINGS = {
    "action": pgettext_lazy("CSV column", "action"),
    "active_partners": pgettext_lazy("CSV column", "active_partners"),
    "assignee": pgettext_lazy("CSV column", "assignee"),
    "attendance": pgettext_lazy("CSV column", "attendance"),
    "beat": pgettext_lazy("CSV column", "beat"),
    "category": pgettext_lazy("CSV column", "category"),
    "crime_reports": pgettext_lazy("CSV column", "crime_reports"),
    "district": pgettext_lazy("CSV column", "district"),
    "due_at": pgettext_lazy("CSV column", "due_at"),
    "ends_at": pgettext_lazy("CSV column", "ends_at"),
    "escalated": pgettext_lazy("CSV column", "escalated"),
    "escalated_at": pgettext_lazy("CSV column", "escalated_at"),
    "escalation_level": pgettext_lazy("CSV column", "escalation_level"),
    "finished": pgettext_lazy("CSV column", "finished"),
    "finished_within_sla": pgettext_lazy("CSV column", "finished_within_sla"),
    "follow_up_needed": pgettext_lazy("CSV column", "follow_up_needed"),
    "id": pgettext_lazy("CSV column", "id"),
    "issue": pgettext_lazy("CSV column", "issue"),
    "issues": pgettext_lazy("CSV column", "issues"),
    "kind": pgettext_lazy("CSV column", "kind"),
    "languages": pgettext_lazy("CSV column", "languages"),
    "needs_attention": pgettext_lazy("CSV column", "needs_attention"),
    "neighborhood": pgettext_lazy("CSV column", "neighborhood"),
    "officer": pgettext_lazy("CSV column", "officer"),
    "officer_hours": pgettext_lazy("CSV column", "officer_hours"),
    "officers": pgettext_lazy("CSV column", "officers"),
    "open": pgettext_lazy("CSV column", "open"),
    "open_issues": pgettext_lazy("CSV column", "open_issues"),
    "open_problems": pgettext_lazy("CSV column", "open_problems"),
    "opened": pgettext_lazy("CSV column", "opened"),
    "outreach_activities": pgettext_lazy("CSV column", "outreach_activities"),
    "outreach_hours": pgettext_lazy("CSV column", "outreach_hours"),
    "overdue": pgettext_lazy("CSV column", "overdue"),
    "owner": pgettext_lazy("CSV column", "owner"),
    "partners": pgettext_lazy("CSV column", "partners"),
    "place": pgettext_lazy("CSV column", "place"),
    "priority": pgettext_lazy("CSV column", "priority"),
    "reason": pgettext_lazy("CSV column", "reason"),
    "reported": pgettext_lazy("CSV column", "reported"),
    "sla_share_pct": pgettext_lazy("CSV column", "sla_share_pct"),
    "stage": pgettext_lazy("CSV column", "stage"),
    "starts_at": pgettext_lazy("CSV column", "starts_at"),
    "status": pgettext_lazy("CSV column", "status"),
    "title": pgettext_lazy("CSV column", "title"),
    "tracking_code": pgettext_lazy("CSV column", "tracking_code"),
    "url": pgettext_lazy("CSV column", "url"),
    "username": pgettext_lazy("CSV column", "username"),
    "waiting_for_decision": pgettext_lazy("CSV column", "waiting_for_decision"),
    "when": pgettext_lazy("CSV column", "when"),
    "who": pgettext_lazy("CSV column", "who"),
}


def export_headings(keys, query) -> list[str]:
    """An export's heading row in the active language, or its identifiers with ``?headings=keys``."""
    if query.get(HEADINGS_PARAM) == "keys":
        return list(keys)
    return [str(_HEADINGS[key]) for key in keys]
