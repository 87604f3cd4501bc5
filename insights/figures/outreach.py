"""Outreach aggregates for the supervisor dashboard and the public transparency page.

Read from the summary tables (``insights.rollups``): activities that *started* in the period,
in the place filter, per neighborhood and kind — the rows with no category count every
activity, the rows of a category the activities linked to an issue or a Problem of it — and the
partners engaged, distinct over the period's engagement rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, Q, Sum

from insights.figures.issues import DashboardScope
from insights.figures.summaries import period_dates, period_q
from insights.models import EngagementRollup, OutreachRollup

__all__ = ["OutreachFigures", "outreach_figures", "transparency_outreach_counts"]


@dataclass
class OutreachFigures:
    activities: int = 0
    hours: Decimal = Decimal("0")
    partners_engaged: int = 0
    attendance: int = 0
    by_neighborhood: dict[int, dict] = field(default_factory=dict)
    by_kind: dict[str, dict] = field(default_factory=dict)


def _hours(value) -> Decimal:
    if value is None:
        return Decimal("0")
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _category_q(scope: DashboardScope) -> Q:
    return Q(category_id=scope.category_id) if scope.category_id else Q(category_id__isnull=True)


def outreach_figures(scope: DashboardScope) -> OutreachFigures:
    """Activities, officer-hours, attendance and distinct partners engaged — in total, per neighborhood, per kind."""
    first, last = period_dates(scope)
    where = period_q(first, last) & scope.place_q() & _category_q(scope)
    figures = OutreachFigures()
    for place, kind, n, hours, attendance in (
        OutreachRollup.objects.filter(where)
        .values_list("neighborhood_id", "kind")
        .annotate(Sum("activities"), Sum("hours"), Sum("attendance"))
        .order_by()
    ):
        hours = _hours(hours)
        row = figures.by_neighborhood.setdefault(
            place, {"activities": 0, "hours": Decimal("0"), "attendance": 0, "partners": 0}
        )
        row["activities"] += n
        row["hours"] += hours
        row["attendance"] += attendance
        by_kind = figures.by_kind.setdefault(kind, {"activities": 0, "hours": Decimal("0")})
        by_kind["activities"] += n
        by_kind["hours"] += hours
        figures.activities += n
        figures.hours += hours
        figures.attendance += attendance
    engaged = EngagementRollup.objects.filter(where)
    for place, partners in (
        engaged.values_list("neighborhood_id").annotate(Count("partner_id", distinct=True)).order_by()
    ):
        figures.by_neighborhood.setdefault(
            place, {"activities": 0, "hours": Decimal("0"), "attendance": 0, "partners": 0}
        )["partners"] = partners
    figures.partners_engaged = engaged.aggregate(n=Count("partner_id", distinct=True))["n"] or 0
    return figures


def transparency_outreach_counts(first: date, last: date) -> dict[int, int]:
    """Outreach activities per neighborhood that started on local days [first, last] (counts only)."""
    rows = (
        OutreachRollup.objects.filter(period_q(first, last), category_id__isnull=True)
        .values_list("neighborhood_id")
        .annotate(Sum("activities"))
        .order_by()
    )
    return dict(rows)
