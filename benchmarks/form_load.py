"""The resident form's POST under load, beside a one-INSERT floor measured in the same run.

What runs
    1. ``collectstatic`` under ``ENVIRONMENT=production`` into a temporary
       ``STATIC_ROOT`` (production pages need whitenoise's manifest), as the
       Dockerfile does;
    2. gunicorn as docker-compose.yml's web service runs it — ``config.wsgi``,
       sync workers (``BENCH_FORM_WORKERS``, default 2), an access log — with
       production settings: ``ENVIRONMENT=production``, ``SECRET_KEY``,
       ``ALLOWED_HOSTS``, ``DB_CONN_MAX_AGE=60`` (persistent database
       connections), ``DATABASE_URL`` the bench database, ``CELERY_BROKER_URL``
       a Redis database (``BENCH_REDIS_URL``, default db 14; also the
       rate-limit cache, its limit raised so it never refuses the bench).
       Requests carry ``X-Forwarded-Proto: https`` as the TLS proxy would, so
       the HTTPS redirect, secure cookies and CSRF's origin check all apply.
       ``DJANGO_SETTINGS_MODULE=benchmarks.floor_settings``: the product's
       settings with a URLconf that adds the floor (``benchmarks.floor_urls``);
    3. ``BENCH_FORM_CLIENTS`` (default 8) clients, one thread each with its
       own keep-alive HTTP connection (gunicorn's sync workers close it after
       each answer, as behind a proxy; the client then reconnects). Each GETs
       ``/report/`` once for its CSRF cookie and token, then POSTs as a resident's
       browser does (multipart, every field of the form): a category, a
       description, a point inside a neighborhood (varied per request),
       ``same_issue=new`` (the resident already answered "a new problem", so
       there is no second step), sometimes an address, sometimes contact details
       with consent (an email then queues a confirmation), sometimes anonymous;
    4. in ``BENCH_FORM_ROUNDS`` (default 3) rounds of ``BENCH_FORM_SECONDS``
       (default 15) per side, the form then the floor, alternating which goes
       first, so both meet the same machine and buffer state; a warm-up of each
       side first.

The floor
    ``POST /bench/floor/`` (see ``benchmarks.floor_urls``): the same request,
    body and token through the same middleware, then one ``INSERT`` of one row
    as wide as the report the form stores — the columns of an Issue row and of
    a Report row, in ``bench_form_floor``, a table created here in the bench
    database with those tables' column types (primary key only, no other
    index) — and a 302. The form's own extra work (validation, the
    neighborhood by point, the rate limit, the issue's indexes, the timeline
    event, the outbox row, the signed cookie) is what the ratio measures.

What counts
    A form answer counts as a success when it is the 302 to the new report's
    status page (``/report/CG-XXXX-XXXX/``; the redirect is not followed — the
    status page is another page); a floor answer when it is its 302. Every
    other answer is counted by status; an answer ≥ 500 or a refused connection
    is a failure. After each side's window the rows really inserted are
    counted (Report rows, floor rows; and the tracking codes of the 302s must
    all exist): rows == successful answers.

Figures (``form_load.*``): form POSTs per second with the floor's as baseline
(target ≥ 0.5× the floor), p50 and p99 latency of both, and the mismatch
count (answers ≥ 500, other failures, rows ≠ successes; target 0). The
module deletes the rows it created and drops the floor table afterwards.
"""

from __future__ import annotations

import http.client
import os
import random
import re
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection

from benchmarks import server
from benchmarks.figures import add_figure, percentile
from benchmarks.floor_urls import FLOOR_COLUMNS, FLOOR_TABLE
from benchmarks.server import HOST
from benchmarks.server import request as _request

CLIENTS = int(os.environ.get("BENCH_FORM_CLIENTS", "8"))
WORKERS = int(os.environ.get("BENCH_FORM_WORKERS", "2"))
ROUNDS = int(os.environ.get("BENCH_FORM_ROUNDS", "3"))
SECONDS = float(os.environ.get("BENCH_FORM_SECONDS", "15"))
WARMUP_SECONDS = float(os.environ.get("BENCH_FORM_WARMUP_SECONDS", "4"))
FORM_PATH = "/report/"
FLOOR_PATH = "/bench/floor/"
# The same form with the summary tables' change log off (benchmarks.floor_urls): the rollups' cost.
UNLOGGED_PATH = "/bench/report-unlogged/"
_STATUS_PAGE = re.compile(r"^(?:https://localhost)?/report/(CG-[A-Z0-9]{4}-[A-Z0-9]{4})/$")
_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_CSRF_COOKIE = re.compile(r"csrftoken=([^;]+)")

