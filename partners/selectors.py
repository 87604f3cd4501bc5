"""Reads for the partners app."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from django.db import router
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce, Length
from django.shortcuts import get_object_or_404

from core.area import AreaSwitch, area_switch, shows_area
from core.snapshots import Snapshot
from partners import geo
from partners.addresses import normalize, query_words
from partners.models import AddressPoint, Neighborhood, Partner, StaffProfile

logger = logging.getLogger(__name__)


def neighborhood_for_point(lat: float, lng: float) -> Neighborhood | None:
    """The neighborhood whose boundary contains the point, or None.

    Candidates are those whose bounding box holds the point; the exact polygon
    test runs on those few. Where boundaries overlap, the smallest box wins (the
    more specific neighborhood); equal boxes go by name. The boundaries are this
    process's parsed copy (``_OUTLINES``, a ``core.snapshots.Snapshot``: every
    report resolves its point, the form and the service each, while boundaries
    change a few times a year). The neighborhood comes without its boundary
    (read on first use, like any deferred field).
    """
    best = _outline_at(_OUTLINES.get(), lat, lng)
    if best is None:
        return None
    return Neighborhood.from_db(router.db_for_read(Neighborhood), _OUTLINE_FIELDS, best.values)


def neighborhood_locator():
    """``(lat, lng) -> neighborhood id or None``, as ``neighborhood_for_point`` decides, from the
    boundaries read and parsed once (one statement): for resolving many points in one go."""
    outlines = _outlines_build()

    def locate(lat: float, lng: float) -> int | None:
        best = _outline_at(outlines, lat, lng)
        return None if best is None else best.values[0]

    return locate


def _outline_at(outlines, lat: float, lng: float):
    best = None
    for outline in outlines:
        if (
            outline.min_lat <= lat <= outline.max_lat
            and outline.min_lng <= lng <= outline.max_lng
            and (best is None or outline.area < best.area)
            and geo.polygons_contain(outline.polygons, lat, lng)
        ):
            best = outline
    return best


_OUTLINE_FIELDS = ("id", "name", "slug", "district", "beat", "min_lat", "max_lat", "min_lng", "max_lng")


@dataclass(frozen=True)
class _Outline:
    values: tuple  # _OUTLINE_FIELDS, in that order
    min_lat: float
    max_lat: float
    min_lng: float
    max_lng: float
    area: float
    polygons: tuple  # geo.prepared(boundary)


def _outlines_build() -> tuple[_Outline, ...]:
    outlines = []
    rows = Neighborhood.objects.exclude(boundary={}).order_by("name").values_list(*_OUTLINE_FIELDS, "boundary")
    for *values, boundary in rows:
        min_lat, max_lat, min_lng, max_lng = values[5:9]
        if not boundary or None in (min_lat, max_lat, min_lng, max_lng):
            continue
        try:
            polygons = geo.prepared(boundary)
        except geo.GeometryError as error:
            # Boundaries are validated when saved; one that is not is left out rather than failing every report.
            logger.warning("neighborhood %s has an invalid boundary; left out of point lookups: %s", values[0], error)
            continue
        area = (max_lat - min_lat) * (max_lng - min_lng)
        outlines.append(_Outline(tuple(values), min_lat, max_lat, min_lng, max_lng, area, polygons))
    return tuple(outlines)


_OUTLINES = Snapshot(Neighborhood, _outlines_build)


def partner_choices() -> list[tuple[str, str]]:
    """``(id, name)`` of every partner by name, for a select (read as rows, no partner objects)."""
    return [(str(pk), name) for pk, name in Partner.objects.order_by("name", "pk").values_list("pk", "name")]


def neighborhood_choices() -> list[tuple[str, str]]:
    """``(id, name)`` of every neighborhood by name, for a select (read as rows, no neighborhood objects)."""
    return [(str(pk), name) for pk, name in Neighborhood.objects.order_by("name", "pk").values_list("pk", "name")]


# --- Directories (issue 4) -------------------------------------------------------
# Partner-only reads. Figures that need issues or outreach (open issue counts,
# activity counts) are added on top by outreach.selectors, the app that sees all three.


@dataclass(frozen=True)
class PartnerFilters:
    kind: str = ""
    cops_type: str = ""
    neighborhood_id: int | None = None
    q: str = ""
    include_inactive: bool = False


def kinds_of_cops_type(cops_type: str) -> list[str]:
    """The partner kinds that roll up to one DOJ COPS partner type."""
    return [str(kind) for kind, cops in Partner.COPS_TYPE_OF_KIND.items() if cops == cops_type]


def partner_directory(filters: PartnerFilters) -> QuerySet[Partner]:
    qs = Partner.objects.all()
    if not filters.include_inactive:
        qs = qs.filter(is_active=True)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.cops_type:
        qs = qs.filter(kind__in=kinds_of_cops_type(filters.cops_type))
    if filters.neighborhood_id:
        serves = Partner.neighborhoods.through.objects.filter(
            partner_id=OuterRef("pk"), neighborhood_id=filters.neighborhood_id
        )
        qs = qs.filter(Exists(serves))
    q = filters.q.strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(description__icontains=q) | Q(address__icontains=q))
    return qs.prefetch_related(Prefetch("neighborhoods", queryset=Neighborhood.objects.order_by("name"))).order_by(
        "name"
    )


def partner_detail(pk) -> Partner:
    return get_object_or_404(
        Partner.objects.prefetch_related(
            "contacts", Prefetch("neighborhoods", queryset=Neighborhood.objects.order_by("name"))
        ),
        pk=pk,
    )


def partner_search(q: str, limit: int = 10) -> list[Partner]:
    """Active partners whose name contains ``q``; names that start with it first."""
    q = (q or "").strip()
    if not q:
        return []
    starts = Case(When(name__istartswith=q, then=Value(0)), default=Value(1), output_field=IntegerField())
    return list(
        Partner.objects.filter(is_active=True, name__icontains=q).annotate(rank=starts).order_by("rank", "name")[:limit]
    )


@dataclass(frozen=True)
class NeighborhoodFilters:
    district: str = ""
    q: str = ""


def neighborhood_directory(filters: NeighborhoodFilters) -> QuerySet[Neighborhood]:
    qs = Neighborhood.objects.all()
    if filters.district:
        qs = qs.filter(district=filters.district)
    q = filters.q.strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(beat__iexact=q) | Q(beat__icontains=q))
    partner_count = Partner.neighborhoods.through.objects.filter(
        neighborhood_id=OuterRef("pk"), partner__is_active=True
    )
    return qs.annotate(partner_count=_count(partner_count, "neighborhood_id")).order_by("name")


def _count(queryset, group_field):
    """A correlated COUNT subquery: no join, so annotations never multiply each other's rows."""
    return Coalesce(
        Subquery(
            queryset.order_by().values(group_field).annotate(n=Count("*")).values("n")[:1],
            output_field=IntegerField(),
        ),
        0,
    )


