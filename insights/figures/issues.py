"""Aggregates for the supervisor dashboard and the public transparency page (issues side).

Flows are read from the summary tables (``insights.rollups``, ``insights.figures.summaries``):
reported, finished, within SLA, crime reports and the median per neighborhood and week, so a
page reads rows in proportion to the period's weeks and the places it shows, not to the issues
behind them. The state of open issues now (open, overdue, escalated, waiting) is read from the
open issues' own partial index. One code path on PostgreSQL and SQLite.

Definitions (shown on the page, tested against hand-computed values):

- *reported*: issues created in the period (the cohort), duplicates left out
  (they are the same problem reported twice); *open*, *overdue*,
  *escalated* and *waiting for a decision* count cohort issues still open now.
- *overdue*: open, not on hold (the clock is paused), ``due_at`` before now.
- *waiting for a decision*: open and flagged ``needs_decision`` (set by the sweep
  with the "needs a decision" escalation, cleared when a supervisor decides).
- *finished*: ``resolved_at`` in the period (set for every outcome when the
  issue left the open statuses), duplicates excluded — a merge is not a fix.
- *within SLA*: finished with ``resolved_at <= due_at``.
- *days to resolve*: from report to finish in whole hours (rounded down), over 24;
  the median over finished issues, exact to the hour.
- *crime conversions*: finished with outcome "became a crime report"; the share
  is of all finished issues.
- Days and weeks are local (``settings.TIME_ZONE``); weeks start on Monday.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import reduce

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import (
    Avg,
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.utils import timezone

from cases.models import Category, Escalation, Issue, Problem
from core.text import in_language, person_name
from insights.figures.summaries import (
    banded_median,
    banded_range,
    period_arms,
    period_dates,
    period_q,
    values_at,
    week_of,
    weighted_median,
)
from insights.models import (
    FeedbackRollup,
    IssueRollup,
    OfficerRollup,
    OpenMark,
    OpenOfficerRollup,
    OpenRollup,
    PlaceBandRollup,
    PlaceResolutionRollup,
    PlaceRollup,
    ResolutionRollup,
)
from insights.rollups import open_counts
from partners.models import Neighborhood

__all__ = [
    "DashboardScope",
    "IssueFigures",
    "issue_figures",
    "feedback_figures",
    "open_issue_markers",
    "decisions_waiting",
    "decisions_waiting_q",
    "active_problems",
    "active_problem_counts",
    "transparency_issue_figures",
    "week_starts",
    "MARKER_LIMIT",
    "marker_limit",
    "scope_neighborhoods",
    "filter_choices",
]

User = get_user_model()

FINISHED_OUTCOMES = Issue.FINISHED_OUTCOMES
MARKER_LIMIT = 500


@dataclass(frozen=True)
class DashboardScope:
    """What every figure on the dashboard follows: a period and a place/category filter.

    ``start`` is inclusive, ``end`` exclusive (aware datetimes, local midnight).
    """

    start: datetime
    end: datetime
    now: datetime
    district: str = ""
    neighborhood_id: int | None = None
    category_id: int | None = None
    # The neighborhoods the district/neighborhood filter leaves, when the caller already knows
    # them (the page loads every neighborhood anyway): filters become ``neighborhood_id IN (…)``
    # with no join, which keeps the planner's estimates honest.
    neighborhood_ids: tuple[int, ...] | None = None
    # A supervisor's own area (``partners.selectors.StaffArea``), when no place is chosen in the
    # filters: whole districts, and neighborhoods outside them.
    area_districts: tuple[str, ...] = ()
    area_neighborhood_ids: tuple[int, ...] = ()

    @property
    def has_area(self) -> bool:
        return bool(self.area_districts or self.area_neighborhood_ids)

    @property
    def has_place(self) -> bool:
        return bool(self.district or self.neighborhood_id or self.has_area)

    def covers(self, neighborhood) -> bool:
        """Whether a neighborhood (any object with ``pk`` and ``district``) is in the scope's place."""
        if self.district and neighborhood.district != self.district:
            return False
        if self.neighborhood_id and neighborhood.pk != self.neighborhood_id:
            return False
        if self.has_area:
            return neighborhood.district in self.area_districts or neighborhood.pk in self.area_neighborhood_ids
        return True

    def with_neighborhoods(self, neighborhoods) -> DashboardScope:
        if not self.has_place:
            return self
        ids = tuple(n.pk for n in scope_neighborhoods(self, neighborhoods))
        return replace(self, neighborhood_ids=ids)

    def place_q(self, prefix: str = "") -> Q:
        if self.neighborhood_ids is not None:
            return Q(**{f"{prefix}neighborhood_id__in": self.neighborhood_ids})
        q = Q()
        if self.district:
            q &= Q(**{f"{prefix}neighborhood__district": self.district})
        if self.neighborhood_id:
            q &= Q(**{f"{prefix}neighborhood_id": self.neighborhood_id})
        if self.has_area:
            q &= Q(**{f"{prefix}neighborhood__district__in": self.area_districts}) | Q(
                **{f"{prefix}neighborhood_id__in": self.area_neighborhood_ids}
            )
        return q

    def wide_q(self) -> Q:
        """The rows a table with city and district rows (``insights.models.CityRows``) is read by:
        a neighborhood's own, a district's, or the city's."""
        if self.neighborhood_id or self.area_neighborhood_ids:
            # Single neighborhoods: their own rows (a district row would count its others too),
            # whose district is blank: said, so that the key's columns after it bound the read.
            return self.place_q() & Q(district="")
        if self.has_area:
            return Q(neighborhood_id__isnull=True, district__in=self.area_districts)
        return Q(neighborhood_id__isnull=True, district=self.district)

    def issue_q(self, prefix: str = "") -> Q:
        q = self.place_q(prefix)
        if self.category_id:
            q &= Q(**{f"{prefix}category_id": self.category_id})
        return q

    def cohort_q(self, prefix: str = "") -> Q:
        return Q(**{f"{prefix}created_at__gte": self.start, f"{prefix}created_at__lt": self.end})

    def finished_q(self, prefix: str = "") -> Q:
        return Q(
            **{
                f"{prefix}resolved_at__gte": self.start,
                f"{prefix}resolved_at__lt": self.end,
                f"{prefix}outcome__in": FINISHED_OUTCOMES,
            }
        )


