"""Reads for the public pages: what a resident without an account may see.

Nothing here returns a reporter's contact details, an internal note or a staff
member's name. Categories marked not public (sensitive ones) are never listed
and their issues are placed only by neighborhood. Public points are coarsened
to ``PUBLIC_LOCATION_DECIMALS`` decimals (3 ≈ 100 m).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import router
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import get_language, gettext

from cases.models import Category, Event, Issue, tracking_code_normalize
from cases.selectors.moderation import public_photo_reports
from core.snapshots import Snapshot
from partners import geo
from partners.models import Neighborhood

__all__ = [
    "SAME_PROBLEM_RADIUS_M",
    "PublicCandidate",
    "active_category",
    "public_categories",
    "category_groups",
    "public_neighborhoods",
    "neighborhood_outlines",
    "tracking_code_normalize",
    "public_issue_by_code",
    "public_message",
    "public_timeline",
    "public_location",
    "feedback_is_open",
    "same_problem_candidates",
]

# "Is this the same problem?" looks this far around the chosen point.
SAME_PROBLEM_RADIUS_M = 150
SAME_PROBLEM_LIMIT = 5
_METRES_PER_DEGREE_LAT = 111_320.0


def _active_categories_build() -> tuple[tuple[str, ...], dict[int, tuple]]:
    fields = tuple(field.attname for field in Category._meta.concrete_fields)
    rows = Category.objects.filter(is_active=True).values_list(*fields)
    return fields, {row[0]: row for row in rows}


# Every report names its category; they change a few times a year (see core.snapshots).
_ACTIVE_CATEGORIES = Snapshot(Category, _active_categories_build)


def active_category(pk: int) -> Category | None:
    """The active category with this id (a fresh instance from this process's copy), or None."""
    fields, rows = _ACTIVE_CATEGORIES.get()
    row = rows.get(pk)
    return None if row is None else Category.from_db(router.db_for_read(Category), fields, row)


def category_choices() -> list[tuple[str, str]]:
    """``(id, name in the active language)`` of every category, active or not, in the model's order
    (read as rows, no category objects)."""
    spanish = (get_language() or "en").startswith("es")
    rows = Category.objects.values_list("pk", "name_en", "name_es")
    return [(str(pk), es if spanish and es else en) for pk, en, es in rows]


def public_categories() -> list[Category]:
    """Categories residents can report, in form order (theme, then position, then name)."""
    categories = list(Category.objects.filter(is_active=True))
    # Group and name follow the active language, so the order is computed here, not in SQL.
    categories.sort(key=lambda c: (c.group.casefold(), c.sort_order, c.name.casefold()))
    return categories


def category_groups(categories: list[Category]) -> list[tuple[str, list[Category]]]:
    groups: dict[str, list[Category]] = {}
    for category in categories:
        groups.setdefault(category.group, []).append(category)
    return list(groups.items())


def public_neighborhoods() -> QuerySet[Neighborhood]:
    return Neighborhood.objects.only("id", "name", "slug").order_by("name")


def neighborhood_outlines() -> dict:
    """Every neighborhood boundary as one GeoJSON FeatureCollection (for the form's map)."""
    rows = Neighborhood.objects.exclude(boundary={}).only("id", "name", "slug", "boundary").order_by("name")
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": n.pk,
                "properties": {"id": n.pk, "name": n.name, "slug": n.slug},
                "geometry": n.boundary,
            }
            for n in rows
        ],
    }


def public_issue_by_code(code: str) -> Issue | None:
    """The issue with this tracking code, whatever its case or spacing; None when unknown."""
    raw = (code or "").strip().upper()
    # PostgreSQL refuses NUL in a text parameter; no code contains one.
    if not raw or len(raw) > 40 or "\x00" in raw:
        return None
    wanted = {raw}
    normalized = tracking_code_normalize(raw)
    if normalized:
        wanted.add(normalized)
    return (
        Issue.objects.select_related("category", "neighborhood", "duplicate_of")
        .only(
            "id",
            "tracking_code",
            "status",
            "outcome",
            "lat",
            "lng",
            "created_at",
            "due_at",
            "resolved_at",
            "report_count",
            "category__id",
            "category__name_en",
            "category__name_es",
            "category__group_en",
            "category__group_es",
            "category__is_public",
            "neighborhood__id",
            "neighborhood__name",
            "neighborhood__slug",
            "neighborhood__boundary",
            "duplicate_of__id",
            "duplicate_of__tracking_code",
        )
        # Whether any photo is public (cases.selectors.moderation): the page asks for the photos
        # only then, so a status page without any stays at two queries.
        .annotate(has_public_photos=Exists(public_photo_reports().filter(issue=OuterRef("pk"))))
        .filter(tracking_code__in=wanted)
        .first()
    )


