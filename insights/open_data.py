"""Open data: public issues as CSV and GeoJSON, outreach activities as CSV, and the page describing them.

What leaves here is what the public already sees, and less: public categories only, locations
rounded as on the status page and in Open311 (``PUBLIC_LOCATION_DECIMALS``), no free text
(descriptions, addresses, notes, titles, places) and no people (reporters, officers, partners'
names). Each file is streamed: rows are read through a database cursor in chunks and written as
they come, so memory stays the same for ten rows or a million. ``?start=`` and ``?end=``
(dates, both included) narrow a file to the issues reported, or the activities held, in that
range; a date that does not parse, or an end before the start, is a 400 that says so.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta

import orjson
from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from cases.models import Issue
from cases.open311.serializers import Agencies
from core.dialect import local_iso, local_times
from core.exports import csv_cell
from outreach.models import Activity
from partners.models import Partner

CHUNK = 2000
CSV = "text/csv; charset=utf-8"
GEOJSON = "application/geo+json"

ISSUE_FIELDS = [
    "service_request_id",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "closed_datetime",
    "status",
    "status_detail",
    "service_code",
    "service_name",
    "agency_responsible",
    "lat",
    "long",
    "neighborhood",
]
OUTREACH_FIELDS = ["kind", "date", "neighborhood", "hours", "attendance", "partner_types", "languages"]


class BadRange(ValueError):
    pass


def _day(text: str, name: str) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadRange(_("%(name)s must be a date written YYYY-MM-DD.") % {"name": name}) from None


def date_range(query) -> tuple[datetime | None, datetime | None]:
    """``?start=`` and ``?end=`` as the start of the first day and of the day after the last."""
    start, end = _day(query.get("start"), "start"), _day(query.get("end"), "end")
    if start and end and end < start:
        raise BadRange(_("The end date comes before the start date."))
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=zone) if start else None,
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone) if end else None,
    )


def _within(queryset: QuerySet, field: str, start, end) -> QuerySet:
    if start:
        queryset = queryset.filter(**{f"{field}__gte": start})
    if end:
        queryset = queryset.filter(**{f"{field}__lt": end})
    return queryset


# --- issues ------------------------------------------------------------------------------


def issue_rows(start=None, end=None) -> Iterator[dict]:
    """Public issues reported in the range, oldest first, as the open-data fields."""
    zone_name = timezone.get_current_timezone_name()
    zone = timezone.get_current_timezone()
    times = local_times(("created", "updated", "due", "resolved", "closed"), zone_name)
    rows = (
        _within(Issue.objects.filter(category__is_public=True), "created_at", start, end)
        .annotate(**times)
        .order_by("created_at", "id")
        .values_list(
            "tracking_code",
            *times,
            "status",
            "referred_to",
            "category__service_code",
            "category__name_en",
            "category__name_es",
            "neighborhood__name",
            "neighborhood__district",
            "lat",
            "lng",
        )
    )
    spanish = (get_language() or "en").startswith("es")
    open_statuses = frozenset(Issue.OPEN_STATUSES)
    statuses = dict(Issue.Status.choices)
    decimals = settings.PUBLIC_LOCATION_DECIMALS
    agency = Agencies()
    for (
        code,
        created,
        created_offset,
        updated,
        updated_offset,
        due,
        due_offset,
        resolved,
        resolved_offset,
        closed,
        closed_offset,
        status,
        referred_to,
        service_code,
        name_en,
        name_es,
        neighborhood,
        district,
        lat,
        lng,
    ) in rows.iterator(chunk_size=CHUNK):
        yield {
            "service_request_id": code,
            "requested_datetime": local_iso(created, created_offset, zone),
            "updated_datetime": local_iso(updated, updated_offset, zone),
            "expected_datetime": local_iso(due, due_offset, zone) if status in open_statuses else None,
            "closed_datetime": None
            if status in open_statuses
            else local_iso(resolved, resolved_offset, zone) or local_iso(closed, closed_offset, zone),
            "status": "open" if status in open_statuses else "closed",
            "status_detail": str(statuses.get(status, status)),
            "service_code": service_code,
            "service_name": (spanish and name_es) or name_en,
            "agency_responsible": agency(status, referred_to, district),
            "lat": None if lat is None else round(lat, decimals),
            "long": None if lng is None else round(lng, decimals),
            "neighborhood": neighborhood,
        }


# --- outreach ----------------------------------------------------------------------------


def outreach_rows(start=None, end=None) -> Iterator[dict]:
    """Outreach activities held in the range, oldest first: kinds, counts and languages, no names."""
    zone = timezone.get_current_timezone()
    kinds = dict(Activity.Kind.choices)
    partner_kinds = dict(Partner.Kind.choices)
    activities = (
        _within(Activity.objects.all(), "starts_at", start, end)
        .select_related("neighborhood")
        .only("id", "kind", "starts_at", "hours", "attendance", "languages", "neighborhood__name")
        .order_by("starts_at", "id")
    )
    chunk: list[Activity] = []
    for activity in activities.iterator(chunk_size=CHUNK):
        chunk.append(activity)
        if len(chunk) == CHUNK:
            yield from _outreach_chunk(chunk, zone, kinds, partner_kinds)
            chunk = []
    if chunk:
        yield from _outreach_chunk(chunk, zone, kinds, partner_kinds)


def _outreach_chunk(chunk: list[Activity], zone, kinds: dict, partner_kinds: dict) -> Iterator[dict]:
    through = Activity.partners.through.objects.filter(activity_id__in=[a.pk for a in chunk])
    types: dict[int, set[str]] = {}
    for activity_id, kind in through.values_list("activity_id", "partner__kind"):
        types.setdefault(activity_id, set()).add(kind)
    for activity in chunk:
        yield {
            "kind": str(kinds.get(activity.kind, activity.kind)),
            "date": activity.starts_at.astimezone(zone).date().isoformat(),
            "neighborhood": activity.neighborhood.name,
            "hours": activity.hours,
            "attendance": activity.attendance,
            "partner_types": "; ".join(sorted(str(partner_kinds.get(k, k)) for k in types.get(activity.pk, ()))),
            "languages": "; ".join(activity.languages or []),
        }


# --- writing ------------------------------------------------------------------------------


class _Line:
    """A file-like object ``csv.writer`` writes one line into, handed back at once."""

    def write(self, value: str) -> str:
        return value


def csv_lines(fields: list[str], rows: Iterable[dict]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow(fields)
    for row in rows:
        yield writer.writerow([csv_cell(row[name]) for name in fields])


def geojson_chunks(rows: Iterable[dict]) -> Iterator[bytes]:
    """A FeatureCollection, one feature per issue (``geometry`` null where it has no location)."""
    yield b'{"type":"FeatureCollection","features":['
    first = True
    for row in rows:
        lat, lng = row["lat"], row["long"]
        properties = {k: v for k, v in row.items() if k not in ("lat", "long")}
        geometry = None if lat is None or lng is None else {"type": "Point", "coordinates": [lng, lat]}
        feature = orjson.dumps({"type": "Feature", "geometry": geometry, "properties": properties})
        yield feature if first else b"," + feature
        first = False
    yield b"]}"


# --- views --------------------------------------------------------------------------------


@require_GET
def open_data(request):
    return render(request, "transparency/open_data.html")


def _file(request, content, filename: str, content_type: str):
    """A download of ``content(start, end)`` for the request's date range, or a 400 saying what is wrong."""
    try:
        start, end = date_range(request.GET)
    except BadRange as error:
        return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
    response = StreamingHttpResponse(content(start, end), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def issues_csv(request):
    return _file(request, lambda start, end: csv_lines(ISSUE_FIELDS, issue_rows(start, end)), "issues.csv", CSV)


@require_GET
def issues_geojson(request):
    return _file(request, lambda start, end: geojson_chunks(issue_rows(start, end)), "issues.geojson", GEOJSON)


@require_GET
def outreach_csv(request):
    return _file(request, lambda start, end: csv_lines(OUTREACH_FIELDS, outreach_rows(start, end)), "outreach.csv", CSV)