def week_starts(start: datetime, end: datetime) -> list[date]:
    """Mondays (local time) of every week the period touches, as TruncWeek buckets them."""
    first = timezone.localtime(start).date()
    first -= timedelta(days=first.weekday())
    last = timezone.localtime(end - timedelta(microseconds=1)).date()
    weeks = []
    while first <= last:
        weeks.append(first)
        first += timedelta(days=7)
    return weeks


# --- the issue figures ----------------------------------------------------------------

COUNTS = ("reported", "open", "overdue", "escalated", "waiting", "finished", "within_sla", "crime")


@dataclass
class IssueFigures:
    reported: int = 0
    open: int = 0
    overdue: int = 0
    escalated: int = 0
    waiting: int = 0
    finished: int = 0
    within_sla: int = 0
    crime: int = 0
    median_days: float | None = None
    by_neighborhood: dict[int, dict] = field(default_factory=dict)
    by_category: dict[int, dict] = field(default_factory=dict)
    by_officer: dict[int, dict] = field(default_factory=dict)
    new_by_week: dict[date, int] = field(default_factory=dict)
    finished_by_week: dict[date, dict] = field(default_factory=dict)

    @property
    def sla_share(self) -> float | None:
        return None if not self.finished else self.within_sla / self.finished

    @property
    def crime_share(self) -> float | None:
        return None if not self.finished else self.crime / self.finished


def decisions_waiting_q(prefix: str = "") -> Q:
    """An issue waits for a supervisor's decision: ``Issue.needs_decision``.

    The escalation sweep sets the flag in the same transaction as the "needs a decision"
    Escalation row, and ``escalation_decide`` clears it together with the rows'
    ``decided_at``; finishing or reopening an issue clears it too. So the flag is the
    current truth, where an undecided row may belong to an earlier climb of a reopened
    issue — and it has its own partial index (``issue_needs_decision_idx``).
    """
    return Q(**{f"{prefix}needs_decision": True})


