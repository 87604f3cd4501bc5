"""The partner and neighborhood directories' figures: issues and outreach per neighborhood, a partner's problems.

Correlated subqueries, so that each list stays one query whatever its size.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone, translation

from cases.models import Issue, Problem
from cases.selectors import issues_visible_to
from outreach.models import Activity
from outreach.selectors import count_subquery

RECENT_DAYS = 90


def _sum(queryset, group_field, field):
    return Coalesce(
        Subquery(
            queryset.order_by().values(group_field).annotate(total=Sum(field)).values("total")[:1],
            output_field=DecimalField(max_digits=12, decimal_places=2),
        ),
        Value(Decimal("0")),
        output_field=DecimalField(max_digits=12, decimal_places=2),
    )


def neighborhoods_with_figures(queryset, now=None):
    """Open and overdue issues, and outreach in the last 90 days, per neighborhood (in SQL)."""
    now = now or timezone.now()
    since = now - timedelta(days=RECENT_DAYS)
    open_issues = Issue.objects.filter(neighborhood_id=OuterRef("pk"), status__in=Issue.OPEN_STATUSES)
    overdue = open_issues.filter(status__in=Issue.ESCALATING_STATUSES, due_at__lt=now)
    recent = Activity.objects.filter(neighborhood_id=OuterRef("pk"), starts_at__gte=since)
    return queryset.annotate(
        open_issues=Coalesce(count_subquery(open_issues, "neighborhood_id"), 0),
        overdue_issues=Coalesce(count_subquery(overdue, "neighborhood_id"), 0),
        recent_activities=Coalesce(count_subquery(recent, "neighborhood_id"), 0),
        recent_hours=_sum(recent, "neighborhood_id", "hours"),
    )


def open_issues_in(user, neighborhood, limit: int = 50):
    """A neighborhood's open issues by due time (the first ``limit``), with the total and the overdue count."""
    now = timezone.now()
    qs = issues_visible_to(user).filter(neighborhood=neighborhood, status__in=Issue.OPEN_STATUSES)
    figures = qs.order_by().aggregate(
        total=Count("pk"),
        overdue=Count("pk", filter=Q(status__in=Issue.ESCALATING_STATUSES, due_at__lt=now)),
    )
    issues = list(qs.order_by("due_at", "pk")[:limit])
    for issue in issues:
        issue.is_overdue = issue.status in Issue.ESCALATING_STATUSES and issue.due_at < now
    return issues, figures


def open_issues_by_category(user, neighborhood) -> list[dict]:
    """Open issues of a neighborhood counted per category, largest first (one GROUP BY)."""
    rows = (
        issues_visible_to(user)
        .filter(neighborhood=neighborhood, status__in=Issue.OPEN_STATUSES)
        .order_by()
        .values("category_id", "category__name_en", "category__name_es")
        .annotate(n=Count("pk"))
        .order_by("-n", "category__name_en")
    )
    spanish = (translation.get_language() or "en").startswith("es")
    result = [
        {
            "name": (r["category__name_es"] if spanish and r["category__name_es"] else r["category__name_en"]),
            "n": r["n"],
        }
        for r in rows
    ]
    top = max((r["n"] for r in result), default=0)
    for r in result:
        r["percent"] = round(100 * r["n"] / top) if top else 0
    return result


def problems_with_partner(partner):
    return list(Problem.objects.filter(partners=partner).select_related("neighborhood").order_by("-created_at")[:20])
