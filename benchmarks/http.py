"""The staff list pages, the API, Open311 and the single reads under gunicorn, at 1 000 000 and 5 000 000 issues.

What runs, for each size in ``BENCH_HTTP_SIZES`` (default ``1000000,5000000``)
    1. that size's bench database (``benchmarks.scale``), in the state it was
       loaded in (``benchmarks.data.escalation_reset``: what the escalation
       benchmark, say, added since is removed, so every size is measured in the
       same state): the size this run loaded is there already; any other is
       migrated and loaded, or reused, by ``python -m benchmarks.run --load-only``
       in a subprocess with ``BENCH_ISSUES`` set to it (5 000 000 issues: about
       an hour on the 2-core machine, once; 7.4 GB) — every size is made ready
       before anything is measured;
    2. gunicorn as ``docker-compose.yml``'s web service runs it
       (``benchmarks.server``): production settings, ``BENCH_HTTP_WORKERS``
       (default 2) sync workers, ``DB_CONN_MAX_AGE=60`` (persistent database
       connections), static files collected, every request with
       ``X-Forwarded-Proto: https`` as the TLS proxy sends it. The API and Open311
       read budgets are raised (``API_THROTTLE_USER`` / ``_ANON`` at a million a
       second: the throttles still count every request, in Redis, as in
       production, but never refuse the bench; per second, so DRF's request
       history per client stays as short as a real client's at its budget);
    3. an officer (``officer1``) and a supervisor (``sergeant1``) sign in through
       the real sign-in form (``/accounts/login/``, CSRF token, the bench
       password); every client sends that role's session cookie. The API is
       read with the supervisor's token (``rest_framework.authtoken``, created
       for the run and deleted after it, with the two sessions);
    4. every page answers one request first: anything but a 200 (a 302 to the
       sign-in page, a 403, a 404, a 500) fails the module there, before anything
       is timed, naming each page that did;
    5. each page in turn: ``BENCH_HTTP_CLIENTS`` (default 8) client threads, each
       with its own keep-alive connection (gunicorn's sync workers close it after
       each answer, as behind a proxy; the client reconnects), request it back to
       back for ``BENCH_HTTP_WARMUP_SECONDS`` (default 2, not recorded), then for
       ``BENCH_HTTP_SECONDS`` (default 8): each request timed with
       ``time.perf_counter`` from sending to the last byte of the answer read —
       with more clients than workers that includes the wait for a free worker
       (8 clients on 2 workers: about three requests ahead of each);
       The single reads (issue page, public status page, Open311 request) go
       through 1 000 issues spread over the whole table, each client starting
       at its own place in that list;
    6. the baselines in the same run: the no-database view (``GET /bench/ok/``,
       ``benchmarks.floor_urls``: "ok" through the same middleware) first and
       again last (both windows together are the baseline; each is kept), and
       ``/healthz`` (database and broker checks).

What counts
    An answer is a success when it is a 200. Any other status or a refused
    connection during the timed window is counted as a failure of that page
    (``http.<size>.failures``, target 0) and fails the module once every page
    has been measured and the figures written.

Figures (``http.<size>.<page>.*``, ``<size>`` = ``1m``, ``5m``)
    ``p95`` — the 95th percentile latency in seconds, with the no-database
    view's p95 as its baseline; ``p50``, ``p99``, the answers, the statuses, the
    gunicorn workers' CPU per answer, their database sessions' (a lower bound: a
    session replaced during the window — ``DB_CONN_MAX_AGE`` is 60 s — and
    parallel query workers are not counted), the clients' share of a core and
    how busy the machine's cores were are kept beside it. List pages at
    1 000 000 issues have the target ``p95 ≤ 0.1 s``.
    ``per_second`` — answers per second, with the no-database view's as its
    baseline: the ratio says what share of the bare stack's throughput the page
    keeps. ``p95_vs_1m`` (sizes other than 1 000 000, when 1 000 000 was
    measured in the same run) — the p95 at that size against the p95 at
    1 000 000, target ≤ 1.25×.

Settings
    ``BENCH_HTTP_SIZES``, ``BENCH_HTTP_CLIENTS``, ``BENCH_HTTP_WORKERS``,
    ``BENCH_HTTP_SECONDS``, ``BENCH_HTTP_WARMUP_SECONDS``, and
    ``BENCH_HTTP_PAGES`` (page names, comma-separated: only those, beside the
    baselines — for working on one page; ``BENCH_HTTP_PAGES=list`` prints the
    names).
"""

from __future__ import annotations

import http.client
import math
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

import psycopg2
from django.db import connection