def _counts_for(key, groups: dict) -> dict:
    counts = groups.get(key)
    if counts is None:
        counts = groups[key] = dict.fromkeys(COUNTS, 0)
    return counts


def _flow_rows(scope: DashboardScope, parts: Q) -> QuerySet:
    """The summary rows of the scope's flows: the place table for every category, the issue
    table (summed over languages) for one."""
    if scope.category_id:
        return IssueRollup.objects.filter(parts, scope.place_q(), category_id=scope.category_id)
    return PlaceRollup.objects.filter(parts, scope.place_q())


def _flows(scope: DashboardScope, figures: IssueFigures) -> None:
    """Reported, finished, within SLA and crime reports: per neighborhood over the period (its
    months, then weeks, then days), and per week for the city (its weeks and the days at either
    end) — fifty rows and a row a week, whatever the period."""
    first, last = period_dates(scope)
    sums = (Sum("reported"), Sum("finished"), Sum("within_sla"), Sum("crime"))
    for place, reported, finished, within_sla, crime in (
        _flow_rows(scope, period_q(first, last)).values_list("neighborhood_id").annotate(*sums).order_by()
    ):
        counts = _counts_for(place, figures.by_neighborhood)
        counts["reported"] += reported
        counts["finished"] += finished
        counts["within_sla"] += within_sla
        counts["crime"] += crime
    for grain, start, reported, finished, within_sla, crime in (
        _flow_rows(scope, period_q(first, last, months=False)).values_list("grain", "period").annotate(*sums).order_by()
    ):
        week = week_of(grain, start)
        figures.new_by_week[week] = figures.new_by_week.get(week, 0) + reported
        by_week = figures.finished_by_week.setdefault(week, {"finished": 0, "within_sla": 0, "crime": 0})
        by_week["finished"] += finished
        by_week["within_sla"] += within_sla
        by_week["crime"] += crime
    for name in ("reported", "finished", "within_sla", "crime"):
        setattr(figures, name, sum(place[name] for place in figures.by_neighborhood.values()))


def _hours_histogram(rows: QuerySet) -> dict[int, int]:
    return dict(rows.values_list("hours").annotate(Sum("issues")).order_by())


def _median_days(scope: DashboardScope) -> float | None:
    """The median time from report to finish, exact to the hour: with every category, the bands
    of the place tables, then the hours of the band the middle falls in; with one category, that
    category's hour histogram."""
    first, last = period_dates(scope)
    parts = period_q(first, last)
    if scope.category_id:
        hours = weighted_median(
            _hours_histogram(ResolutionRollup.objects.filter(parts, scope.place_q(), category_id=scope.category_id))
        )
    else:
        where = scope.wide_q()
        bands = dict(
            PlaceBandRollup.objects.filter(parts, where).values_list("band").annotate(Sum("issues")).order_by()
        )
        hours = banded_median(
            bands,
            lambda lo, hi: _hours_histogram(
                PlaceResolutionRollup.objects.filter(parts, where, hours__gte=lo, hours__lte=hi)
            ),
        )
    return None if hours is None else hours / 24


OPEN_FIGURES = ("open", "overdue", "escalated", "waiting")


def _fell_due(scope: DashboardScope, keys: tuple[str, ...]) -> QuerySet:
    """The open issues of the scope's cohort whose overdue state differs between the open tables'
    mark (``OpenMark``) and now, grouped by ``keys``: +1 each that fell due since the mark, −1
    each the mark counts as due that is not yet (a clock behind it). A range of the open issues'
    due index (``issue_open_due_idx``): the few issues of the seconds since the worker last ran."""
    mark = Subquery(OpenMark.objects.filter(pk=1).values("as_of")[:1])
    now = scope.now
    return (
        Issue.objects.filter(
            scope.issue_q(),
            scope.cohort_q(),
            Q(due_at__gte=mark, due_at__lt=now) | Q(due_at__gte=now, due_at__lt=mark),
            status__in=Issue.ESCALATING_STATUSES,
        )
        .values(*keys)
        .annotate(
            open=Value(0),
            overdue=Sum(Case(When(due_at__lt=now, then=Value(1)), default=Value(-1))),
            escalated=Value(0),
            waiting=Value(0),
        )
        .order_by()
    )


