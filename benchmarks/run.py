"""``make bench`` = ``python -m benchmarks.run``: the city-scale benchmarks, on PostgreSQL.

What it does
    1. points Django at the bench database of the asked size — ``BENCH_ISSUES``
       (default 1 000 000) issues, database ``commonground_bench`` for 1 000 000
       and ``commonground_bench_<issues>`` for other sizes, on
       ``postgres://postgres@127.0.0.1:5432``; ``BENCH_DATABASE_URL`` overrides
       it (``benchmarks.scale``) — creating the database if it does not exist,
       and migrates it;
    2. loads that many issues (10 % open and overdue) and one outreach activity
       per ten issues with set-based SQL, or reuses them if this data version
       and size are already there (``benchmarks.data``; ``BENCH_RELOAD=1``
       forces a reload);
    3. runs each benchmark module in turn — ``benchmarks.escalation``, then
       ``benchmarks.dashboard``, then ``benchmarks.form_load`` (the resident
       form's POST under gunicorn beside a one-INSERT floor), then
       ``benchmarks.http`` (the list pages and single reads under gunicorn at
       1 000 000 and 5 000 000 issues beside a no-database view), each if it
       exists (``BENCH_ONLY=escalation``, ``=dashboard``, ``=form_load`` or
       ``=http`` runs one);
    4. prints every figure and writes them all to ``var/bench.json`` — also
       when a module fails, with the error, before ``make bench`` fails.

``python -m benchmarks.run --load-only`` does steps 1 and 2 alone (no module, no
``var/bench.json``) and puts the data back in its loaded state (what a benchmark
added since is removed: ``benchmarks.data.escalation_reset``): ``benchmarks.http``
readies its other sizes that way.

The interface of a benchmark module
    A module ``benchmarks/<name>.py`` exposes::

        def run(results: dict) -> None: ...

    It is called once, after ``django.setup()`` against the bench database and
    after the data is loaded (``results["data"]`` says what is there;
    ``benchmarks.data.bench_now()`` is the instant the data is anchored at). It
    measures, and adds its figures to ``results["figures"]`` — normally through
    ``benchmarks.figures.add_figure(results, key, label=…, value=…, unit=…,
    baseline_label=…, baseline_value=…, target=…, extra=…)``, which stores
    ``value``, ``baseline``, ``ratio`` (value / baseline) and whether the
    ``target`` (``max_ratio`` / ``min_ratio`` / ``max_value``) is met, and prints
    the line. Keys are namespaced by module (``"dashboard.page_p95"``). A module
    leaves the data as it found it, or in the state the next module expects
    (escalation leaves the 100 000 overdue issues escalated, as the worker
    would, so the dashboard shows decisions waiting). Exceptions propagate:
    a benchmark that cannot run fails ``make bench``.

``var/bench.json``
    ``{"generated_at", "machine": {...}, "data": {...}, "figures": {key: {label,
    value, unit, baseline: {label, value}, ratio, target, met, …}}}`` — every
    figure of this run with its baseline and ratio (see ``benchmarks.figures``).
"""

from __future__ import annotations

import fcntl
import importlib
import importlib.util
import json
import os
import platform
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from benchmarks.scale import database_url

ROOT = Path(__file__).resolve().parent.parent
MODULES = ("escalation", "dashboard", "form_load", "http")


def _ensure_database(url: str) -> None:
    import psycopg2
    from psycopg2 import sql

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = psycopg2.connect(
        dbname="postgres",
        user=parsed.username or "postgres",
        password=parsed.password,
        host=parsed.hostname or "127.0.0.1",
        port=parsed.port or 5432,
    )
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                print(f"[bench] creating database {name}", flush=True)
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        admin.close()


def _others_running() -> list[str]:
    """Take the machine's bench lock for this process's life; the pids of other runs holding it, if any.

    Two runs at once on a 2-core machine measure each other: a run that finds the lock taken says
    so loudly and records it (``results["overlapped"]``) rather than wait. A ``--load-only`` child of
    a run (``BENCH_LOCK_HELD``) does not take it again.
    """
    if os.environ.get("BENCH_LOCK_HELD"):
        return []
    path = ROOT / "var" / "bench.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")  # noqa: SIM115 (held open, and so locked, until the process ends)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        others = handle.read().split()
        handle.close()
        return others or ["?"]
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    os.environ["BENCH_LOCK_HELD"] = str(os.getpid())
    globals()["_LOCK_HANDLE"] = handle
    return []


def _machine() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "postgresql": server,
        "platform": platform.platform(),
    }


def main() -> int:
    load_only = "--load-only" in sys.argv[1:]
    url = database_url()
    if not url.startswith(("postgres://", "postgresql://")):
        print("make bench needs PostgreSQL: set BENCH_DATABASE_URL=postgres://…", file=sys.stderr)
        return 2
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Benchmarks measure the product, not the debug toolbar: no query log.
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    sys.path.insert(0, str(ROOT))
    _ensure_database(url)

    import django

    django.setup()
    from django.core.management import call_command

    from benchmarks import data

    started = time.perf_counter()
    others = _others_running()
    if others:
        print(
            f"[bench] ✘ another benchmark run is going on (pid {', '.join(others)}): both share the cores, "
            "so neither's figures hold (a measuring run is marked overlapped in var/bench.json)",
            flush=True,
        )
    print(f"[bench] database {urlparse(url).path.lstrip('/')}: migrating…", flush=True)
    call_command("migrate", verbosity=0, interactive=False)
    results: dict = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": "make bench",
        "machine": _machine(),
        "figures": {},
    }
    if others:
        results["overlapped"] = {"other_pids": others}
    results["data"] = data.ensure_loaded()
    print(f"[bench] data: {results['data']}", flush=True)
    if load_only:
        data.escalation_reset()
        print(f"[bench] loaded in {time.perf_counter() - started:.0f} s (--load-only: no benchmark run)", flush=True)
        return 0
    only = {m.strip() for m in os.environ.get("BENCH_ONLY", "").split(",") if m.strip()}
    ran = []
    failure = None
    for name in MODULES:
        if only and name not in only:
            continue
        module_name = f"benchmarks.{name}"
        if importlib.util.find_spec(module_name) is None:
            print(f"[bench] {module_name} not present; skipped", flush=True)
            continue
        print(f"[bench] {module_name}", flush=True)
        ran.append(name)
        try:
            importlib.import_module(module_name).run(results)
        except Exception as error:
            # The figures measured so far are written with the error; make bench still fails.
            failure = error
            results["error"] = {"module": name, "message": f"{type(error).__name__}: {error}"}
            break
    results["modules"] = ran
    results["seconds"] = round(time.perf_counter() - started, 1)
    out = ROOT / "var" / "bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    if only and out.exists():
        # A partial run (BENCH_ONLY) keeps the other modules' last figures, marked as carried over.
        previous = json.loads(out.read_text())
        for key, figure in previous.get("figures", {}).items():
            if key.split(".", 1)[0] not in ran and key not in results["figures"]:
                results["figures"][key] = {**figure, "carried_over_from": previous.get("generated_at")}
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"[bench] wrote {out.relative_to(ROOT)} ({len(results['figures'])} figures)", flush=True)
    for key, figure in results["figures"].items():
        status = "" if "met" not in figure else (" ✔" if figure["met"] else " ✘ target not met")
        ratio = f" ratio {figure['ratio']}" if figure.get("ratio") is not None else ""
        print(f"  {key}: {figure['value']} {figure['unit']}{ratio}{status}", flush=True)
    if failure is not None:
        raise failure
    return 0


if __name__ == "__main__":
    sys.exit(main())
