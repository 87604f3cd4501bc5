"""/healthz: 200 with the database's and broker's state when both answer, 503 when either does not.

The outage cases run the app in a subprocess whose settings point the broker
(or the database) at a port where nothing listens: a real failed connection,
not a mocked one.
"""

import json
import os
import socket
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from cases.models import SweepRun

pytestmark = pytest.mark.django_db

PROBE = """
import json, time, django
django.setup()
from django.test import Client
started = time.monotonic()
response = Client().get("/healthz")
print(json.dumps({"status": response.status_code, "body": response.json(),
                  "seconds": time.monotonic() - started}))
"""


@pytest.fixture
def closed_port():
    """A port bound to a socket that never listens: connections are refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def database_url():
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def checked_probe(tmp_path, script=PROBE, **overrides):
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "VAR_DIR": str(tmp_path / "var"),
        "ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": os.environ["CELERY_BROKER_URL"],
        **overrides,
    }
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_both_up_answers_200_with_their_state(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": {"ok": True, "vendor": "postgresql"},
        "broker": {"ok": True, "transport": "redis"},
        "last_sweep": None,
        "sweep": None,
        "last_interrupted_sweep": None,
    }
    assert "no-cache" in response["Cache-Control"]


def test_reports_the_last_finished_sweep(client):
    now = timezone.now()
    SweepRun.objects.create(started_at=now - timedelta(minutes=5), finished_at=now - timedelta(minutes=5))
    SweepRun.objects.create(started_at=now - timedelta(minutes=1), finished_at=now - timedelta(seconds=59))
    SweepRun.objects.create(started_at=now, finished_at=None)  # still running
    body = client.get("/healthz").json()
    assert body["last_sweep"] == (now - timedelta(seconds=59)).isoformat()
    assert body["sweep"]["state"] == "running" and body["sweep"]["started_at"] == now.isoformat()
    assert body["last_interrupted_sweep"] is None


def test_an_interrupted_sweep_is_shown_with_what_it_committed_and_is_not_an_outage(client, settings):
    now = timezone.now()
    stale = timedelta(seconds=settings.SWEEP_STALE_SECONDS + 1)
    died = SweepRun.objects.create(
        started_at=now - stale - timedelta(minutes=1), progress_at=now - stale, batches=3, escalations=15117
    )
    SweepRun.objects.create(started_at=now - timedelta(minutes=10), finished_at=now - timedelta(minutes=9))
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["last_sweep"] == (now - timedelta(minutes=9)).isoformat()
    assert body["sweep"] == body["last_interrupted_sweep"]
    assert body["sweep"] == {
        "state": "interrupted",
        "started_at": died.started_at.isoformat(),
        "progress_at": died.progress_at.isoformat(),
        "finished_at": None,
        "batches": 3,
        "escalations": 15117,
        "issues_escalated": 0,
        "notifications": 0,
        "hotspots": 0,
        "problems_opened": 0,
    }
    # A newer run is what the sweep is doing now; the one that died stays in sight.
    SweepRun.objects.create(started_at=now, progress_at=now)
    body = client.get("/healthz").json()
    assert body["sweep"]["state"] == "running"
    assert body["last_interrupted_sweep"]["escalations"] == 15117


def test_only_get(client):
    assert client.post("/healthz").status_code == 405


def test_broker_unreachable_answers_503_quickly(tmp_path, closed_port):
    started = time.monotonic()
    result = checked_probe(tmp_path, CELERY_BROKER_URL=f"redis://127.0.0.1:{closed_port}/0")
    assert result["status"] == 503
    body = result["body"]
    assert body["status"] == "unavailable"
    assert body["database"] == {"ok": True, "vendor": "postgresql"}
    assert body["broker"]["ok"] is False and body["broker"]["transport"] == "redis"
    assert body["broker"]["error"]
    assert "last_sweep" in body
    assert result["seconds"] < 15, "a dead broker must not hang the health check"
    assert time.monotonic() - started < 60


def test_database_unreachable_answers_503(tmp_path, closed_port):
    result = checked_probe(tmp_path, DATABASE_URL=f"postgres://postgres@127.0.0.1:{closed_port}/commonground")
    assert result["status"] == 503
    body = result["body"]
    assert body["status"] == "unavailable"
    assert body["database"]["ok"] is False and body["database"]["error"] == "OperationalError"
    assert body["broker"] == {"ok": True, "transport": "redis"}
    assert "last_sweep" not in body  # nothing to read it from
    assert result["seconds"] < 15


def test_reachable_but_unmigrated_database_answers_503_not_500(tmp_path):
    result = checked_probe(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    assert result["status"] == 503
    body = result["body"]
    assert body["database"] == {"ok": False, "vendor": "sqlite", "error": "OperationalError"}
    assert body["broker"] == {"ok": True, "transport": "redis"}
    assert body["last_sweep"] is None


@pytest.fixture
def broker_checks(monkeypatch):
    """Counts the broker connections /healthz opens (each one still a real connection)."""
    from config import views
    from config.celery import app as celery_app

    monkeypatch.setitem(views._broker_last, "at", None)
    opened = []
    real = celery_app.connection_for_write

    def counting(*args, **kwargs):
        opened.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(celery_app, "connection_for_write", counting)
    return opened


def test_the_broker_is_checked_once_per_interval_not_per_call(client, settings, broker_checks):
    from config import views

    settings.HEALTHZ_BROKER_SECONDS = 60
    answers = [client.get("/healthz") for _ in range(20)]
    assert [a.status_code for a in answers] == [200] * 20
    assert all(a.json()["broker"] == {"ok": True, "transport": "redis"} for a in answers)
    assert len(broker_checks) == 1
    # Once the interval has passed, the next call checks again.
    views._broker_last["at"] -= 61
    assert client.get("/healthz").status_code == 200
    assert len(broker_checks) == 2


def test_with_no_interval_every_call_checks(client, settings, broker_checks):
    settings.HEALTHZ_BROKER_SECONDS = 0
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert len(broker_checks) == 3


TWO_CALLS = """
import json, time, django
django.setup()
from django.test import Client
answers = []
for _ in range(2):
    started = time.monotonic()
    response = Client().get("/healthz")
    answers.append({"status": response.status_code, "broker": response.json()["broker"],
                    "seconds": time.monotonic() - started})
print(json.dumps(answers))
"""


def test_a_dead_broker_is_remembered_for_the_interval_too(tmp_path, closed_port):
    first, second = checked_probe(
        tmp_path, TWO_CALLS, CELERY_BROKER_URL=f"redis://127.0.0.1:{closed_port}/0", HEALTHZ_BROKER_SECONDS="60"
    )
    assert first["status"] == second["status"] == 503
    assert first["broker"] == second["broker"] and first["broker"]["ok"] is False
    # The second answer repeats the first without trying the dead broker again.
    assert second["seconds"] < 0.5
