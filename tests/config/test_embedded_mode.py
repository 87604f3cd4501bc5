"""The embedded mode is a first-class target: the API check and the role crawl against it.

``make run`` is started here as a department would start it — SQLite and the file-system
broker under a fresh VAR_DIR, migrate, seed_demo, then the web server, the worker and
beat (config/devserver.py) — and then schemathesis calls every API operation with
generated input and the crawler visits every page as each role, in English and
Spanish: nothing may answer 500. The suite's other tests run PostgreSQL; this is what
catches a query the embedded SQLite cannot run.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import schemathesis

from cases.models import Issue, Problem
from cases.web.staff.forms import ACTIONS
from tests.api import test_schemathesis as api_check
from tests.crawl import Crawler, url_map_routes
from tests.redis_server import free_port
from tests.stack import ROOT, _process_env, _tail

pytestmark = [pytest.mark.slow, pytest.mark.worker]

DEMO_PASSWORD = "commonground"
VENV = Path(sys.executable).parent.parent


class EmbeddedServer:
    def __init__(self, var: Path, port: int):
        self.var = var
        self.port = port
        self.log = var.parent / "make-run.log"
        self.env = _process_env(
            {
                "VAR_DIR": str(var),
                # The API check sends hundreds of requests a minute per user; the budgets are not
                # what it is about (the throttles are tested on their own).
                **{f"API_THROTTLE_{scope}": "100000/min" for scope in ("USER", "ANON", "WRITE", "CONTACTS", "STATS")},
            }
        )
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database(self) -> Path:
        return self.var / "commonground.sqlite3"

    def start(self) -> EmbeddedServer:
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                ["make", "--no-print-directory", "run", f"VENV={VENV}", f"PORT={self.port}"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"make run exited with {self.process.returncode}:\n{_tail(self.log)}")
            if "CommonGround is running at" in self.log.read_text(errors="replace"):
                try:
                    if requests.get(self.url + "/healthz", timeout=5).status_code == 200:
                        return self
                except requests.RequestException:
                    pass
            time.sleep(0.5)
        raise AssertionError(f"make run did not come up:\n{_tail(self.log)}")

    def checked_manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def stop(self) -> None:
        """Ctrl-C, as the person at the terminal would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def ids(self, sql: str, params=()) -> list[int]:
        connection = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=30)
        try:
            return [row[0] for row in connection.execute(sql, params)]
        finally:
            connection.close()


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    server = EmbeddedServer(tmp_path_factory.mktemp("embedded") / "var", free_port())
    try:
        yield server.start()
    finally:
        server.stop()


def _in(values) -> str:
    return "(" + ",".join(f"'{value}'" for value in values) + ")"


def known_in_sqlite(server: EmbeddedServer, username: str):
    """Existing ids by collection, read from the embedded database (the API check steers to them);
    notifications are the user's own (anyone else's is a 404: the demo has hundreds, most of them
    other people's, and a run whose six examples all fell on those never saw a 2xx)."""
    open_ = _in(Issue.OPEN_STATUSES)
    tables = {
        "issues": "SELECT id FROM cases_issue",
        "reports": "SELECT id FROM cases_report",
        "categories": "SELECT id FROM cases_category",
        "neighborhoods": "SELECT id FROM partners_neighborhood",
        "partners": "SELECT id FROM partners_partner",
        "activities": "SELECT id FROM outreach_activity",
        "escalations": "SELECT id FROM cases_escalation",
        "notifications": (
            "SELECT n.id FROM cases_notification n JOIN auth_user u ON u.id = n.user_id "
            f"WHERE u.username = '{username}'"
        ),
        # People issues can be assigned to (the decision's and the actions' "officer").
        "staff": (
            "SELECT ug.user_id FROM auth_user_groups ug JOIN auth_group g ON g.id = ug.group_id "
            "WHERE g.name = 'Officer'"
        ),
        "problems": "SELECT id FROM cases_problem",
        "open_issues": f"SELECT id FROM cases_issue WHERE status IN {open_}",
        "grouped_issues": "SELECT id FROM cases_issue WHERE problem_id IS NOT NULL",
        "free_issues": f"SELECT id FROM cases_issue WHERE status IN {open_} AND problem_id IS NULL",
        "grouping_problems": (
            "SELECT DISTINCT p.id FROM cases_problem p JOIN cases_issue i ON i.problem_id = p.id "
            f"WHERE p.stage <> '{Problem.Stage.CLOSED}'"
        ),
        "open_problems": f"SELECT id FROM cases_problem WHERE stage <> '{Problem.Stage.CLOSED}'",
        # Waiting for a decision, and free to start a Problem around (the third decision).
        "issues:decision": "SELECT id FROM cases_issue WHERE needs_decision AND problem_id IS NULL",
    }

    def known(collection: str) -> list[int]:
        if collection.startswith("problem_issues:"):
            return server.ids("SELECT id FROM cases_issue WHERE problem_id = ?", [int(collection.split(":")[1])])
        if collection.startswith("problem_moves:"):
            stages = server.ids("SELECT stage FROM cases_problem WHERE id = ?", [int(collection.split(":")[1])])
            return api_check.problem_moves_from(stages[0] if stages else None)
        if collection.startswith("issues:") and collection != "issues:decision":
            statuses = ACTIONS[collection.split(":", 1)[1]].statuses
            return server.ids(f"SELECT id FROM cases_issue WHERE status IN {_in(statuses)} ORDER BY id LIMIT 300")
        sql = tables.get(collection)
        return server.ids(sql + " ORDER BY 1 LIMIT 300") if sql else []

    return known


