"""Redis going away under load is an inconvenience, not an outage.

The production stack (tests/stack.py: gunicorn, worker and beat as docker-compose.yml
starts them) runs against a Redis of the test's own. Residents file reports through the
web form and Open311, staff sign in and work, the public reads /transparency/ — while
that Redis is killed for fifteen seconds and started again. Every answer is below 500,
every accepted report is a row, the notifications written meanwhile wait in the outbox
and go out once Redis is back, and rate limits and the sign-in lockout keep holding
while it is gone (counted in the database, core/cache.py).
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections import Counter
from urllib.parse import urlparse

import psycopg2
import pytest
import requests

pytestmark = [pytest.mark.slow]

DEMO_PASSWORD = "commonground"
OUTAGE_SECONDS = 15
_addresses = itertools.count(1)


def fresh_address() -> str:
    """A client address as the TLS proxy reports it (X-Forwarded-For; one trusted hop)."""
    n = next(_addresses)
    return f"198.51.{n // 250}.{n % 250 + 1}"


class Client:
    """A browser-like client behind the TLS proxy, with its own address."""

    def __init__(self, stack, address: str | None = None):
        self.stack = stack
        self.session = requests.Session()
        self.address = address or fresh_address()

    def headers(self, **extra) -> dict:
        return {**self.stack.headers, "X-Forwarded-For": self.address, **extra}

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        response = self.session.request(
            method,
            self.stack.base_url + path,
            headers=self.headers(**kwargs.pop("headers", {})),
            allow_redirects=False,
            timeout=30,
            **kwargs,
        )
        for cookie in self.session.cookies:  # Secure cookies, kept as a browser behind the proxy would
            cookie.secure = False
        return response

    def checked_form_token(self, path: str) -> str:
        page = self.request("GET", path)
        assert page.status_code == 200, (path, page.status_code)
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)

    def post_form(self, path: str, data: dict, *, to: str | None = None) -> requests.Response:
        """Open the page at ``path`` and send its form (to ``to`` when the form posts elsewhere)."""
        token = self.checked_form_token(path)
        origin = "https://" + urlparse(self.stack.base_url).netloc
        return self.request(
            "POST", to or path, data={"csrfmiddlewaretoken": token, **data}, headers={"Referer": origin + path}
        )

    def sign_in(self, username: str, password: str) -> requests.Response:
        return self.post_form("/accounts/login/", {"username": username, "password": password})


def stack_rows(stack, sql: str, params=()) -> list[tuple]:
    parsed = urlparse(stack.database_url)
    connection = psycopg2.connect(dbname=parsed.path[1:], user=parsed.username, host=parsed.hostname, port=parsed.port)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    finally:
        connection.close()


class Load:
    """Threads that keep using the site and record every answer with whether Redis was up."""

    def __init__(self, stack, redis_state):
        self.stack = stack
        self.redis_state = redis_state
        self.stop = threading.Event()
        self.answers: list[tuple[str, int, str]] = []  # (kind, status, redis state)
        self.lock = threading.Lock()
        self.errors: list[str] = []
        (self.category_id, self.neighborhood_id), *_ = stack_rows(
            stack,
            "SELECT c.id, n.id FROM cases_category c, partners_neighborhood n "
            "WHERE c.is_public AND c.is_active ORDER BY c.id, n.id LIMIT 1",
        )
        (self.issue_id,) = stack_rows(stack, "SELECT id FROM cases_issue ORDER BY id LIMIT 1")[0]
        (self.service_code,) = stack_rows(
            stack, "SELECT service_code FROM cases_category WHERE is_public AND is_active ORDER BY id LIMIT 1"
        )[0]

    def record(self, kind: str, status: int) -> None:
        with self.lock:
            self.answers.append((kind, status, self.redis_state()))

    def run(self, name, body) -> threading.Thread:
        def loop():
            n = 0
            while not self.stop.is_set():
                try:
                    body(n)
                except Exception as exc:  # a dropped connection is as bad as a 500
                    with self.lock:
                        self.errors.append(f"{name}: {exc!r}")
                n += 1

        thread = threading.Thread(target=loop, name=name, daemon=True)
        thread.start()
        return thread

    # --- who uses the site ----------------------------------------------------------------

    def resident(self, n: int) -> None:
        client = Client(self.stack)
        path = "/es/report/" if n % 2 else "/report/"
        data = {
            "category": self.category_id,
            "description": f"Basura tirada en el callejón, número {n}" if n % 2 else f"Dumped mattresses, round {n}",
            "neighborhood": self.neighborhood_id,
            "same_issue": "new",
        }
        if n % 3 == 0:
            data.update(reporter_name="Rosa Resident", reporter_email=f"rosa{n}@example.org", contact_consent="on")
        else:
            data["anonymous"] = "on"
        self.record("report", client.post_form(path, data).status_code)

    def open311(self, n: int) -> None:
        client = Client(self.stack)
        answer = client.request(
            "POST",
            "/open311/v2/requests.json",
            data={
                "api_key": "demo-open311-key",
                "service_code": self.service_code,
                "lat": "39.1067",
                "long": "-94.5810",
                "description": f"Streetlight out on the corner, call {n}",
            },
        )
        self.record("open311", answer.status_code)

    def staff(self, n: int) -> None:
        client = Client(self.stack)
        signed_in = client.sign_in("supervisor" if n % 2 else "officer", DEMO_PASSWORD)
        self.record("sign-in", signed_in.status_code)
        for path in ("/queue/", "/issues/", "/dashboard/" if n % 2 else "/outreach/"):
            self.record(f"staff {path}", client.request("GET", path).status_code)
        if n % 2:  # the supervisor works an issue: an internal note on its timeline
            page = f"/issues/{self.issue_id}/"
            note = client.post_form(
                page, {"text": f"Called the owner, round {n}", "visibility": "internal"}, to=page + "note/"
            )
            self.record("note", note.status_code)

    def public(self, n: int) -> None:
        client = Client(self.stack)
        for path in ("/transparency/", "/es/transparency/", "/"):
            self.record(f"public {path}", client.request("GET", path).status_code)
        time.sleep(0.2)


def test_redis_killed_under_load_loses_nothing_and_limits_hold(production_stack):
    stack = production_stack
    redis = stack.redis
    state = {"redis": "up"}
    load = Load(stack, lambda: state["redis"])
    started_at = stack_rows(stack, "SELECT now()")[0][0]
    threads = [
        load.run("resident-1", load.resident),
        load.run("resident-2", load.resident),
        load.run("open311", load.open311),
        load.run("staff", load.staff),
        load.run("public", load.public),
    ]
    time.sleep(6)

    redis.stop()
    state["redis"] = "down"
    outage_started = time.monotonic()
    time.sleep(3)  # the load meets the outage first

    # Limits keep holding while Redis is gone: a resident address gets its ten reports an
    # hour (REPORT_RATE_LIMIT's default), then 429 with Retry-After …
    abuser = Client(stack)
    data = {
        "category": load.category_id,
        "description": "Same complaint again and again",
        "neighborhood": load.neighborhood_id,
        "same_issue": "new",
        "anonymous": "on",
    }
    limited = [abuser.post_form("/report/", data) for _ in range(11)]
    assert [r.status_code for r in limited] == [302] * 10 + [429]
    assert int(limited[-1].headers["Retry-After"]) > 0
    # … and five wrong passwords lock the username for that address, the right one included.
    guesser = Client(stack)
    failures = [guesser.sign_in("officer2", "wrong-password").status_code for _ in range(5)]
    assert failures[-1] == 429 and set(failures[:-1]) == {200}, failures
    assert guesser.sign_in("officer2", DEMO_PASSWORD).status_code == 429
    assert state["redis"] == "down" and not redis.answers()

    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - outage_started)))
    redis.start()
    state["redis"] = "back"
    # The lockout that began during the outage outlives it (handed back to Redis).
    time.sleep(6)
    assert guesser.sign_in("officer2", DEMO_PASSWORD).status_code == 429
    load.stop.set()
    for thread in threads:
        thread.join(timeout=60)

    assert not load.errors, load.errors[:5]
    by_state = Counter((kind.split()[0], status, redis_state) for kind, status, redis_state in load.answers)
    server_errors = {key: count for key, count in by_state.items() if key[1] >= 500}
    assert not server_errors, f"{server_errors}\n{stack.log_tail('web')}"
    # The site really was used while Redis was down.
    for kind, ok in (
        ("report", 302),
        ("open311", 201),
        ("sign-in", 302),
        ("staff", 200),
        ("note", 302),
        ("public", 200),
    ):
        assert by_state[(kind, ok, "down")] >= 1, (kind, by_state)

    # Every accepted report is a row: web form (302 to the status page) and Open311 (201).
    accepted = sum(1 for kind, status, _ in load.answers if (kind, status) in (("report", 302), ("open311", 201)))
    accepted += 10  # the address that hit its limit
    (rows,) = stack_rows(stack, "SELECT count(*) FROM cases_report WHERE created_at >= %s", [started_at])[0]
    assert rows == accepted
    notes = sum(1 for kind, status, _ in load.answers if (kind, status) == ("note", 302))
    (note_rows,) = stack_rows(
        stack, "SELECT count(*) FROM cases_event WHERE kind = 'note' AND created_at >= %s", [started_at]
    )[0]
    assert note_rows == notes

    # Receipts written while Redis was down waited in the outbox and go out now it is back.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        pending = stack_rows(
            stack,
            "SELECT count(*) FROM cases_outboxmessage WHERE created_at >= %s AND state <> 'sent'",
            [started_at],
        )[0][0]
        if not pending:
            break
        time.sleep(2)
    receipts = stack_rows(
        stack,
        "SELECT count(*), count(*) FILTER (WHERE state = 'sent') FROM cases_outboxmessage "
        "WHERE created_at >= %s AND recipient_email <> ''",
        [started_at],
    )[0]
    assert receipts[0] > 0 and receipts == (receipts[0], receipts[0]), (receipts, stack.log_tail("worker"))
    assert stack.wait_healthy(timeout=30)["broker"]["ok"]
    # The receipts went to the console (no EMAIL_HOST): the worker's log shows them masked.
    worker_log = (stack.logs / "worker.log").read_text(errors="replace")
    assert "To: r***@e***.org" in worker_log
    for log in (worker_log, (stack.logs / "web.log").read_text(errors="replace")):
        assert not re.search(r"rosa\d*@example\.org|Rosa Resident", log)
