# SQL here is assembled from code constants (table, column and choice names);
# every value travels as a query parameter. Hence S608 is off for this file.
# ruff: noqa: S608
"""The escalation engine: which issues escalate now, and doing it exactly once.

Decision
    ``escalations_due(now)`` and ``hotspots_due(now)`` are plain functions of the
    database state and ``now`` — no Celery, no clock of their own — so tests
    freeze time and ask them directly, and ``manage.py escalate --dry-run``
    prints them.

Rules (issue 5)
    * Only issues in ``Issue.ESCALATING_STATUSES`` (new, acknowledged, in
      progress) escalate. Resolved, closed, duplicate and referred never do; on
      hold does not either, and ``issue_resume`` moves ``due_at`` later by the
      time held, so time on hold never counts.
    * A level with ``hours_overdue = H`` is due once ``now >= due_at + H`` *and*
      ``now > due_at`` — a level of 0 hours fires only after the deadline has
      passed, never when the issue is created (``due_at > created_at`` is a
      database constraint).
    * Levels fire in order, each exactly once per climb. A level counts as due
      only when every lower level is due too (its effective threshold is the
      largest of the thresholds up to it), so a mis-ordered ladder still climbs
      1, 2, 3. The climb is ``Escalation.cycle = Issue.reopen_count``: a reopened
      issue gets a new ``due_at``, its ``escalation_level`` back to 0 and climbs
      again.
    * **One sweep applies every level that is due.** An issue 100 hours overdue
      whose ladder is 0 / 24 / 72 hours gets levels 1, 2 and 3 in the same sweep
      (three Escalation rows and three timeline events, in level order). The
      ladder says what should have happened by now; a worker that was down for
      a day must not delay the supervisor's notice by one sweep per level.
    * ``raise_priority`` raises the priority one step (low → normal → high →
      urgent; urgent stays urgent) and **leaves ``due_at`` unchanged**: the
      ladder stays anchored to the deadline the issue was given, so the next
      levels fire at the hours the administrator set. (Recomputing ``due_at``
      for the higher priority would pull the deadline earlier and fire the rest
      of the ladder at once.)
    * ``notify_supervisor`` notifies the supervisors whose staff profile covers
      the issue's neighborhood, directly or through its whole district;
      ``notify_commander`` the district commanders — supervisors attached to the
      whole district. They hear it as a **digest**: per batch of the sweep (normally
      the whole sweep) each recipient gets one email (if they have an address) and
      one in-app notification listing the issues that escalated for them, most
      overdue first (``DIGEST_LINES`` listed, the rest counted), written through
      the outbox in the same transaction as the escalations — one message per
      issue would bury a supervisor in mail after an outage.
    * ``needs_decision`` sets ``Issue.needs_decision``; the dashboard lists the
      Escalation rows whose ``decided_at`` is still empty.
    * ``open_problem`` opens the category's open Problem in that neighborhood
      (SARA stage scanning) or joins the one that is open.
    * Hot spots: ``Category.hotspot_threshold`` or more open issues of one
      category in one neighborhood created within ``hotspot_window_hours`` are
      grouped under a Problem (stage scanning, source hotspot) or join the open
      one; the neighborhood's supervisors are notified once per Problem
      (``OutboxMessage.dedupe_key``).

Execution
    Set-based SQL in batches of ``ESCALATION_BATCH_SIZE`` (5 000) issues, one
    transaction per batch, never one ``save()`` per issue. Each batch

    1. claims its issue rows (``SELECT … FOR UPDATE SKIP LOCKED``): a second
       sweep running at the same moment takes other rows, and an officer
       editing an issue is not waited for (the next sweep gets it);
    2. ``INSERT … ON CONFLICT DO NOTHING RETURNING`` the Escalation rows — the
       unique (issue, cycle, level) constraint is the last word on "exactly
       once", and only the rows this statement really inserted drive
    3. the timeline Events, the Issue update (level, priority, needs_decision),
       the digests in the outbox and the Problems.

    A sweep killed between batches leaves whole batches done and the rest
    untouched; the next sweep finishes the job. Each batch (and each chunk of
    hot spots) also adds what it did to its ``SweepRun`` row — one single-row
    ``UPDATE … SET n = n + …`` in the same transaction — so the row of a
    killed sweep says exactly what it committed, and after
    ``SWEEP_STALE_SECONDS`` without a commit it shows as interrupted
    (``SweepRun.state``).

    The same SQL runs on PostgreSQL and on SQLite ≥ 3.35 (embedded ``make
    run``); the few places they differ are the ``core.dialect.Dialect`` methods.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cases.figure_changes import days_changed, local_day
from cases.models import (
    PRIORITY_ORDER,
    Category,
    EscalationRule,
    Event,
    Issue,
    OutboxMessage,
    Priority,
    Problem,
    ProblemEvent,
    SweepRun,
)
from cases.selectors.runs import last_interrupted_sweep_run, last_sweep_run
from core.dialect import Dialect
from partners.models import Neighborhood, StaffProfile

logger = logging.getLogger(__name__)

__all__ = [
    "DueEscalation",
    "Hotspot",
    "SweepResult",
    "effective_ladders",
    "escalations_due",
    "hotspots_due",
    "escalation_sweep_run",
    "supervisor_recipients",
]

Action = EscalationRule.Action
ESCALATING = tuple(str(s) for s in Issue.ESCALATING_STATUSES)
OPEN = tuple(str(s) for s in Issue.OPEN_STATUSES)


def batch_size_default() -> int:
    return settings.ESCALATION_BATCH_SIZE


# --- results ------------------------------------------------------------------


@dataclass(frozen=True)
class DueEscalation:
    """One level one issue should reach now."""

    issue_id: int
    cycle: int
    level: int
    action: str
    rule_id: int
    hours_overdue: int


@dataclass(frozen=True)
class Hotspot:
    """A category piling up in a neighborhood: ``count`` open issues within the window."""

    category_id: int
    neighborhood_id: int
    count: int
    threshold: int
    window_hours: int
    loose: int  # of those, issues not yet in an open Problem
    problem_id: int | None  # the open Problem they would join, if any


@dataclass
class SweepResult:
    started_at: datetime
    finished_at: datetime | None = None
    escalations: int = 0
    issues_escalated: int = 0
    hotspots: int = 0
    problems_opened: int = 0
    notifications: int = 0
    batches: int = 0
    by_action: dict = field(default_factory=dict)
    sweep_run_id: int | None = None
    seconds_escalation: float = 0.0
    seconds_hotspots: float = 0.0

    def add(self, committed: _Committed) -> None:
        for name, value in asdict(committed).items():
            setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        data["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        return data


@dataclass
class _Committed:
    """What one transaction of the sweep did: the same names as ``SweepRun``'s counts."""

    batches: int = 0
    escalations: int = 0
    issues_escalated: int = 0
    notifications: int = 0
    hotspots: int = 0
    problems_opened: int = 0


