"""Each email is claimed, sent and recorded on its own, so a failure mid-drain resends at most
the one message in flight — never a batch — and ``attempts`` counts the sends really tried.

The faults are real: the drain's own PostgreSQL backend is terminated from a second
connection (``pg_terminate_backend``), or the database stops accepting connections
(``ALLOW_CONNECTIONS false``), right after the Nth message has reached the mail server.
The mail server is a test backend that counts what it was given.
"""

import logging
import threading
import time
from collections import Counter
from datetime import timedelta

import psycopg2
import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Notification, OutboxMessage
from cases.notifications import drain as notifications
from cases.notifications.drain import claim_lease, outbox_drain

State = OutboxMessage.State
NOTHING = {"sent": 0, "retrying": 0, "failed": 0}

SENT: list[str] = []  # subjects, in the order the mail server accepted them
EVENTS: list[str] = []  # the mail connection's open / close
FAULTS: dict = {}  # send number → what happens right after that send
SERVER = {"down": False, "delay": 0.0}


class WorkerKilled(BaseException):
    """The worker process dies (not an Exception: nothing in the drain may catch it)."""


class CountingBackend(BaseEmailBackend):
    """A mail server that accepts everything and counts it; it can be down, slow, or trigger a fault."""

    def open(self):
        if SERVER["down"]:
            raise ConnectionRefusedError(111, "Connection refused")
        EVENTS.append("open")

    def close(self):
        EVENTS.append("close")

    def send_messages(self, email_messages):
        for message in email_messages:
            time.sleep(SERVER["delay"])
            SENT.append(message.subject)
            fault = FAULTS.get(len(SENT))
            if fault:
                fault()
        return len(email_messages)


@pytest.fixture
def server(settings):
    SENT.clear()
    EVENTS.clear()
    FAULTS.clear()
    SERVER.update(down=False, delay=0.0)
    settings.EMAIL_BACKEND = f"{__name__}.CountingBackend"
    settings.OUTBOX_CLAIM_LEASE_SECONDS = 600
    yield SENT
    FAULTS.clear()