def public_timeline(issue: Issue) -> list[Event]:
    """The public part of an issue's timeline, oldest first: no internal events, no actors.

    Each event gets ``public_message``: the stored text, except for the
    messages the system itself writes, which are shown in the reader's
    language rather than the language of whoever triggered them.
    """
    events = list(
        Event.objects.filter(issue=issue, is_public=True)
        .only("id", "kind", "message", "data", "created_at")
        .order_by("created_at", "id")
    )
    for event in events:
        event.public_message = public_message(event.kind, event.message, event.data)
    return events


def public_message(kind: str, message: str, data) -> str:
    """A public timeline entry's words for the reader (the status page, Open311 updates)."""
    data = data if isinstance(data, dict) else {}
    if kind == Event.Kind.REPORT_ADDED and "report_id" in data:
        return gettext("Another resident reported the same problem.")
    if kind == Event.Kind.REOPENED and data.get("by_resident"):
        return gettext("The resident says it is not fixed.")
    return message


def _coarse(value: float) -> float:
    return round(value, settings.PUBLIC_LOCATION_DECIMALS)


def public_location(issue: Issue) -> tuple[float, float] | None:
    """A coarsened point, or None when the category is sensitive or the issue has no point."""
    if not issue.category.is_public or issue.lat is None or issue.lng is None:
        return None
    return _coarse(issue.lat), _coarse(issue.lng)


def feedback_is_open(issue: Issue) -> bool:
    """Residents are asked "is it really fixed?" once the department says it is resolved."""
    return issue.status in (Issue.Status.RESOLVED, Issue.Status.CLOSED) and issue.outcome == Issue.Outcome.RESOLVED


@dataclass(frozen=True)
class PublicCandidate:
    """An open issue shown under "is this the same problem?" — public fields only."""

    tracking_code: str
    status: str
    status_label: str
    created_at: datetime
    report_count: int
    neighborhood_name: str
    distance_m: int | None
    lat: float | None
    lng: float | None


def _box(lat: float, radius_m: float) -> tuple[float, float]:
    """Half the sides, in degrees of latitude and longitude, of the box around a circle of
    ``radius_m`` at latitude ``lat`` (what an index on lat and lng can narrow to)."""
    return radius_m / _METRES_PER_DEGREE_LAT, radius_m / (
        _METRES_PER_DEGREE_LAT * max(math.cos(math.radians(lat)), 0.01)
    )