# The floor table: each column named in benchmarks.floor_urls, typed as the Issue or Report column it mirrors.
_REPORT_COLUMNS = {
    "report_text": "text",
    "report_channel": "channel",
    "report_language": "language",
    "report_is_anonymous": "is_anonymous",
    "reporter_name": "reporter_name",
    "reporter_email": "reporter_email",
    "reporter_phone": "reporter_phone",
    "contact_consent": "contact_consent",
    "report_attributes": "attributes",
    "report_photo": "photo",
    "report_open311_token": "open311_token",
    "report_media_url": "media_url",
    "report_created_at": "created_at",
}

# What residents write, in pieces: each description strings a few together.
PHRASES = (
    "The streetlight on the corner is out again and it is dark all night near the bus stop.",
    "Mattresses and bags of trash were dumped behind the store; it smells and rats come out.",
    "Cars race down the street after ten at night, and kids play here in the day.",
    "Someone sprayed graffiti on the wall of the laundromat; the owner asked us to report it.",
    "The same car has not moved for three weeks and its tires are flat.",
    "People gather in the empty lot late at night and leave bottles everywhere.",
    "Music from the house on the corner goes on past two in the morning.",
)


def _log(message: str) -> None:
    print(f"[bench form_load] {message}", flush=True)


# --- the server (benchmarks.server) ----------------------------------------------------


def _server_env(tmp: Path) -> dict:
    # Its limit raised so it never refuses the bench.
    return server.server_env(tmp, database_url=os.environ["DATABASE_URL"], extra={"REPORT_RATE_LIMIT": "10000000/h"})


def _start_gunicorn(env: dict, tmp: Path, port: int):
    return server.start_gunicorn(env, tmp, port, workers=WORKERS, ready_path=FORM_PATH, log=_log)


def _backend_pids() -> list[int]:
    with connection.cursor() as cursor:
        return server.backend_pids(cursor)


# --- the clients -------------------------------------------------------------------------


@dataclass
class Place:
    min_lat: float
    min_lng: float
    max_lat: float
    max_lng: float


@dataclass
class Side:
    """What one side (the form or the floor) answered over the whole measurement."""

    name: str
    path: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    successes: int = 0
    rows: int = 0
    refused: int = 0
    codes: list[str] = field(default_factory=list)
    client_cpu: float = 0.0
    worker_cpu: float = 0.0
    database_cpu: float = 0.0
    machine_busy: float = 0.0
    machine_total: float = 0.0

    @property
    def answers(self) -> int:
        return len(self.latencies)

    @property
    def per_second(self) -> float:
        return self.successes / self.seconds if self.seconds else 0.0


class Client:
    """One resident's browser: its own connection, CSRF cookie and token; posts the form's fields."""

    def __init__(self, port: int, index: int, categories: list[int], places: list[Place]):
        self.port = port
        self.random = random.Random(1000 + index)
        self.categories = categories
        self.places = places
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        status, headers, page = _request(self.conn, "GET", FORM_PATH)
        cookie = _CSRF_COOKIE.search("; ".join(headers.get_all("Set-Cookie") or []))
        token = _TOKEN.search(page.decode())
        if status != 200 or cookie is None or token is None:
            raise RuntimeError(f"GET {FORM_PATH} gave no CSRF cookie and token (status {status})")
        self.cookie = f"csrftoken={cookie.group(1)}"
        self.token = token.group(1)

    def body(self) -> tuple[bytes, str]:
        pick = self.random
        place = pick.choice(self.places)
        contact = pick.random()
        fields = [
            ("csrfmiddlewaretoken", self.token),
            ("category", str(pick.choice(self.categories))),
            ("description", " ".join(pick.choice(PHRASES) for _ in range(pick.randint(1, 5)))),
            ("lat", f"{pick.uniform(place.min_lat, place.max_lat):.6f}"),
            ("lng", f"{pick.uniform(place.min_lng, place.max_lng):.6f}"),
            ("address", f"{pick.randint(100, 9999)} Main St" if pick.random() < 0.5 else ""),
            ("neighborhood", ""),
            ("photo_token", ""),
        ]
        if contact < 0.2:
            fields.append(("anonymous", "on"))
        elif contact < 0.5:
            fields += [
                ("reporter_name", "Resident Bench"),
                ("reporter_email", f"resident{pick.randint(1, 10**6)}@bench.example"),
                ("reporter_phone", "816-555-0123" if contact < 0.35 else ""),
                ("contact_consent", "on"),
            ]
        fields += [("same_issue", "new"), ("website", "")]
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in fields:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n')
        # A browser sends the empty file input too.
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename=""\r\n'
            "Content-Type: application/octet-stream\r\n\r\n\r\n"
        )
        parts.append(f"--{boundary}--\r\n")
        return "".join(parts).encode(), f"multipart/form-data; boundary={boundary}"

    def post(self, path: str):
        body, content_type = self.body()
        headers = {
            "Content-Type": content_type,
            "Cookie": self.cookie,
            "Origin": f"https://{HOST}",
            "Referer": f"https://{HOST}{FORM_PATH}",
        }
        started = time.perf_counter()
        try:
            status, response_headers, _ = _request(self.conn, "POST", path, body, headers)
        except OSError:
            self.conn.close()
            return None, time.perf_counter() - started, ""
        return status, time.perf_counter() - started, response_headers.get("Location", "") or ""


