"""Aggregates for the supervisor dashboard and the public transparency page (issues side).

Every figure is aggregate SQL. The heavy part — issue counts by neighborhood,
category, officer and week, SLA share, crime conversions and the median time to
resolve — is **one** statement: the issues in scope are read once into a CTE and
several ``GROUP BY`` branches are ``UNION ALL``-ed over it, so the page scans
the issue table once however many tables and charts it shows.

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
- *days to resolve*: ``resolved_at - created_at`` in days; the median over
  finished issues (``percentile_cont`` on PostgreSQL, an ORDER BY … LIMIT/OFFSET
  median on SQLite so ``make run`` works too).
- *crime conversions*: finished with outcome "became a crime report"; the share
  is of all finished issues.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import (
    Avg,
    Case,
    Count,
    F,
    FloatField,
    Func,
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
from core.dialect import Dialect
from insights.figures.summaries import period_dates, period_q
from insights.models import FeedbackRollup
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
    "ANALYTIC_SETTINGS_SQL",
    "TRANSPARENCY_SETTINGS_SQL",
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

    @property
    def has_place(self) -> bool:
        return bool(self.district or self.neighborhood_id)

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
        return q

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


# --- SQL helpers ------------------------------------------------------------------


class DaysBetween(Func):
    """(later - earlier) in days as a float, on PostgreSQL and SQLite."""

    output_field = FloatField()
    arity = 2

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="CAST(EXTRACT(EPOCH FROM (%(expressions)s)) AS double precision) / 86400.0",
            arg_joiner=" - ",
            **extra,
        )

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="(julianday(%(expressions)s))", arg_joiner=") - julianday(", **extra
        )


def _flag(condition: Q) -> Case:
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def _base_sql(queryset: QuerySet) -> tuple[str, tuple]:
    sql, params = queryset.order_by().query.sql_with_params()
    return sql, tuple(params)


def _int(value) -> int:
    return int(value or 0)


def _float(value) -> float | None:
    return None if value is None else float(value)


# --- the issue figures: one statement ------------------------------------------------


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


class WeekBucket(Func):
    """Which week (1-based) a timestamp falls in, given the weeks' starts; 0 before the first.

    PostgreSQL: ``width_bucket(ts, ARRAY[…])``, a binary search per row with no time-zone
    arithmetic (the starts are local midnights computed once in Python). Elsewhere (SQLite in
    the embedded mode) a CASE ladder over the same starts.
    """

    output_field = IntegerField()

    def __init__(self, expression, starts):
        self.starts = list(starts)
        super().__init__(expression)

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"width_bucket({sql}, %s::timestamptz[])", [*params, self.starts]

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        whens, out = [], []
        for index in range(len(self.starts), 0, -1):
            whens.append(f"WHEN {sql} >= %s THEN {index}")
            out += [*params, connection.ops.adapt_datetimefield_value(self.starts[index - 1])]
        return f"(CASE {' '.join(whens)} ELSE 0 END)", out


# The state of one issue within the scope, as bits: the heavy statement groups by (dimension, state)
# and only counts, so each row costs one hash probe per dimension instead of eight sums.
STATE_BITS = {
    "reported": 1,
    "open": 2,
    "overdue": 4,
    "escalated": 8,
    "waiting": 16,
    "finished": 32,
    "within_sla": 64,
    "crime": 128,
}


def _bits(*parts) -> Value:
    return Value(sum(STATE_BITS[p] for p in parts))


def _bit_if(condition: Q, name: str) -> Case:
    return Case(When(condition, then=_bits(name)), default=Value(0), output_field=IntegerField())


def _week_starts_at(scope: DashboardScope) -> list[datetime]:
    tz = timezone.get_current_timezone()
    return [datetime.combine(d, time.min, tzinfo=tz) for d in week_starts(scope.start, scope.end)]


def _issue_states(scope: DashboardScope) -> tuple[Case, Case]:
    """The state bits of an issue in scope: (as reported in the period, as finished in it).

    Nested CASEs, so each test runs once per row (the period, then the status, then the rest):
    at city scale the per-row predicate count is what the statement costs.
    """
    open_state = (
        _bits("reported", "open")
        + _bit_if(Q(status__in=Issue.ESCALATING_STATUSES, due_at__lt=scope.now), "overdue")
        + _bit_if(Q(escalation_level__gt=0), "escalated")
        + _bit_if(decisions_waiting_q(), "waiting")
    )
    reported = Case(
        When(
            scope.cohort_q(),
            then=Case(
                When(status__in=Issue.OPEN_STATUSES, then=open_state),
                When(status=Issue.Status.DUPLICATE, then=Value(0)),
                default=_bits("reported"),
                output_field=IntegerField(),
            ),
        ),
        default=Value(0),
        output_field=IntegerField(),
    )
    finished = Case(
        When(
            scope.finished_q(),
            then=_bits("finished")
            + _bit_if(Q(resolved_at__lte=F("due_at")), "within_sla")
            + _bit_if(Q(outcome=Issue.Outcome.CRIME_REPORT), "crime"),
        ),
        default=Value(0),
        output_field=IntegerField(),
    )
    return reported, finished


def _issue_rows(issues: QuerySet, state, starts) -> QuerySet:
    """``issues`` as rows of the heavy statement: place, category, officer, state bits, days to
    resolve and week buckets (``days``/``cw``/``rw`` are computed always, read where the state
    says they apply)."""
    return issues.annotate(
        st=state,
        days=DaysBetween("resolved_at", "created_at"),
        cw=WeekBucket("created_at", starts),
        rw=WeekBucket("resolved_at", starts),
    ).values("neighborhood_id", "category_id", "assignee_id", "st", "days", "cw", "rw")


def _issue_base_sql(scope: DashboardScope) -> tuple[str, tuple]:
    """One row per issue in scope (reported or finished in the period), as SQL and parameters.

    Whole city, every category: the issues reported in the period, then those finished in it
    but reported earlier — two disjoint range reads, each from one index alone
    (``issue_period_idx``, ``issue_finished_period_idx``), where the OR of the two periods can
    only be answered by reading the whole table. With a place or category filter, that filter's
    index narrows the read further: one statement with the OR (a bitmap scan of the place's or
    category's issues), which there beats reading every issue of the period from the index.
    """
    cohort, finished = scope.cohort_q(), scope.finished_q()
    reported_state, finished_state = _issue_states(scope)
    starts = _week_starts_at(scope)
    if scope.has_place or scope.category_id:
        issues = Issue.objects.filter(scope.issue_q()).filter(cohort | finished)
        return _base_sql(_issue_rows(issues, reported_state + finished_state, starts))
    reported_sql, reported_params = _base_sql(
        _issue_rows(Issue.objects.filter(cohort), reported_state + finished_state, starts)
    )
    earlier_sql, earlier_params = _base_sql(
        _issue_rows(Issue.objects.filter(finished).exclude(cohort), finished_state, starts)
    )
    return f"{reported_sql} UNION ALL {earlier_sql}", reported_params + earlier_params


# Session settings for the few heavy aggregate statements (PostgreSQL), scoped to their
# transaction with SET LOCAL:
# - jit off: compiling these plans costs more (hundreds of ms) than it saves, and their cost
#   estimate always triggers it at city scale;
# - work_mem 64MB: the scoped rows (one CTE) and the hash tables stay in memory, no temp files;
# - parallel_tuple_cost 0.01: rows scanned by parallel workers are cheap to hand over here
#   (a few narrow integer columns), so let the scan use both cores.
ANALYTIC_SETTINGS_SQL = "SET LOCAL jit = off; SET LOCAL work_mem = '64MB'; SET LOCAL parallel_tuple_cost = 0.01"


# The public transparency statement reads ~800 000 index entries into one ordered-set aggregate:
# there a cheap parallel hand-over (Gather Merge of every row) costs more than it saves, so it
# keeps the default tuple cost; its small count part still runs in parallel.
TRANSPARENCY_SETTINGS_SQL = "SET LOCAL jit = off; SET LOCAL work_mem = '64MB'"


@contextmanager
def _analytic_cursor(settings_sql: str = ANALYTIC_SETTINGS_SQL):
    """A cursor for the heavy aggregate statements, inside a transaction that scopes their settings."""
    with transaction.atomic(), connection.cursor() as cursor:
        if Dialect().postgres:
            cursor.execute(settings_sql)
        yield cursor


def _analytic_rows(sql: str, params, settings_sql: str = ANALYTIC_SETTINGS_SQL) -> list[dict]:
    with _analytic_cursor(settings_sql) as cursor:
        cursor.execute(sql, params)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@lru_cache(maxsize=256)
def _names_of(state: int) -> tuple[str, ...]:
    """The figures a state's bits stand for (a few dozen states occur; each is worked out once)."""
    return tuple(name for name, bit in STATE_BITS.items() if state & bit)


def _counts_of(state: int, n: int, into: dict) -> None:
    for name in _names_of(state):
        into[name] += n


def _counts_for(key, groups: dict) -> dict:
    counts = groups.get(key)
    if counts is None:
        counts = groups[key] = _empty_counts()
    return counts


def _empty_counts() -> dict:
    return dict.fromkeys(STATE_BITS, 0)


def _issue_groups_sql() -> str:
    """The three groupings of the scoped rows ``b``, as rows ``(dim, k, k2, k3, st, n, median)``.

    PostgreSQL: one ``GROUPING SETS`` aggregate — a single pass over the rows updating three
    hash tables, where three ``GROUP BY`` branches read the materialised rows three times
    (about 15 % of the statement at city scale). SQLite (the embedded mode) has no grouping
    sets: the same rows from three ``UNION ALL``-ed branches. The officer grouping keeps a
    NULL key for unassigned issues; the caller skips it.
    """
    median = Dialect().median("days", "f")
    if Dialect().postgres:
        # GROUPING(neighborhood, assignee, category): a 1 bit for each column the set leaves out.
        return f"""
        SELECT CASE GROUPING(neighborhood_id, assignee_id, category_id) WHEN 3 THEN 'nbhd'
                    WHEN 5 THEN 'officer' ELSE 'combo' END AS dim,
               CASE GROUPING(neighborhood_id, assignee_id, category_id) WHEN 3 THEN neighborhood_id
                    WHEN 5 THEN assignee_id ELSE category_id END AS k,
               COALESCE(cw, 0) AS k2, COALESCE(rw, 0) AS k3, st, COUNT(*) AS n,
               {median} AS median
          FROM b GROUP BY GROUPING SETS ((neighborhood_id, st), (assignee_id, st), (category_id, cw, rw, st))
        """  # noqa: S608 (identifiers from code)
    return f"""
        SELECT 'nbhd' AS dim, neighborhood_id AS k, 0 AS k2, 0 AS k3, st, COUNT(*) AS n, {median} AS median
          FROM b GROUP BY neighborhood_id, st
        UNION ALL
        SELECT 'officer', assignee_id, 0, 0, st, COUNT(*), NULL FROM b GROUP BY assignee_id, st
        UNION ALL
        SELECT 'combo', category_id, cw, rw, st, COUNT(*), NULL FROM b GROUP BY category_id, cw, rw, st
    """  # noqa: S608 (identifiers from code)


def issue_figures(scope: DashboardScope) -> IssueFigures:
    """Every issue figure, table column and chart series of the dashboard, in one statement.

    Three groupings of the scoped rows: by neighborhood (the totals are its sum: every issue
    has a neighborhood), by officer, and by category × creation week × resolution week (the
    open-by-category chart and both weekly series roll up from it). Each only counts rows per
    (key, state bits); Python turns the bits into figures.
    """
    base_sql, params = _issue_base_sql(scope)
    finished_bit = STATE_BITS["finished"]
    sql = f"""
        WITH b AS ({base_sql}),
             f AS (SELECT days FROM b WHERE (st & {finished_bit}) <> 0)
        {_issue_groups_sql()}
    """  # noqa: S608 (identifiers from code; values are bound parameters)
    weeks = week_starts(scope.start, scope.end)
    figures = IssueFigures()
    totals = _empty_counts()
    finished_by_week: dict[int, dict] = {}
    open_bit, reported_bit = STATE_BITS["open"], STATE_BITS["reported"]
    with _analytic_cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    # Thousands of rows at city scale: read as tuples, in the SELECT's column order.
    for dim, key, created_week, resolved_week, state, n, median in rows:
        if dim == "nbhd":
            _counts_of(state, n, _counts_for(key, figures.by_neighborhood))
            _counts_of(state, n, totals)
            if median is not None:
                figures.median_days = float(median)
        elif dim == "officer":
            if key is not None:
                _counts_of(state, n, _counts_for(key, figures.by_officer))
        else:
            if state & open_bit:
                _counts_for(key, figures.by_category)["open"] += n
            if state & reported_bit and created_week:
                week = weeks[created_week - 1]
                figures.new_by_week[week] = figures.new_by_week.get(week, 0) + n
            if state & finished_bit and resolved_week:
                _counts_of(state & ~reported_bit & ~open_bit, n, _counts_for(resolved_week, finished_by_week))
    for name, value in totals.items():
        setattr(figures, name, value)
    figures.finished_by_week = {weeks[k - 1]: v for k, v in finished_by_week.items()}
    return figures


# --- smaller reads -------------------------------------------------------------------


def feedback_figures(scope: DashboardScope) -> dict:
    """Residents' answers given in the period: mean satisfaction (1–5) and the "not fixed" (reopen) rate.

    Read from the summary tables (``insights.rollups``): the period's whole months and the days at
    either end, narrowed by place and category like every other figure, whatever the number of
    answers behind them.
    """
    first, last = period_dates(scope)
    q = period_q(first, last) & scope.place_q()
    if scope.category_id:
        q &= Q(category_id=scope.category_id)
    row = FeedbackRollup.objects.filter(q).aggregate(
        responses=Sum("responses"), not_fixed=Sum("not_fixed"), satisfaction=Sum("satisfaction_sum")
    )
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


def active_problems(scope: DashboardScope, *, limit: int = 100) -> list[Problem]:
    """Active Problems in SARA order (scanning first), with issue counts and the centre of their issues.

    Two queries: the Problems shown, then their issues' counts and centres in one grouped read
    (``issue_problem_idx``) — rather than four correlated subqueries per Problem, or grouping
    the wide joined rows of the first query.
    """
    rank = Case(
        *[When(stage=s, then=Value(i)) for i, s in enumerate(Problem.Stage.values)],
        output_field=IntegerField(),
    )
    shown = _problem_scope(scope).annotate(stage_rank=rank).order_by("stage_rank", "-created_at", "-id")[:limit]
    problems = list(shown.select_related("category", "neighborhood", "owner").defer("neighborhood__boundary"))
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


def transparency_issue_figures(*, start: datetime, end: datetime) -> dict[int, dict]:
    """Per neighborhood, public categories only: reported, finished, median days to resolve.

    One statement; nothing but counts and a median leaves the database.
    """
    if Dialect().postgres:
        return _transparency_issue_figures_pg(start=start, end=end)
    cohort = Q(created_at__gte=start, created_at__lt=end)
    finished = Q(resolved_at__gte=start, resolved_at__lt=end, outcome__in=FINISHED_OUTCOMES)
    base = (
        Issue.objects.filter(category__is_public=True)
        .filter(cohort | finished)
        .annotate(
            c=_flag(cohort & ~Q(status=Issue.Status.DUPLICATE)),
            f=_flag(finished),
            days=Case(When(finished, then=DaysBetween("resolved_at", "created_at")), default=None),
        )
        .values("neighborhood_id", "c", "f", "days")
    )
    base_sql, params = _base_sql(base)
    sql = f"""
        WITH b AS ({base_sql}),
             m AS ({Dialect().grouped_median("days", "neighborhood_id", "b")})
        SELECT s.neighborhood_id AS k, s.c, s.f, m.median
          FROM (SELECT neighborhood_id, SUM(c) AS c, SUM(f) AS f FROM b GROUP BY neighborhood_id) AS s
          LEFT JOIN m ON m.k = s.neighborhood_id
    """  # noqa: S608 (identifiers from code; values are bound parameters)
    return {
        row["k"]: {"reported": _int(row["c"]), "finished": _int(row["f"]), "median_days": _float(row["median"])}
        for row in _analytic_rows(sql, params)
    }


def scope_neighborhoods(scope: DashboardScope, neighborhoods) -> list:
    """The neighborhoods the scope covers, from an already-fetched list (no query)."""
    return [
        n
        for n in neighborhoods
        if (not scope.district or n.district == scope.district)
        and (not scope.neighborhood_id or n.pk == scope.neighborhood_id)
    ]


def filter_choices() -> tuple[list, list]:
    """Neighborhoods (with boundaries, for the map too) and categories: two queries the whole page shares."""
    neighborhoods = list(
        Neighborhood.objects.only(
            "id", "name", "slug", "district", "beat", "boundary", "center_lat", "center_lng"
        ).order_by("name")
    )
    categories = list(Category.objects.only("id", "name_en", "name_es", "is_public").order_by("name_en"))
    return neighborhoods, categories


# Fractions for ``percentile_disc`` that pick the lower and the upper middle row of a group of n
# (rows ceil(0.5·n) and ceil((0.5 + ε)·n), 1-based): the same two rows ``percentile_cont(0.5)``
# interpolates between, for any n below 5·10⁹.
_MIDDLE_FRACTIONS = "ARRAY[0.5, 0.5000000001]"


def _days_of(interval_sql: str) -> str:
    """An interval in days, exactly as ``DaysBetween`` computes it (PostgreSQL)."""
    return f"(CAST(EXTRACT(EPOCH FROM {interval_sql}) AS double precision) / 86400.0)"


def _transparency_issue_figures_pg(*, start: datetime, end: datetime) -> dict[int, dict]:
    """PostgreSQL: two grouped reads, each an index-only scan over a narrow partial index, in one statement.

    - reported: ``issue_reported_nbhd_idx`` (not duplicates) over the creation range, counted per
      neighborhood in parallel;
    - finished and the median: ``issue_finished_nbhd_idx`` (finished outcomes), already in
      neighborhood order, so the median needs no global sort. The two middle durations are picked
      as intervals (``percentile_disc``, no per-row arithmetic) and only they are turned into days,
      with the same expression and the same interpolation ``percentile_cont`` uses — the same
      number to the last bit as the median of the per-issue days.
    """
    issue = connection.ops.quote_name(Issue._meta.db_table)
    category = connection.ops.quote_name(Category._meta.db_table)
    public = f"category_id = ANY(ARRAY(SELECT id FROM {category} WHERE is_public))"  # noqa: S608 (identifiers from the models' meta)
    outcomes = ", ".join(["%s"] * len(FINISHED_OUTCOMES))
    lo, hi = "MAX(lo)", "MAX(hi)"
    sql = f"""
        SELECT k, SUM(c) AS c, SUM(f) AS f, {_days_of(lo)} + ({_days_of(hi)} - {_days_of(lo)}) * 0.5 AS median
          FROM (
            SELECT neighborhood_id AS k, COUNT(*) AS c, 0 AS f,
                   CAST(NULL AS interval) AS lo, CAST(NULL AS interval) AS hi
              FROM {issue}
             WHERE NOT (status = %s) AND created_at >= %s AND created_at < %s AND {public}
             GROUP BY neighborhood_id
            UNION ALL
            SELECT k, 0, n, p[1], p[2]
              FROM (SELECT neighborhood_id AS k, COUNT(*) AS n,
                           percentile_disc({_MIDDLE_FRACTIONS}) WITHIN GROUP (ORDER BY resolved_at - created_at) AS p
                      FROM {issue}
                     WHERE outcome IN ({outcomes}) AND resolved_at >= %s AND resolved_at < %s AND {public}
                     GROUP BY neighborhood_id) AS finished
          ) AS parts
         GROUP BY k
    """  # noqa: S608 (identifiers from the models' meta; values are bound parameters)
    params = (Issue.Status.DUPLICATE, start, end, *FINISHED_OUTCOMES, start, end)
    return {
        row["k"]: {"reported": _int(row["c"]), "finished": _int(row["f"]), "median_days": _float(row["median"])}
        for row in _analytic_rows(sql, params, TRANSPARENCY_SETTINGS_SQL)
    }
