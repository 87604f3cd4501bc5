"""A statement run many times a minute, parsed and planned once per database session (PostgreSQL).

psycopg2 sends every statement as text, so PostgreSQL parses, analyses and plans it
each time; for the resident report's one write (four INSERT steps, ~70 columns,
``core.inserts``) and the reference-data stamp (``core.snapshots``) that is about
half of what the database spends on them. ``execute`` prepares such a statement
once per session (``PREPARE``) and then only sends ``EXECUTE name(values)``.

Only outside a transaction block (autocommit, as a request runs): there, if the
session has lost the statement (``DISCARD ALL`` by a pooler, for one), the error
aborts nothing, and it is prepared again and run. Inside an ``atomic`` block, and
on other databases, the statement is sent as text as usual. (A pooler that hands a
session's statements to other clients — PgBouncer's transaction mode — cannot keep
SQL-level prepared statements; Django's persistent connections assume a session
of their own anyway.)
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from django.db import DatabaseError, connections

__all__ = ["execute", "rows"]

_PLACEHOLDER = re.compile(r"%s")
# SQLSTATE 26000 (invalid_sql_statement_name): the session does not know the statement.
_UNKNOWN_STATEMENT = "26000"


def execute(cursor, sql: str, params=()) -> None:
    """``cursor.execute(sql, params)``, as a prepared statement where that is safe (see the module)."""
    _run(cursor.execute, cursor.db, sql, params)


def rows(queryset) -> list:
    """``list(queryset)``, its own statement prepared once per session where that is safe.

    For a statement whose text stays the same from one request to the next while its values
    change — a page's rows read by their ids (``pk__in_array``, ``core.lookups``), the ids
    being one bound array: the joins of a list page's rows cost PostgreSQL about as much to
    plan as to run. Only the queryset's own statement is prepared; what it prefetches after
    is sent as usual (those texts change with the number of ids).
    """
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return list(queryset)
    done = False

    def prepare_first(run_next, sql, params, many, context):
        nonlocal done
        if done or many:
            return run_next(sql, params, many, context)
        done = True
        return _run(lambda text, values: run_next(text, values, False, context), connection, sql, params)

    with connection.execute_wrapper(prepare_first):
        return list(queryset)


def _run(run, connection, sql: str, params) -> None:
    plain = connection.vendor != "postgresql" or connection.in_atomic_block or not connection.get_autocommit()
    if plain or "%%" in sql:  # (an escaped percent sign would stay doubled in a statement prepared as it is)
        run(sql, params)
        return
    params = tuple(params or ())
    name, prepare = _statement(sql, params)
    known = _known(connection)
    if name not in known:
        run(prepare, None)
        known.add(name)
    statement = f"EXECUTE {name}" + (f"({', '.join(['%s'] * len(params))})" if params else "")
    try:
        run(statement, params)
    except DatabaseError as error:
        if getattr(error.__cause__, "pgcode", None) != _UNKNOWN_STATEMENT:
            raise
        run(prepare, None)
        run(statement, params)


_statements: dict[tuple[str, tuple[str, ...]], tuple[str, str]] = {}


_SCALAR_TYPES = (
    (bool, "boolean"),
    (int, "bigint"),
    (float, "double precision"),
    (Decimal, "numeric"),
    (date, "date"),
    (timedelta, "interval"),
    (UUID, "uuid"),
)


def _param_type(value) -> str:
    """The type psycopg2's text of ``value`` carries (``true``, ``'…'::timestamptz``, ``ARRAY[1]``).

    A statement sent as text gets each value with that type; a prepared one would otherwise
    infer each parameter's type from where it stands, and where nothing says (``CASE WHEN …
    THEN $5``) that is text: a ``true`` would come back as the string ``'true'``. Text and
    NULL stay ``unknown``, typed by where they stand, as their quoted form is.
    """
    if isinstance(value, datetime):  # (a date, too: asked first)
        return "timestamp" if value.tzinfo is None else "timestamptz"
    for kind, name in _SCALAR_TYPES:  # bool before int: True is an int too
        if isinstance(value, kind):
            return name
    if isinstance(value, list) and value:
        if all(isinstance(item, int) and not isinstance(item, bool) for item in value):
            return "bigint[]"
        if all(isinstance(item, str) for item in value):
            return "text[]"
    return "unknown"


def _statement(sql: str, params=()) -> tuple[str, str]:
    """``(name, PREPARE …)`` for ``sql`` with values of ``params``' types: one statement per text
    and types (the same text may be run with a value or with NULL, say)."""
    types = tuple(_param_type(value) for value in params)
    cached = _statements.get((sql, types))
    if cached is None:
        digest = hashlib.sha1("\0".join((sql, *types)).encode(), usedforsecurity=False).hexdigest()[:20]
        name = "cg_" + digest
        numbered = iter(range(1, sql.count("%s") + 1))
        text = _PLACEHOLDER.sub(lambda match: f"${next(numbered)}", sql)
        declared = f" ({', '.join(types)})" if types else ""
        cached = _statements[(sql, types)] = (name, f"PREPARE {name}{declared} AS {text}")
    return cached


def _known(connection) -> set[str]:
    """The statements this session has prepared; a new session (a reconnect) starts with none."""
    session = connection.connection
    state = getattr(connection, "_core_prepared", None)
    if state is None or state[0] is not session:
        state = connection._core_prepared = (session, set())
    return state[1]