class PostgresAdmin:
    """A second connection, to the maintenance database, that does to the drain's what an outage would."""

    def __init__(self):
        db = connection.settings_dict
        self.name = db["NAME"]
        self.conn = psycopg2.connect(
            dbname="postgres",
            user=db["USER"],
            password=db["PASSWORD"] or None,
            host=db["HOST"] or "127.0.0.1",
            port=db["PORT"] or 5432,
        )
        self.conn.autocommit = True
        self.terminated: list[int] = []

    def _execute(self, sql, params=None):
        with self.conn.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else None

    def checked_drop_drain_connection(self):
        """Terminate the PostgreSQL backend of the calling thread's connection: the drain's own."""
        pid = connection.connection.info.backend_pid
        # Waits (up to 5 s) until the backend is gone, so the drain's next statement meets a dead connection.
        assert self._execute("SELECT pg_terminate_backend(%s, 5000)", [pid]) == [(True,)]
        self.terminated.append(pid)

    def refuse_connections(self):
        self._execute(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false')
        self.checked_drop_drain_connection()

    def allow_connections(self):
        self._execute(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')


@pytest.fixture
def pg_admin(transactional_db):
    admin = PostgresAdmin()
    try:
        yield admin
    finally:
        admin.allow_connections()  # whatever happened, the rest of the suite needs its database
        admin.conn.close()


def kill_worker():
    raise WorkerKilled


def emails(n, now, *, attempts=0):
    OutboxMessage.objects.bulk_create(
        OutboxMessage(
            channel=OutboxMessage.Channel.EMAIL,
            recipient_email=f"resident{i}@example.org",
            subject=f"Message {i:02d}",
            body="Your report",
            attempts=attempts,
            next_attempt_at=now,
            created_at=now,
        )
        for i in range(n)
    )
    return list(OutboxMessage.objects.filter(subject__startswith="Message ").order_by("subject"))


def rows_by_subject():
    return {m.subject: m for m in OutboxMessage.objects.all()}


def assert_attempts_are_real_sends():
    sends = Counter(SENT)
    assert {s: m.attempts for s, m in rows_by_subject().items()} == {s: sends[s] for s in rows_by_subject()}


@pytest.mark.django_db(transaction=True)
def test_a_connection_dropped_between_sends_resends_nothing(server, pg_admin, caplog):
    now = timezone.now()
    rows = emails(10, now)
    FAULTS[4] = pg_admin.checked_drop_drain_connection  # the 4th send's outcome meets a dead connection
    with caplog.at_level(logging.WARNING, logger="cases.notifications"):
        assert outbox_drain(now=now) == {"sent": 10, "retrying": 0, "failed": 0}
    assert len(pg_admin.terminated) == 1
    assert "database connection lost" in caplog.text  # the fault hit the drain, which reconnected
    # Every lease has run out: a drain now would resend whatever was not recorded.
    assert outbox_drain(now=now + claim_lease() + timedelta(seconds=1)) == NOTHING
    duplicates = {subject: n - 1 for subject, n in Counter(SENT).items() if n > 1}
    assert duplicates == {}
    assert sorted(SENT) == [r.subject for r in rows]
    assert {m.state for m in rows_by_subject().values()} == {State.SENT}
    assert_attempts_are_real_sends()


@pytest.mark.django_db(transaction=True)
def test_a_database_outage_after_a_send_resends_only_the_message_in_flight(server, pg_admin, monkeypatch, caplog):
    monkeypatch.setattr(notifications, "RECONNECT_DELAYS", (0.1, 0.2))
    now = timezone.now()
    rows = emails(10, now)
    FAULTS[4] = pg_admin.refuse_connections  # down right after the 4th send, for the rest of the drain
    with caplog.at_level(logging.WARNING, logger="cases.notifications"):
        first = outbox_drain(now=now)  # ends the run; no unhandled crash
    pg_admin.allow_connections()
    assert first == {"sent": 3, "retrying": 0, "failed": 0}
    assert f"outbox message {rows[3].pk} was sent but could not be recorded" in caplog.text
    assert "outbox drain stopped by a database error" in caplog.text
    assert "example.org" not in caplog.text
    after = rows_by_subject()
    assert [(after[r.subject].state, after[r.subject].attempts) for r in rows] == (
        [(State.SENT, 1)] * 3 + [(State.PENDING, 1)] + [(State.PENDING, 0)] * 6
    )
    in_flight = after[rows[3].subject]
    assert in_flight.next_attempt_at == now + claim_lease()
    # The next scheduled drain sends the rest and leaves the one in flight to its lease…
    assert outbox_drain(now=now + timedelta(seconds=30)) == {"sent": 6, "retrying": 0, "failed": 0}
    # …which, once over, sends it again: the only duplicate.
    assert outbox_drain(now=now + claim_lease() + timedelta(seconds=1)) == {"sent": 1, "retrying": 0, "failed": 0}
    assert outbox_drain(now=now + 2 * claim_lease()) == NOTHING
    duplicates = {subject: n - 1 for subject, n in Counter(SENT).items() if n > 1}
    assert duplicates == {rows[3].subject: 1}
    assert {m.state for m in rows_by_subject().values()} == {State.SENT}
    assert_attempts_are_real_sends()


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_after_a_send_resends_that_message_once_after_its_lease(server):
    now = timezone.now()
    rows = emails(5, now)
    FAULTS[2] = kill_worker
    with pytest.raises(WorkerKilled):
        outbox_drain(now=now)
    assert EVENTS == ["open", "close"]  # the mail connection is closed even so
    after = rows_by_subject()
    assert [(after[r.subject].state, after[r.subject].attempts) for r in rows] == (
        [(State.SENT, 1), (State.PENDING, 1)] + [(State.PENDING, 0)] * 3
    )
    assert outbox_drain(now=now + timedelta(seconds=30)) == {"sent": 3, "retrying": 0, "failed": 0}
    assert outbox_drain(now=now + claim_lease()) == {"sent": 1, "retrying": 0, "failed": 0}
    assert Counter(SENT) == {r.subject: 2 if r == rows[1] else 1 for r in rows}
    assert_attempts_are_real_sends()


@pytest.mark.django_db
def test_a_lease_that_runs_out_with_every_attempt_spent_fails_without_sending_again(server, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    now = timezone.now()
    (row,) = emails(1, now, attempts=1)  # one failed attempt behind it
    FAULTS[1] = kill_worker
    with pytest.raises(WorkerKilled):
        outbox_drain(now=now)
    row.refresh_from_db()
    assert (row.state, row.attempts) == (State.PENDING, 2)
    assert outbox_drain(now=now + claim_lease()) == {"sent": 0, "retrying": 0, "failed": 1}
    row.refresh_from_db()
    assert (row.state, row.attempts, row.last_error) == (State.FAILED, 2, "no outcome recorded for the last attempt")
    assert [row.subject] == SENT


@pytest.mark.django_db
def test_an_unreachable_mail_server_costs_one_attempt_not_one_per_message(server, supervisor, caplog):
    now = timezone.now()
    rows = emails(5, now)
    OutboxMessage.objects.create(
        channel=OutboxMessage.Channel.IN_APP,
        recipient=supervisor,
        subject="In-app",
        body="",
        next_attempt_at=now,
        created_at=now,
    )
    SERVER["down"] = True
    with caplog.at_level(logging.WARNING, logger="cases.notifications"):
        assert outbox_drain(now=now) == {"sent": 1, "retrying": 1, "failed": 0}
    assert "mail server unreachable" in caplog.text
    assert Notification.objects.filter(user=supervisor).count() == 1  # in-app does not wait for the mail server
    after = rows_by_subject()
    assert (after[rows[0].subject].attempts, after[rows[0].subject].next_attempt_at) == (1, now + timedelta(seconds=30))
    assert after[rows[0].subject].last_error == "ConnectionRefusedError"
    assert [(after[r.subject].attempts, after[r.subject].next_attempt_at) for r in rows[1:]] == [(0, now)] * 4
    SERVER["down"] = False
    assert outbox_drain(now=now + timedelta(seconds=5)) == {"sent": 4, "retrying": 0, "failed": 0}
    assert outbox_drain(now=now + timedelta(seconds=30)) == {"sent": 1, "retrying": 0, "failed": 0}
    assert sorted(SENT) == [r.subject for r in rows]


@pytest.mark.django_db(transaction=True)
def test_two_drains_sending_at_the_same_time_never_send_one_message_twice(server):
    SERVER["delay"] = 0.005  # sends take time, so the two drains really interleave
    now = timezone.now()
    rows = emails(60, now)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def drain():
        try:
            barrier.wait()
            results.append(outbox_drain(now=now, batch_size=7))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=drain) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(r["sent"] for r in results)[0] > 0  # both drains sent some
    assert sum(r["sent"] for r in results) == 60
    assert Counter(SENT) == {r.subject: 1 for r in rows}
    assert set(OutboxMessage.objects.values_list("state", "attempts")) == {(State.SENT, 1)}


@pytest.mark.django_db(transaction=True)
def test_one_mail_connection_and_three_statements_per_email(server):
    now = timezone.now()
    emails(20, now)
    with CaptureQueriesContext(connection) as queries:
        assert outbox_drain(now=now) == {"sent": 20, "retrying": 0, "failed": 0}
    assert EVENTS == ["open", "close"]
    # Per email: the claim's SELECT … FOR UPDATE and UPDATE, and the outcome's UPDATE;
    # plus the in-app claim and the email claim that find nothing (left).
    statements = [q["sql"] for q in queries if q["sql"] not in ("BEGIN", "COMMIT")]
    assert len(statements) == 3 * 20 + 2, [sql[:60] for sql in statements]