def district_choices() -> list[str]:
    return list(
        Neighborhood.objects.exclude(district="").order_by("district").values_list("district", flat=True).distinct()
    )


def neighborhood_by_slug(slug: str) -> Neighborhood:
    return get_object_or_404(Neighborhood, slug=slug)


@dataclass(frozen=True)
class StaffArea:
    """Where a staff member works, from their profile: whole districts, and single neighborhoods.

    ``neighborhood_ids`` holds every neighborhood covered, the districts' included; ``names`` is
    how the area is named on the pages (the districts, then the neighborhoods outside them).
    """

    districts: tuple[str, ...] = ()
    neighborhood_ids: frozenset[int] = frozenset()
    names: tuple[str, ...] = ()
    district_neighborhood_ids: frozenset[int] = frozenset()

    @property
    def is_empty(self) -> bool:
        return not self.districts and not self.neighborhood_ids

    @property
    def extra_neighborhood_ids(self) -> frozenset[int]:
        """The neighborhoods covered one by one, outside the whole districts."""
        return self.neighborhood_ids - self.district_neighborhood_ids

    @property
    def label(self) -> str:
        return ", ".join(self.names)


NO_AREA = StaffArea()


def staff_area(user) -> StaffArea:
    """The user's area (``StaffArea``), read once per request: the profile, then one statement for
    its neighborhoods and its districts' (kept on the user object, which lives for one request)."""
    cached = getattr(user, "_cg_staff_area", None)
    if cached is not None:
        return cached
    area = NO_AREA
    profile = getattr(user, "staff_profile", None) if user.is_authenticated else None
    if profile is not None:
        districts = tuple(sorted({d for d in profile.districts or [] if isinstance(d, str) and d}))
        direct = StaffProfile.neighborhoods.through.objects.filter(staffprofile_id=profile.pk).values("neighborhood_id")
        rows = list(
            Neighborhood.objects.filter(Q(pk__in=direct) | Q(district__in=districts))
            .order_by("name", "pk")
            .values_list("pk", "name", "district")
        )
        in_districts = frozenset(pk for pk, _name, district in rows if district in districts)
        names = (*districts, *(name for pk, name, _district in rows if pk not in in_districts))
        area = StaffArea(
            districts=districts,
            neighborhood_ids=frozenset(pk for pk, _name, _district in rows),
            names=names,
            district_neighborhood_ids=in_districts,
        )
    user._cg_staff_area = area
    return area


