"""Plain-Python GeoJSON geometry: validation, bounding boxes, point in polygon.

Neighborhood boundaries are small (tens to hundreds of vertices) and a city has
tens to hundreds of neighborhoods, so a bounding-box prefilter in SQL plus an
exact ray-casting test here resolves a point in well under a millisecond on
both SQLite and PostgreSQL, with no GIS extension to install.
"""

from __future__ import annotations

import math


class GeometryError(ValueError):
    """A GeoJSON geometry that cannot be a neighborhood boundary."""


def _check_ring(ring, where):
    if not isinstance(ring, list) or len(ring) < 4:
        raise GeometryError(f"{where}: a linear ring needs at least 4 positions.")
    for position in ring:
        if (
            not isinstance(position, (list, tuple))
            or len(position) < 2
            or not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in position[:2])
        ):
            raise GeometryError(f"{where}: every position must be [longitude, latitude].")
        lng, lat = position[0], position[1]
        if not (math.isfinite(lng) and math.isfinite(lat)) or not (-180 <= lng <= 180 and -90 <= lat <= 90):
            raise GeometryError(f"{where}: position {position!r} is outside longitude/latitude range.")
    if list(ring[0][:2]) != list(ring[-1][:2]):
        raise GeometryError(f"{where}: a linear ring must end where it starts.")


def feature_properties(feature, where: str, error: type[Exception]) -> dict:
    """A GeoJSON Feature's properties, or ``error`` naming ``where`` when it is not a Feature or
    its properties are not an object (none: an empty dict)."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise error(f"{where}: not a GeoJSON Feature.")
    properties = feature.get("properties") or {}
    if not isinstance(properties, dict):
        raise error(f"{where}: properties must be an object.")
    return properties


def polygons_of(geometry) -> list:
    """Validate a Polygon or MultiPolygon and return it as a list of polygons."""
    if not isinstance(geometry, dict):
        raise GeometryError("geometry must be a GeoJSON object.")
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind == "Polygon":
        polygons = [coords]
    elif kind == "MultiPolygon":
        polygons = coords
    else:
        raise GeometryError(f"geometry type must be Polygon or MultiPolygon, not {kind!r}.")
    if not isinstance(polygons, list) or not polygons:
        raise GeometryError("geometry has no coordinates.")
    for p, polygon in enumerate(polygons):
        if not isinstance(polygon, list) or not polygon:
            raise GeometryError(f"polygon {p} has no rings.")
        for r, ring in enumerate(polygon):
            _check_ring(ring, f"polygon {p} ring {r}")
    return polygons


def bbox(geometry) -> tuple[float, float, float, float]:
    """(min_lat, min_lng, max_lat, max_lng) of a Polygon/MultiPolygon."""
    lngs, lats = [], []
    for polygon in polygons_of(geometry):
        for position in polygon[0]:
            lngs.append(position[0])
            lats.append(position[1])
    return min(lats), min(lngs), max(lats), max(lngs)


def centroid(geometry) -> tuple[float, float]:
    """(lat, lng) area-weighted centroid of the outer rings (good enough for a map label)."""
    total_area = cx = cy = 0.0
    for polygon in polygons_of(geometry):
        ring = polygon[0]
        for (x0, y0), (x1, y1) in zip((p[:2] for p in ring), (p[:2] for p in ring[1:]), strict=False):
            cross = x0 * y1 - x1 * y0
            total_area += cross
            cx += (x0 + x1) * cross
            cy += (y0 + y1) * cross
    if abs(total_area) < 1e-15:
        min_lat, min_lng, max_lat, max_lng = bbox(geometry)
        return (min_lat + max_lat) / 2, (min_lng + max_lng) / 2
    total_area *= 0.5
    return cy / (6 * total_area), cx / (6 * total_area)


def _in_ring(lng: float, lat: float, ring) -> bool:
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > lat) != (yj > lat):
            x_cross = (xj - xi) * (lat - yi) / (yj - yi) + xi
            if lng < x_cross:
                inside = not inside
        j = i
    return inside


def contains(geometry, lat: float, lng: float) -> bool:
    """True when (lat, lng) lies inside the polygon(s), outside every hole."""
    return polygons_contain(polygons_of(geometry), lat, lng)


def prepared(geometry) -> tuple:
    """A validated Polygon/MultiPolygon as tuples of (lng, lat) rings, for repeated ``polygons_contain`` calls
    (validation walks every position, so a boundary tested many times is validated once)."""
    return tuple(
        tuple(tuple((float(position[0]), float(position[1])) for position in ring) for ring in polygon)
        for polygon in polygons_of(geometry)
    )


def polygons_contain(polygons, lat: float, lng: float) -> bool:
    """``contains`` on polygons already validated (``polygons_of`` or ``prepared``)."""
    for polygon in polygons:
        if _in_ring(lng, lat, polygon[0]) and not any(_in_ring(lng, lat, hole) for hole in polygon[1:]):
            return True
    return False


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    r = 6371000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))
