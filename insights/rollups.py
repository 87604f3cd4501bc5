"""Keeping the summary tables (``insights.models``) equal to what the raw rows say.

One recomputation, ``_recompute(first, last, places)``, is the only definition of every summary
row: it reads the raw rows of those days in those neighborhoods with set-based SQL (one grouped
statement per figure), replaces the day rows, then the week and month rows of the weeks and months
those days fall in (sums of their days). It is used three ways:

``rollups_apply``
    The worker, every few seconds (``insights.tasks``): takes a batch of the change log
    (``cases.models.ChangedDay``, written in the same transaction as each change, see
    ``cases.figure_changes``), recomputes those days of those neighborhoods and deletes the log
    rows, in one transaction: each change is folded in exactly once, however often the worker
    runs or fails. Appliers (and the nightly check) take turns behind the neighborhoods' row
    locks — each rewrites the city rows, the sum over every neighborhood — so the later one reads
    what the earlier one committed.
``rollups_repair``
    Nightly: recomputes a window (``ROLLUP_REPAIR_DAYS``, a year and a month by default) from
    the raw rows, compares it with what the tables hold, puts any difference right and reports
    it (a ``RollupRepair`` row; a warning in the log when anything was wrong).
``rollups_rebuild``
    Everything from the first issue to today, month by month with progress: after a set-based
    load that bypasses the ORM (the demo seed, the bench data), or by hand
    (``manage.py rollups --rebuild``).

Why a change log applied by the worker rather than updating the summary rows in each service's
transaction: a service then only appends a row (one INSERT, no lock on a shared row), so two
officers closing issues in one neighborhood never queue on the same summary row or deadlock on
two; every path that saves through the ORM is covered by signals, admin edits included; and a
recomputation from raw rows cannot drift the way a stream of +1/−1 can. The price is a few
seconds between a change and the figures showing it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate, TruncMonth, TruncWeek
from django.utils import timezone

from cases.figure_changes import local_day
from cases.models import FINISHED_OUTCOMES, Category, ChangedDay, Event, Feedback, Issue
from core.dialect import WholeHours
from insights.models import (
    PLACE_MEASURES,
    EngagementRollup,
    FeedbackRollup,
    Grain,
    IssueRollup,
    OfficerRollup,
    OpenMark,
    OpenOfficerRollup,
    OpenRollup,
    OutreachRollup,
    PartnerSetRollup,
    PlaceBandRollup,
    PlaceResolutionRollup,
    PlaceRollup,
    ResolutionRollup,
    RollupRepair,
)
from outreach.models import Activity
from partners.models import Neighborhood

__all__ = [
    "TABLES",
    "band_hours",
    "band_of",
    "bits_of",
    "bits_union",
    "month_after",
    "open_counts",
    "rollups_advance_open",
    "rollups_apply",
    "rollups_rebuild",
    "rollups_repair",
]

logger = logging.getLogger("commonground.rollups")

APPLY_BATCH = 2000

# Each table: its model, the columns of its key after (grain, period, neighborhood), its measures.
TABLES = {
    "issues": (
        IssueRollup,
        ("category_id", "language"),
        ("reported", "acknowledged", "finished", "within_sla", "crime", "reopened"),
    ),
    "resolution": (ResolutionRollup, ("category_id", "language", "hours"), ("issues",)),
    "feedback": (FeedbackRollup, ("category_id", "language"), ("responses", "not_fixed", "satisfaction_sum")),
    "outreach": (OutreachRollup, ("kind", "category_id"), ("activities", "hours", "attendance")),
    "engagement": (EngagementRollup, ("partner_id", "category_id"), ("activities",)),
    # Derived from the rows above (``_place_rows``): the same figures with fewer keys.
    "place": (PlaceRollup, ("public",), PLACE_MEASURES),
    # Per neighborhood (district blank), and under neighborhood None for each district and the
    # whole city (district blank): ``CITY_TABLES``, ``_wide``.
    "place_resolution": (PlaceResolutionRollup, ("district", "public", "hours"), ("issues",)),
    "place_band": (PlaceBandRollup, ("district", "public", "band"), ("issues",)),
    "officer": (OfficerRollup, ("district", "assignee_id"), ("finished", "within_sla")),
    # A set, not a sum: week and month rows are the union of their days (``_unions``).
    "partner_set": (PartnerSetRollup, ("category_id",), ("partners",)),
    # Issues still open now, by report day; ``overdue`` as of ``OpenMark`` (``rollups_advance_open``).
    "open": (OpenRollup, ("category_id",), ("open", "overdue", "escalated")),
    "open_officer": (OpenOfficerRollup, ("district", "assignee_id"), ("open", "overdue", "escalated")),
}
SETS = {"partner_set"}
OPEN_TABLES = ("open", "open_officer")

# ``places`` meaning the city's and the districts' rows (neighborhood None) of the tables that have
# them, and meaning every neighborhood's own rows (not those).
CITY = "city"
NEIGHBORHOODS = "neighborhoods"
CITY_TABLES = {"officer", "place_resolution", "place_band", "open_officer"}

# Hours to resolve, in bands: a day wide for the first four weeks, a week wide after.
BAND_DAYS = 28


def band_of(hours: int) -> int:
    """The band an hour count falls in (``PlaceBandRollup``)."""
    if hours < 24 * BAND_DAYS:
        return hours // 24
    return BAND_DAYS + (hours - 24 * BAND_DAYS) // 168


def band_hours(band: int) -> tuple[int, int]:
    """The first and last hour count of a band."""
    if band < BAND_DAYS:
        return 24 * band, 24 * band + 23
    first = 24 * BAND_DAYS + 168 * (band - BAND_DAYS)
    return first, first + 167


def bits_of(ids) -> bytes:
    """A set of ids as bytes: bit ``i`` (little-endian) set for each id ``i``."""
    number = 0
    for pk in ids:
        number |= 1 << pk
    return _bytes_of(number)


def _bytes_of(number: int) -> bytes:
    return number.to_bytes((number.bit_length() + 7) // 8, "little")


def bits_union(values) -> int:
    """The union of sets stored by ``bits_of``, as an int."""
    number = 0
    for value in values:
        number |= int.from_bytes(bytes(value), "little")
    return number


# {table: {(day, neighborhood_id, *key): {measure: value}}}
Rows = dict[str, dict[tuple, dict]]


def _zone():
    return timezone.get_default_timezone()


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """The instants of [first's local midnight, the local midnight after last)."""
    zone = _zone()
    return (
        timezone.make_aware(datetime.combine(first, time.min), zone),
        timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min), zone),
    )


