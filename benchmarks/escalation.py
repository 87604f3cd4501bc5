"""The escalation sweep at city scale: 1 000 000 issues, 100 000 of them overdue.

Measured in the same run, each from the same loaded state (``escalation_reset``
between measurements, best of two for the sweep and the floor):

* **sweep** — ``cases.escalation.escalation_sweep_run`` as the worker runs it
  (batches of 5 000 issues, one transaction each; hot-spot detection included);
* **floor** — one hand-written SQL statement doing the same escalation: the
  same Escalation rows, timeline Events, Issue updates (level, priority,
  needs_decision) and outbox rows, in one data-modifying CTE with no batching,
  no row claiming and no Python in between — the least work PostgreSQL can do;
* **naive** — the loop a first version would write: load each issue and its
  ladder, ``Escalation.objects.create``, ``Event.objects.create``, one
  ``OutboxMessage.objects.create`` per notice, ``issue.save()`` per level;
  timed on an evenly spread sample of 2 000 overdue issues and extrapolated
  to all of them (it is handed the recipients map for free);
* **steady state** — a sweep when everything due has been done, beside the
  floor statement doing nothing on the same state.

Targets (issue 5): sweep ≤ 2 × floor, and ≥ 50 × faster than the naive loop.
"""

from __future__ import annotations

import contextlib
import time
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Q

from benchmarks import data
from benchmarks.figures import add_figure, timed
from cases.escalation import (
    _action_labels,
    _Dialect,
    _priority_name_sql,
    _priority_rank_sql,
    _values_cte,
    effective_ladders,
    escalation_sweep_run,
    escalations_due,
    supervisor_recipients,
)
from cases.models import Escalation, EscalationRule, Event, Issue, OutboxMessage
from cases.services import next_priority
from partners.models import StaffProfile

Action = EscalationRule.Action
NAIVE_SAMPLE = 2_000
REPEATS = 2


def _log(message: str) -> None:
    print(f"[bench escalation] {message}", flush=True)


