"""Nightly housekeeping: the escalation sweep's log keeps 30 days (a row a minute would be half a
million a year), but never the runs /healthz names — the latest finished one and the latest
interrupted one; the devices' idempotency keys keep 90 days."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings as django_settings

from cases.escalation.sweep import SWEEP_RUNS_KEEP_DAYS, sweep_runs_prune
from cases.models import SweepRun
from cases.selectors.runs import last_interrupted_sweep_run, last_sweep_run
from core.client_keys import CLIENT_KEYS_KEEP_DAYS
from core.models import ClientKey

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _run(started, *, finished=True, **kwargs):
    return SweepRun.objects.create(
        started_at=started,
        progress_at=started,
        finished_at=started + timedelta(seconds=2) if finished else None,
        **kwargs,
    )


def test_old_runs_go_and_recent_ones_stay():
    old = [_run(NOW - (SWEEP_RUNS_KEEP_DAYS + n) * DAY) for n in (1, 2, 3)]
    died_long_ago = _run(NOW - 40 * DAY, finished=False)
    recent = [_run(NOW - n * DAY) for n in (1, 29)]
    old_dry = _run(NOW - 60 * DAY, dry_run=True)

    assert sweep_runs_prune(now=NOW) == len(old) + 1  # the dry run too
    assert set(SweepRun.objects.values_list("pk", flat=True)) == {died_long_ago.pk, *(r.pk for r in recent)}
    assert not SweepRun.objects.filter(pk=old_dry.pk).exists()
    # /healthz still names its last interrupted run, whatever its age.
    assert last_interrupted_sweep_run(now=NOW) == died_long_ago
    assert last_sweep_run() == recent[0]
    # A second run has nothing left to do.
    assert sweep_runs_prune(now=NOW) == 0


def test_the_latest_finished_run_stays_even_when_old():
    """A worker down for a month: its last finished run is still what /healthz shows."""
    last = _run(NOW - 45 * DAY)
    older = _run(NOW - 50 * DAY)
    assert sweep_runs_prune(now=NOW) == 1
    assert list(SweepRun.objects.values_list("pk", flat=True)) == [last.pk]
    assert not SweepRun.objects.filter(pk=older.pk).exists()


def test_the_beat_schedule_prunes_nightly_through_the_task(officer):
    from celery.schedules import crontab

    from cases.tasks import housekeeping_task

    entry = django_settings.CELERY_BEAT_SCHEDULE["housekeeping"]
    assert entry["task"] == housekeeping_task.name == "cases.tasks.housekeeping_task"
    assert isinstance(entry["schedule"], crontab) and entry["schedule"].hour == {3}
    _run(datetime.now(UTC) - (SWEEP_RUNS_KEEP_DAYS + 5) * DAY)
    _run(datetime.now(UTC) - (SWEEP_RUNS_KEEP_DAYS + 6) * DAY)
    old_key = ClientKey.objects.create(key=uuid.uuid4(), actor=officer, kind="cases.note", object_id=1)
    ClientKey.objects.filter(pk=old_key.pk).update(created_at=datetime.now(UTC) - (CLIENT_KEYS_KEEP_DAYS + 1) * DAY)
    fresh_key = ClientKey.objects.create(key=uuid.uuid4(), actor=officer, kind="cases.note", object_id=2)
    # The newer old run is the latest finished one: kept. The fresh key too.
    assert housekeeping_task() == {"sweep_runs": 1, "client_keys": 1}
    assert list(ClientKey.objects.values_list("pk", flat=True)) == [fresh_key.pk]
