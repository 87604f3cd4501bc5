"""Outreach aggregates for the supervisor dashboard and the public transparency page.

One statement per page: the activities in scope are read once into a CTE and
grouped several ways (by neighborhood and kind; distinct partners per
neighborhood and overall), ``UNION ALL``-ed.

Scope: activities that *started* in the period, in the place filter. With a
category filter, the activities that addressed an issue of that category or
were logged against a Problem of that category.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from core.dialect import Dialect
from insights.figures.issues import DashboardScope
from outreach.models import Activity

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


def _activities_in_scope(scope: DashboardScope) -> QuerySet[Activity]:
    qs = Activity.objects.filter(scope.place_q(), starts_at__gte=scope.start, starts_at__lt=scope.end)
    if scope.category_id:
        linked_issue = Activity.issues.through.objects.filter(
            activity_id=OuterRef("pk"), issue__category_id=scope.category_id
        )
        qs = qs.filter(Q(Exists(linked_issue)) | Q(problem__category_id=scope.category_id))
    return qs


def outreach_figures(scope: DashboardScope) -> OutreachFigures:
    """Activities, officer-hours, attendance and distinct partners engaged — in total, per neighborhood, per kind."""
    base_sql, params = (
        _activities_in_scope(scope)
        .values("id", "neighborhood_id", "kind", "hours", "attendance")
        .order_by()
        .query.sql_with_params()
    )
    through = Activity.partners.through._meta
    table = connection.ops.quote_name(through.db_table)
    activity_col = connection.ops.quote_name(through.get_field("activity").column)
    partner_col = connection.ops.quote_name(through.get_field("partner").column)
    dialect = Dialect(connection)
    null_key = dialect.typed_null("bigint")
    null_text = dialect.typed_null("varchar")
    null_num = dialect.typed_null("numeric")
    # The partner links join the activities in scope read afresh from their index (not the CTE):
    # with the table's statistics the planner knows activity ids are unique and picks the join —
    # a hash of the period's activities that the links probe for a whole city, index probes for a
    # district — where over a CTE it has no statistics, hashes every link and probes it per
    # activity. Partners are made distinct per neighborhood once, and both partner figures count
    # those pairs.
    sql = f"""
        WITH a AS ({base_sql}),
             ap AS (SELECT DISTINCT s.neighborhood_id, p.{partner_col} AS partner_id
                      FROM ({base_sql}) AS s JOIN {table} AS p ON p.{activity_col} = s.id)
        SELECT 'nk' AS dim, neighborhood_id AS k, kind, COUNT(*) AS n, SUM(hours) AS hours,
               SUM(attendance) AS attendance, {null_key} AS partners
          FROM a GROUP BY neighborhood_id, kind
        UNION ALL
        SELECT 'np', neighborhood_id, {null_text}, {null_key}, {null_num}, {null_key}, COUNT(*)
          FROM ap GROUP BY neighborhood_id
        UNION ALL
        SELECT 'tp', {null_key}, {null_text}, {null_key}, {null_num}, {null_key}, COUNT(DISTINCT partner_id) FROM ap
    """  # noqa: S608 (identifiers from the model's meta; values are bound parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, tuple(params) * 2)
        names = [c[0] for c in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    figures = OutreachFigures()
    for row in rows:
        if row["dim"] == "nk":
            n, hours, attendance = int(row["n"]), _hours(row["hours"]), int(row["attendance"] or 0)
            place = figures.by_neighborhood.setdefault(
                row["k"], {"activities": 0, "hours": Decimal("0"), "attendance": 0, "partners": 0}
            )
            place["activities"] += n
            place["hours"] += hours
            place["attendance"] += attendance
            kind = figures.by_kind.setdefault(row["kind"], {"activities": 0, "hours": Decimal("0")})
            kind["activities"] += n
            kind["hours"] += hours
            figures.activities += n
            figures.hours += hours
            figures.attendance += attendance
        elif row["dim"] == "np":
            figures.by_neighborhood.setdefault(
                row["k"], {"activities": 0, "hours": Decimal("0"), "attendance": 0, "partners": 0}
            )["partners"] = int(row["partners"])
        elif row["dim"] == "tp":
            figures.partners_engaged = int(row["partners"] or 0)
    return figures


def transparency_outreach_counts(*, start: datetime, end: datetime) -> dict[int, int]:
    """Outreach activities per neighborhood that started in the period (counts only)."""
    rows = (
        Activity.objects.filter(starts_at__gte=start, starts_at__lt=end)
        .values("neighborhood_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["neighborhood_id"]: row["n"] for row in rows}