def _waiting(scope: DashboardScope, keys: tuple[str, ...]) -> QuerySet:
    """The cohort's issues waiting for a decision now, grouped by ``keys``: read live from their own
    partial index (``issue_needs_decision_idx``), so a supervisor who decides sees the count drop
    at once, as the list beside it does."""
    return (
        _open_cohort(scope)
        .filter(decisions_waiting_q())
        .values(*keys)
        .annotate(open=Value(0), overdue=Value(0), escalated=Value(0), waiting=Count("id"))
        .order_by()
    )


def _open_rows(scope: DashboardScope, rows: QuerySet, keys: tuple[str, ...], *live: QuerySet) -> list[dict]:
    """The open tables' rows of the scope's cohort summed by ``keys``, with the issues that fell due
    since their mark and the ``live`` reads, in one statement (one snapshot: the mark and the rows
    it is the mark of)."""
    first, last = period_dates(scope)
    summed = (
        rows.filter(period_q(first, last))
        .values(*keys)
        .annotate(open=Sum("open"), overdue=Sum("overdue"), escalated=Sum("escalated"), waiting=Value(0))
        .order_by()
    )
    return list(summed.union(_fell_due(scope, keys), *live, all=True))


def _current(scope: DashboardScope, figures: IssueFigures) -> None:
    """The issues reported in the period that are still open now — open, overdue, escalated,
    waiting for a decision — per neighborhood, per category and per officer: the open tables
    (``OpenRollup``, ``OpenOfficerRollup``: a row per report day, week or month and key), plus the
    issues that fell due since the worker last moved their mark on, plus those waiting now. Each
    read is grouped by what it fills (fifty neighborhoods, twenty categories, the officers), not
    by neighborhood and category together (a thousand rows to sum in Python)."""
    place = ("neighborhood_id",)
    for row in _open_rows(scope, OpenRollup.objects.filter(scope.issue_q()), place, _waiting(scope, place)):
        place_counts = _counts_for(row["neighborhood_id"], figures.by_neighborhood)
        for name in OPEN_FIGURES:
            place_counts[name] += row[name]
    first, last = period_dates(scope)
    for category, n in (
        OpenRollup.objects.filter(period_q(first, last), scope.issue_q())
        .values_list("category_id")
        .annotate(Sum("open"))
        .order_by()
    ):
        _counts_for(category, figures.by_category)["open"] += n
    officer_figures = ("open", "overdue", "escalated")
    if scope.category_id:
        # One category: the open issues themselves (the officer table has no category).
        rows = (
            _open_cohort(scope)
            .filter(assignee_id__isnull=False)
            .values("assignee_id")
            .annotate(**open_counts(scope.now))
            .order_by()
        )
    else:
        where = scope.wide_q()
        rows = [
            row
            for row in _open_rows(scope, OpenOfficerRollup.objects.filter(where), ("assignee_id",))
            if row["assignee_id"] is not None
        ]
    for row in rows:
        officer = _counts_for(row["assignee_id"], figures.by_officer)
        for name in officer_figures:
            officer[name] += row[name]
    for name in OPEN_FIGURES:
        setattr(figures, name, sum(place_counts[name] for place_counts in figures.by_neighborhood.values()))


def _officers_finished(scope: DashboardScope, figures: IssueFigures) -> None:
    """Issues each officer finished in the period (and within SLA): the officer table's city,
    district or neighborhood rows; with a category filter, the finished issues themselves."""
    first, last = period_dates(scope)
    if scope.category_id:
        rows = (
            Issue.objects.filter(scope.issue_q(), scope.finished_q(), assignee_id__isnull=False)
            .values_list("assignee_id")
            .annotate(n=Count("id"), sla=Count("id", filter=Q(resolved_at__lte=F("due_at"))))
            .order_by()
        )
    else:
        place = scope.wide_q()
        rows = (
            OfficerRollup.objects.filter(period_q(first, last), place)
            .values_list("assignee_id")
            .annotate(Sum("finished"), Sum("within_sla"))
            .order_by()
        )
    for officer, finished, within_sla in rows:
        counts = _counts_for(officer, figures.by_officer)
        counts["finished"] += finished
        counts["within_sla"] += within_sla


