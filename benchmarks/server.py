"""The gunicorn the HTTP benchmarks start, as ``docker-compose.yml``'s web service runs it, and its helpers.

``benchmarks.form_load`` and ``benchmarks.http`` both use it:

- ``server_env``: production settings — ``ENVIRONMENT=production``, a fresh
  ``SECRET_KEY``, ``ALLOWED_HOSTS``, ``DB_CONN_MAX_AGE=60`` (persistent database
  connections), ``DATABASE_URL`` the bench database, ``CELERY_BROKER_URL`` a Redis
  database (``BENCH_REDIS_URL``, default db 14; also the rate-limit cache) — and
  ``DJANGO_SETTINGS_MODULE=benchmarks.floor_settings``: the product's settings with
  a URLconf that adds the bench-only views (``benchmarks.floor_urls``);
- ``collectstatic`` under those settings into a temporary ``STATIC_ROOT``
  (production pages need whitenoise's manifest), as the Dockerfile does;
- ``start_gunicorn``: ``config.wsgi``, sync workers, an access log, waiting until
  a page answers 200; ``stop`` ends it;
- ``request``: one request as the TLS proxy forwards it (``X-Forwarded-Proto:
  https``, so the HTTPS redirect, secure cookies and CSRF's origin check all
  apply), on a keep-alive connection (gunicorn's sync workers close it after each
  answer, as behind a proxy; the connection then reconnects on its next request);
- CPU accounting from ``/proc``: the workers', their database sessions', the machine's.
"""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
HOST = "localhost"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_env(tmp: Path, *, database_url: str, extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "ENVIRONMENT": "production",
            "DEBUG": "false",
            "SECRET_KEY": "bench-" + secrets.token_urlsafe(40),
            "ALLOWED_HOSTS": "localhost,127.0.0.1",
            "CSRF_TRUSTED_ORIGINS": "https://localhost",
            "DATABASE_URL": database_url,
            "DB_CONN_MAX_AGE": "60",
            "CELERY_BROKER_URL": REDIS_URL,
            "STATIC_ROOT": str(tmp / "static"),
            "MEDIA_ROOT": str(tmp / "media"),
            "VAR_DIR": str(tmp / "var"),
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "benchmarks.floor_settings",
            "PYTHONPATH": str(ROOT),
            **(extra or {}),
        }
    )
    for name in ("REDIS_CACHE_URL", "EMAIL_HOST", "SECURE_SSL_REDIRECT"):
        env.pop(name, None)
    return env


def collectstatic(env: dict, log: Callable[[str], None]) -> None:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"collectstatic under ENVIRONMENT=production failed:\n{done.stderr[-3000:]}")
    log(f"collectstatic (production, manifest) in {time.perf_counter() - started:.1f} s")


def start_gunicorn(
    env: dict, tmp: Path, port: int, *, workers: int, ready_path: str, log: Callable[[str], None]
) -> subprocess.Popen:
    """gunicorn on ``port``, once ``GET ready_path`` answers 200 (within 60 s)."""
    log_file = open(tmp / "gunicorn.log", "w")  # noqa: SIM115 (closed with the process)
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        "--worker-class=sync",
        "--timeout=60",
        f"--access-logfile={tmp / 'access.log'}",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    server.log_file = log_file
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{(tmp / 'gunicorn.log').read_text()[-3000:]}")
        try:
            status, _, _ = request(http.client.HTTPConnection("127.0.0.1", port, timeout=10), "GET", ready_path)
            if status == 200:
                log(f"gunicorn up on port {port}: {workers} sync workers, production settings")
                return server
        except OSError:
            pass
        time.sleep(0.3)
    stop(server)
    raise RuntimeError(f"gunicorn did not answer GET {ready_path} within 60 s")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    server.log_file.close()


def request(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None, headers=None):
    """(status, headers, body) of one request as the TLS proxy forwards it."""
    base = {"Host": HOST, "X-Forwarded-Proto": "https", "User-Agent": "commonground-bench", "Connection": "keep-alive"}
    conn.request(method, path, body=body, headers={**base, **(headers or {})})
    response = conn.getresponse()
    payload = response.read()
    if response.will_close:
        conn.close()
    return response.status, response.headers, payload


# --- CPU accounting ----------------------------------------------------------------------


def worker_pids(server: subprocess.Popen) -> list[int]:
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    try:
        return [int(pid) for pid in children.read_text().split()]
    except OSError:
        return []


def cpu_by_pid(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each of these processes so far (Linux /proc); unreadable ones left out."""
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return seconds


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU the processes alive at both readings used in between (one replaced meanwhile is left out)."""
    return sum(after[pid] - before[pid] for pid in before.keys() & after.keys())


def backend_pids(cursor) -> list[int]:
    """The bench server's database sessions: every client session of the cursor's database but its own."""
    cursor.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND backend_type = 'client backend'"
    )
    return [row[0] for row in cursor.fetchall()]


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0, 0.0
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return float(sum(values) - idle), float(sum(values))
