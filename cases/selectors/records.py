"""Reads of the cases app's other records (categories, reports, events, escalations,
notifications), scoped to the user the same way as issues: whatever a user sees
of them hangs off an issue that ``issues_visible_to`` lets the user see.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from cases.models import Category, CategoryAttribute, Escalation, Event, Issue, Report
from cases.selectors.issues import _is_staff_member, issues_visible_to

__all__ = [
    "categories_visible_to",
    "reports_visible_to",
    "issue_events_for",
    "escalations_visible_to",
]


def categories_visible_to(user) -> QuerySet[Category]:
    """Staff see every category; everyone else the active ones residents can report."""
    queryset = Category.objects.prefetch_related(
        Prefetch("attributes", queryset=CategoryAttribute.objects.order_by("order", "code"))
    )
    if _is_staff_member(user):
        return queryset
    return queryset.filter(is_active=True)


def reports_visible_to(user) -> QuerySet[Report]:
    """Reports on issues the user may see (staff only); contact columns are the caller's to guard."""
    visible = issues_visible_to(user)
    if not _is_staff_member(user):
        return Report.objects.none()
    return Report.objects.filter(issue__in=visible.values("pk")).select_related(
        "created_by", "issue", "issue__neighborhood"
    )


def issue_events_for(issue: Issue) -> QuerySet[Event]:
    """An issue's whole timeline (staff view: public and internal), oldest first."""
    return Event.objects.filter(issue=issue).select_related("actor").order_by("created_at", "id")


def escalations_visible_to(user) -> QuerySet[Escalation]:
    if not (_is_staff_member(user) and user.has_perm("cases.view_escalation")):
        return Escalation.objects.none()
    # Staff see every issue (cases.selectors.issues), so every escalation: no ``issue IN (every
    # issue)`` semi-join, which PostgreSQL answers by reading the whole issue table.
    return Escalation.objects.select_related("issue", "decided_by")