def issue_figures(scope: DashboardScope) -> IssueFigures:
    """Every issue figure, table column and chart series of the dashboard.

    Flows (reported, finished, within SLA, crime reports, the median) from the summary tables;
    the open issues' state now from their own partial index. A fixed number of statements, each
    reading rows in proportion to the period's weeks and the places shown, or to the open issues.
    """
    figures = IssueFigures()
    _flows(scope, figures)
    _current(scope, figures)
    _officers_finished(scope, figures)
    figures.median_days = _median_days(scope)
    return figures


# --- smaller reads -------------------------------------------------------------------


def feedback_figures(scope: DashboardScope) -> dict:
    """Residents' answers given in the period: mean satisfaction (1–5) and the "not fixed" (reopen) rate.

    Read from the summary tables (``insights.rollups``) like the flows: the place table, or the
    feedback table for one category.
    """
    first, last = period_dates(scope)
    parts = period_q(first, last)
    if scope.category_id:
        rows = FeedbackRollup.objects.filter(parts, scope.place_q(), category_id=scope.category_id)
    else:
        rows = PlaceRollup.objects.filter(parts, scope.place_q())
    row = rows.aggregate(responses=Sum("responses"), not_fixed=Sum("not_fixed"), satisfaction=Sum("satisfaction_sum"))
    responses, not_fixed = row["responses"] or 0, row["not_fixed"] or 0
    return {
        "responses": responses,
        "satisfaction": (row["satisfaction"] / responses) if responses else None,
        "not_fixed": not_fixed,
        "reopen_rate": (not_fixed / responses) if responses else None,
    }


def _open_cohort(scope: DashboardScope) -> QuerySet:
    return Issue.objects.filter(scope.issue_q(), scope.cohort_q(), status__in=Issue.OPEN_STATUSES)


def marker_limit() -> int:
    """How many open issues the map draws at most (``DASHBOARD_MARKER_LIMIT``, default 500)."""
    return settings.DASHBOARD_MARKER_LIMIT


def open_issue_markers(scope: DashboardScope, *, limit: int | None = None) -> list[dict]:
    """The oldest open issues in scope that have a location, for the map (capped; the page says so)."""
    limit = limit or marker_limit()
    rows = (
        _open_cohort(scope)
        .filter(lat__isnull=False, lng__isnull=False)
        .order_by("created_at", "id")
        .values("id", "tracking_code", "lat", "lng", "created_at", "due_at", "status", "category__name_en")[:limit]
    )
    now = scope.now
    return [
        {
            "id": r["id"],
            "code": r["tracking_code"],
            "lat": round(r["lat"], 6),
            "lng": round(r["lng"], 6),
            "age_days": round((now - r["created_at"]).total_seconds() / 86400, 1),
            "overdue": r["status"] in Issue.ESCALATING_STATUSES and r["due_at"] < now,
            "category": r["category__name_en"],
            "url": f"/issues/{r['id']}/",
        }
        for r in rows
    ]


def decisions_waiting(scope: DashboardScope, *, limit: int = 50) -> list[Issue]:
    """Open issues in scope waiting for a supervisor's decision, most overdue first, with their latest escalation."""
    latest = Escalation.objects.filter(issue_id=OuterRef("pk"), decided_at__isnull=True).order_by("-level", "-id")
    return list(
        _open_cohort(scope)
        .filter(decisions_waiting_q())
        .select_related("category", "neighborhood", "assignee")
        # The table names the neighborhood; its boundary (a polygon, often large) stays in the database.
        .defer("neighborhood__boundary")
        .annotate(
            escalation_id=Subquery(latest.values("id")[:1]),
            escalation_level_reached=Subquery(latest.values("level")[:1]),
            escalated_at=Subquery(latest.values("created_at")[:1]),
        )
        .order_by("due_at")[:limit]
    )