def _excerpt(text: str, limit: int = 280) -> str:
    """A public text cut to ``limit`` characters for a list or a feed."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def same_problem_candidates(
    *,
    category: Category,
    lat: float | None = None,
    lng: float | None = None,
    neighborhood: Neighborhood | None = None,
    radius_m: float = SAME_PROBLEM_RADIUS_M,
    limit: int = SAME_PROBLEM_LIMIT,
) -> list[PublicCandidate]:
    """Open issues of this category near a point (or, with no point, in the neighborhood).

    One query: SQL keeps the open issues of the category inside the radius's
    bounding box (served by issue_cat_nbhd_created_idx / the open-issue
    indexes), then the exact haversine distance sorts and trims them here.
    Sensitive categories are never listed.
    """
    if category is None or not category.is_public or not category.is_active:
        return []
    rows = Issue.objects.filter(category=category, status__in=Issue.OPEN_STATUSES).select_related("neighborhood")
    rows = rows.only("id", "tracking_code", "status", "created_at", "report_count", "lat", "lng", "neighborhood__name")
    if lat is not None and lng is not None:
        dlat, dlng = _box(lat, radius_m)
        rows = rows.filter(lat__gte=lat - dlat, lat__lte=lat + dlat, lng__gte=lng - dlng, lng__lte=lng + dlng).order_by(
            "-created_at"
        )[:200]
        found = []
        for issue in rows:
            distance = geo.distance_m(lat, lng, issue.lat, issue.lng)
            if distance <= radius_m:
                found.append((distance, issue))
        found.sort(key=lambda pair: (pair[0], -pair[1].created_at.timestamp()))
        return [_candidate(issue, distance) for distance, issue in found[:limit]]
    if neighborhood is not None:
        rows = rows.filter(neighborhood=neighborhood).order_by("-created_at")[:limit]
        return [_candidate(issue, None) for issue in rows]
    return []


def _candidate(issue: Issue, distance: float | None) -> PublicCandidate:
    return PublicCandidate(
        tracking_code=issue.tracking_code,
        status=issue.status,
        status_label=issue.get_status_display(),
        created_at=issue.created_at,
        report_count=issue.report_count,
        neighborhood_name=issue.neighborhood.name,
        distance_m=None if distance is None else int(round(distance)),
        lat=None if issue.lat is None else _coarse(issue.lat),
        lng=None if issue.lng is None else _coarse(issue.lng),
    )


# --- /around/: recent public reports near a place or in a neighborhood ------------------------

AROUND_DAYS = 60
AROUND_LIMIT = 50
AROUND_RADIUS_M = 800


@dataclass(frozen=True)
class AroundItem:
    """A recent public report as /around/ shows it: public fields only, the point coarsened."""

    tracking_code: str
    status: str
    status_label: str
    created_at: datetime
    category: str
    neighborhood: str
    text: str
    lat: float | None
    lng: float | None
    distance_m: float | None


def around_issues(
    *,
    neighborhood: Neighborhood | None = None,
    lat: float | None = None,
    lng: float | None = None,
    now: datetime | None = None,
    radius_m: float = AROUND_RADIUS_M,
    days: int = AROUND_DAYS,
    limit: int = AROUND_LIMIT,
) -> list[AroundItem]:
    """The newest public reports of the last ``days`` days in a neighborhood, or within
    ``radius_m`` of a point (in every neighborhood whose box the circle's box touches): public
    categories only, no duplicates, the masked public text, points coarsened as on the status
    page. Two queries (the public categories; the issues, newest first, by the neighborhoods'
    index on (neighborhood, created_at)), reading at most ``limit`` rows a neighborhood range."""
    now = now or timezone.now()
    public = list(Category.objects.filter(is_public=True).values_list("pk", flat=True))
    rows = (
        Issue.objects.filter(category_id__in=public, created_at__gte=now - timedelta(days=days))
        .exclude(status=Issue.Status.DUPLICATE)
        .select_related("category", "neighborhood")
        .only(
            "id",
            "tracking_code",
            "status",
            "created_at",
            "lat",
            "lng",
            "public_description",
            "category__name_en",
            "category__name_es",
            "category__is_public",
            "neighborhood__name",
        )
        .order_by("-created_at", "-id")
    )
    if lat is not None and lng is not None:
        dlat, dlng = _box(lat, radius_m)
        near = Neighborhood.objects.filter(
            min_lat__lte=lat + dlat, max_lat__gte=lat - dlat, min_lng__lte=lng + dlng, max_lng__gte=lng - dlng
        ).values("pk")
        rows = rows.filter(
            neighborhood__in=near, lat__gte=lat - dlat, lat__lte=lat + dlat, lng__gte=lng - dlng, lng__lte=lng + dlng
        )
        found = []
        for issue in rows[: limit * 4]:
            # From the coarsened point, as shown: distances from several places must not add up
            # to the exact one.
            point = public_location(issue)
            distance = geo.distance_m(lat, lng, *point) if point else None
            if distance is not None and distance <= radius_m:
                found.append(_around(issue, distance))
        return found[:limit]
    if neighborhood is None:
        return []
    return [_around(issue, None) for issue in rows.filter(neighborhood=neighborhood)[:limit]]


def _around(issue: Issue, distance: float | None) -> AroundItem:
    point = public_location(issue)
    return AroundItem(
        tracking_code=issue.tracking_code,
        status=issue.status,
        status_label=issue.get_status_display(),
        created_at=issue.created_at,
        category=issue.category.name,
        neighborhood=issue.neighborhood.name,
        text=_excerpt(issue.public_description),
        lat=point[0] if point else None,
        lng=point[1] if point else None,
        distance_m=None if distance is None else round(distance / 50) * 50,
    )


# --- Atom feeds: a neighborhood's (or the city's) new public reports and resolutions ---------

FEED_DAYS = 30
FEED_LIMIT = 50


@dataclass(frozen=True)
class AreaUpdate:
    """One entry of an area's feed: a public report made, or resolved."""

    kind: str  # "reported" or "resolved"
    at: datetime
    tracking_code: str
    category: str
    neighborhood: str
    text: str


def area_updates(*, neighborhood: Neighborhood | None = None, now: datetime | None = None) -> list[AreaUpdate]:
    """The newest public reports made and resolved in the last ``FEED_DAYS`` days, in one
    neighborhood or the whole city, newest first, at most ``FEED_LIMIT``: three queries (the
    public categories, the reports by creation, the resolutions by resolution), each reading at
    most ``FEED_LIMIT`` rows of an index on its date."""
    now = now or timezone.now()
    since = now - timedelta(days=FEED_DAYS)
    public = list(Category.objects.filter(is_public=True).values_list("pk", flat=True))
    base = Issue.objects.filter(category_id__in=public).select_related("category", "neighborhood")
    if neighborhood is not None:
        base = base.filter(neighborhood=neighborhood)
    base = base.only(
        "id",
        "tracking_code",
        "created_at",
        "resolved_at",
        "public_description",
        "category__name_en",
        "category__name_es",
        "neighborhood__name",
    )
    reported = base.filter(created_at__gte=since).exclude(status=Issue.Status.DUPLICATE).order_by("-created_at", "-id")
    resolved = base.filter(resolved_at__gte=since, outcome=Issue.Outcome.RESOLVED).order_by("-resolved_at", "-id")
    entries = [_update("reported", issue.created_at, issue) for issue in reported[:FEED_LIMIT]]
    entries += [_update("resolved", issue.resolved_at, issue) for issue in resolved[:FEED_LIMIT]]
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:FEED_LIMIT]


def _update(kind: str, at: datetime, issue: Issue) -> AreaUpdate:
    return AreaUpdate(
        kind=kind,
        at=at,
        tracking_code=issue.tracking_code,
        category=issue.category.name,
        neighborhood=issue.neighborhood.name,
        text=_excerpt(issue.public_description),
    )
