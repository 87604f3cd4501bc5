"""The escalation sweep at city scale: 1 000 000 issues, 100 000 of them overdue.

Measured in the same run, each from the same loaded state (``escalation_reset``
between measurements, best of two for the sweep and the floor):

* **sweep** — ``cases.escalation.sweep.escalation_sweep_run`` as the worker runs it
  (batches of 5 000 issues, one transaction each; hot-spot detection included);
* **floor** — one hand-written SQL statement doing the same escalation: the
  same Escalation rows, timeline Events, Issue updates (level, priority,
  needs_decision) and digests in the outbox (one per batch of the sweep,
  recipient and channel), in one data-modifying CTE with no batching,
  no row claiming and no Python in between — the least work PostgreSQL can do;
* **naive** — the loop a first version would write: load each issue and its
  ladder, ``Escalation.objects.create``, ``Event.objects.create`` and
  ``issue.save()`` per level, the recipients asked per notice and the digests
  (one per recipient and channel, as the sweep sends) created one by one;
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
from django.test import override_settings

from benchmarks import data
from benchmarks.figures import add_figure, timed
from cases.escalation.sweep import (
    DIGEST_LINES,
    _action_labels,
    _priority_name_sql,
    _priority_rank_sql,
    _values_cte,
    batch_size_default,
    effective_ladders,
    escalation_digests,
    escalation_sweep_run,
    escalations_due,
    supervisor_recipients,
)
from cases.models import Escalation, EscalationRule, Event, Issue
from cases.services import next_priority
from core.dialect import Dialect
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
    d = Dialect(connection)
    ladders = effective_ladders(now)
    recipients = supervisor_recipients()
    r_cte, r_params = _values_cte("r", ["rule_id", "category_id", "level", "action", "hours", "threshold"], ladders, d)
    rcp_cte, rcp_params = _values_cte("rcp", ["neighborhood_id", "action", "user_id", "email"], recipients, d)
    a_cte, a_params = _values_cte("a", ["action", "label"], sorted(_action_labels().items()), d)
    old_rank = _priority_rank_sql("i.priority")
    to_rank = f"LEAST({old_rank} + e.raised, 3)"
    from_rank = f"LEAST({old_rank} + e.raised - 1, 3)"
    new_priority = _priority_name_sql(f"({_priority_rank_sql('i.priority')} + x.raises)")
    batch = int(batch_size_default())
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
    -- The sweep's batches: its due issues in id order, ESCALATION_BATCH_SIZE at a time.
    bt AS (
        SELECT issue_id, (DENSE_RANK() OVER (ORDER BY issue_id) - 1) / %(batch)s AS batch
        FROM (SELECT DISTINCT issue_id FROM ins) AS d
    ),
    -- One line per (batch, recipient, issue), at the highest notify level; the issue's new
    -- priority from the rows inserted for it (x), not from upd: both see the statement's snapshot.
    li AS (
        SELECT bt.batch, rcp.user_id, rcp.email, e.issue_id, i.tracking_code, c.name_en AS category,
               n.name AS place, CASE WHEN x.raises > 0 THEN {new_priority} ELSE i.priority END AS priority,
               MAX(e.level) AS level, MAX(e.hours_overdue) AS hours
        FROM ins e
        JOIN bt ON bt.issue_id = e.issue_id
        JOIN x ON x.issue_id = e.issue_id
        JOIN cases_issue i ON i.id = e.issue_id
        JOIN cases_category c ON c.id = i.category_id
        JOIN partners_neighborhood n ON n.id = i.neighborhood_id
        JOIN rcp ON rcp.neighborhood_id = i.neighborhood_id AND rcp.action = e.action
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
    ),
    dg AS (
        SELECT batch, user_id, email, COUNT(*) AS issues, MIN(issue_id) AS first_issue,
               MIN(tracking_code || ' — ' || category || ' in ' || place) AS first_line, MIN(level) AS first_level,
               string_agg(tracking_code || ' — ' || category || ', ' || place || ': level ' || level || ', '
                          || hours || ' hours past its due time, priority ' || priority, chr(10) ORDER BY rank)
                   FILTER (WHERE rank <= {DIGEST_LINES}) AS lines
        FROM (SELECT li.*, ROW_NUMBER() OVER (PARTITION BY batch, user_id ORDER BY hours DESC, issue_id) AS rank
              FROM li) AS ranked
        GROUP BY batch, user_id, email
    ),
    ob AS (
        INSERT INTO cases_outboxmessage (channel, recipient_id, recipient_email, subject, body, url, issue_id,
                                         items, dedupe_key, state, attempts, next_attempt_at, sent_at,
                                         last_error, created_at)
        SELECT ch.channel, dg.user_id, CASE WHEN ch.channel = 'email' THEN dg.email ELSE '' END,
               SUBSTR(CASE WHEN dg.issues = 1 THEN 'Escalated, level ' || dg.first_level || ': ' || dg.first_line
                           ELSE 'Escalated: ' || dg.issues || ' issues in your area' END, 1, 200),
               CASE WHEN dg.issues = 1 THEN 'An issue you oversee has escalated.'
                    ELSE dg.issues || ' issues you oversee have escalated, most overdue first.' END
               || chr(10) || chr(10) || dg.lines
               || CASE WHEN dg.issues > {DIGEST_LINES} THEN chr(10) || '… and ' || (dg.issues - {DIGEST_LINES})
                       || ' more.' ELSE '' END,
               CASE WHEN dg.issues = 1 THEN '/issues/' || dg.first_issue || '/'
                    ELSE '/issues/?status=open&escalation=1' END,
               CASE WHEN dg.issues = 1 THEN dg.first_issue END, dg.issues,
               'escalations:floor:' || dg.batch || ':' || dg.user_id || ':' || ch.channel,
               'pending', 0, %(now)s, NULL, '', %(now)s
        FROM dg CROSS JOIN ch
        WHERE ch.channel = 'in_app' OR dg.email <> ''
    )
    SELECT COUNT(*) FROM ins
    """.replace("%(batch)s", str(batch))
    # The CTE parameters are positional (%s) and come first; %(now)s is named: turn
    # everything into positional parameters in text order.
    parts = sql.split("%(now)s")
    positional = r_params + rcp_params + a_params
    params = list(positional) + []
    text = parts[0]
    for part in parts[1:]:
        text += "%s" + part
    # Placeholders after the CTEs: every %(now)s, in order (%(batch)s is a literal, put in first).
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
    told: dict[int, dict[int, tuple]] = {}
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
                    line = told.setdefault(user_id, {}).get(issue.pk)
                    told[user_id][issue.pk] = (
                        user_id,
                        email,
                        issue.pk,
                        issue.tracking_code,
                        issue.category.name_en,
                        issue.neighborhood.name,
                        max(rule.level, line[6] if line else 0),
                        max(hours, line[7] if line else 0),
                        issue.category.name_es,
                    )
    # The digests: one per recipient and channel, each message created on its own.
    with transaction.atomic() if atomic else contextlib.nullcontext():
        priorities = dict(Issue.objects.filter(pk__in=issue_ids).values_list("pk", "priority"))
        lines = []
        for issues in told.values():
            ordered = sorted(issues.values(), key=lambda t: (-t[7], t[2]))
            for rank, (uid, email, pk, code, category, place, level, hours, category_es) in enumerate(ordered, start=1):
                if rank <= DIGEST_LINES:
                    lines.append(
                        (
                            uid,
                            email,
                            rank,
                            len(ordered),
                            pk,
                            code,
                            category,
                            place,
                            level,
                            hours,
                            priorities[pk],
                            category_es,
                        )
                    )
        for message in escalation_digests(lines, now=now, key=f"naive:{now.timestamp()}"):
            message.save(force_insert=True)
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
    unlogged = []
    for attempt in range(1, REPEATS + 1):
        # The same sweep with the summary tables' change log off: what the rollups' upkeep costs it.
        with override_settings(ROLLUP_CHANGE_LOG=False):
            seconds, _ = timed(lambda: escalation_sweep_run(now=now))
        unlogged.append(seconds)
        _log(f"sweep without the change log #{attempt}: {seconds:.2f} s")
        _fresh()
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
    add_figure(
        results,
        "escalation.change_log_cost",
        label="Escalation sweep with the summary tables' change log, against without it",
        value=sweep,
        baseline_label="the same sweep with the change log off (ROLLUP_CHANGE_LOG)",
        baseline_value=min(unlogged),
        target={"max_ratio": 1.15},
        extra={"runs_without": [round(s, 3) for s in unlogged]},
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