def _work_done() -> dict:
    """What a sweep (or the floor) wrote since the load."""
    info = data.meta()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT (SELECT COUNT(*) FROM cases_escalation WHERE id > %s),
                   (SELECT COUNT(*) FROM cases_event WHERE id > %s AND kind = 'escalated'),
                   (SELECT COUNT(*) FROM cases_outboxmessage WHERE id > %s),
                   (SELECT COUNT(*) FROM cases_issue i JOIN bench_baseline b ON b.id = i.id
                     WHERE i.escalation_level <> b.escalation_level),
                   (SELECT COUNT(*) FROM cases_issue i JOIN bench_baseline b ON b.id = i.id
                     WHERE i.priority <> b.priority),
                   (SELECT COUNT(*) FROM cases_issue i JOIN bench_baseline b ON b.id = i.id
                     WHERE i.needs_decision AND NOT b.needs_decision)
            """,
            [int(info["max_escalation_id"]), int(info["max_event_id"]), int(info["max_outbox_id"])],
        )
        row = cursor.fetchone()
    keys = ["escalations", "events", "outbox", "issues_level", "issues_priority", "issues_needs_decision"]
    return dict(zip(keys, row, strict=True))


# --- the floor: one statement ------------------------------------------------------------


def floor_statement(now) -> tuple[str, list]:
    d = _Dialect(connection)
    ladders = effective_ladders(now)
    recipients = supervisor_recipients()
    r_cte, r_params = _values_cte("r", ["rule_id", "category_id", "level", "action", "hours", "threshold"], ladders, d)
    rcp_cte, rcp_params = _values_cte("rcp", ["neighborhood_id", "action", "user_id", "email"], recipients, d)
    a_cte, a_params = _values_cte("a", ["action", "label"], sorted(_action_labels().items()), d)
    old_rank = _priority_rank_sql("i.priority")
    to_rank = f"LEAST({old_rank} + e.raised, 3)"
    from_rank = f"LEAST({old_rank} + e.raised - 1, 3)"
    new_priority = _priority_name_sql(f"({_priority_rank_sql('i.priority')} + x.raises)")
    new_priority_e = _priority_name_sql(f"({_priority_rank_sql('i.priority')} + e.raises)")
    sql = f"""
    WITH {r_cte}, {rcp_cte}, {a_cte},
    ch(channel) AS (VALUES ('email'), ('in_app')),
    ins AS (
        INSERT INTO cases_escalation (issue_id, cycle, level, action, rule_id, created_at, decision, hours_overdue)
        SELECT i.id, i.reopen_count, r.level, r.action, r.rule_id, %(now)s, '',
               FLOOR(EXTRACT(EPOCH FROM (%(now)s - i.due_at)) / 3600)::int
        FROM cases_issue i JOIN r ON r.category_id = i.category_id
        WHERE i.status IN ('new', 'acknowledged', 'in_progress')
          AND i.due_at < %(now)s AND i.due_at <= r.threshold AND r.level > i.escalation_level
        ORDER BY i.id, r.level
        ON CONFLICT (issue_id, cycle, level) DO NOTHING
        RETURNING id, issue_id, level, action, cycle, hours_overdue
    ),
    x AS (
        SELECT issue_id, MAX(level) AS top, SUM((action = 'raise_priority')::int) AS raises,
               BOOL_OR(action = 'needs_decision') AS decides
        FROM ins GROUP BY issue_id
    ),
    upd AS (
        UPDATE cases_issue i
        SET escalation_level = GREATEST(i.escalation_level, x.top),
            priority = CASE WHEN x.raises > 0 THEN {new_priority} ELSE i.priority END,
            needs_decision = i.needs_decision OR x.decides,
            updated_at = %(now)s
        FROM x WHERE i.id = x.issue_id
    ),
    ev AS (
        INSERT INTO cases_event (issue_id, kind, actor_id, is_public, message, data, created_at)
        SELECT e.issue_id, 'escalated', NULL, FALSE,
               'Level ' || e.level || ': ' || a.label || ' (' || e.hours_overdue || ' hours overdue)'
               || CASE WHEN e.action = 'raise_priority'
                       THEN ', priority ' || {_priority_name_sql(from_rank)} || ' → ' || {_priority_name_sql(to_rank)}
                       ELSE '' END,
               jsonb_build_object('escalation_id', e.id, 'level', e.level, 'action', e.action, 'cycle', e.cycle,
                                  'hours_overdue', e.hours_overdue,
                                  'priority_from', CASE WHEN e.action = 'raise_priority'
                                                   THEN {_priority_name_sql(from_rank)} END,
                                  'priority_to', CASE WHEN e.action = 'raise_priority'
                                                 THEN {_priority_name_sql(to_rank)} END),
               %(now)s
        FROM (SELECT ins.*, SUM((action = 'raise_priority')::int)
                                OVER (PARTITION BY issue_id ORDER BY level) AS raised FROM ins) e
        JOIN cases_issue i ON i.id = e.issue_id
        JOIN a ON a.action = e.action
        ORDER BY e.issue_id, e.level
    ),
    ob AS (
        INSERT INTO cases_outboxmessage (channel, recipient_id, recipient_email, subject, body, url, issue_id,
                                         dedupe_key, state, attempts, next_attempt_at, sent_at, last_error,
                                         created_at)
        SELECT ch.channel, rcp.user_id, CASE WHEN ch.channel = 'email' THEN rcp.email ELSE '' END,
               SUBSTR('Escalated, level ' || e.level || ': ' || i.tracking_code || ' — ' || c.name_en
                      || ' in ' || n.name, 1, 200),
               a.label || '.' || chr(10) || i.tracking_code || ' (' || c.name_en || ', ' || n.name || ') is '
               || e.hours_overdue || ' hours past its due time; priority now '
               || CASE WHEN e.raises > 0 THEN {new_priority_e} ELSE i.priority END
               || ', escalation level ' || GREATEST(i.escalation_level, e.top) || '.',
               '/issues/' || i.id || '/', i.id,
               'escalation:' || e.id || ':' || rcp.user_id || ':' || ch.channel,
               'pending', 0, %(now)s, NULL, '', %(now)s
        -- The issue's new priority and level come from the rows inserted for it (a
        -- window over ins), not from joining upd: both see the statement's snapshot.
        FROM (SELECT ins.*, MAX(level) OVER w AS top, SUM((action = 'raise_priority')::int) OVER w AS raises
              FROM ins WINDOW w AS (PARTITION BY issue_id)) e
        JOIN cases_issue i ON i.id = e.issue_id
        JOIN cases_category c ON c.id = i.category_id
        JOIN partners_neighborhood n ON n.id = i.neighborhood_id
        JOIN rcp ON rcp.neighborhood_id = i.neighborhood_id AND rcp.action = e.action
        JOIN a ON a.action = e.action
        CROSS JOIN ch
        WHERE ch.channel = 'in_app' OR rcp.email <> ''
        ON CONFLICT (dedupe_key) DO NOTHING
    )
    SELECT COUNT(*) FROM ins
    """
    # The CTE parameters are positional (%s) and come first; %(now)s is named: turn
    # everything into positional parameters in text order.
    parts = sql.split("%(now)s")
    positional = r_params + rcp_params + a_params
    params = list(positional) + []
    text = parts[0]
    for part in parts[1:]:
        text += "%s" + part
    # Placeholders after the CTEs: every %(now)s, in order.
    params += [now] * (len(parts) - 1)
    return text, params


def run_floor(now) -> int:
    sql, params = floor_statement(now)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


# --- the naive loop -------------------------------------------------------------------------


def _naive_recipients(issue, action) -> list[tuple[int, str]]:
    """Who hears about it, asked the way a per-issue loop would: one query per notice."""
    district = issue.neighborhood.district
    profiles = StaffProfile.objects.filter(
        user__is_active=True, user__groups__permissions__codename="view_dashboard"
    ).select_related("user")
    if action == Action.NOTIFY_COMMANDER:
        profiles = profiles.filter(districts__contains=[district])
    else:
        profiles = profiles.filter(Q(neighborhoods=issue.neighborhood) | Q(districts__contains=[district]))
    return sorted({(p.user_id, p.user.email) for p in profiles.distinct()})


def run_naive(now, issue_ids: list[int], *, atomic: bool) -> int:
    """Per issue: load it and its ladder, create each row, save() per level.

    ``atomic=False`` is Django's default autocommit (every save/create its own
    transaction), as a first version would run; ``atomic=True`` wraps each issue.
    """
    labels = _action_labels()
    created = 0
    for pk in issue_ids:
        with transaction.atomic() if atomic else contextlib.nullcontext():
            issue = Issue.objects.select_related("category", "neighborhood").get(pk=pk)
            running = 0
            for rule in EscalationRule.objects.filter(category_id=issue.category_id).order_by("level"):
                running = max(running, rule.hours_overdue)
                if rule.level <= issue.escalation_level:
                    continue
                if not (issue.due_at < now and issue.due_at + timedelta(hours=running) <= now):
                    break
                hours = int((now - issue.due_at).total_seconds() // 3600)
                escalation = Escalation.objects.create(
                    issue=issue,
                    level=rule.level,
                    action=rule.action,
                    rule=rule,
                    hours_overdue=hours,
                    cycle=issue.reopen_count,
                    created_at=now,
                )
                data_ = {"escalation_id": escalation.pk, "level": rule.level, "action": rule.action}
                if rule.action == Action.RAISE_PRIORITY:
                    data_["priority_from"] = issue.priority
                    issue.priority = next_priority(issue.priority)
                    data_["priority_to"] = issue.priority
                if rule.action == Action.NEEDS_DECISION:
                    issue.needs_decision = True
                Event.objects.create(
                    issue=issue,
                    kind=Event.Kind.ESCALATED,
                    message=f"Level {rule.level}: {labels[rule.action]} ({hours} hours overdue)",
                    data=data_,
                    created_at=now,
                )
                issue.escalation_level = rule.level
                issue.save()
                created += 1
                if rule.action not in (Action.NOTIFY_SUPERVISOR, Action.NOTIFY_COMMANDER):
                    continue
                for user_id, email in _naive_recipients(issue, rule.action):
                    for channel in ["email", "in_app"] if email else ["in_app"]:
                        OutboxMessage.objects.create(
                            channel=channel,
                            recipient_id=user_id,
                            recipient_email=email if channel == "email" else "",
                            subject=f"Escalated, level {rule.level}: {issue.tracking_code}",
                            body=f"{labels[rule.action]}.",
                            url=issue.get_absolute_url(),
                            issue=issue,
                            dedupe_key=f"escalation:{escalation.pk}:{user_id}:{channel}",
                            next_attempt_at=now,
                            created_at=now,
                        )
    return created


def _overdue_ids() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM bench_baseline WHERE overdue ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


# --- the benchmark ----------------------------------------------------------------------------


def _fresh() -> None:
    """Back to the loaded state, then a CHECKPOINT so every measurement starts the same way.

    (Right after a checkpoint each page's first change is logged in full — the
    same handicap for the sweep, the floor and the naive loop.)
    """
    data.escalation_reset()
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")


def run(results: dict) -> None:
    now = data.bench_now()
    overdue = _overdue_ids()
    issues_total = data.summary()["issues"]
    _log(f"{len(overdue):,} overdue open issues among {issues_total:,}; bench clock {now.isoformat()}")
    _log("resetting to the loaded state…")
    _fresh()

    sweeps, floors, sweep_results = [], [], []
    work_sweep = work_floor = None
    steady_sweep = steady_floor = None
    for attempt in range(1, REPEATS + 1):
        seconds, result = timed(lambda: escalation_sweep_run(now=now))
        sweeps.append(seconds)
        sweep_results.append(result)
        _log(
            f"sweep #{attempt}: {seconds:.2f} s — {result.escalations:,} escalations on {result.issues_escalated:,} "
            f"issues, {result.notifications:,} notices, {result.batches} batches "
            f"(escalation {result.seconds_escalation:.2f} s, hot spots {result.seconds_hotspots:.2f} s)"
        )
        if work_sweep is None:
            work_sweep = _work_done()
            steady_sweep, nothing = timed(lambda: escalation_sweep_run(now=now))
            if nothing.escalations or nothing.notifications:
                raise RuntimeError("a repeated sweep found work: not exactly once")
            steady_floor, none_left = timed(lambda: run_floor(now))
            if none_left:
                raise RuntimeError("the floor found work after the sweep")
            _log(f"steady state: sweep {steady_sweep:.3f} s, floor {steady_floor:.3f} s")
        _fresh()
        seconds, inserted = timed(lambda: run_floor(now))
        floors.append(seconds)
        _log(f"floor #{attempt}: {seconds:.2f} s — {inserted:,} escalations")
        if work_floor is None:
            work_floor = _work_done()
        _fresh()
    if work_sweep != work_floor:
        raise RuntimeError(f"the floor did different work from the sweep: {work_sweep} vs {work_floor}")
    _log(f"sweep and floor both wrote {work_sweep}")

    sample = overdue[:: max(1, len(overdue) // NAIVE_SAMPLE)][:NAIVE_SAMPLE]
    expected = len(escalations_due(now, issue_ids=sample))
    naive = {}
    for atomic in (True, False):
        mode = "one transaction per issue" if atomic else "Django's default autocommit"
        _log(f"naive loop ({mode}) on a sample of {len(sample):,} issues…")
        started = time.perf_counter()
        rows = run_naive(now, sample, atomic=atomic)
        spent = time.perf_counter() - started
        if rows != expected:
            raise RuntimeError(f"the naive loop wrote {rows} escalations for its sample, the decision says {expected}")
        naive[atomic] = (spent, spent * len(overdue) / len(sample), rows)
        _log(
            f"naive ({mode}): {spent:.2f} s for {len(sample):,} issues ({rows:,} escalations) "
            f"→ {naive[atomic][1]:,.0f} s"
        )
        _fresh()

    sweep = min(sweeps)
    floor = min(floors)
    best = sweep_results[sweeps.index(sweep)]
    extra = {
        "runs": [round(s, 3) for s in sweeps],
        "floor_runs": [round(s, 3) for s in floors],
        "escalations": best.escalations,
        "issues_escalated": best.issues_escalated,
        "notifications": best.notifications,
        "batches": best.batches,
        "seconds_escalation_phase": best.seconds_escalation,
        "seconds_hotspot_phase": best.seconds_hotspots,
        "work": work_sweep,
    }
    add_figure(
        results,
        "escalation.sweep_vs_floor",
        label=f"Escalation sweep, {len(overdue):,} overdue of {issues_total:,} issues",
        value=sweep,
        baseline_label="floor: one hand-written SQL statement doing the same escalation",
        baseline_value=floor,
        target={"max_ratio": 2.0},
        extra=extra,
    )
    naive_atomic, naive_autocommit = naive[True], naive[False]
    add_figure(
        results,
        "escalation.naive_vs_sweep",
        label="Naive loop (load, save(), create rows per issue; one transaction per issue), extrapolated",
        value=naive_atomic[1],
        baseline_label="escalation sweep",
        baseline_value=sweep,
        target={"min_ratio": 50.0},
        extra={
            "sample_issues": len(sample),
            "sample_seconds": round(naive_atomic[0], 3),
            "sample_escalations": naive_atomic[2],
            "autocommit_sample_seconds": round(naive_autocommit[0], 3),
            "autocommit_extrapolated_seconds": round(naive_autocommit[1], 1),
            "autocommit_ratio": round(naive_autocommit[1] / sweep, 2),
        },
    )
    add_figure(
        results,
        "escalation.naive_vs_floor",
        label="Naive loop (one transaction per issue) against the floor: the most any sweep could gain here",
        value=naive_atomic[1],
        baseline_label="floor statement",
        baseline_value=floor,
    )
    add_figure(
        results,
        "escalation.steady_state",
        label="Sweep with nothing left to do (repeat sweep)",
        value=steady_sweep,
        baseline_label="floor statement with nothing to do",
        baseline_value=steady_floor,
        target={"max_value": 1.0},
    )
    # Leave the world as the worker would: escalated, decisions waiting (the dashboard bench reads it).
    escalation_sweep_run(now=now)
