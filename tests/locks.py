"""Races made on purpose: a test holds a transaction open and waits until a second one (in a
thread, on its own connection) is blocked on it, then commits or rolls back."""

from __future__ import annotations

import threading

from django.db import connection


def backend_pid() -> int:
    """This test's PostgreSQL backend (the transaction the other one will wait on)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    return pid


def wait_until_blocked_on(pid: int, thread: threading.Thread) -> bool:
    """Whether some backend ends up waiting on ``pid``'s locks (checked every 10 ms for 20 s), or
    False as soon as ``thread`` ended without waiting."""
    for _ in range(2000):
        with connection.cursor() as cursor:
            # pg_stat_activity is read once per transaction unless the snapshot is cleared.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid)))", [pid]
            )
            (waiting,) = cursor.fetchone()
        if waiting or not thread.is_alive():
            return waiting
        threading.Event().wait(0.01)
    return False
