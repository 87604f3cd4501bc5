"""Partner aggregates for the dashboard and the public transparency page."""

from __future__ import annotations

from django.db.models import Count

from partners.models import Partner

__all__ = ["active_partner_count", "partners_serving_counts"]


def active_partner_count() -> int:
    return Partner.objects.filter(is_active=True).count()


def partners_serving_counts() -> dict[int, int]:
    """Active partner organisations serving each neighborhood (one query over the link table)."""
    through = Partner.neighborhoods.through
    rows = (
        through.objects.filter(partner__is_active=True)
        .values("neighborhood_id")
        .annotate(n=Count("partner_id", distinct=True))
        .order_by()
    )
    return {row["neighborhood_id"]: row["n"] for row in rows}