def _problem_scope(scope: DashboardScope) -> QuerySet:
    qs = Problem.objects.exclude(stage=Problem.Stage.CLOSED).filter(created_at__lt=scope.end)
    qs = qs.filter(scope.place_q())
    if scope.category_id:
        qs = qs.filter(category_id=scope.category_id)
    return qs


def active_problem_counts(scope: DashboardScope) -> dict:
    """Active (not closed) Problems by stage and by neighborhood, one query."""
    by_stage = {s: 0 for s in Problem.Stage.values if s != Problem.Stage.CLOSED}
    by_neighborhood: dict[int, int] = {}
    for row in _problem_scope(scope).values("stage", "neighborhood_id").annotate(n=Count("id")).order_by():
        by_stage[row["stage"]] += row["n"]
        if row["neighborhood_id"] is not None:
            by_neighborhood[row["neighborhood_id"]] = by_neighborhood.get(row["neighborhood_id"], 0) + row["n"]
    return {"by_stage": by_stage, "by_neighborhood": by_neighborhood, "total": sum(by_stage.values())}


@dataclass
class ActiveProblem:
    """A Problem as the dashboard's table, map and export show it: names read in the same
    statement, no model instances (a hundred Problems with their category, neighborhood and
    owner were four hundred)."""

    pk: int
    title: str
    stage: str
    created_at: datetime
    category_name_en: str | None
    category_name_es: str | None
    neighborhood_id: int | None
    neighborhood_name: str | None
    owner_name: str
    issue_count: int = 0
    open_issue_count: int = 0
    center_lat: float | None = None
    center_lng: float | None = None

    @property
    def category_name(self) -> str:
        return in_language(self.category_name_en, self.category_name_es)

    def get_absolute_url(self) -> str:
        return f"/problems/{self.pk}/"


def active_problems(scope: DashboardScope, *, limit: int = 100) -> list[ActiveProblem]:
    """Active Problems in SARA order (scanning first), with issue counts and the centre of their issues.

    Two queries: the Problems shown, then their issues' counts and centres in one grouped read
    (``issue_problem_idx``) — rather than four correlated subqueries per Problem, or grouping
    the wide joined rows of the first query. The first takes the newest ``limit`` of each stage
    (``problem_stage_created_idx``, an index range each) and orders only those: not every active
    Problem sorted by stage, which grows with the hot spots the sweep groups.
    """
    rank = Case(
        *[When(stage=s, then=Value(i)) for i, s in enumerate(Problem.Stage.values)],
        output_field=IntegerField(),
    )
    newest = reduce(
        operator.or_,
        (
            Q(pk__in=_problem_scope(scope).filter(stage=stage).order_by("-created_at", "-id").values("pk")[:limit])
            for stage in Problem.Stage.values
            if stage != Problem.Stage.CLOSED
        ),
    )
    # Only what the table, the map and the export show: a Problem's free-text SARA fields, the
    # neighborhood's boundary and the owner's account stay in the database.
    problems = [
        ActiveProblem(
            pk=pk,
            title=title,
            stage=stage,
            created_at=created_at,
            category_name_en=name_en,
            category_name_es=name_es,
            neighborhood_id=place,
            neighborhood_name=place_name,
            owner_name=person_name(first, last, username) if owner else "",
        )
        for pk, title, stage, created_at, name_en, name_es, place, place_name, owner, username, first, last in (
            Problem.objects.filter(newest)
            .annotate(stage_rank=rank)
            .order_by("stage_rank", "-created_at", "-id")
            .values_list(
                "id",
                "title",
                "stage",
                "created_at",
                "category__name_en",
                "category__name_es",
                "neighborhood_id",
                "neighborhood__name",
                "owner_id",
                "owner__username",
                "owner__first_name",
                "owner__last_name",
            )[:limit]
        )
    ]
    located = Q(lat__isnull=False, lng__isnull=False)
    # By the ids shown (an index lookup each; the planner misjudges a subquery here and merges the
    # whole index). ``or [0]`` (no Problem has id 0) keeps the query — and the page's query count —
    # the same when there is no Problem at all.
    stats = {
        row["problem_id"]: row
        for row in Issue.objects.filter(problem_id__in=[p.pk for p in problems] or [0])
        .values("problem_id")
        .annotate(
            # Counted over a column the index holds (never NULL here), so no issue row is read.
            issue_count=Count("problem_id"),
            open_issue_count=Count("problem_id", filter=Q(status__in=Issue.OPEN_STATUSES)),
            center_lat=Avg("lat", filter=located),
            center_lng=Avg("lng", filter=located),
        )
        .order_by()
    }
    for problem in problems:
        row = stats.get(problem.pk, {})
        problem.issue_count = row.get("issue_count", 0)
        problem.open_issue_count = row.get("open_issue_count", 0)
        problem.center_lat = row.get("center_lat")
        problem.center_lng = row.get("center_lng")
    return problems