from benchmarks import data, scale, server
from benchmarks.data import STAFF_PASSWORD
from benchmarks.figures import add_figure, percentile

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = int(os.environ.get("BENCH_HTTP_CLIENTS", "8"))
WORKERS = int(os.environ.get("BENCH_HTTP_WORKERS", "2"))
SECONDS = float(os.environ.get("BENCH_HTTP_SECONDS", "8"))
WARMUP_SECONDS = float(os.environ.get("BENCH_HTTP_WARMUP_SECONDS", "2"))
LIST_P95_TARGET = 0.100  # seconds, at 1 000 000 issues (issue 14)
GROWTH_TARGET = 1.25  # p95 at 5 000 000 issues against the p95 at 1 000 000
REFERENCE_SIZE = scale.DEFAULT_ISSUES
OFFICER, SUPERVISOR = "officer1", "sergeant1"
SINGLE_SAMPLE = 1000
# More than a window can ask at the no-database view's pace: a built-afresh path is never asked twice.
BUILT_PATHS = 100_000
NO_DATABASE = "no_database"
_CSRF_COOKIE = re.compile(r"csrftoken=([^;]+)")
_SESSION_COOKIE = re.compile(r"sessionid=([^;]+)")
_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _log(message: str) -> None:
    print(f"[bench http] {message}", flush=True)


def _sizes() -> list[int]:
    raw = os.environ.get("BENCH_HTTP_SIZES", f"{REFERENCE_SIZE},5000000")
    sizes = [scale.parse_issues(item) for item in raw.split(",") if item.strip()]
    if not sizes:
        raise ValueError("BENCH_HTTP_SIZES names no size")
    return list(dict.fromkeys(sizes))


# --- what is measured --------------------------------------------------------------------


@dataclass
class Sample:
    """What the pages of one database are asked for: ids, codes and filter values that exist there."""

    category_id: int
    service_code: str
    neighborhood_id: int
    issue_ids: list[int]
    public_codes: list[str]
    issue_with_events: int
    problem_with_events: int


@dataclass(frozen=True)
class Page:
    name: str  # the figure key's part
    label: str
    kind: str  # "baseline", "list" or "single"
    role: str  # "anonymous", "officer", "supervisor" or "api"
    paths: Callable[[Sample], list[str]]


def _fixed(path: str) -> Callable[[Sample], list[str]]:
    return lambda sample: [path]


def _issues(**query) -> Callable[[Sample], list[str]]:
    def paths(sample: Sample) -> list[str]:
        values = {key: value(sample) if callable(value) else value for key, value in query.items()}
        return [f"/issues/?{urlencode(values)}" if values else "/issues/"]

    return paths


def _open311(fmt: str, **query) -> Callable[[Sample], list[str]]:
    def paths(sample: Sample) -> list[str]:
        values = {key: value(sample) if callable(value) else value for key, value in query.items()}
        return [f"/open311/v2/requests.{fmt}" + (f"?{urlencode(values)}" if values else "")]

    return paths


def _open311_built(fmt: str) -> Callable[[Sample], list[str]]:
    """The default search, each request with a cache-buster (``_=``, as jQuery's ``cache: false``
    adds) never sent before, in this window or any other: no answer is kept for it, as when the
    database changed since the last request (``cases.open311.views._kept``)."""

    def paths(sample: Sample) -> list[str]:
        window = uuid.uuid4().hex[:12]
        return [f"/open311/v2/requests.{fmt}?_={window}{n}" for n in range(BUILT_PATHS)]

    return paths