def _phase(side: Side, clients: list[Client], seconds: float, gunicorn, *, record: bool) -> None:
    """Every client posts to the side's path until the time is up; the answers are tallied."""
    results: list[list] = [[] for _ in clients]
    deadline = time.perf_counter() + seconds

    def loop(index: int) -> None:
        client, out = clients[index], results[index]
        while time.perf_counter() < deadline:
            out.append(client.post(side.path))

    threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(len(clients))]
    workers_before, backends_before = (
        server.cpu_by_pid(server.worker_pids(gunicorn)),
        server.cpu_by_pid(_backend_pids()),
    )
    cpu_before, machine_before = time.process_time(), server.machine_cpu()
    wal_before = _wal()
    mark = _row_mark(side)
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if not record:
        return
    side.client_cpu += time.process_time() - cpu_before
    worker_cpu = server.cpu_used(workers_before, server.cpu_by_pid(server.worker_pids(gunicorn)))
    # The workers' database sessions persist (DB_CONN_MAX_AGE=60); one replaced mid-phase is left out.
    database_cpu = server.cpu_used(backends_before, server.cpu_by_pid(_backend_pids()))
    side.worker_cpu += worker_cpu
    side.database_cpu += database_cpu
    machine_after = server.machine_cpu()
    side.machine_busy += machine_after[0] - machine_before[0]
    side.machine_total += machine_after[1] - machine_before[1]
    side.seconds += elapsed
    successes = 0
    statuses: dict[int, int] = {}
    for out in results:
        for status, latency, location in out:
            side.latencies.append(latency)
            if status is None:
                side.refused += 1
                continue
            side.statuses[status] = side.statuses.get(status, 0) + 1
            statuses[status] = statuses.get(status, 0) + 1
            if status == 302:
                if side.path == FLOOR_PATH:
                    successes += 1
                else:
                    match = _STATUS_PAGE.match(location)
                    if match:
                        successes += 1
                        side.codes.append(match.group(1))
    rows = _rows_since(side, mark)
    side.successes += successes
    side.rows += rows
    p50 = statistics.median(answer[1] for out in results for answer in out)
    answered = sum(len(out) for out in results) or 1
    wal = [after - before for before, after in zip(wal_before, _wal(), strict=True)]
    _log(
        f"{side.name}: {successes} saved in {elapsed:.1f} s = {successes / elapsed:.1f}/s, "
        f"rows {rows}{'' if rows == successes else ' ✘ MISMATCH'}, statuses "
        f"{dict(sorted(statuses.items()))}, p50 {p50 * 1000:.0f} ms, CPU per answer: workers "
        f"{1000 * worker_cpu / answered:.2f} ms, database {1000 * database_cpu / answered:.2f} ms; "
        f"WAL {wal[0] / answered / 1024:.1f} KB and {wal[1] / answered:.2f} full-page images per answer, "
        f"{wal[2]} checkpoints, {wal[3] / answered:.2f} pages written out by sessions per answer"
    )