def _sweep_run_add(run_id: int, committed: _Committed, *, now: datetime) -> None:
    """Add ``committed`` to the run's row; call inside the transaction that did the work.

    Same transaction: the counts commit (or roll back) with the rows they count, so a
    killed worker's SweepRun never says more or less than the database holds. ``F()``:
    one single-row UPDATE per batch, nothing per issue.
    """
    counts = {name: F(name) + value for name, value in asdict(committed).items() if value}
    SweepRun.objects.filter(pk=run_id).update(progress_at=max(timezone.now(), now), **counts)


def _values_cte(name: str, columns: list[str], rows: list[tuple], dialect: Dialect) -> tuple[str, list]:
    """``name(cols) AS (VALUES (…), …)`` with parameters; rows must not be empty."""
    placeholders = []
    params: list = []
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, datetime):
                cells.append(dialect.now_param())
                params.append(dialect.dt(value))
            else:
                cells.append("%s")
                params.append(value)
        placeholders.append("(" + ", ".join(cells) + ")")
    return f"{name}({', '.join(columns)}) AS (VALUES {', '.join(placeholders)})", params


def _priority_rank_sql(column: str) -> str:
    whens = " ".join(f"WHEN '{p}' THEN {i}" for i, p in enumerate(PRIORITY_ORDER))
    return f"(CASE {column} {whens} ELSE 0 END)"


def _priority_name_sql(rank_sql: str) -> str:
    top = len(PRIORITY_ORDER) - 1
    whens = " ".join(f"WHEN {rank_sql} = {i} THEN '{p}'" for i, p in enumerate(PRIORITY_ORDER[:-1]))
    return f"(CASE WHEN {rank_sql} >= {top} THEN '{PRIORITY_ORDER[top]}' {whens} ELSE '{PRIORITY_ORDER[0]}' END)"


def _statuses(values) -> str:
    # Literals, not parameters, so PostgreSQL matches the partial index
    # issue_open_due_idx (WHERE status IN ('new','acknowledged','in_progress')).
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


# --- the decision -----------------------------------------------------------------


def effective_ladders(now: datetime) -> list[tuple]:
    """Every rule as (rule_id, category_id, level, action, hours, threshold).

    ``hours`` is the effective threshold — the largest of the rule's own and
    every lower level's — so levels fire in order; ``threshold = now - hours``
    lets SQL compare ``due_at <= threshold`` without date arithmetic per row.
    """
    rows = []
    current_category, running = None, 0
    # Every category's ladder, retired ones too: "no longer takes reports" does
    # not mean its open issues stop mattering.
    rules = EscalationRule.objects.order_by("category_id", "level")
    for rule in rules.only("id", "category_id", "level", "action", "hours_overdue"):
        if rule.category_id != current_category:
            current_category, running = rule.category_id, 0
        running = max(running, rule.hours_overdue)
        rows.append((rule.pk, rule.category_id, rule.level, rule.action, running, now - timedelta(hours=running)))
    return rows


def _due_select(dialect: Dialect, *, ids_filter: bool, for_insert: bool = False) -> str:
    """SELECT of the (issue, rule) pairs due now. Needs the CTE ``r``.

    Parameters in order: [now (created_at) if for_insert], now (hours overdue),
    now (past due), [issue ids if ids_filter].
    """
    now = dialect.now_param()
    created = f"{now}, ''," if for_insert else ""
    return f"""
        SELECT i.id, i.reopen_count, r.level, r.action, r.rule_id, {created}
               {dialect.hours_since(now, "i.due_at")}
        FROM cases_issue i
        JOIN r ON r.category_id = i.category_id
        WHERE i.status IN {_statuses(ESCALATING)}
          AND i.due_at < {now}
          AND i.due_at <= r.threshold
          AND r.level > i.escalation_level
          {"AND " + dialect.in_ids("i.id") if ids_filter else ""}
        ORDER BY i.id, r.level
    """