def _within(column: str, first: date, last: date, places, place_column: str = "neighborhood_id") -> Q:
    start, end = _bounds(first, last)
    q = Q(**{f"{column}__gte": start, f"{column}__lt": end})
    if places is not None:
        q &= Q(**{f"{place_column}__in": list(places)})
    return q


def _day(column: str) -> TruncDate:
    return TruncDate(column, tzinfo=_zone())


def _add(into: dict, key: tuple, values: dict) -> None:
    row = into.get(key)
    if row is None:
        into[key] = dict(values)
        return
    for name, value in values.items():
        row[name] = row.get(name, 0) + value


# --- the one definition of every summary row -----------------------------------------------


def _issue_rows(first: date, last: date, places) -> tuple[dict, dict]:
    issues: dict[tuple, dict] = {}
    resolution: dict[tuple, dict] = {}
    grouped = ("day", "neighborhood_id", "category_id", "language")
    reported = (
        Issue.objects.filter(_within("created_at", first, last, places))
        .annotate(day=_day("created_at"))
        .values(*grouped)
        .annotate(n=Count("id", filter=~Q(status=Issue.Status.DUPLICATE)))
        .order_by()
    )
    for row in reported:
        if row["n"]:
            _add(issues, tuple(row[name] for name in grouped), {"reported": row["n"]})
    acknowledged = (
        Issue.objects.filter(_within("acknowledged_at", first, last, places))
        .annotate(day=_day("acknowledged_at"))
        .values(*grouped)
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in acknowledged:
        _add(issues, tuple(row[name] for name in grouped), {"acknowledged": row["n"]})
    finished = Issue.objects.filter(_within("resolved_at", first, last, places), outcome__in=FINISHED_OUTCOMES)
    for row in (
        finished.annotate(day=_day("resolved_at"))
        .values(*grouped)
        .annotate(
            n=Count("id"),
            sla=Count("id", filter=Q(resolved_at__lte=F("due_at"))),
            crime=Count("id", filter=Q(outcome=Issue.Outcome.CRIME_REPORT)),
        )
        .order_by()
    ):
        _add(
            issues,
            tuple(row[name] for name in grouped),
            {"finished": row["n"], "within_sla": row["sla"], "crime": row["crime"]},
        )
    for row in (
        finished.annotate(day=_day("resolved_at"), hours=WholeHours("created_at", "resolved_at"))
        .values(*grouped, "hours")
        .annotate(n=Count("id"))
        .order_by()
    ):
        _add(resolution, (*(row[name] for name in grouped), max(0, row["hours"])), {"issues": row["n"]})
    reopened = (
        Event.objects.filter(
            _within("created_at", first, last, places, "issue__neighborhood_id"), kind=Event.Kind.REOPENED
        )
        .annotate(day=_day("created_at"))
        .values("day", "issue__neighborhood_id", "issue__category_id", "issue__language")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in reopened:
        key = (row["day"], row["issue__neighborhood_id"], row["issue__category_id"], row["issue__language"])
        _add(issues, key, {"reopened": row["n"]})
    return issues, resolution


def _feedback_rows(first: date, last: date, places) -> dict:
    rows: dict[tuple, dict] = {}
    for row in (
        Feedback.objects.filter(_within("created_at", first, last, places))
        .annotate(day=_day("created_at"))
        .values("day", "neighborhood_id", "category_id", "issue__language")
        .annotate(n=Count("id"), not_fixed=Count("id", filter=Q(fixed=False)), satisfaction=Sum("satisfaction"))
        .order_by()
    ):
        key = (row["day"], row["neighborhood_id"], row["category_id"], row["issue__language"])
        _add(rows, key, {"responses": row["n"], "not_fixed": row["not_fixed"], "satisfaction_sum": row["satisfaction"]})
    return rows


def _outreach_rows(first: date, last: date, places) -> tuple[dict, dict]:
    """Activities and engagements, each in the no-category row and once in each category it is
    linked to (through its issues or its problem)."""
    within = _within("starts_at", first, last, places)
    activities = {
        pk: (day, place, kind, hours, attendance)
        for pk, day, place, kind, hours, attendance in Activity.objects.filter(within)
        .annotate(day=_day("starts_at"))
        .values_list("pk", "day", "neighborhood_id", "kind", "hours", "attendance")
        .order_by()
    }
    categories: dict[int, set] = defaultdict(set)
    linked = Activity.issues.through.objects.filter(
        _within("activity__starts_at", first, last, places, "activity__neighborhood_id")
    ).values_list("activity_id", "issue__category_id")
    by_problem = (
        Activity.objects.filter(within, problem__category_id__isnull=False)
        .values_list("pk", "problem__category_id")
        .order_by()
    )
    for pk, category in [*linked, *by_problem]:
        categories[pk].add(category)
    outreach: dict[tuple, dict] = {}
    for pk, (day, place, kind, hours, attendance) in activities.items():
        values = {"activities": 1, "hours": hours or Decimal(0), "attendance": attendance}
        for category in (None, *categories.get(pk, ())):
            _add(outreach, (day, place, kind, category), values)
    engagement: dict[tuple, dict] = {}
    for pk, partner in Activity.partners.through.objects.filter(
        _within("activity__starts_at", first, last, places, "activity__neighborhood_id")
    ).values_list("activity_id", "partner_id"):
        day, place = activities[pk][:2]
        for category in (None, *categories.get(pk, ())):
            _add(engagement, (day, place, partner, category), {"activities": 1})
    return outreach, engagement


def _officer_rows(first: date, last: date, places) -> dict:
    """Finished issues per officer, per neighborhood."""
    rows: dict[tuple, dict] = {}
    for row in (
        Issue.objects.filter(
            _within("resolved_at", first, last, places), outcome__in=FINISHED_OUTCOMES, assignee_id__isnull=False
        )
        .annotate(day=_day("resolved_at"))
        .values("day", "neighborhood_id", "assignee_id")
        .annotate(n=Count("id"), sla=Count("id", filter=Q(resolved_at__lte=F("due_at"))))
        .order_by()
    ):
        values = {"finished": row["n"], "within_sla": row["sla"]}
        _add(rows, (row["day"], row["neighborhood_id"], "", row["assignee_id"]), values)
    return rows


def _open_rows(first: date, last: date, places, mark: datetime) -> tuple[dict, dict]:
    """Issues reported on [first, last] that are open now, per neighborhood and category and per
    officer and neighborhood; overdue: due before ``mark``.
    One grouped index-only read of the open issues' own index (``issue_open_cohort_idx``)."""
    opened: dict[tuple, dict] = {}
    officers: dict[tuple, dict] = {}
    for row in (
        Issue.objects.filter(_within("created_at", first, last, places), status__in=Issue.OPEN_STATUSES)
        .annotate(day=_day("created_at"))
        .values("day", "neighborhood_id", "category_id", "assignee_id")
        .annotate(**open_counts(mark))
        .order_by()
    ):
        values = {name: row[name] for name in ("open", "overdue", "escalated")}
        _add(opened, (row["day"], row["neighborhood_id"], row["category_id"]), values)
        if row["assignee_id"] is not None:
            _add(officers, (row["day"], row["neighborhood_id"], "", row["assignee_id"]), values)
    return opened, officers


def _open_mark() -> datetime:
    """The moment the open tables count overdue issues as of; on the first call ever, now, and the
    open tables are built for every day that has an open issue. Called behind ``_take_turns``."""
    mark = OpenMark.objects.filter(pk=1).values_list("as_of", flat=True).first()
    if mark is not None:
        return mark
    mark = timezone.now()
    OpenMark.objects.create(pk=1, as_of=mark)
    oldest = Issue.objects.filter(status__in=Issue.OPEN_STATUSES).order_by("created_at").values("created_at").first()
    if oldest is not None:
        for start, end in _in_months(local_day(oldest["created_at"]), local_day(mark)):
            _recompute(start, end, None, tables=OPEN_TABLES)
    return mark


def open_counts(due_before: datetime) -> dict:
    """Open issues (the rows counted are open ones), and of those overdue (due before
    ``due_before``, not on hold) and escalated, as aggregates that read only what the open issues'
    index holds (``created_at``, never empty and in it, rather than the id, which is not)."""
    return {
        "open": Count("created_at"),
        "overdue": Count("created_at", filter=Q(status__in=Issue.ESCALATING_STATUSES, due_at__lt=due_before)),
        "escalated": Count("created_at", filter=Q(escalation_level__gt=0)),
    }


def _place_rows(fresh: Rows) -> None:
    """The place tables, summed from the fresh issue, feedback and resolution rows (in place)."""
    public = dict(Category.objects.values_list("pk", "is_public"))
    place: dict[tuple, dict] = {}
    for table in ("issues", "feedback"):
        for (day, neighborhood, category, _language), values in fresh[table].items():
            _add(place, (day, neighborhood, public.get(category, False)), values)
    place_resolution: dict[tuple, dict] = {}
    place_band: dict[tuple, dict] = {}
    for (day, neighborhood, category, _language, hours), values in fresh["resolution"].items():
        is_public = public.get(category, False)
        _add(place_resolution, (day, neighborhood, "", is_public, hours), values)
        _add(place_band, (day, neighborhood, "", is_public, band_of(hours)), values)
    fresh.update(place=place, place_resolution=place_resolution, place_band=place_band)


def _wide(rows: dict[tuple, dict], districts: dict[int, str]) -> dict[tuple, dict]:
    """The city's and the districts' rows of a ``CITY_TABLES`` table: its neighborhoods' rows
    ``(day, neighborhood, "", *key)`` summed by ``(day, None, "", *key)`` and, for a neighborhood
    in a district, by ``(day, None, district, *key)``."""
    wide: dict[tuple, dict] = {}
    for (day, neighborhood, _blank, *key), values in rows.items():
        _add(wide, (day, None, "", *key), values)
        if districts.get(neighborhood):
            _add(wide, (day, None, districts[neighborhood], *key), values)
    return wide


def _districts() -> dict[int, str]:
    return dict(Neighborhood.objects.values_list("pk", "district"))


def _fresh(first: date, last: date, places, tables=None) -> Rows:
    fresh = _fresh_rows(first, last, places, tables)
    if places is None:  # every neighborhood: the city's and the districts' rows too
        districts = _districts()
        for table in CITY_TABLES.intersection(fresh):
            fresh[table].update(_wide(fresh[table], districts))
    return fresh


def _fresh_rows(first: date, last: date, places, tables=None) -> Rows:
    if tables == OPEN_TABLES:
        opened, officers = _open_rows(first, last, places, _open_mark())
        return {"open": opened, "open_officer": officers}
    issues, resolution = _issue_rows(first, last, places)
    outreach, engagement = _outreach_rows(first, last, places)
    sets: dict[tuple, set] = defaultdict(set)
    for day, place, partner, category in engagement:
        sets[(day, place, category)].add(partner)
    fresh = {
        "issues": issues,
        "resolution": resolution,
        "feedback": _feedback_rows(first, last, places),
        "outreach": outreach,
        "engagement": engagement,
        "officer": _officer_rows(first, last, places),
        "partner_set": {key: {"partners": bits_of(ids)} for key, ids in sets.items()},
    }
    _place_rows(fresh)
    fresh["open"], fresh["open_officer"] = _open_rows(first, last, places, _open_mark())
    return fresh


# --- storing -------------------------------------------------------------------------------


def _rows_of(table: str, grain: str, first: date, last: date, places):
    """The rows of [first, last] in ``places``: None is every row, ``CITY`` the city's and the
    districts' rows, ``NEIGHBORHOODS`` every neighborhood's own rows."""
    model, _, _ = TABLES[table]
    rows = model.objects.filter(grain=grain, period__gte=first, period__lte=last)
    if places == CITY:
        rows = rows.filter(neighborhood_id__isnull=True)
    elif places == NEIGHBORHOODS:
        rows = rows.filter(neighborhood_id__isnull=False)
    elif places is not None:
        rows = rows.filter(neighborhood_id__in=list(places))
    return rows


def _stored(table: str, first: date, last: date, places) -> dict[tuple, dict]:
    _, key, measures = TABLES[table]
    return {
        (row["period"], row["neighborhood_id"], *(row[name] for name in key)): {name: row[name] for name in measures}
        for row in _rows_of(table, Grain.DAY, first, last, places).values("period", "neighborhood_id", *key, *measures)
    }


def _replace(table: str, grain: str, first: date, last: date, places, rows: dict[tuple, dict]) -> None:
    model, key, measures = TABLES[table]
    _rows_of(table, grain, first, last, places).delete()
    model.objects.bulk_create(
        [
            model(
                grain=grain,
                period=period,
                neighborhood_id=place,
                **dict(zip(key, rest, strict=True)),
                **{name: values.get(name, 0) for name in measures},
            )
            for (period, place, *rest), values in rows.items()
        ],
        batch_size=2000,
    )


def _month_start(day: date) -> date:
    return day.replace(day=1)


def month_after(day: date) -> date:
    """The first day of the month after ``day``'s."""
    return (_month_start(day) + timedelta(days=32)).replace(day=1)


def _month_end(day: date) -> date:
    return month_after(day) - timedelta(days=1)


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _unions(table: str, grain: str, first: date, last: date, places) -> None:
    """Each week or month row of a set table: the union of its day rows."""
    _, key, (measure,) = TABLES[table]
    start_of = _week_start if grain == Grain.WEEK else _month_start
    unions: dict[tuple, int] = defaultdict(int)
    for period, place, *rest, value in _rows_of(table, Grain.DAY, first, last, places).values_list(
        "period", "neighborhood_id", *key, measure
    ):
        unions[(start_of(period), place, *rest)] |= bits_union([value])
    rows = {k: {measure: _bytes_of(n)} for k, n in unions.items()}
    _replace(table, grain, first, last, places, rows)


def _sums(table: str, grain: str, first: date, last: date, places) -> None:
    """Each week or month row of [first, last] (whole weeks or months): the sum of its day rows."""
    if table in SETS:
        _unions(table, grain, first, last, places)
        return
    _, key, measures = TABLES[table]
    trunc = TruncWeek("period") if grain == Grain.WEEK else TruncMonth("period")
    sums = (
        _rows_of(table, Grain.DAY, first, last, places)
        .annotate(bucket=trunc)
        .values("bucket", "neighborhood_id", *key)
        .annotate(**{f"sum_{name}": Sum(name) for name in measures})
        .order_by()
    )
    rows = {
        (_as_date(row["bucket"]), row["neighborhood_id"], *(row[name] for name in key)): {
            name: row[f"sum_{name}"] for name in measures
        }
        for row in sums
    }
    _replace(table, grain, first, last, places, rows)


def _as_date(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def _aggregates(first: date, last: date, places, tables=None) -> None:
    """The week and month rows of the weeks and months [first, last] touch."""
    spans = (
        (Grain.WEEK, _week_start(first), _week_start(last) + timedelta(days=6)),
        (Grain.MONTH, _month_start(first), _month_end(last)),
    )
    for table in tables or TABLES:
        for grain, start, end in spans:
            _sums(table, grain, start, end, places)
            if table in CITY_TABLES and places not in (None, CITY):
                _sums(table, grain, start, end, CITY)


def _recompute(
    first: date, last: date, places, *, compare: bool = False, tables=None, aggregate: bool = True
) -> dict[str, int]:
    """Replace the day rows of [first, last] in ``places`` (None: everywhere) with a recomputation
    from raw rows, then (unless ``aggregate`` is false: the caller sums them once for many days)
    their weeks and months; only ``tables`` (``OPEN_TABLES``) when given. With ``compare``, first
    count the rows that differ."""
    fresh = _fresh(first, last, places, tables)
    drift = {}
    for table, rows in fresh.items():
        if compare:
            stored = _stored(table, first, last, places)
            drift[table] = sum(1 for k in stored.keys() | rows.keys() if _norm(stored.get(k)) != _norm(rows.get(k)))
        _replace(table, Grain.DAY, first, last, places, rows)
    if places is not None:
        # Some neighborhoods' rows changed: the city's and the districts' are sums of every
        # neighborhood's (every district's: a neighborhood may have moved from one to another).
        districts = _districts()
        for table in CITY_TABLES.intersection(fresh):
            _replace(table, Grain.DAY, first, last, CITY, _wide(_stored(table, first, last, NEIGHBORHOODS), districts))
    if aggregate:
        _aggregates(first, last, places, tables)
    return drift


def _norm(values: dict | None) -> dict | None:
    if values is None:
        return None
    return {name: bytes(value) if isinstance(value, memoryview) else value for name, value in values.items() if value}


# --- the three uses --------------------------------------------------------------------------


def _take_turns() -> None:
    """Wait for any other applier or check to commit, then go on (until this transaction ends).

    Every recomputation rewrites the city rows (the sum over every neighborhood), so they all share
    one lock: the neighborhoods' rows, taken in one order. ``FOR NO KEY UPDATE``, which two appliers
    cannot both hold but a foreign key check (``FOR KEY SHARE``) passes: an issue filed or saved
    meanwhile does not wait for the applier (``FOR UPDATE`` made every new report wait).
    """
    list(Neighborhood.objects.select_for_update(no_key=True).order_by("pk").values_list("pk"))


def _recompute_pairs(pairs: Iterable[tuple[date, int]], *, tables=None) -> None:
    """Recompute each day for the neighborhoods named with it (behind ``_take_turns``), then the
    week and month rows once per month touched, for the neighborhoods changed in it: a batch of
    thirty days in one month sums its weeks and month once, not thirty times. (A week or month
    row is the sum of its day rows, so summing it for a neighborhood whose days did not change
    rewrites the same row.)"""
    places_by_day: dict[date, set[int]] = defaultdict(set)
    for day, place in pairs:
        places_by_day[day].add(place)
    days_by_month: dict[date, list[date]] = defaultdict(list)
    for day, places in sorted(places_by_day.items()):
        _recompute(day, day, sorted(places), tables=tables, aggregate=False)
        days_by_month[_month_start(day)].append(day)
    for days in days_by_month.values():
        places = sorted(set().union(*(places_by_day[day] for day in days)))
        _aggregates(days[0], days[-1], places, tables)


def rollups_apply(*, batch: int = APPLY_BATCH) -> int:
    """Fold one batch of the change log into the tables; the number of log rows taken."""
    with transaction.atomic():
        pending = list(
            ChangedDay.objects.select_for_update(skip_locked=True)
            .order_by("id")
            .values_list("id", "day", "neighborhood_id")[:batch]
        )
        if not pending:
            return 0
        _take_turns()
        _recompute_pairs((day, place) for _, day, place in pending)
        ChangedDay.objects.filter(pk__in=[pk for pk, _, _ in pending]).delete()
    return len(pending)


def rollups_advance_open(*, now: datetime | None = None) -> int:
    """Move the open tables' mark on to now: recompute the days of the issues that fell due since
    the last mark, and move the mark, in one transaction. The number of (day, neighborhood) pairs."""
    now = now or timezone.now()
    with transaction.atomic():
        _take_turns()
        mark = _open_mark()
        if now <= mark:
            return 0
        pairs = set(
            Issue.objects.filter(status__in=Issue.ESCALATING_STATUSES, due_at__gte=mark, due_at__lt=now)
            .annotate(day=_day("created_at"))
            .values_list("day", "neighborhood_id")
            .distinct()
            .order_by()
        )
        OpenMark.objects.filter(pk=1).update(as_of=now)
        _recompute_pairs(pairs, tables=OPEN_TABLES)
    return len(pairs)


def rollups_apply_all() -> int:
    """The whole change log, batch after batch."""
    total = 0
    while taken := rollups_apply():
        total += taken
    return total


def _in_months(first: date, last: date) -> Iterable[tuple[date, date]]:
    start = first
    while start <= last:
        end = min(_month_end(start), last)
        yield start, end
        start = end + timedelta(days=1)


def rollups_repair(
    *,
    days: int | None = None,
    first: date | None = None,
    last: date | None = None,
    progress: Callable | None = None,
    rebuild: bool = False,
) -> RollupRepair:
    """Recompute [first, last] (default: the last ``ROLLUP_REPAIR_DAYS`` days) from raw rows,
    month by month, and put right what differs; recorded and, if anything differed, logged — as
    drift (a warning), or for a ``rebuild`` of tables filled past the change log as what it wrote."""
    last = last or local_day(timezone.now())
    first = first or last - timedelta(days=(days or settings.ROLLUP_REPAIR_DAYS) - 1)
    record = RollupRepair.objects.create(started_at=timezone.now(), first_day=first, last_day=last)
    drift: dict[str, int] = defaultdict(int)
    months = list(_in_months(first, last))
    for done, (start, end) in enumerate(months, 1):
        with transaction.atomic():
            _take_turns()
            for table, n in _recompute(start, end, None, compare=True).items():
                drift[table] += n
        if progress:
            progress(done, len(months), start)
    record.drift = dict(drift)
    record.rows_checked = sum(_rows_of(table, Grain.DAY, first, last, None).count() for table in TABLES)
    record.finished_at = timezone.now()
    record.save(update_fields=["drift", "rows_checked", "finished_at"])
    if rebuild:
        logger.info("rollups: rebuilt %d summary rows between %s and %s", sum(drift.values()), first, last)
    elif any(drift.values()):
        logger.warning(
            "rollups: %d summary rows differed from the raw rows between %s and %s and were repaired: %s",
            sum(drift.values()),
            first,
            last,
            ", ".join(f"{table} {n}" for table, n in drift.items() if n),
        )
    return record


def rollups_rebuild(*, progress: Callable | None = None) -> RollupRepair:
    """Every day from the first issue, activity or answer to today."""
    firsts = [
        model.objects.order_by(column).values_list(column, flat=True).first()
        for model, column in ((Issue, "created_at"), (Activity, "starts_at"), (Feedback, "created_at"))
    ]
    firsts = [local_day(moment) for moment in firsts if moment is not None]
    today = local_day(timezone.now())
    ChangedDay.objects.all().delete()  # everything is recomputed: the log has nothing to add
    return rollups_repair(first=min(firsts, default=today), last=today, progress=progress, rebuild=True)
