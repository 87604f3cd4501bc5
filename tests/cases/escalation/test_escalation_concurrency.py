"""Exactly once under pressure: two sweeps at the same moment over 10 000 overdue issues,
a sweep that dies half-way (an exception after some batches; a process killed
with SIGKILL) and is run again. Each sweep has its own database connection and
the rows are committed (transactional tests), as with two real workers.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

import cases.escalation.sweep as engine
from cases.escalation import ladders
from cases.escalation.sweep import escalation_sweep_run, escalations_due
from cases.models import Escalation, EscalationRule, Event, Issue, OutboxMessage, Problem, SweepRun
from tests.factories import CategoryFactory, NeighborhoodFactory, supervisor

Action = EscalationRule.Action
ROOT = Path(__file__).resolve().parents[3]
LEVELS = 3


def build(n_issues: int, *, neighborhoods: int = 5):
    """``n_issues`` issues 100 hours overdue, spread over a few neighborhoods, each with a supervisor."""
    category = CategoryFactory()
    ladders.escalation_ladder_set(
        category=category,
        ladder=[(1, 0, Action.NOTIFY_SUPERVISOR), (2, 24, Action.RAISE_PRIORITY), (3, 72, Action.NEEDS_DECISION)],
    )
    places = [NeighborhoodFactory() for _ in range(neighborhoods)]
    for place in places:
        supervisor(neighborhoods=[place])
    now = timezone.now()
    Issue.objects.bulk_create(
        (
            Issue(
                category=category,
                neighborhood=places[i % neighborhoods],
                description="Overdue",
                created_at=now - timedelta(hours=172),
                due_at=now - timedelta(hours=100),
                report_count=1,
            )
            for i in range(n_issues)
        ),
        batch_size=2000,
    )
    return category, places


def assert_exactly_once(n_issues: int, neighborhoods: int):
    per_issue = Counter(Escalation.objects.values_list("issue_id", flat=True))
    assert len(per_issue) == n_issues
    assert set(per_issue.values()) == {LEVELS}
    assert Escalation.objects.values("issue_id", "cycle", "level").distinct().count() == n_issues * LEVELS
    assert Event.objects.filter(kind=Event.Kind.ESCALATED).count() == n_issues * LEVELS
    assert set(Issue.objects.values_list("escalation_level", "priority", "needs_decision")) == {(3, "high", True)}
    # Level 1 notifies the neighborhood's supervisor: each issue is counted in exactly one digest
    # per channel (email + in-app), whichever sweep and batch escalated it.
    digests = OutboxMessage.objects.filter(dedupe_key__startswith="escalations:")
    told = Counter()
    for recipient_id, channel, items in digests.values_list("recipient_id", "channel", "items"):
        told[(recipient_id, channel)] += items
    per_place = Counter(Issue.objects.values_list("neighborhood__staff__user_id", flat=True))
    assert told == {(user_id, channel): n for user_id, n in per_place.items() for channel in ("email", "in_app")}
    assert sum(told.values()) == n_issues * 2
    # All of them form hot spots: exactly one Problem per neighborhood, every issue in it.
    assert Problem.objects.count() == neighborhoods
    assert not Issue.objects.filter(problem__isnull=True).exists()
    assert escalations_due(timezone.now()) == []


def sweep_in_thread(barrier, results, errors, **kwargs):
    try:
        barrier.wait()
        results.append(escalation_sweep_run(**kwargs))
    except Exception as exc:  # surfaced by the test
        errors.append(exc)
    finally:
        connection.close()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_over_10000_overdue_issues_escalate_each_level_exactly_once():
    n = 10_000
    build(n)
    barrier = threading.Barrier(2)
    results, errors = [], []
    threads = [
        threading.Thread(target=sweep_in_thread, args=(barrier, results, errors), kwargs={"batch_size": 1000})
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []
    assert len(results) == 2
    assert sum(r.escalations for r in results) == n * LEVELS
    assert sum(r.hotspots for r in results) >= 5
    assert sum(r.problems_opened for r in results) == 5
    assert_exactly_once(n, 5)
    # Each run's row says what that run did; together, what the database holds.
    rows = list(SweepRun.objects.values_list("escalations", "issues_escalated", "notifications", "problems_opened"))
    assert sorted(rows) == sorted(
        (r.escalations, r.issues_escalated, r.notifications, r.problems_opened) for r in results
    )
    assert sum(row[0] for row in rows) == Escalation.objects.count() == n * LEVELS
    assert sum(row[1] for row in rows) == n
    assert sum(row[2] for row in rows) == OutboxMessage.objects.count()
    # A third sweep finds nothing to do.
    again = escalation_sweep_run()
    assert (again.escalations, again.hotspots, again.notifications) == (0, 0, 0)
    assert SweepRun.objects.filter(finished_at__isnull=False).count() == 3


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_sweep_that_dies_after_some_batches_is_finished_by_the_next(monkeypatch):
    n = 2_000
    build(n)
    batches = []

    def crash_after_three(result):
        batches.append(result.batches)
        if len(batches) == 3:
            raise RuntimeError("worker lost")

    monkeypatch.setattr(engine, "_after_batch", crash_after_three)
    with pytest.raises(RuntimeError, match="worker lost"):
        escalation_sweep_run(batch_size=250)
    # Three whole batches are in; the rest untouched; the run is not marked finished,
    # and its row says exactly what it committed.
    assert Escalation.objects.count() == 3 * 250 * LEVELS
    assert Issue.objects.filter(escalation_level=3).count() == 750
    assert Issue.objects.filter(escalation_level=0).count() == n - 750
    died = SweepRun.objects.get()
    assert died.finished_at is None
    assert (died.batches, died.escalations, died.issues_escalated) == (3, 750 * LEVELS, 750)
    assert died.notifications == OutboxMessage.objects.count() > 0
    monkeypatch.undo()
    rerun = escalation_sweep_run(batch_size=250)
    assert rerun.escalations == (n - 750) * LEVELS
    assert_exactly_once(n, 5)
    row = SweepRun.objects.get(pk=rerun.sweep_run_id)
    assert (row.batches, row.escalations, row.issues_escalated) == (5, (n - 750) * LEVELS, n - 750)
    assert died.notifications + row.notifications == OutboxMessage.objects.count()
    assert row.finished_at is not None and row.problems_opened == Problem.objects.count() == 5


def _subprocess_env():
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = dict(os.environ)
    env.update({"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings", "LOG_LEVEL": "WARNING"})
    return env


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_sweep_process_killed_mid_way_then_rerun_escalates_exactly_once(client, time_machine):
    n = 6_000
    build(n)
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "escalate", "--batch-size", "50"],
        cwd=ROOT,
        env=_subprocess_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        # The run's own row shows its progress while it runs: killed once it says two batches are in.
        deadline = time.monotonic() + 60
        while not SweepRun.objects.filter(batches__gte=2).exists() and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    done = Escalation.objects.count()
    assert 0 < done < n * LEVELS, "the process should have died half-way"
    # Whole batches only: every issue has either all of its levels or none.
    assert set(Counter(Escalation.objects.values_list("issue_id", flat=True)).values()) == {LEVELS}
    # The killed run's row says exactly what it committed.
    died = SweepRun.objects.get()
    assert died.finished_at is None and died.progress_at is not None
    assert died.escalations == done and died.batches == done // (50 * LEVELS) >= 2
    assert died.issues_escalated == Escalation.objects.values("issue_id").distinct().count()
    assert died.notifications == OutboxMessage.objects.count()
    # Once nothing has committed for SWEEP_STALE_SECONDS it is shown as interrupted.
    assert died.state == SweepRun.State.RUNNING
    time_machine.move_to(died.progress_at + timedelta(seconds=settings.SWEEP_STALE_SECONDS + 1), tick=False)
    assert died.state == SweepRun.State.INTERRUPTED
    health = client.get("/healthz").json()
    assert health["sweep"]["state"] == "interrupted"
    assert (health["sweep"]["escalations"], health["sweep"]["batches"]) == (done, died.batches)
    rerun = escalation_sweep_run()
    assert rerun.escalations == n * LEVELS - done
    assert_exactly_once(n, 5)
    assert SweepRun.objects.get(pk=rerun.sweep_run_id).escalations == n * LEVELS - done
    assert client.get("/healthz").json()["last_interrupted_sweep"]["escalations"] == done
