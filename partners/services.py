"""Writes for the partners app."""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from partners import geo
from partners.geo import GeometryError
from partners.models import AddressPoint, Neighborhood
from partners.selectors import neighborhood_locator

__all__ = [
    "GeometryError",
    "address_points_import",
    "neighborhood_refresh_geometry",
    "neighborhood_upsert",
    "neighborhoods_import",
]


def neighborhood_refresh_geometry(*, neighborhood: Neighborhood) -> None:
    """Validate the boundary and derive its bounding box and centroid (no save)."""
    if not neighborhood.boundary:
        neighborhood.min_lat = neighborhood.min_lng = neighborhood.max_lat = neighborhood.max_lng = None
        neighborhood.center_lat = neighborhood.center_lng = None
        return
    min_lat, min_lng, max_lat, max_lng = geo.bbox(neighborhood.boundary)
    neighborhood.min_lat, neighborhood.min_lng, neighborhood.max_lat, neighborhood.max_lng = (
        min_lat,
        min_lng,
        max_lat,
        max_lng,
    )
    neighborhood.center_lat, neighborhood.center_lng = geo.centroid(neighborhood.boundary)


@transaction.atomic
def neighborhood_upsert(
    *,
    name: str,
    boundary: dict,
    slug: str = "",
    beat: str | None = None,
    district: str | None = None,
    languages: list | None = None,
    population: int | None = None,
) -> tuple[Neighborhood, bool]:
    """Create or update a neighborhood by slug. Returns (neighborhood, created)."""
    slug = slug or slugify(name)
    if not slug:
        raise GeometryError(f"name {name!r} gives no usable slug.")
    neighborhood = Neighborhood.objects.filter(slug=slug).first()
    created = neighborhood is None
    if created:
        neighborhood = Neighborhood(slug=slug)
    neighborhood.name = name
    neighborhood.boundary = boundary
    if beat is not None:
        neighborhood.beat = beat
    if district is not None:
        neighborhood.district = district
    if languages is not None:
        neighborhood.languages = languages
    if population is not None:
        neighborhood.population = population
    neighborhood_refresh_geometry(neighborhood=neighborhood)
    neighborhood.save()
    return neighborhood, created


class NeighborhoodImportError(ValueError):
    """A GeoJSON file that cannot be imported; nothing was changed."""


def _text(value):
    return "" if value is None else str(value).strip()


@transaction.atomic
def neighborhoods_import(
    *,
    collection: dict,
    name_property: str = "name",
    beat_property: str = "beat",
    district_property: str = "district",
    languages_property: str = "languages",
    progress=None,
) -> dict:
    """Load a GeoJSON FeatureCollection of neighborhood boundaries, all or nothing.

    Every feature is validated before anything is written, so a bad file
    changes nothing. Re-importing the same file updates in place (by slug).
    """
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise NeighborhoodImportError("the file is not a GeoJSON FeatureCollection.")
    features = collection.get("features")
    if not isinstance(features, list) or not features:
        raise NeighborhoodImportError("the FeatureCollection has no features.")
    rows, seen = [], {}
    for index, feature in enumerate(features):
        where = f"feature {index}"
        props = geo.feature_properties(feature, where, NeighborhoodImportError)
        name = _text(props.get(name_property))
        if not name:
            present = ", ".join(sorted(props)) or "none"
            raise NeighborhoodImportError(f"{where}: no '{name_property}' property (properties present: {present}).")
        if len(name) > 120:
            raise NeighborhoodImportError(f"{where}: name longer than 120 characters.")
        try:
            geo.polygons_of(feature.get("geometry"))
        except GeometryError as exc:
            raise NeighborhoodImportError(f"{where} ({name}): {exc}") from exc
        slug = slugify(name)
        if not slug:
            raise NeighborhoodImportError(f"{where}: name {name!r} gives no usable slug.")
        if slug in seen:
            raise NeighborhoodImportError(f"{where}: '{name}' appears twice (also feature {seen[slug]}).")
        seen[slug] = index
        languages = props.get(languages_property)
        if isinstance(languages, str):
            languages = [code.strip() for code in languages.split(",") if code.strip()]
        elif languages is not None and not isinstance(languages, list):
            raise NeighborhoodImportError(f"{where}: '{languages_property}' must be a list or comma-separated text.")
        rows.append(
            {
                "name": name,
                "slug": slug,
                "boundary": feature["geometry"],
                "beat": _text(props.get(beat_property)) if beat_property in props else None,
                "district": _text(props.get(district_property)) if district_property in props else None,
                "languages": languages,
            }
        )
    # A name may not collide with another neighborhood's different slug.
    clash = {n.name: n.slug for n in Neighborhood.objects.filter(name__in=[r["name"] for r in rows])}
    for row in rows:
        if row["name"] in clash and clash[row["name"]] != row["slug"]:
            raise NeighborhoodImportError(f"'{row['name']}' already exists with slug '{clash[row['name']]}'.")
    created = updated = 0
    for row in rows:
        _, was_created = neighborhood_upsert(**row)
        created += was_created
        updated += not was_created
        if progress:
            progress()
    return {"created": created, "updated": updated}


# --- Address points (issue 18, item 6) ----------------------------------------------


ADDRESS_POINT_FIELDS = ("number", "street", "unit", "city", "postal_code", "label", "search", "lat", "lng")


@transaction.atomic
def address_points_import(*, rows, batch_size: int = 2000, progress=None) -> dict:
    """Write checked address points (``partners.address_import.AddressRow``), all in one transaction.

    Upserted by the city's id in batches (``INSERT … ON CONFLICT (source_id) DO UPDATE`` on both
    databases): a second run of the same file writes the same rows, a changed point is updated in
    place. Each point's neighborhood comes from the boundaries, parsed once for the whole import.
    Points the file no longer has are left as they are. ``progress(written)`` after every batch.
    """
    locate = neighborhood_locator()
    before = AddressPoint.objects.count()
    written = outside = 0
    batch: list[AddressPoint] = []

    def flush():
        nonlocal written
        AddressPoint.objects.bulk_create(
            batch,
            update_conflicts=True,
            unique_fields=["source_id"],
            update_fields=[*ADDRESS_POINT_FIELDS, "neighborhood"],
        )
        written += len(batch)
        batch.clear()
        if progress:
            progress(written)

    for row in rows:
        neighborhood_id = locate(row.lat, row.lng)
        outside += neighborhood_id is None
        batch.append(
            AddressPoint(
                source_id=row.source_id,
                neighborhood_id=neighborhood_id,
                **{name: getattr(row, name) for name in ADDRESS_POINT_FIELDS},
            )
        )
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    created = AddressPoint.objects.count() - before
    return {"written": written, "created": created, "updated": written - created, "outside": outside}