PAGES: tuple[Page, ...] = (
    Page("no_database", "no-database view (GET /bench/ok/)", "baseline", "anonymous", _fixed("/bench/ok/")),
    Page("healthz", "/healthz", "baseline", "anonymous", _fixed("/healthz")),
    Page("queue", "/queue/ (officer)", "list", "officer", _fixed("/queue/")),
    Page("issues", "/issues/ (supervisor)", "list", "supervisor", _issues()),
    Page("issues_open", "/issues/?status=open", "list", "supervisor", _issues(status="open")),
    Page(
        "issues_category",
        "/issues/?category= (the busiest category)",
        "list",
        "supervisor",
        _issues(category=lambda s: s.category_id),
    ),
    Page(
        "issues_neighborhood",
        "/issues/?neighborhood= (the busiest neighborhood)",
        "list",
        "supervisor",
        _issues(neighborhood=lambda s: s.neighborhood_id),
    ),
    Page("issues_priority", "/issues/?priority=urgent", "list", "supervisor", _issues(priority="urgent")),
    Page("issues_overdue", "/issues/?overdue=yes", "list", "supervisor", _issues(overdue="yes")),
    Page("issues_escalated", "/issues/?escalation=1", "list", "supervisor", _issues(escalation="1")),
    Page("issues_unassigned", "/issues/?assignee=unassigned", "list", "supervisor", _issues(assignee="unassigned")),
    # An officer's: no issue is assigned to a supervisor in the bench data, an officer has 1 in 200.
    Page("issues_mine", "/issues/?assignee=me (officer)", "list", "officer", _issues(assignee="me")),
    Page(
        "issues_search", "/issues/?q=problem (a word of every description)", "list", "supervisor", _issues(q="problem")
    ),
    Page(
        "issues_search_rare",
        "/issues/?q=4711 Main (an address, 1 issue in 8 900)",
        "list",
        "supervisor",
        _issues(q="4711 Main"),
    ),
    Page("outreach", "/outreach/", "list", "supervisor", _fixed("/outreach/")),
    Page("partners", "/partners/", "list", "supervisor", _fixed("/partners/")),
    Page("problems", "/problems/", "list", "supervisor", _fixed("/problems/")),
    Page("notifications", "/notifications/ (supervisor)", "list", "supervisor", _fixed("/notifications/")),
    Page("api_issues", "/api/v1/issues/", "list", "api", _fixed("/api/v1/issues/")),
    Page(
        "api_issue_events",
        "/api/v1/issues/<id>/events/",
        "list",
        "api",
        lambda s: [f"/api/v1/issues/{s.issue_with_events}/events/"],
    ),
    Page("api_reports", "/api/v1/reports/", "list", "api", _fixed("/api/v1/reports/")),
    Page("api_escalations", "/api/v1/escalations/", "list", "api", _fixed("/api/v1/escalations/")),
    Page("api_problems", "/api/v1/problems/", "list", "api", _fixed("/api/v1/problems/")),
    Page(
        "api_problem_events",
        "/api/v1/problems/<id>/events/",
        "list",
        "api",
        lambda s: [f"/api/v1/problems/{s.problem_with_events}/events/"],
    ),
    Page("api_notifications", "/api/v1/notifications/", "list", "api", _fixed("/api/v1/notifications/")),
    Page("api_activities", "/api/v1/activities/", "list", "api", _fixed("/api/v1/activities/")),
    Page("api_partners", "/api/v1/partners/", "list", "api", _fixed("/api/v1/partners/")),
    Page("api_categories", "/api/v1/categories/", "list", "api", _fixed("/api/v1/categories/")),
    Page("api_neighborhoods", "/api/v1/neighborhoods/", "list", "api", _fixed("/api/v1/neighborhoods/")),
    Page("api_staff", "/api/v1/staff/", "list", "api", _fixed("/api/v1/staff/")),
    Page("open311_json", "/open311/v2/requests.json", "list", "anonymous", _open311("json")),
    Page("open311_xml", "/open311/v2/requests.xml", "list", "anonymous", _open311("xml")),
    Page(
        "open311_json_built",
        "/open311/v2/requests.json, each answer built afresh (no kept answer)",
        "list",
        "anonymous",
        _open311_built("json"),
    ),
    Page(
        "open311_xml_built",
        "/open311/v2/requests.xml, each answer built afresh",
        "list",
        "anonymous",
        _open311_built("xml"),
    ),
    Page(
        "open311_service_json",
        "/open311/v2/requests.json?service_code= (the busiest category)",
        "list",
        "anonymous",
        _open311("json", service_code=lambda s: s.service_code),
    ),
    Page(
        "open311_service_xml",
        "/open311/v2/requests.xml?service_code=",
        "list",
        "anonymous",
        _open311("xml", service_code=lambda s: s.service_code),
    ),
    Page(
        "open311_open_json",
        "/open311/v2/requests.json?status=open",
        "list",
        "anonymous",
        _open311("json", status="open"),
    ),
    Page(
        "open311_open_xml", "/open311/v2/requests.xml?status=open", "list", "anonymous", _open311("xml", status="open")
    ),
    Page(
        "issue_detail",
        "/issues/<id>/ (supervisor; 1 000 issues in turn)",
        "single",
        "supervisor",
        lambda s: [f"/issues/{pk}/" for pk in s.issue_ids],
    ),
    Page(
        "report_status",
        "/report/<tracking code>/ (public; 1 000 issues in turn)",
        "single",
        "anonymous",
        lambda s: [f"/report/{quote(code)}/" for code in s.public_codes],
    ),
    Page(
        "open311_request",
        "/open311/v2/requests/<id>.json (1 000 issues in turn)",
        "single",
        "anonymous",
        lambda s: [f"/open311/v2/requests/{quote(code)}.json" for code in s.public_codes],
    ),
)