def test_the_api_conforms_to_its_schema_on_sqlite(embedded):
    tokens = {}
    for username in ("officer", "supervisor"):
        out = embedded.checked_manage("drf_create_token", username)
        tokens[username] = out.split()[2]  # "Generated token <key> for user <name>"
    schema = schemathesis.openapi.from_url(f"{embedded.url}/api/schema/?format=json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    failures, seen = [], {}
    for who, key in tokens.items():
        known = known_in_sqlite(embedded, who)
        headers = {"Authorization": f"Token {key}"}
        for operation in operations:
            run = api_check.runner(
                operation,
                base_url=embedded.url,
                headers=headers,
                ids={},
                seen=seen.setdefault(who, {}),
                known_ids=known,
                max_examples=EXAMPLES_PER_OPERATION,
            )
            try:
                run()
            except (Exception, BaseExceptionGroup) as error:  # every operation's failure, reported together
                failures.append(f"{who} {operation.label}: {error}"[:3000])
    assert not failures, "\n\n".join(failures) + "\n" + _tail(embedded.log)
    succeeded = {
        label for by_op in seen.values() for label, codes in by_op.items() if any(200 <= c < 300 for c in codes)
    }
    missing = sorted({op.label for op in operations} - succeeded)
    assert not missing, {label: {who: sorted(seen[who].get(label, ())) for who in seen} for label in missing}


EXAMPLES_PER_OPERATION = 6


# Each role once: every crawl visits the English and the /es/ routes alike (the URL decides the
# language of a page, not the browser's), so the browser's language alternates between roles.
@pytest.mark.parametrize(
    ("role", "language"),
    [(None, "es"), ("officer", "en"), ("supervisor", "es"), ("admin", "en")],
    ids=["anonymous", "officer", "supervisor", "admin"],
)
def test_every_page_answers_below_500_on_sqlite(embedded, role, language):
    crawler = Crawler(embedded.url, language=language, per_route=1)
    if role:
        crawler.checked_login(role, DEMO_PASSWORD)
    result = crawler.crawl()
    assert not result.server_errors, "\n".join(f"{v.status} {v.url}" for v in result.server_errors) + (
        "\n" + _tail(embedded.log)
    )
    assert len(result.visits) >= len(url_map_routes()) // 2
    unserved = {path: status for path, status in result.assets.items() if status != 200}
    assert result.assets and not unserved, unserved


def test_request_log_lines_hold_no_query_strings(embedded):
    crawler = Crawler(embedded.url)
    crawler.checked_login("supervisor", DEMO_PASSWORD)
    assert crawler.request("GET", embedded.url + "/issues/?q=rosa.resident%40example.org").status_code == 200
    time.sleep(0.5)
    log = embedded.log.read_text(errors="replace")
    assert '"GET /issues/ HTTP/1.1" 200' in log
    assert "rosa.resident" not in log and "?q=" not in log
