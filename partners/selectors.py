"""Reads for the partners app."""

from __future__ import annotations

from partners import geo
from partners.models import Neighborhood


def neighborhood_for_point(lat: float, lng: float) -> Neighborhood | None:
    """The neighborhood whose boundary contains the point, or None.

    SQL narrows candidates to those whose bounding box holds the point; the
    exact polygon test runs on those few rows. Where boundaries overlap, the
    smallest box wins (the more specific neighborhood).
    """
    candidates = Neighborhood.objects.filter(
        min_lat__lte=lat, max_lat__gte=lat, min_lng__lte=lng, max_lng__gte=lng
    ).only("id", "name", "slug", "boundary", "min_lat", "max_lat", "min_lng", "max_lng", "district", "beat")
    matches = [n for n in candidates if n.boundary and geo.contains(n.boundary, lat, lng)]
    if not matches:
        return None
    return min(matches, key=lambda n: (n.max_lat - n.min_lat) * (n.max_lng - n.min_lng))