def _pages() -> list[Page]:
    wanted = {name.strip() for name in os.environ.get("BENCH_HTTP_PAGES", "").split(",") if name.strip()}
    if wanted == {"list"}:
        for page in PAGES:
            print(f"  {page.name:24} {page.kind:8} {page.label}")
        raise SystemExit(0)
    unknown = wanted - {page.name for page in PAGES}
    if unknown:
        raise ValueError(f"BENCH_HTTP_PAGES names no page {sorted(unknown)}; BENCH_HTTP_PAGES=list lists them")
    return [page for page in PAGES if not wanted or page.kind == "baseline" or page.name in wanted]


# --- the database of one size ------------------------------------------------------------


def _connect(url: str):
    conn = psycopg2.connect(url)
    conn.autocommit = True
    return conn


def _ensure_size(size: int, current: int) -> dict:
    """Make the database of this size ready (migrated, loaded); say what is there and how long it took."""
    url = scale.database_url(size)
    started = time.perf_counter()
    if size == current:
        data.escalation_reset()
    else:
        _log(f"{scale.spelled(size)} issues: python -m benchmarks.run --load-only (loads once, then reuses)")
        # BENCH_RELOAD=1 reloads the run's own size, not this one (5 000 000 issues take half an hour).
        env = {**os.environ, "BENCH_ISSUES": str(size), "BENCH_DATABASE_URL": url}
        env.pop("BENCH_RELOAD", None)
        done = subprocess.run([sys.executable, "-m", "benchmarks.run", "--load-only"], cwd=ROOT, env=env, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"loading {scale.spelled(size)} issues into {url} failed (exit {done.returncode})")
    seconds = time.perf_counter() - started
    with _connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT key, value FROM bench_meta")
        meta = dict(cursor.fetchall())
        cursor.execute("SELECT COUNT(*) FROM cases_issue")
        (issues,) = cursor.fetchone()
    conn.close()
    if int(meta.get("issues", issues)) != size or issues != size:
        raise RuntimeError(f"{url} holds {issues} issues (bench_meta: {meta.get('issues')}), not {size}")
    return {
        "database": url.rsplit("/", 1)[-1],
        "issues": issues,
        "loaded_at": meta.get("loaded_at"),
        "bench_now": meta.get("bench_now"),
        "ready_seconds": round(seconds, 1),
    }