def escalations_due(now: datetime, *, issue_ids=None, ladders=None) -> list[DueEscalation]:
    """Every escalation level that is due at ``now`` and has not happened yet, in order."""
    ladders = effective_ladders(now) if ladders is None else ladders
    if not ladders:
        return []
    dialect = Dialect(connection)
    cte, params = _values_cte(
        "r", ["rule_id", "category_id", "level", "action", "hours", "threshold"], ladders, dialect
    )
    params += [dialect.dt(now), dialect.dt(now)]
    if issue_ids is not None:
        params.append(dialect.ids(issue_ids))
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {cte} {_due_select(dialect, ids_filter=issue_ids is not None)}", params)
        return [DueEscalation(*row) for row in cursor.fetchall()]


def _due_issue_ids(now: datetime, ladders, dialect: Dialect) -> list[int]:
    cte, params = _values_cte(
        "r", ["rule_id", "category_id", "level", "action", "hours", "threshold"], ladders, dialect
    )
    params += [dialect.dt(now)]
    sql = f"""
        WITH {cte}
        SELECT DISTINCT i.id
        FROM cases_issue i
        JOIN r ON r.category_id = i.category_id
        WHERE i.status IN {_statuses(ESCALATING)}
          AND i.due_at < {dialect.now_param()}
          AND i.due_at <= r.threshold
          AND r.level > i.escalation_level
        ORDER BY i.id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def hotspots_due(now: datetime) -> list[Hotspot]:
    """Categories piling up in a neighborhood now, with how many issues are not yet grouped.

    Only groups with ``loose > 0`` need work: the rest already sit in their open Problem.
    """
    categories = list(Category.objects.values_list("id", "hotspot_threshold", "hotspot_window_hours"))
    if not categories:
        return []
    dialect = Dialect(connection)
    rows = [(pk, now - timedelta(hours=window), threshold, window) for pk, threshold, window in categories]
    cte, params = _values_cte("w", ["category_id", "since", "threshold", "window_hours"], rows, dialect)
    params += [dialect.dt(now)]
    sql = f"""
        WITH {cte}
        SELECT i.category_id, i.neighborhood_id, COUNT(*), w.threshold, w.window_hours,
               SUM(CASE WHEN i.problem_id IS NULL OR p.stage = 'closed' THEN 1 ELSE 0 END)
        FROM cases_issue i
        JOIN w ON w.category_id = i.category_id
        LEFT JOIN cases_problem p ON p.id = i.problem_id
        WHERE i.status IN {_statuses(OPEN)}
          AND i.created_at >= w.since
          AND i.created_at <= {dialect.now_param()}
        GROUP BY i.category_id, i.neighborhood_id, w.threshold, w.window_hours
        HAVING COUNT(*) >= w.threshold
        ORDER BY i.category_id, i.neighborhood_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        groups = cursor.fetchall()
    if not groups:
        return []
    open_problems = _open_problems({(c, n) for c, n, *_ in groups})
    return [
        Hotspot(
            category_id=c,
            neighborhood_id=n,
            count=count,
            threshold=threshold,
            window_hours=window,
            loose=int(loose or 0),
            problem_id=open_problems.get((c, n)),
        )
        for c, n, count, threshold, window, loose in groups
    ]


def _open_problems(pairs) -> dict[tuple[int, int], int]:
    """The open (not closed) Problem of each (category, neighborhood) pair — the oldest if several."""
    if not pairs:
        return {}
    category_ids = {c for c, _ in pairs}
    neighborhood_ids = {n for _, n in pairs}
    found: dict[tuple[int, int], int] = {}
    rows = (
        Problem.objects.filter(category_id__in=category_ids, neighborhood_id__in=neighborhood_ids)
        .exclude(stage=Problem.Stage.CLOSED)
        .order_by("created_at", "id")
        .values_list("category_id", "neighborhood_id", "id")
    )
    for c, n, pk in rows:
        if (c, n) in pairs:
            found.setdefault((c, n), pk)
    return found


# --- who hears about it -----------------------------------------------------------


def supervisor_recipients() -> list[tuple[int, str, int, str]]:
    """(neighborhood_id, action, user_id, email) for the notify actions.

    ``notify_supervisor``: active supervisors (permission ``cases.view_dashboard``)
    whose staff profile lists the neighborhood or its whole district.
    ``notify_commander``: supervisors attached to the neighborhood's whole
    district (``StaffProfile.districts``) — the district commanders.
    """
    User = get_user_model()
    perm = Permission.objects.get(content_type__app_label="cases", codename="view_dashboard")
    supervisors = (
        User.objects.filter(is_active=True, staff_profile__isnull=False)
        .filter(Q(groups__permissions=perm) | Q(user_permissions=perm) | Q(is_superuser=True))
        .distinct()
        .values_list("id", "email")
    )
    emails = dict(supervisors)
    if not emails:
        return []
    profiles = StaffProfile.objects.filter(user_id__in=emails).prefetch_related("neighborhoods")
    by_district: dict[str, set[int]] = defaultdict(set)
    direct: dict[int, set[int]] = defaultdict(set)
    for profile in profiles:
        for district in profile.districts or []:
            by_district[district].add(profile.user_id)
        for neighborhood in profile.neighborhoods.all():
            direct[neighborhood.pk].add(profile.user_id)
    rows = []
    for nbhd_id, district in Neighborhood.objects.values_list("id", "district"):
        commanders = by_district.get(district, set()) if district else set()
        for user_id in sorted(direct.get(nbhd_id, set()) | commanders):
            rows.append((nbhd_id, str(Action.NOTIFY_SUPERVISOR), user_id, emails[user_id] or ""))
        for user_id in sorted(commanders):
            rows.append((nbhd_id, str(Action.NOTIFY_COMMANDER), user_id, emails[user_id] or ""))
    return rows