# --- public transparency ------------------------------------------------------------


def transparency_issue_figures(first: date, last: date) -> dict[int, dict]:
    """Per neighborhood, public categories only, local days [first, last]: reported, finished and
    the median days to resolve (exact to the hour): three reads of the place tables — counts,
    bands, then the hours of each neighborhood's middle band."""
    parts = period_q(first, last)
    figures: dict[int, dict] = {}
    for place, reported, finished in (
        PlaceRollup.objects.filter(parts, public=True)
        .values_list("neighborhood_id")
        .annotate(Sum("reported"), Sum("finished"))
        .order_by()
    ):
        figures[place] = {"reported": reported, "finished": finished, "median_days": None}
    bands: dict[int, dict[int, int]] = defaultdict(dict)
    for place, band, n in (
        PlaceBandRollup.objects.filter(parts, public=True, neighborhood_id__isnull=False, district="")
        .values_list("neighborhood_id", "band")
        .annotate(Sum("issues"))
        .order_by()
    ):
        bands[place][band] = n
    where = {place: banded_range(by_band) for place, by_band in bands.items()}
    wanted = [(place, w) for place, w in where.items() if w is not None]
    hours: dict[int, dict[int, int]] = defaultdict(dict)
    # Neighborhoods whose middle lies in the same band read it together, and each arm names every
    # column of the key — grain, periods, neighborhoods, the blank district of a neighborhood's own
    # rows, public, hours: an index range each. Leave one out (the district was, once) and the
    # database reads every hour of every neighborhood in each period and throws most away.
    places_by_band: dict[tuple[int, int], list[int]] = defaultdict(list)
    for place, (lo, hi, *_rest) in wanted:
        places_by_band[(lo, hi)].append(place)
    arms = [
        period & Q(neighborhood_id__in=places, district="", public=True, hours__gte=lo, hours__lte=hi)
        for period in period_arms(first, last)
        for (lo, hi), places in places_by_band.items()
    ]
    if arms:
        for place, value, n in (
            PlaceResolutionRollup.objects.filter(reduce(operator.or_, arms))
            .values_list("neighborhood_id", "hours")
            .annotate(Sum("issues"))
            .order_by()
        ):
            hours[place][value] = n
    for place, (_lo, _hi, below, lower_rank, upper_rank) in wanted:
        lower, upper = values_at(hours[place], lower_rank, upper_rank, below)
        figures.setdefault(place, {"reported": 0, "finished": 0})["median_days"] = (lower + upper) / 48
    return figures


def scope_neighborhoods(scope: DashboardScope, neighborhoods) -> list:
    """The neighborhoods the scope covers, from an already-fetched list (no query)."""
    return [n for n in neighborhoods if scope.covers(n)]


def filter_choices() -> tuple[list, list]:
    """Neighborhoods (with boundaries, for the map too) and categories: two queries the whole page shares."""
    neighborhoods = list(
        Neighborhood.objects.only(
            "id", "name", "slug", "district", "beat", "boundary", "center_lat", "center_lng"
        ).order_by("name")
    )
    categories = list(Category.objects.only("id", "name_en", "name_es", "is_public").order_by("name_en"))
    return neighborhoods, categories