def _sample(cursor, size: int) -> Sample:
    cursor.execute("SELECT category_id, COUNT(*) FROM cases_issue GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1")
    category_id = cursor.fetchone()[0]
    cursor.execute("SELECT service_code FROM cases_category WHERE id = %s", [category_id])
    service_code = cursor.fetchone()[0]
    cursor.execute("SELECT neighborhood_id, COUNT(*) FROM cases_issue GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1")
    neighborhood_id = cursor.fetchone()[0]
    # 1 000 ids spread evenly over the table (open ones first in it, finished after), in a shuffled but fixed order.
    wanted = [1 + (k * size) // SINGLE_SAMPLE for k in range(SINGLE_SAMPLE)]
    cursor.execute(
        "SELECT i.id, i.tracking_code, c.is_public FROM cases_issue i JOIN cases_category c ON c.id = i.category_id "
        "WHERE i.id = ANY(%s) ORDER BY md5(i.id::text)",
        [wanted],
    )
    rows = cursor.fetchall()
    issue_ids = [row[0] for row in rows]
    public_codes = [row[1] for row in rows if row[2]]
    cursor.execute("SELECT issue_id FROM cases_event GROUP BY 1 ORDER BY COUNT(*) DESC, 1 LIMIT 1")
    event_row = cursor.fetchone()
    cursor.execute("SELECT problem_id FROM cases_problemevent GROUP BY 1 ORDER BY COUNT(*) DESC, 1 LIMIT 1")
    problem_row = cursor.fetchone()
    if problem_row is None:
        cursor.execute("SELECT MIN(id) FROM cases_problem")
        problem_row = cursor.fetchone()
    return Sample(
        category_id=category_id,
        service_code=service_code,
        neighborhood_id=neighborhood_id,
        issue_ids=issue_ids,
        public_codes=public_codes,
        issue_with_events=event_row[0] if event_row else issue_ids[0],
        problem_with_events=problem_row[0],
    )


def _user_id(cursor, username: str) -> int:
    cursor.execute("SELECT id FROM auth_user WHERE username = %s", [username])
    row = cursor.fetchone()
    if row is None:
        raise RuntimeError(f"the bench data has no user {username}")
    return row[0]


def _token_create(cursor, username: str) -> str:
    key = secrets.token_hex(20)
    cursor.execute(
        "INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, now(), %s) "
        "ON CONFLICT (user_id) DO UPDATE SET key = EXCLUDED.key, created = EXCLUDED.created",
        [key, _user_id(cursor, username)],
    )
    return key


# --- the clients -------------------------------------------------------------------------


def _sign_in(port: int, username: str) -> str:
    """The session cookie of ``username``, signed in through the real sign-in form."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    status, headers, page = server.request(conn, "GET", "/accounts/login/")
    cookie = _CSRF_COOKIE.search("; ".join(headers.get_all("Set-Cookie") or []))
    token = _TOKEN.search(page.decode())
    if status != 200 or cookie is None or token is None:
        raise RuntimeError(f"GET /accounts/login/ gave no CSRF cookie and token (status {status})")
    body = urlencode({"csrfmiddlewaretoken": token.group(1), "username": username, "password": STAFF_PASSWORD})
    status, headers, _ = server.request(
        conn,
        "POST",
        "/accounts/login/",
        body.encode(),
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookie.group(1)}",
            "Origin": f"https://{server.HOST}",
            "Referer": f"https://{server.HOST}/accounts/login/",
        },
    )
    session = _SESSION_COOKIE.search("; ".join(headers.get_all("Set-Cookie") or []))
    conn.close()
    if status != 302 or session is None:
        raise RuntimeError(f"signing in as {username} failed: status {status}, no session cookie")
    return session.group(1)


@dataclass
class Auth:
    sessions: dict[str, str]  # role → session key
    token: str

    def headers(self, role: str) -> dict[str, str]:
        if role == "api":
            return {"Authorization": f"Token {self.token}", "Accept": "application/json"}
        if role in self.sessions:
            return {"Cookie": f"sessionid={self.sessions[role]}"}
        return {}


@dataclass
class Measured:
    """One page's timed window(s) at one size."""

    page: Page
    latencies: list[float] = field(default_factory=list)  # of the 200 answers only
    statuses: dict[int, int] = field(default_factory=dict)  # 0: a refused or broken connection
    seconds: float = 0.0
    worker_cpu: float = 0.0
    database_cpu: float = 0.0
    client_cpu: float = 0.0
    machine_busy: float = 0.0
    machine_total: float = 0.0
    windows: list[dict] = field(default_factory=list)

    @property
    def answers(self) -> int:
        return sum(self.statuses.values())

    @property
    def ok(self) -> int:
        return self.statuses.get(200, 0)

    @property
    def failures(self) -> int:
        return self.answers - self.ok

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def pct(self, value: float) -> float:
        """A percentile of the 200 answers' latencies (NaN when there was none: the page failed throughout)."""
        return percentile(self.latencies, value) if self.latencies else math.nan


class Bench:
    """The gunicorn of one size, its signed-in roles, and the pages' paths there."""

    def __init__(self, port: int, gunicorn, auth: Auth, sample: Sample, db_cursor):
        self.port = port
        self.gunicorn = gunicorn
        self.auth = auth
        self.sample = sample
        self.db_cursor = db_cursor

    def probe(self, page: Page) -> list[str]:
        """Every distinct path of the page once (the single reads: the first few); what did not answer 200."""
        paths = page.paths(self.sample)
        problems = []
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        for path in paths[:3]:
            status, headers, _ = server.request(conn, "GET", path, headers=self.auth.headers(page.role))
            if status != 200:
                where = headers.get("Location")
                problems.append(f"{page.name}: GET {path} → {status}" + (f" (Location: {where})" if where else ""))
        conn.close()
        return problems

    def window(self, page: Page, seconds: float, measured: Measured | None) -> None:
        """CLIENTS threads request the page back to back for ``seconds``; tallied into ``measured`` unless None."""
        paths = page.paths(self.sample)
        headers = self.auth.headers(page.role)
        outs: list[list[tuple[int | None, float]]] = [[] for _ in range(CLIENTS)]
        barrier = threading.Barrier(CLIENTS + 1)
        deadline_box: list[float] = []

        def loop(index: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            out, step, count = outs[index], len(paths), index * max(1, len(paths) // CLIENTS)
            barrier.wait()
            deadline = deadline_box[0]
            clock = time.perf_counter
            while clock() < deadline:
                path = paths[count % step]
                count += 1
                started = clock()
                try:
                    status, _, _ = server.request(conn, "GET", path, headers=headers)
                except OSError:
                    conn.close()
                    status = None
                out.append((status, clock() - started))
            conn.close()

        threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        workers_before = server.cpu_by_pid(server.worker_pids(self.gunicorn))
        backends_before = server.cpu_by_pid(server.backend_pids(self.db_cursor))
        client_before, machine_before = time.process_time(), server.machine_cpu()
        started = time.perf_counter()
        deadline_box.append(started + seconds)
        barrier.wait()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        if measured is None:
            return
        measured.client_cpu += time.process_time() - client_before
        machine_after = server.machine_cpu()
        measured.machine_busy += machine_after[0] - machine_before[0]
        measured.machine_total += machine_after[1] - machine_before[1]
        measured.worker_cpu += server.cpu_used(workers_before, server.cpu_by_pid(server.worker_pids(self.gunicorn)))
        measured.database_cpu += server.cpu_used(
            backends_before, server.cpu_by_pid(server.backend_pids(self.db_cursor))
        )
        measured.seconds += elapsed
        this_window = [latency for out in outs for status, latency in out if status == 200]
        measured.latencies += this_window
        for out in outs:
            for status, _ in out:
                code = status or 0
                measured.statuses[code] = measured.statuses.get(code, 0) + 1
        measured.windows.append(
            {
                "seconds": round(elapsed, 2),
                "answers": len(this_window),
                "p95": round(percentile(this_window, 95), 6) if this_window else None,
                "per_second": round(len(this_window) / elapsed, 1),
            }
        )

    def measure(self, page: Page, measured: Measured | None = None) -> Measured:
        measured = measured or Measured(page)
        self.window(page, WARMUP_SECONDS, None)
        self.window(page, SECONDS, measured)
        bad = {status: n for status, n in measured.statuses.items() if status != 200}
        _log(
            f"  {page.name:22} p50 {measured.pct(50) * 1000:7.1f} ms  p95 {measured.pct(95) * 1000:7.1f} ms  "
            f"p99 {measured.pct(99) * 1000:7.1f} ms  {measured.per_second:7.1f}/s"
            + (f"  ✘ non-200 answers {bad}" if bad else "")
        )
        return measured


# --- one size ----------------------------------------------------------------------------


def _measure_size(size: int, pages: list[Page], sample: Sample, static_env: dict, tmp: Path) -> dict[str, Measured]:
    url = scale.database_url(size)
    db = _connect(url)
    cursor = db.cursor()
    token = _token_create(cursor, SUPERVISOR)
    env = {**static_env, "DATABASE_URL": url}
    port = server.free_port()
    gunicorn = server.start_gunicorn(env, tmp, port, workers=WORKERS, ready_path="/bench/ok/", log=_log)
    sessions: dict[str, str] = {}
    try:
        sessions = {"officer": _sign_in(port, OFFICER), "supervisor": _sign_in(port, SUPERVISOR)}
        bench = Bench(port, gunicorn, Auth(sessions, token), sample, cursor)
        problems = [problem for page in pages for problem in bench.probe(page)]
        if problems:
            raise RuntimeError(
                f"at {scale.spelled(size)} issues, pages that do not answer 200 (nothing was timed):\n  "
                + "\n  ".join(problems)
            )
        _log(
            f"{scale.spelled(size)} issues ({url.rsplit('/', 1)[-1]}): {len(pages)} pages, {CLIENTS} clients, "
            f"{WORKERS} workers, {WARMUP_SECONDS:g} s warm-up + {SECONDS:g} s each"
        )
        measured: dict[str, Measured] = {}
        for page in pages:
            measured[page.name] = bench.measure(page)
        # The no-database view again, last: both windows are its baseline, so a machine that got busier or
        # quieter during the run moves the baseline too (each window is kept in the figure).
        no_database = next(page for page in pages if page.name == NO_DATABASE)
        bench.measure(no_database, measured[NO_DATABASE])
        return measured
    finally:
        server.stop(gunicorn)
        cursor.execute("DELETE FROM authtoken_token WHERE key = %s", [token])
        if sessions:
            cursor.execute("DELETE FROM django_session WHERE session_key = ANY(%s)", [list(sessions.values())])
        db.close()


# --- figures -----------------------------------------------------------------------------


def _extra(m: Measured, path: str) -> dict:
    return {
        "path": path,
        "kind": m.page.kind,
        "p50": round(m.pct(50), 6),
        "p95": round(m.pct(95), 6),
        "p99": round(m.pct(99), 6),
        "per_second": round(m.per_second, 1),
        "answers": m.answers,
        "failures": m.failures,
        "statuses": {str(k): v for k, v in sorted(m.statuses.items())},
        "seconds": round(m.seconds, 2),
        "worker_cpu_ms_per_answer": round(1000 * m.worker_cpu / m.answers, 2) if m.answers else None,
        "database_cpu_ms_per_answer": round(1000 * m.database_cpu / m.answers, 2) if m.answers else None,
        "client_cpu_share": round(m.client_cpu / m.seconds, 3) if m.seconds else None,
        # Every core's, whoever used it (the server, PostgreSQL, the clients, anything else running).
        "machine_cpu_busy": round(m.machine_busy / m.machine_total, 3) if m.machine_total else None,
        "clients": CLIENTS,
        "workers": WORKERS,
    }


def _figures(results: dict, size: int, measured: dict[str, Measured], sample: Sample | None) -> None:
    tag = scale.label(size)
    floor = measured[NO_DATABASE]
    floor_p95, floor_rate = floor.pct(95), floor.per_second
    for name, m in measured.items():
        if not m.latencies:
            continue  # no 200 answer: counted below as failures only
        page = m.page
        paths = page.paths(sample) if sample else []
        path = paths[0] if len(paths) == 1 else page.label
        extra = _extra(m, path)
        extra["windows"] = m.windows
        target = {"max_value": LIST_P95_TARGET} if page.kind == "list" and size == REFERENCE_SIZE else None
        add_figure(
            results,
            f"http.{tag}.{name}.p95",
            label=f"{page.label} at {scale.spelled(size)} issues: p95",
            value=m.pct(95),
            unit="s",
            baseline_label="no-database view's p95, same run",
            baseline_value=floor_p95 if name != NO_DATABASE else None,
            target=target,
            extra=extra,
        )
        add_figure(
            results,
            f"http.{tag}.{name}.per_second",
            label=f"{page.label} at {scale.spelled(size)} issues: answers per second",
            value=m.per_second,
            unit="req/s",
            baseline_label="no-database view, same run",
            baseline_value=floor_rate if name != NO_DATABASE else None,
        )
    failures = sum(m.failures for m in measured.values())
    add_figure(
        results,
        f"http.{tag}.failures",
        label=f"Non-200 answers and refused connections at {scale.spelled(size)} issues (every page)",
        value=failures,
        unit="count",
        target={"max_value": 0},
        extra={"by_page": {name: m.failures for name, m in measured.items() if m.failures}},
    )


def _growth(results: dict, size: int, measured: dict[str, Measured], reference: dict[str, Measured]) -> None:
    tag = scale.label(size)
    for name, m in measured.items():
        if name not in reference or not m.latencies or not reference[name].latencies:
            continue
        add_figure(
            results,
            f"http.{tag}.{name}.p95_vs_{scale.label(REFERENCE_SIZE)}",
            label=f"{m.page.label}: p95 at {scale.spelled(size)} issues against {scale.spelled(REFERENCE_SIZE)}",
            value=m.pct(95),
            unit="s",
            baseline_label=f"its p95 at {scale.spelled(REFERENCE_SIZE)} issues, same run",
            baseline_value=reference[name].pct(95),
            target={"max_ratio": GROWTH_TARGET} if m.page.kind != "baseline" else None,
        )


def _table(size: int, measured: dict[str, Measured], reference: dict[str, Measured] | None) -> None:
    floor_rate = measured[NO_DATABASE].per_second
    print(f"\n[bench http] {scale.spelled(size)} issues, {CLIENTS} clients, {WORKERS} workers", flush=True)
    head = f"  {'page':24} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8} {'× no-db':>8}"
    print(head + (f" {'p95 ×1m':>8}" if reference else ""), flush=True)
    for name, m in measured.items():
        line = (
            f"  {name:24} {m.pct(50) * 1000:8.1f} {m.pct(95) * 1000:8.1f} {m.pct(99) * 1000:8.1f} "
            f"{m.per_second:8.1f} {m.per_second / floor_rate if floor_rate else 0:8.3f}"
        )
        if reference and name in reference:
            line += f" {m.pct(95) / reference[name].pct(95):8.2f}"
        if m.page.kind == "list" and size == REFERENCE_SIZE and m.pct(95) > LIST_P95_TARGET:
            line += "  ✘ p95 > 100 ms"
        if m.failures:
            line += f"  ✘ {m.failures} non-200"
        print(line, flush=True)
    print(flush=True)


def run(results: dict) -> None:
    pages = _pages()
    sizes = _sizes()
    current = int(results["data"]["issues"])
    ready = {size: _ensure_size(size, current) for size in sizes}
    results.setdefault("http", {})["sizes"] = {scale.label(size): info for size, info in ready.items()}
    # The bench's own Django connection stays out of the way (and out of the database sessions' CPU).
    connection.close()
    tmp = Path(tempfile.mkdtemp(prefix="cg-http-"))
    measured_by_size: dict[int, dict[str, Measured]] = {}
    samples: dict[int, Sample] = {}
    try:
        env = server.server_env(
            tmp,
            database_url=scale.database_url(sizes[0]),
            extra={"API_THROTTLE_USER": "1000000/s", "API_THROTTLE_ANON": "1000000/s"},
        )
        server.collectstatic(env, _log)
        for size in sizes:
            with _connect(scale.database_url(size)) as db, db.cursor() as cursor:
                samples[size] = _sample(cursor, size)
            db.close()
            load_before = os.getloadavg()
            started = time.perf_counter()
            measured_by_size[size] = _measure_size(size, pages, samples[size], env, tmp)
            # The machine's load around the measurement (the run itself adds about two): other work on the
            # 2 cores shows here.
            results["http"]["sizes"][scale.label(size)].update(
                {
                    "measured_seconds": round(time.perf_counter() - started, 1),
                    "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in os.getloadavg()],
                }
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    reference = measured_by_size.get(REFERENCE_SIZE)
    for size, measured in measured_by_size.items():
        _figures(results, size, measured, samples[size])
        if reference is not None and size != REFERENCE_SIZE:
            _growth(results, size, measured, reference)
    for size, measured in measured_by_size.items():
        _table(size, measured, reference if size != REFERENCE_SIZE else None)
    failed = {
        scale.label(size): {name: m.failures for name, m in measured.items() if m.failures}
        for size, measured in measured_by_size.items()
    }
    failed = {size: pages for size, pages in failed.items() if pages}
    if failed:
        raise RuntimeError(f"pages answered other than 200 while timed (figures written): {failed}")


# --- the README's table ------------------------------------------------------------------


def readme_table(bench: dict) -> str:
    """The HTTP section's figures in ``var/bench.json`` as the README's markdown table."""
    figures = bench["figures"]
    reference, larger = scale.label(REFERENCE_SIZE), None
    for tag in sorted({key.split(".")[1] for key in figures if key.startswith("http.")}):
        if tag != reference:
            larger = tag
    floor = figures[f"http.{reference}.{NO_DATABASE}.p95"]
    big_size = bench.get("http", {}).get("sizes", {}).get(larger, {}).get("issues") if larger else None
    big_name = scale.spelled(big_size) if big_size else larger
    rows = [
        f"| page | p50 / p95 / p99, {scale.spelled(REFERENCE_SIZE)} issues | req/s (× no-database view) "
        + (f"| p95, {big_name} issues | ÷ p95 at {scale.spelled(REFERENCE_SIZE)} " if larger else "")
        + "|",
        "|---|---|---|" + ("---|---|" if larger else ""),
    ]
    for page in PAGES:
        p95 = figures.get(f"http.{reference}.{page.name}.p95")
        if p95 is None:
            continue
        rate = figures[f"http.{reference}.{page.name}.per_second"]
        latency = f"{p95['p50'] * 1000:.0f} / {p95['p95'] * 1000:.0f} / {p95['p99'] * 1000:.0f} ms"
        if "met" in p95:
            latency += " ✔" if p95["met"] else " ✘"
        ratio = f" ({rate['ratio']:.3f}×)" if rate.get("ratio") is not None else ""
        row = f"| {page.label} | {latency} | {rate['value']:.0f}{ratio} "
        if larger:
            growth = figures.get(f"http.{larger}.{page.name}.p95_vs_{reference}")
            big = figures.get(f"http.{larger}.{page.name}.p95")
            row += f"| {big['value'] * 1000:.0f} ms " if big else "| "
            if growth:
                row += (
                    f"| {growth['ratio']:.2f}×" + ((" ✔" if growth["met"] else " ✘") if "met" in growth else "") + " "
                )
            else:
                row += "| "
        rows.append(row + "|")
    rows.append("")
    rows.append(
        f"No-database view at {reference}: {floor['p50'] * 1000:.1f} / {floor['p95'] * 1000:.1f} / "
        f"{floor['p99'] * 1000:.1f} ms, {floor['per_second']:.0f} req/s."
    )
    return "\n".join(rows)


if __name__ == "__main__":
    import json

    # ``python -m benchmarks.http [results.json]``: var/bench.json unless another run's copy is named.
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "var" / "bench.json"
    print(readme_table(json.loads(path.read_text())))
