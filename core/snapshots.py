"""Per-process copies of small tables that rarely change, checked against the table's stamp.

The resident form looks up its category and resolves its point to a neighborhood
(twice: the form checks the point, the service that files the report checks it
again), on every report, while categories and boundaries change a few times a
year. A ``Snapshot`` keeps what its ``build`` function made of a table (instances
by id, parsed boundaries) and trusts it only while the table's stamp is the one
it was built under: row count, last id, last ``updated_at`` — every save stamps
``updated_at`` (``auto_now``), and a row added or removed moves the count or the
last id.

How often the stamp is read
    The stamps of every snapshot are read together, in one statement, at most once
    per request: a request sees those tables as they were when it first looked, as
    if it had read them then. Outside a request (a task, a management command, a
    test calling a selector) every use reads the stamps.

What the stamp does not see, and what covers it
    A save or delete in this process drops the copy at once (signals): that covers a
    change within one clock tick, inside one transaction (tests), or earlier in the
    same request. An ``UPDATE`` that bypasses ``save()`` (``QuerySet.update``) and
    keeps the count, last id and last ``updated_at`` is not seen by other
    processes; nothing in the code base writes these tables that way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from django.core.signals import request_finished, request_started
from django.db import connections, router
from django.db.models.signals import post_delete, post_save

from core import prepared

T = TypeVar("T")
_MISSING = object()

# Per thread: whether this thread is inside a request, and whether the stamps were read in it.
_request = threading.local()
_snapshots: list[Snapshot] = []


class Snapshot(Generic[T]):
    """``build()`` run against ``model``'s table, rebuilt when the table's stamp moves (see the module)."""

    def __init__(self, model, build: Callable[[], T]):
        self.model = model
        self.build = build
        self._value = _MISSING
        self._stamp = None
        self._lock = threading.Lock()
        _snapshots.append(self)
        uid = f"core.snapshots:{model._meta.label}:{build.__module__}.{build.__qualname__}"
        post_save.connect(self._forget, sender=model, weak=False, dispatch_uid=f"{uid}:saved")
        post_delete.connect(self._forget, sender=model, weak=False, dispatch_uid=f"{uid}:deleted")

    def get(self) -> T:
        value = self._value
        checked = getattr(_request, "checked", False)
        if value is not _MISSING and checked:
            return value
        # Read once per request: a second copy built in the same request uses the same stamps.
        stamps = _request.stamps if checked else _read_stamps()
        if getattr(_request, "active", False):
            _request.checked = True
            _request.stamps = stamps
        with self._lock:
            stamp = stamps[self]
            if self._value is _MISSING or self._stamp != stamp:
                # Built after the stamp was read: a change in between makes the next stamp
                # differ, so the copy is rebuilt then; it is never kept under a newer stamp.
                self._value = self.build()
                self._stamp = stamp
            return self._value

    def forget(self) -> None:
        with self._lock:
            self._value = _MISSING
            self._stamp = None
        _request.checked = False

    def _forget(self, **kwargs) -> None:
        self.forget()

    def _stamp_sql(self, connection) -> str:
        meta, quote = self.model._meta, connection.ops.quote_name
        pk, updated_at = quote(meta.pk.column), quote(meta.get_field("updated_at").column)
        return (
            f"SELECT COUNT(*) AS n, MAX({pk}) AS last_id, MAX({updated_at}) AS changed "  # noqa: S608 (a model's table)
            f"FROM {quote(meta.db_table)}"
        )


def _read_stamps() -> dict[Snapshot, tuple]:
    """Every snapshot's stamp, in one statement per database (one database here: one statement)."""
    by_alias: dict[str, list[Snapshot]] = {}
    for snapshot in _snapshots:
        by_alias.setdefault(router.db_for_read(snapshot.model), []).append(snapshot)
    stamps = {}
    for alias, group in by_alias.items():
        connection = connections[alias]
        sql = " UNION ALL ".join(
            f"SELECT {index}, stamp.* FROM ({snapshot._stamp_sql(connection)}) stamp"  # noqa: S608 (no input in it)
            for index, snapshot in enumerate(group)
        )
        with connection.cursor() as cursor:
            prepared.execute(cursor, sql)
            rows = cursor.fetchall()
        for index, *stamp in rows:
            stamps[group[index]] = tuple(stamp)
    return stamps


def _request_began(**kwargs) -> None:
    _request.active = True
    _request.checked = False
    _request.stamps = None


def _request_ended(**kwargs) -> None:
    _request.active = False
    _request.checked = False
    _request.stamps = None


request_started.connect(_request_began, dispatch_uid="core.snapshots.request_started")
request_finished.connect(_request_ended, dispatch_uid="core.snapshots.request_finished")
