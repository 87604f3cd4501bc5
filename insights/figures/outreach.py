"""Outreach aggregates for the supervisor dashboard and the public transparency page.

Read from the summary tables (``insights.rollups``): activities that *started* in the period,
in the place filter, per neighborhood and kind — the rows with no category count every
activity, the rows of a category the activities linked to an issue or a Problem of it — and the
partners engaged: the union of the period's partner sets, one row per neighborhood and period.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Q, Sum

from insights.figures.issues import DashboardScope
from insights.figures.summaries import period_dates, period_q
from insights.models import OutreachRollup, PartnerSetRollup
from insights.rollups import bits_union

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
    engaged: dict[int, int] = {}
    for place, partners in PartnerSetRollup.objects.filter(where).values_list("neighborhood_id", "partners"):
        engaged[place] = engaged.get(place, 0) | bits_union([partners])
    for place, partners in engaged.items():
        figures.by_neighborhood.setdefault(
            place, {"activities": 0, "hours": Decimal("0"), "attendance": 0, "partners": 0}
        )["partners"] = partners.bit_count()
    everyone = 0
    for partners in engaged.values():
        everyone |= partners
    figures.partners_engaged = everyone.bit_count()
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