# --- execution --------------------------------------------------------------------


class _Batch:
    """The set-based statements of one batch; ``ids`` are the Escalation rows it inserted."""

    def __init__(self, dialect: Dialect, now: datetime, labels: dict[str, str]):
        self.d = dialect
        self.now = now
        self.labels = labels
        self.languages: dict[int, str] = {}  # the digests' recipients not in English

    def _labels_cte(self) -> tuple[str, list]:
        return _values_cte("a", ["action", "label"], sorted(self.labels.items()), self.d)

    def claim(self, issue_ids: list[int]) -> list[int]:
        # Row locks in id order: no deadlock between sweeps; SKIP LOCKED: a second
        # sweep takes other rows instead of waiting, and skips an issue an officer
        # is editing right now (the next sweep gets it).
        return list(
            Issue.objects.filter(pk__in=issue_ids, status__in=ESCALATING)
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("pk")
            .values_list("pk", flat=True)
        )

    def insert_escalations(self, ladders, claimed: list[int]) -> list[tuple[int, int, int, str]]:
        d = self.d
        cte, params = _values_cte("r", ["rule_id", "category_id", "level", "action", "hours", "threshold"], ladders, d)
        params += [d.dt(self.now), d.dt(self.now), d.dt(self.now), d.ids(claimed)]
        sql = f"""
            WITH {cte}
            INSERT INTO cases_escalation (issue_id, cycle, level, action, rule_id, created_at, decision, hours_overdue)
            {_due_select(d, ids_filter=True, for_insert=True)}
            ON CONFLICT (issue_id, cycle, level) DO NOTHING
            RETURNING id, issue_id, level, action
        """
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def insert_events(self, ids: list[int]) -> None:
        d = self.d
        labels_cte, params = self._labels_cte()
        raised = (
            "SUM(CASE WHEN e.action = 'raise_priority' THEN 1 ELSE 0 END) "
            "OVER (PARTITION BY e.issue_id ORDER BY e.level)"
        )
        rank = _priority_rank_sql("i.priority")
        top = len(PRIORITY_ORDER) - 1
        to_rank = f"(CASE WHEN {rank} + x.raised > {top} THEN {top} ELSE {rank} + x.raised END)"
        from_rank = f"(CASE WHEN {rank} + x.raised - 1 > {top} THEN {top} ELSE {rank} + x.raised - 1 END)"
        is_raise = "x.action = 'raise_priority'"
        data = d.json_object(
            [
                ("escalation_id", "x.id"),
                ("level", "x.level"),
                ("action", "x.action"),
                ("cycle", "x.cycle"),
                ("hours_overdue", "x.hours_overdue"),
                ("priority_from", f"CASE WHEN {is_raise} THEN {_priority_name_sql(from_rank)} END"),
                ("priority_to", f"CASE WHEN {is_raise} THEN {_priority_name_sql(to_rank)} END"),
            ]
        )
        message = (
            f"'Level ' || {d.text('x.level')} || ': ' || a.label || ' (' || {d.text('x.hours_overdue')} "
            f"|| ' hours overdue)' || CASE WHEN {is_raise} THEN ', priority ' || {_priority_name_sql(from_rank)} "
            f"|| ' → ' || {_priority_name_sql(to_rank)} ELSE '' END"
        )
        params += [d.ids(ids), d.dt(self.now)]
        sql = f"""
            WITH {labels_cte},
            x AS (
                SELECT e.id, e.issue_id, e.level, e.action, e.cycle, e.hours_overdue, {raised} AS raised
                FROM cases_escalation e
                WHERE {d.in_ids("e.id")}
            )
            INSERT INTO cases_event (issue_id, kind, actor_id, is_public, message, data, created_at)
            SELECT x.issue_id, '{Event.Kind.ESCALATED}', NULL, FALSE, {message}, {data}, {d.now_param()}
            FROM x
            JOIN cases_issue i ON i.id = x.issue_id
            JOIN a ON a.action = x.action
            WHERE TRUE
            ORDER BY x.issue_id, x.level
        """
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    def update_issues(self, ids: list[int], issue_ids: list[int]) -> None:
        d = self.d
        rank = _priority_rank_sql("cases_issue.priority")
        new_priority = _priority_name_sql(f"({rank} + x.raises)")
        sql = f"""
            WITH x AS (
                SELECT e.issue_id,
                       MAX(e.level) AS top,
                       SUM(CASE WHEN e.action = 'raise_priority' THEN 1 ELSE 0 END) AS raises,
                       SUM(CASE WHEN e.action = 'needs_decision' THEN 1 ELSE 0 END) AS decisions
                FROM cases_escalation e
                WHERE {d.in_ids("e.id")}
                GROUP BY e.issue_id
            )
            UPDATE cases_issue
            SET escalation_level = CASE WHEN x.top > cases_issue.escalation_level
                                        THEN x.top ELSE cases_issue.escalation_level END,
                priority = CASE WHEN x.raises > 0 THEN {new_priority} ELSE cases_issue.priority END,
                needs_decision = (cases_issue.needs_decision OR x.decisions > 0),
                updated_at = {d.now_param()}
            FROM x
            WHERE cases_issue.id = x.issue_id
              AND {d.in_ids("cases_issue.id")}
            RETURNING cases_issue.created_at, cases_issue.neighborhood_id
        """
        # The redundant id filter lets PostgreSQL fetch the batch's issues by
        # primary key instead of hashing the whole table against the batch.
        with connection.cursor() as cursor:
            cursor.execute(sql, [d.ids(ids), d.dt(self.now), d.ids(issue_ids)])
            changed = cursor.fetchall()
        # Escalation level and "waiting for a decision" are figures of the open issues' summary
        # tables: the report days of the issues changed go to their change log, in this transaction.
        days_changed((local_day(d.moment(created)), place) for created, place in changed)

    def digest_lines(self, ids: list[int], recipients) -> list[tuple]:
        """What each recipient is told about this batch: one line per (recipient, issue), most overdue first.

        Returns ``(user_id, email, rank, issues, issue_id, tracking_code, category, place, level,
        hours_overdue, priority, category_es)`` rows, at most ``DIGEST_LINES`` per recipient; ``issues`` is the
        recipient's whole count for the batch. A recipient named by both notify actions for the
        same issue (a commander who also covers the neighborhood) gets one line, at the higher level.
        """
        if not recipients:
            return []
        d = self.d
        rcp_cte, params = _values_cte("rcp", ["neighborhood_id", "action", "user_id", "email"], recipients, d)
        notify = _statuses((Action.NOTIFY_SUPERVISOR, Action.NOTIFY_COMMANDER))
        params += [d.ids(ids), DIGEST_LINES]
        # ``ei`` is materialised first (the batch's notify rows with their issue), then joined to
        # the recipients on (neighborhood, action): left to itself the planner joins recipients
        # on action alone and probes the issue table hundreds of thousands of times.
        sql = f"""
            WITH {rcp_cte},
            ei AS MATERIALIZED (
                SELECT e.level, e.action, e.hours_overdue, i.id AS issue_id, i.tracking_code, i.priority,
                       i.neighborhood_id, c.name_en AS category, c.name_es AS category_es, n.name AS place
                FROM cases_escalation e
                JOIN cases_issue i ON i.id = e.issue_id
                JOIN cases_category c ON c.id = i.category_id
                JOIN partners_neighborhood n ON n.id = i.neighborhood_id
                WHERE {d.in_ids("e.id")} AND e.action IN {notify}
            ),
            per_issue AS (
                SELECT rcp.user_id, rcp.email, e.issue_id, e.tracking_code, e.category, e.category_es, e.place,
                       e.priority, MAX(e.level) AS level, MAX(e.hours_overdue) AS hours_overdue
                FROM ei e
                JOIN rcp ON rcp.neighborhood_id = e.neighborhood_id AND rcp.action = e.action
                GROUP BY rcp.user_id, rcp.email, e.issue_id, e.tracking_code, e.category, e.category_es, e.place,
                         e.priority
            ),
            ranked AS (
                SELECT per_issue.*,
                       ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY hours_overdue DESC, issue_id) AS rank,
                       COUNT(*) OVER (PARTITION BY user_id) AS issues
                FROM per_issue
            )
            SELECT user_id, email, rank, issues, issue_id, tracking_code, category, place, level,
                   hours_overdue, priority, category_es
            FROM ranked
            WHERE rank <= %s
            ORDER BY user_id, rank
        """
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def insert_digests(self, ids: list[int], recipients, *, key: str) -> int:
        """One digest per recipient and channel for the escalations this batch inserted.

        Written in the batch's transaction, so each escalation is told about exactly once: a
        batch that rolls back takes its digests with it. ``key`` (sweep run and batch) makes
        the dedupe keys unique.
        """
        lines = self.digest_lines(ids, recipients)
        messages = escalation_digests(lines, now=self.now, key=key, languages=self.languages)
        OutboxMessage.objects.bulk_create(messages)
        return len(messages)