def _wal() -> tuple[int, int, int, int]:
    """The server's WAL bytes and full-page images written so far, its checkpoints, and the pages
    sessions had to write out themselves to free a buffer: whether a side's rate moves with
    what the server writes (an index page's first change after a checkpoint is written whole)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT wal_bytes, wal_fpi FROM pg_stat_wal")
        wal_bytes, fpi = cursor.fetchone()
        cursor.execute("SELECT checkpoints_timed + checkpoints_req, buffers_backend FROM pg_stat_bgwriter")
        checkpoints, backend_writes = cursor.fetchone()
    return int(wal_bytes), int(fpi), int(checkpoints), int(backend_writes)


# --- rows --------------------------------------------------------------------------------


def _scalar(sql: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()[0]


def _table(side: Side) -> str:
    return FLOOR_TABLE if side.path == FLOOR_PATH else "cases_report"


def _row_mark(side: Side) -> int:
    return _scalar(f"SELECT COALESCE(MAX(id), 0) FROM {_table(side)}")  # noqa: S608 (constant names)


def _rows_since(side: Side, mark: int) -> int:
    """Rows the side inserted since the mark (every answer has arrived: nothing is in flight)."""
    return _scalar(f"SELECT COUNT(*) FROM {_table(side)} WHERE id > %s", [mark])  # noqa: S608


def _floor_table() -> None:
    select = []
    for column in FLOOR_COLUMNS:
        source = f"r.{_REPORT_COLUMNS[column]}" if column in _REPORT_COLUMNS else f"i.{column}"
        select.append(f"{source} AS {column}")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")
        cursor.execute(
            f"CREATE TABLE {FLOOR_TABLE} AS SELECT {', '.join(select)} "  # noqa: S608 (constant names)
            "FROM cases_issue i CROSS JOIN cases_report r WITH NO DATA"
        )
        cursor.execute(f"ALTER TABLE {FLOOR_TABLE} ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY")


def _marks() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT COALESCE(MAX(id), 0) FROM cases_issue), (SELECT COALESCE(MAX(id), 0) FROM cases_report),"
            " (SELECT COALESCE(MAX(id), 0) FROM cases_event), (SELECT COALESCE(MAX(id), 0) FROM cases_outboxmessage),"
            " (SELECT COALESCE(MAX(id), 0) FROM cases_changedday)"
        )
        issue, report, event, outbox, changed = cursor.fetchone()
    return {"issue": issue, "report": report, "event": event, "outbox": outbox, "changed": changed}


def _clean_up(marks: dict[str, int]) -> None:
    """Leave the bench data as loaded: the reports, issues and their rows this module created go."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_outboxmessage WHERE id > %s", [marks["outbox"]])
        cursor.execute("DELETE FROM cases_changedday WHERE id > %s", [marks["changed"]])
        cursor.execute("DELETE FROM cases_event WHERE id > %s", [marks["event"]])
        cursor.execute("DELETE FROM cases_report WHERE id > %s", [marks["report"]])
        cursor.execute("DELETE FROM cases_issue WHERE id > %s", [marks["issue"]])
        cursor.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")
        for table in ("cases_issue", "cases_report", "cases_event", "cases_outboxmessage"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def _codes_saved(codes: list[str]) -> int:
    return _scalar("SELECT COUNT(*) FROM cases_issue WHERE tracking_code = ANY(%s)", [codes]) if codes else 0


# --- the measurement ---------------------------------------------------------------------


def _inputs() -> tuple[list[int], list[Place]]:
    from cases.models import Category
    from partners.models import Neighborhood

    categories = list(Category.objects.filter(is_active=True).values_list("pk", flat=True))
    places = [
        Place(n.min_lat, n.min_lng, n.max_lat, n.max_lng)
        for n in Neighborhood.objects.exclude(boundary={}).only("min_lat", "min_lng", "max_lat", "max_lng")
    ]
    # A point well inside the box; the bench neighborhoods are squares, so inside the boundary too.
    places = [
        Place(
            p.min_lat + 0.1 * (p.max_lat - p.min_lat),
            p.min_lng + 0.1 * (p.max_lng - p.min_lng),
            p.max_lat - 0.1 * (p.max_lat - p.min_lat),
            p.max_lng - 0.1 * (p.max_lng - p.min_lng),
        )
        for p in places
    ]
    if not categories or not places:
        raise RuntimeError("bench data has no active category or no neighborhood with a boundary")
    return categories, places


def measure(results: dict) -> dict:
    # The machine's load before the server starts (the run itself then adds about two).
    load_before = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="cg-form-load-"))
    env = _server_env(tmp)
    marks = _marks()
    _floor_table()
    gunicorn = None
    try:
        server.collectstatic(env, _log)
        port = server.free_port()
        gunicorn = _start_gunicorn(env, tmp, port)
        categories, places = _inputs()
        clients = [Client(port, i, categories, places) for i in range(CLIENTS)]
        form, floor = Side("form", FORM_PATH), Side("floor", FLOOR_PATH)
        unlogged = Side("form without the change log", UNLOGGED_PATH)
        sides = (form, unlogged, floor)
        _log(f"{CLIENTS} clients; warm-up {WARMUP_SECONDS:.0f} s per side, then {ROUNDS} rounds of {SECONDS:.0f} s")
        for side in sides:
            _phase(side, clients, WARMUP_SECONDS, gunicorn, record=False)
        for round_ in range(ROUNDS):
            # Each round starts with another side, so none always follows the same one.
            for i in range(len(sides)):
                _phase(sides[(round_ + i) % len(sides)], clients, SECONDS, gunicorn, record=True)
        saved = _codes_saved(form.codes) + _codes_saved(unlogged.codes)
        load = os.getloadavg()
    finally:
        if gunicorn is not None:
            server.stop(gunicorn)
        _clean_up(marks)
        shutil.rmtree(tmp, ignore_errors=True)
    _figures(results, form, floor, saved, load, load_before, unlogged)
    return {"form": form, "floor": floor, "unlogged": unlogged}


