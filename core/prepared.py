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

from django.db import DatabaseError

__all__ = ["execute"]

_PLACEHOLDER = re.compile(r"%s")
# SQLSTATE 26000 (invalid_sql_statement_name): the session does not know the statement.
_UNKNOWN_STATEMENT = "26000"


def execute(cursor, sql: str, params=()) -> None:
    """``cursor.execute(sql, params)``, as a prepared statement where that is safe (see the module)."""
    connection = cursor.db
    plain = connection.vendor != "postgresql" or connection.in_atomic_block or not connection.get_autocommit()
    if plain or "%%" in sql:  # (an escaped percent sign would stay doubled in a statement prepared as it is)
        cursor.execute(sql, params)
        return
    name, prepare = _statement(sql)
    known = _known(connection)
    if name not in known:
        cursor.execute(prepare)
        known.add(name)
    run = f"EXECUTE {name}" + (f"({', '.join(['%s'] * len(params))})" if params else "")
    try:
        cursor.execute(run, params)
    except DatabaseError as error:
        if getattr(error.__cause__, "pgcode", None) != _UNKNOWN_STATEMENT:
            raise
        cursor.execute(prepare)
        cursor.execute(run, params)


_statements: dict[str, tuple[str, str]] = {}


def _statement(sql: str) -> tuple[str, str]:
    cached = _statements.get(sql)
    if cached is None:
        name = "cg_" + hashlib.sha1(sql.encode(), usedforsecurity=False).hexdigest()[:20]
        numbered = iter(range(1, sql.count("%s") + 1))
        text = _PLACEHOLDER.sub(lambda match: f"${next(numbered)}", sql)
        cached = _statements[sql] = (name, f"PREPARE {name} AS {text}")
    return cached


def _known(connection) -> set[str]:
    """The statements this session has prepared; a new session (a reconnect) starts with none."""
    session = connection.connection
    state = getattr(connection, "_core_prepared", None)
    if state is None or state[0] is not session:
        state = connection._core_prepared = (session, set())
    return state[1]