# Lines listed in one digest; the rest are counted and linked ("… and 212 more").
DIGEST_LINES = 50


def recipient_languages(recipients) -> dict[int, str]:
    """{user id: language} of the notified staff (``supervisor_recipients`` rows, or user ids) whose
    pages are not in English (one statement)."""
    ids = {row[2] if isinstance(row, tuple) else row for row in recipients}
    if not ids:
        return {}
    return dict(StaffProfile.objects.filter(user_id__in=ids).exclude(language="en").values_list("user_id", "language"))


def escalation_digests(
    lines: list[tuple], *, now: datetime, key: str, languages: dict[int, str] | None = None
) -> list[OutboxMessage]:
    """The digest messages (email if the recipient has an address, and in-app) from ``digest_lines``
    rows, each in its recipient's language (``languages``; English for anyone not in it)."""
    by_user: dict[int, list[tuple]] = defaultdict(list)
    for row in lines:
        by_user[row[0]].append(row)
    messages = []
    for user_id, rows in by_user.items():
        language = (languages or {}).get(user_id, "en")
        with translation.override(language):
            subject, body, url, single, issues = _digest_text(rows, spanish=language == "es")
        email = rows[0][1]
        for channel in (OutboxMessage.Channel.EMAIL, OutboxMessage.Channel.IN_APP):
            if channel == OutboxMessage.Channel.EMAIL and not email:
                continue
            messages.append(
                OutboxMessage(
                    channel=channel,
                    recipient_id=user_id,
                    recipient_email=email if channel == OutboxMessage.Channel.EMAIL else "",
                    subject=subject[:200],
                    body=body,
                    url=url,
                    issue_id=single,
                    items=issues,
                    dedupe_key=f"escalations:{key}:{user_id}:{channel}",
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    return messages


def _digest_text(rows: list[tuple], *, spanish: bool) -> tuple[str, str, str, int | None, int]:
    """(subject, body, url, the one issue's id or None, issues) of one recipient's digest, in the
    active language."""
    issues = rows[0][3]
    priorities = dict(Priority.choices)  # named in the active language, lower case as stored

    def category_of(row):
        return row[11] if spanish and len(row) > 11 and row[11] else row[6]

    if issues == 1:
        row = rows[0]
        subject = _("Escalated, level %(level)s: %(code)s — %(category)s in %(place)s") % {
            "level": row[8],
            "code": row[5],
            "category": category_of(row),
            "place": row[7],
        }
        url, single = f"/issues/{row[4]}/", row[4]
        intro = _("An issue you oversee has escalated.")
    else:
        places = sorted({row[7] for row in rows})
        if len(places) == 1 and issues == len(rows):
            subject = _("Escalated: %(n)s issues in %(place)s") % {"n": f"{issues:,}", "place": places[0]}
        else:
            subject = _("Escalated: %(n)s issues in your area") % {"n": f"{issues:,}"}
        url, single = "/issues/?status=open&escalation=1", None
        intro = _("%(n)s issues you oversee have escalated, most overdue first.") % {"n": f"{issues:,}"}
    line = _(
        "%(code)s — %(category)s, %(place)s: level %(level)s, %(hours)s hours past its due time, priority %(priority)s"
    )
    body_lines = [
        line
        % {
            "code": row[5],
            "category": category_of(row),
            "place": row[7],
            "level": row[8],
            "hours": f"{row[9]:,}",
            "priority": str(priorities.get(row[10], row[10])).lower(),
        }
        for row in rows
    ]
    more = issues - len(rows)
    tail = [_("… and %(n)s more.") % {"n": f"{more:,}"}] if more > 0 else []
    return subject, "\n".join([intro, "", *body_lines, *tail]), url, single, issues


@dataclass
class _Grouped:
    problems_opened: int = 0
    groups_changed: int = 0
    notifications: int = 0


def _group_into_problems(
    groups: dict[tuple[int, int], list[int]], *, source: str, now: datetime, reason: str, recipients_by_nbhd
) -> _Grouped:
    """Open the category's Problem in each neighborhood, or join the open one; attach the issues.

    Set-based — a fixed number of statements however many (category,
    neighborhood) groups there are — inside the caller's transaction. The
    Category row locks (taken in id order) serialise "is there an open Problem?
    if not, open one" between two sweeps, so a place never gets two. Issues
    already in another open Problem stay where they are; issues another
    transaction holds right now are left for the next sweep (SKIP LOCKED).
    """
    out = _Grouped()
    pairs = sorted(pair for pair, ids in groups.items() if ids)
    if not pairs:
        return out
    d = Dialect(connection)
    category_ids = sorted({c for c, _ in pairs})
    list(Category.objects.select_for_update().filter(pk__in=category_ids).order_by("pk").values_list("pk", flat=True))
    problem_of = _open_problems(set(pairs))
    missing = [pair for pair in pairs if pair not in problem_of]
    created_ids: set[int] = set()
    if missing:
        names = dict(Category.objects.filter(pk__in={c for c, _ in missing}).values_list("pk", "name_en"))
        places = dict(Neighborhood.objects.filter(pk__in={n for _, n in missing}).values_list("pk", "name"))
        opened = Problem.objects.bulk_create(
            Problem(
                title=f"{names[c]} in {places[n]}"[:200],
                category_id=c,
                neighborhood_id=n,
                stage=Problem.Stage.SCANNING,
                source=source,
            )
            for c, n in missing
        )
        ProblemEvent.objects.bulk_create(
            ProblemEvent(
                problem_id=problem.pk,
                kind=ProblemEvent.Kind.OPENED,
                message=reason,
                data={"source": source},
                created_at=now,
            )
            for problem in opened
        )
        for problem in opened:
            problem_of[(problem.category_id, problem.neighborhood_id)] = problem.pk
            created_ids.add(problem.pk)
        out.problems_opened = len(opened)
    wanted = sorted({pk for pair in pairs for pk in groups[pair]})
    joinable = list(
        Issue.objects.filter(pk__in=wanted)
        .filter(Q(problem__isnull=True) | Q(problem__stage=Problem.Stage.CLOSED))
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("pk")
        .values_list("pk", "category_id", "neighborhood_id", "problem_id", "tracking_code")
    )
    joinable = [row for row in joinable if (row[1], row[2]) in problem_of]
    joined_by_problem: dict[int, list[tuple[int, str]]] = defaultdict(list)
    if joinable:
        ids = [row[0] for row in joinable]
        mapping, params = _values_cte(
            "m", ["category_id", "neighborhood_id", "problem_id"], [(c, n, p) for (c, n), p in problem_of.items()], d
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                WITH {mapping}
                UPDATE cases_issue SET problem_id = m.problem_id, updated_at = {d.now_param()}
                FROM m
                WHERE m.category_id = cases_issue.category_id
                  AND m.neighborhood_id = cases_issue.neighborhood_id
                  AND {d.in_ids("cases_issue.id")}
                """,
                [*params, d.dt(now), d.ids(ids)],
            )
        for pk, c, n, _previous, code in joinable:
            joined_by_problem[problem_of[(c, n)]].append((pk, code))
        # Same timeline shapes as cases.services.problems (_attach): one Problem
        # event listing the issues, one "problem" Event on each issue.
        ProblemEvent.objects.bulk_create(
            ProblemEvent(
                problem_id=problem_id,
                kind=ProblemEvent.Kind.ISSUE_ADDED,
                message=", ".join(code for _, code in members),
                data={"issues": [pk for pk, _ in members], "source": source},
                created_at=now,
            )
            for problem_id, members in sorted(joined_by_problem.items())
        )
        _insert_problem_events(joinable, source=source, reason=reason, now=now, dialect=d)
    touched = created_ids | set(joined_by_problem)
    out.groups_changed = len(touched)
    out.notifications = _notify_problems(touched, now=now, reason=reason, recipients_by_nbhd=recipients_by_nbhd)
    return out


def _insert_problem_events(joinable, *, source: str, reason: str, now: datetime, dialect: Dialect) -> None:
    """One internal "problem" Event per issue that joined, in one statement."""
    d = dialect
    previous = [(pk, prev) for pk, _c, _n, prev, _code in joinable if prev is not None]
    prev_cte, params = ("", [])
    prev_join, prev_value = "", "NULL"
    if previous:
        prev_cte, params = _values_cte("prev", ["issue_id", "problem_id"], previous, d)
        prev_cte = f"WITH {prev_cte}"
        prev_join, prev_value = "LEFT JOIN prev ON prev.issue_id = i.id", "prev.problem_id"
    data = d.json_object([("problem", "p.id"), ("action", "'added'"), ("from", prev_value), ("source", "%s")])
    message = "'Added to problem “' || p.title || '” (' || %s || ').'"
    sql = f"""
        {prev_cte}
        INSERT INTO cases_event (issue_id, kind, actor_id, is_public, message, data, created_at)
        SELECT i.id, '{Event.Kind.PROBLEM}', NULL, FALSE, {message}, {data}, {d.now_param()}
        FROM cases_issue i
        JOIN cases_problem p ON p.id = i.problem_id
        {prev_join}
        WHERE {d.in_ids("i.id")}
        ORDER BY i.id
    """
    params += [reason.lower(), source, d.dt(now), d.ids([row[0] for row in joinable])]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _notify_problems(problem_ids, *, now: datetime, reason: str, recipients_by_nbhd) -> int:
    """Tell each Problem's neighborhood supervisors — once per Problem, person and channel (dedupe_key)."""
    if not problem_ids:
        return 0
    problems = list(Problem.objects.filter(pk__in=problem_ids).annotate(issue_count=Count("issues")).order_by("pk"))
    told = {user_id for problem in problems for user_id, _email in recipients_by_nbhd.get(problem.neighborhood_id, [])}
    languages = recipient_languages(told)
    messages = []
    for problem in problems:
        for user_id, email in recipients_by_nbhd.get(problem.neighborhood_id, []):
            with translation.override(languages.get(user_id, "en")):
                said = _(reason)
                subject = f"{said}: {problem.title}"
                body = _(
                    "%(reason)s. Problem-solving project (SARA stage: %(stage)s): %(title)s. "
                    "%(n)s issue(s) grouped so far."
                ) % {
                    "reason": said,
                    "stage": problem.get_stage_display(),
                    "title": problem.title,
                    "n": problem.issue_count,
                }
            for channel in (OutboxMessage.Channel.EMAIL, OutboxMessage.Channel.IN_APP):
                if channel == OutboxMessage.Channel.EMAIL and not email:
                    continue
                messages.append(
                    OutboxMessage(
                        dedupe_key=f"problem:{problem.pk}:{user_id}:{channel}",
                        channel=channel,
                        recipient_id=user_id,
                        recipient_email=email if channel == OutboxMessage.Channel.EMAIL else "",
                        subject=subject[:200],
                        body=body,
                        url=problem.get_absolute_url(),
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
    if not messages:
        return 0
    keys = [m.dedupe_key for m in messages]
    already = set(OutboxMessage.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
    fresh = [m for m in messages if m.dedupe_key not in already]
    # ON CONFLICT DO NOTHING: a concurrent sweep that notified first wins; nobody hears twice.
    OutboxMessage.objects.bulk_create(fresh, ignore_conflicts=True)
    return len(fresh)


def _recipients_by_neighborhood(recipients) -> dict[int, list[tuple[int, str]]]:
    out: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for nbhd_id, action, user_id, email in recipients:
        if action == Action.NOTIFY_SUPERVISOR:
            out[nbhd_id].append((user_id, email))
    return out


def _action_labels() -> dict[str, str]:
    with translation.override(settings.LANGUAGE_CODE):
        return {str(value): str(label) for value, label in Action.choices}


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _run_escalation_batches(now, ladders, result: SweepResult, batch_size: int, recipients) -> None:
    dialect = Dialect(connection)
    batch = _Batch(dialect, now, _action_labels())
    batch.languages = recipient_languages(recipients)
    candidates = _due_issue_ids(now, ladders, dialect)
    by_action: dict[str, int] = defaultdict(int)
    by_nbhd = None
    for chunk in _chunks(candidates, batch_size):
        with transaction.atomic():
            claimed = batch.claim(chunk)
            if not claimed:
                continue
            inserted = batch.insert_escalations(ladders, claimed)
            done = _Committed(batches=1, escalations=len(inserted), issues_escalated=len({row[1] for row in inserted}))
            if inserted:
                ids = [row[0] for row in inserted]
                batch.insert_events(ids)
                batch.update_issues(ids, sorted({row[1] for row in inserted}))
                done.notifications += batch.insert_digests(
                    ids, recipients, key=f"{result.sweep_run_id}:{result.batches + 1}"
                )
                problem_rows = [row for row in inserted if row[3] == Action.OPEN_PROBLEM]
                if problem_rows:
                    by_nbhd = by_nbhd if by_nbhd is not None else _recipients_by_neighborhood(recipients)
                    grouped = _escalation_problems(problem_rows, now=now, recipients_by_nbhd=by_nbhd)
                    done.problems_opened += grouped.problems_opened
                    done.notifications += grouped.notifications
            _sweep_run_add(result.sweep_run_id, done, now=now)
        result.add(done)
        for row in inserted:
            by_action[row[3]] += 1
        _after_batch(result)
    result.by_action = dict(by_action)


def _after_batch(result: SweepResult) -> None:
    """Called after each committed batch (progress logging; tests simulate a crash here)."""
    logger.debug("escalation sweep: %d escalations after %d batches", result.escalations, result.batches)


def _escalation_problems(rows, *, now, recipients_by_nbhd) -> _Grouped:
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for pk, category_id, neighborhood_id in Issue.objects.filter(pk__in=[row[1] for row in rows]).values_list(
        "pk", "category_id", "neighborhood_id"
    ):
        groups[(category_id, neighborhood_id)].append(pk)
    return _group_into_problems(
        groups,
        source=Problem.Source.ESCALATION,
        now=now,
        reason=gettext_noop("Opened by escalation"),
        recipients_by_nbhd=recipients_by_nbhd,
    )


def _loose_window_issues(spots: list[Hotspot], now: datetime) -> dict[tuple[int, int], list[int]]:
    """The open issues of each hot spot's window not yet in an open Problem, in one query."""
    d = Dialect(connection)
    windows = {}
    for spot in spots:
        windows[spot.category_id] = now - timedelta(hours=spot.window_hours)
    cte, params = _values_cte("w", ["category_id", "since"], sorted(windows.items()), d)
    sql = f"""
        WITH {cte}
        SELECT i.id, i.category_id, i.neighborhood_id
        FROM cases_issue i
        JOIN w ON w.category_id = i.category_id
        LEFT JOIN cases_problem p ON p.id = i.problem_id
        WHERE i.status IN {_statuses(OPEN)}
          AND i.created_at >= w.since
          AND i.created_at <= {d.now_param()}
          AND (i.problem_id IS NULL OR p.stage = 'closed')
        ORDER BY i.id
    """
    wanted = {(s.category_id, s.neighborhood_id) for s in spots}
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, d.dt(now)])
        for pk, c, n in cursor.fetchall():
            if (c, n) in wanted:
                groups[(c, n)].append(pk)
    return groups


def _run_hotspots(now, result: SweepResult, recipients, *, chunk: int = 200) -> None:
    by_nbhd = _recipients_by_neighborhood(recipients)
    work = [s for s in hotspots_due(now) if s.loose or s.problem_id is None]
    for spots in _chunks(work, chunk):
        with transaction.atomic():
            grouped = _group_into_problems(
                _loose_window_issues(spots, now),
                source=Problem.Source.HOTSPOT,
                now=now,
                reason=gettext_noop("Hot spot"),
                recipients_by_nbhd=by_nbhd,
            )
            done = _Committed(
                hotspots=grouped.groups_changed,
                problems_opened=grouped.problems_opened,
                notifications=grouped.notifications,
            )
            _sweep_run_add(result.sweep_run_id, done, now=now)
        result.add(done)


def escalation_sweep_run(*, now: datetime | None = None, batch_size: int | None = None) -> SweepResult:
    """One sweep: every due escalation level and every hot spot, exactly once. Records a SweepRun."""
    import time

    now = now or timezone.now()
    batch_size = batch_size or batch_size_default()
    run = SweepRun.objects.create(started_at=now)
    result = SweepResult(started_at=now, sweep_run_id=run.pk)
    recipients = supervisor_recipients()
    ladders = effective_ladders(now)
    started = time.perf_counter()
    if ladders:
        _run_escalation_batches(now, ladders, result, batch_size, recipients)
    result.seconds_escalation = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    _run_hotspots(now, result, recipients)
    result.seconds_hotspots = round(time.perf_counter() - started, 3)
    result.finished_at = max(timezone.now(), now)
    # The counts are already on the row, batch by batch; this only says the run is whole.
    SweepRun.objects.filter(pk=run.pk).update(finished_at=result.finished_at)
    # Every minute with nothing to do is not news: INFO only when something happened.
    logger.log(
        logging.INFO if (result.escalations or result.hotspots) else logging.DEBUG,
        "escalation sweep: %d escalations on %d issues, %d hot spots, %d notifications queued (%d batches)",
        result.escalations,
        result.issues_escalated,
        result.hotspots,
        result.notifications,
        result.batches,
    )
    return result


# The sweep's log: a row a minute is half a million a year. Older rows than this are deleted every
# night; /healthz and the admin read the recent ones (and the last interrupted run, kept whatever its age).
SWEEP_RUNS_KEEP_DAYS = 30


def sweep_runs_prune(*, now: datetime | None = None, keep_days: int = SWEEP_RUNS_KEEP_DAYS) -> int:
    """Delete the sweep runs started more than ``keep_days`` ago, in one statement, but the latest
    finished run and the latest interrupted one (/healthz names both). Returns how many went."""
    now = now or timezone.now()
    keep = [run.pk for run in (last_sweep_run(), last_interrupted_sweep_run(now=now)) if run is not None]
    old = SweepRun.objects.filter(started_at__lt=now - timedelta(days=keep_days)).exclude(pk__in=keep)
    deleted, _by_model = old.delete()
    return deleted
