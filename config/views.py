"""Top-level pages that belong to no single app: home and the health check."""

import threading
import time

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery import app as celery_app


def _database_state():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"ok": True, "vendor": connection.vendor}
    except Exception as exc:  # any failure means "not reachable"
        return {"ok": False, "vendor": connection.vendor, "error": exc.__class__.__name__}


def _broker_check():
    transport = celery_app.conf.broker_url.split("://", 1)[0] or "unknown"
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return {"ok": True, "transport": transport}
    except Exception as exc:
        return {"ok": False, "transport": transport, "error": exc.__class__.__name__}


# A load balancer and the compose healthcheck ask every few seconds, of every worker: each process
# opens a broker connection at most once per HEALTHZ_BROKER_SECONDS and repeats that answer in
# between, instead of a new connection (TCP and AUTH to Redis) on every call.
_broker_last = {"at": None, "state": None}
_broker_lock = threading.Lock()


def _broker_state():
    now = time.monotonic()
    with _broker_lock:
        at, state = _broker_last["at"], _broker_last["state"]
        if at is not None and now - at < settings.HEALTHZ_BROKER_SECONDS:
            return dict(state)
    state = _broker_check()
    with _broker_lock:
        _broker_last.update(at=time.monotonic(), state=state)
    return dict(state)


@never_cache
@require_GET
def healthz(request):
    from cases.selectors import last_interrupted_sweep_run, last_sweep_run, latest_sweep_run, sweep_run_summary

    database = _database_state()
    broker = _broker_state()
    body = {
        "status": "ok" if database["ok"] and broker["ok"] else "unavailable",
        "database": database,
        "broker": broker,
    }
    if database["ok"]:
        try:
            run = last_sweep_run()
            # What the latest sweep is doing, and the last one that died: an interrupted sweep
            # is worth seeing but leaves web and database healthy, so it never makes this a 503.
            latest, interrupted = latest_sweep_run(), last_interrupted_sweep_run()
        except DatabaseError as exc:  # reachable but not migrated: unusable, and still no 500
            database.update(ok=False, error=exc.__class__.__name__)
            body["status"] = "unavailable"
            run = latest = interrupted = None
        body["last_sweep"] = run.finished_at.isoformat() if run and run.finished_at else None
        body["sweep"] = sweep_run_summary(latest)
        body["last_interrupted_sweep"] = sweep_run_summary(interrupted)
    return JsonResponse(body, status=200 if body["status"] == "ok" else 503)


def home(request):
    return render(request, "home.html")