def area_shown(user, query, *, place_params: tuple[str, ...]) -> tuple[StaffArea | None, AreaSwitch | None]:
    """What a staff list or the dashboard shows of the user's area: the area when the list narrows
    to it (None for the whole city, or a place chosen in the filters, ``place_params``), and the
    "my area / whole city" switch (None when the user has no area)."""
    area = staff_area(user)
    switch = area_switch(query, label=area.label, place_params=place_params)
    return (area if shows_area(switch) else None), switch


def staff_assigned_to(neighborhood: Neighborhood) -> list[StaffProfile]:
    """Officers and supervisors attached to the neighborhood itself or to its whole district.

    Districts are a JSON list, matched with ``has_item`` (core.lookups), which runs on
    PostgreSQL and on SQLite alike.
    """
    direct = StaffProfile.neighborhoods.through.objects.filter(
        staffprofile_id=OuterRef("pk"), neighborhood_id=neighborhood.pk
    )
    attached = Q(Exists(direct))
    if neighborhood.district:
        attached |= Q(districts__has_item=neighborhood.district)
    return list(
        StaffProfile.objects.filter(attached, user__is_active=True)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__username")
    )


def neighborhood_named_in(text: str) -> Neighborhood | None:
    """The neighborhood whose name (or slug) appears as whole words in an address; the longest name wins.

    Read from this process's copy of the names (``_NAMES``, a ``core.snapshots.Snapshot``): the
    resident form asks it of every address typed beside a pin, and a report costs two statements.
    The neighborhood comes without its boundary, like ``neighborhood_for_point``'s.
    """
    folded = (text or "").casefold()
    if not folded.strip():
        return None
    best, best_length = None, 0
    for values, labels in _NAMES.get():
        for label in labels:
            if len(label) > best_length and re.search(rf"(?<!\w){re.escape(label)}(?!\w)", folded):
                best, best_length = values, len(label)
    if best is None:
        return None
    return Neighborhood.from_db(router.db_for_read(Neighborhood), _OUTLINE_FIELDS, best)


def _names_build() -> tuple[tuple[tuple, tuple[str, ...]], ...]:
    """Every neighborhood's fields (``_OUTLINE_FIELDS``) and the labels an address may name it by."""
    names = []
    for values in Neighborhood.objects.order_by("name", "id").values_list(*_OUTLINE_FIELDS):
        name, slug = values[1], values[2]
        labels = (name.casefold().strip(), slug.replace("-", " ").casefold().strip(), slug.casefold().strip())
        names.append((tuple(values), tuple(dict.fromkeys(label for label in labels if label))))
    return tuple(names)


_NAMES = Snapshot(Neighborhood, _names_build)


# --- Address points (issue 18, item 6) ---------------------------------------------

SUGGESTION_LIMIT = 8
SUGGESTION_MIN_CHARS = 3


def address_suggestions(query: str, *, limit: int = SUGGESTION_LIMIT) -> list[dict]:
    """The address points that contain every word of ``query`` (normalised), best first, in one statement.

    Best: the address that starts with what was typed, then the shortest, then by text. One code
    path for both databases: ``LIKE '%WORD%'`` per word, which PostgreSQL serves from the pg_trgm
    GIN index on ``search`` (partners 0003) and SQLite answers by scanning the table.
    """
    words = query_words(query)
    if not words:
        return []
    condition = Q()
    for alternatives in words:
        either = Q()
        for word in alternatives:
            either |= Q(search__contains=word)
        condition &= either
    starts = Case(When(search__startswith=normalize(query), then=Value(0)), default=Value(1))
    rows = (
        AddressPoint.objects.filter(condition)
        .annotate(starts=starts, size=Length("search"))
        .order_by("starts", "size", "search", "id")
        .values_list("label", "lat", "lng", "neighborhood_id", "neighborhood__slug", "neighborhood__name")[:limit]
    )
    return [
        {
            "label": label,
            "lat": lat,
            "lng": lng,
            "neighborhood": {"id": hood_id, "slug": slug, "name": name} if hood_id is not None else None,
        }
        for label, lat, lng, hood_id, slug, name in rows
    ]


def address_point_for(address: str) -> tuple[float, float] | None:
    """The point of the address point whose normalised address is exactly the one typed, or None.

    "1200 Main Street, Kansas City" is also looked up as "1200 MAIN ST" (what precedes the first
    comma). An address that names two different points is not placed (None): the caller then asks
    the department's geocoder or the neighborhood. One statement; none for an empty address.
    """
    keys = [normalize(address)]
    head = normalize((address or "").split(",", 1)[0])
    if head and head not in keys:
        keys.append(head)
    keys = [key for key in keys if key]
    if not keys:
        return None
    rows = list(AddressPoint.objects.filter(search__in=keys).values_list("search", "lat", "lng")[:20])
    for key in keys:
        points = {(lat, lng) for search, lat, lng in rows if search == key}
        if len(points) == 1:
            return points.pop()
        if points:
            return None
    return None