def _failures(side: Side) -> int:
    server_errors = sum(n for status, n in side.statuses.items() if status >= 500)
    return server_errors + side.refused + abs(side.rows - side.successes)


def _share(side: Side) -> dict:
    return {
        "answers": side.answers,
        "successes": side.successes,
        "rows_inserted": side.rows,
        "statuses": {str(k): v for k, v in sorted(side.statuses.items())},
        "refused_connections": side.refused,
        "seconds": round(side.seconds, 2),
        "client_cpu_share": round(side.client_cpu / side.seconds, 3) if side.seconds else None,
        "worker_cpu_ms_per_answer": round(1000 * side.worker_cpu / side.answers, 2) if side.answers else None,
        "database_cpu_ms_per_answer": round(1000 * side.database_cpu / side.answers, 2) if side.answers else None,
        "machine_cpu_busy": round(side.machine_busy / side.machine_total, 3) if side.machine_total else None,
    }


def _figures(results: dict, form: Side, floor: Side, saved: int, load, load_before, unlogged: Side) -> None:
    common = {
        "clients": CLIENTS,
        "workers": WORKERS,
        "rounds": ROUNDS,
        "seconds_per_round": SECONDS,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load],
    }
    add_figure(
        results,
        "form_load.form_post_per_second",
        label=f"Resident form POST under gunicorn ({WORKERS} workers, {CLIENTS} clients)",
        value=form.per_second,
        unit="req/s",
        baseline_label="floor: one-INSERT view POST, same run",
        baseline_value=floor.per_second,
        target={"min_ratio": 0.5},
        extra={**common, "form": _share(form), "floor": _share(floor)},
    )
    for pct in (50, 99):
        add_figure(
            results,
            f"form_load.form_post_p{pct}",
            label=f"Resident form POST, {pct}th percentile latency",
            value=percentile(form.latencies, pct),
            unit="s",
            baseline_label=f"floor's {pct}th percentile",
            baseline_value=percentile(floor.latencies, pct),
        )
    add_figure(
        results,
        "form_load.change_log_cost",
        label="Resident form POSTs per second without the summary tables' change log, against with it",
        value=unlogged.per_second,
        unit="req/s",
        baseline_label="the form as it runs (its new issue's change-log row in its one INSERT)",
        baseline_value=form.per_second,
        target={"max_ratio": 1.15},
        extra={"unlogged": _share(unlogged)},
    )
    answered = len(form.codes) + len(unlogged.codes)
    failures = _failures(form) + _failures(floor) + _failures(unlogged) + (answered - saved)
    add_figure(
        results,
        "form_load.failures",
        label="Answers ≥ 500, refused connections, rows ≠ successful answers (both sides)",
        value=failures,
        unit="count",
        target={"max_value": 0},
        extra={"form_codes_found": saved, "form_codes_answered": answered},
    )
    form_share, floor_share = _share(form), _share(floor)
    _log(
        f"client CPU {form_share['client_cpu_share']:.0%} of one core (form), "
        f"{floor_share['client_cpu_share']:.0%} (floor); gunicorn worker CPU per answer "
        f"{form_share['worker_cpu_ms_per_answer']} ms (form), {floor_share['worker_cpu_ms_per_answer']} ms (floor); "
        f"database sessions' CPU per answer {form_share['database_cpu_ms_per_answer']} ms (form), "
        f"{floor_share['database_cpu_ms_per_answer']} ms (floor); load average {load_before[0]:.2f} before, "
        f"{load[0]:.2f} after"
    )


def run(results: dict) -> None:
    measure(results)
