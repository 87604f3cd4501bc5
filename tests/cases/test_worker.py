"""A real Celery worker with embedded beat, on real Redis, escalates an overdue issue and
delivers its notifications — nobody calls a task; the schedule does.

The worker runs as a subprocess (``celery -A config worker -B --pool=solo``) against
the test database (a transactional test, so it sees committed rows) and Redis db of
``TEST_REDIS_URL``, with the sweep and the drain every second.
"""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.db import connection
from django.utils import timezone

from cases import services
from cases.models import ChangedDay, Escalation, EscalationRule, Issue, Notification, OutboxMessage, SweepRun
from insights.models import IssueRollup, OpenMark, OpenRollup
from tests.factories import CategoryFactory, EscalationRuleFactory, IssueFactory, NeighborhoodFactory, supervisor

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_SECONDS = 60


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(tmp_path):
    """Start the worker with beat; yield its log file; stop it (and only it) afterwards."""
    broker = os.environ["CELERY_BROKER_URL"]
    redis.Redis.from_url(broker).flushdb()  # this suite's own Redis db: no stale tasks
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": broker,
            "ESCALATION_SWEEP_SECONDS": "1",
            "OUTBOX_DRAIN_SECONDS": "1",
            "ROLLUP_APPLY_SECONDS": "1",
            "VAR_DIR": str(tmp_path / "var"),
            "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
            "LOG_LEVEL": "INFO",
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
    )
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-B",
                "--pool=solo",
                "--loglevel=INFO",
                f"--hostname=escalation-test-{os.getpid()}@%h",
                f"--schedule={tmp_path / 'beat-schedule'}",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield proc, log
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def _assert_eventually(condition, proc, log):
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        assert proc.poll() is None, f"the worker exited:\n{log.read_text()[-4000:]}"
        time.sleep(0.5)
    pytest.fail(f"not done within {DEADLINE_SECONDS} s; worker log:\n{log.read_text()[-4000:]}")


@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_worker_and_beat_escalate_an_overdue_issue_and_deliver_its_notifications(worker):
    proc, log = worker
    place = NeighborhoodFactory()
    boss = supervisor(neighborhoods=[place])
    category = CategoryFactory()
    EscalationRuleFactory(category=category, level=1, hours_overdue=0, action=EscalationRule.Action.NOTIFY_SUPERVISOR)
    now = timezone.now()
    issue = IssueFactory(
        category=category, neighborhood=place, created_at=now - timedelta(hours=80), due_at=now - timedelta(hours=2)
    )

    def delivered():
        return (
            Escalation.objects.filter(issue=issue, level=1).exists()
            and OutboxMessage.objects.filter(issue=issue, state=OutboxMessage.State.SENT).count() == 2
            and Notification.objects.filter(user=boss, issue=issue).exists()
        )

    _assert_eventually(delivered, proc, log)
    issue.refresh_from_db()
    assert issue.escalation_level == 1
    assert Escalation.objects.filter(issue=issue).count() == 1
    assert SweepRun.objects.filter(finished_at__isnull=False, escalations=1).exists()
    email = OutboxMessage.objects.get(issue=issue, channel=OutboxMessage.Channel.EMAIL)
    assert email.recipient_email == boss.email and email.attempts == 1
    # The console email backend printed the message the worker sent (the subject
    # is MIME-encoded; the body is plain).
    _assert_eventually(lambda: f"To: {boss.email}" in log.read_text(), proc, log)
    assert f"{issue.tracking_code} — " in log.read_text()

    # The sweep logged the issue's report day; the worker folded it into the open issues' table,
    # and moved the overdue mark on past its due time.
    def in_open_table():
        return (
            not ChangedDay.objects.exists()
            and OpenRollup.objects.filter(grain="d", neighborhood=place, open=1, overdue=1, escalated=1).exists()
            and OpenMark.objects.filter(as_of__gt=issue.due_at).exists()
        )

    _assert_eventually(in_open_table, proc, log)
    # Beat keeps sweeping; nothing happens twice.
    runs = SweepRun.objects.count()
    _assert_eventually(lambda: SweepRun.objects.count() >= runs + 2, proc, log)
    assert Escalation.objects.filter(issue=issue).count() == 1
    assert Notification.objects.filter(user=boss, issue=issue).count() == 1
    assert Issue.objects.get(pk=issue.pk).escalation_level == 1


@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_worker_and_beat_fold_a_resolution_into_the_dashboards_summary_tables(worker):
    proc, log = worker
    place = NeighborhoodFactory()
    actor = supervisor(neighborhoods=[place])
    report = services.issue_submit(category=CategoryFactory(), text="Needles in the park", neighborhood=place)
    services.issue_resolve(issue=report.issue, actor=actor, note="Swept")

    def folded():
        return (
            not ChangedDay.objects.exists()
            and IssueRollup.objects.filter(grain="d", neighborhood=place, reported=1, finished=1).exists()
        )

    _assert_eventually(folded, proc, log)
    assert IssueRollup.objects.filter(grain="m", neighborhood=place, reported=1, finished=1).count() == 1
