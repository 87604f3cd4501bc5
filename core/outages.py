"""Whether an error means "the database cannot be reached", and how long a 503 asks clients to wait.

Used by the error pages (``config.errors``) and the API's exception handler
(``core.api.errors``): a connection refused, lost or closed, the server shutting
down or full, SQLite's file locked past its busy timeout — a 503, not a 500. A
constraint violation or a bad query was answered by a working database: it stays
a 500, so it is noticed.
"""

from __future__ import annotations

import re

from django.db import InterfaceError, OperationalError

# What a 503 tells clients (and browsers reloading the page) to wait before trying again.
RETRY_AFTER_SECONDS = 15

# PostgreSQL error classes that mean "the server cannot serve this connection now":
# connection exceptions (08…), the server shutting down or starting up, too many clients.
# Everything else with a code (deadlock 40P01, statement timeout 57014, a constraint, a
# syntax error…) was answered by a working database and is a bug or a conflict, not an outage.
_PG_UNAVAILABLE = {"57P01", "57P02", "57P03", "53300"}
# SQLite (embedded mode): the file is locked past the busy timeout, cannot be opened, or the disk failed.
_SQLITE_UNAVAILABLE = re.compile(r"^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|FULL)")
_CLOSED_CONNECTION = re.compile(r"connection.*closed", re.IGNORECASE)


def database_unavailable(exc: BaseException | None) -> bool:
    """True when ``exc`` (or what it was raised from) says the database could not be reached or was lost."""
    seen = 0
    while exc is not None and seen < 5:
        if _connection_failure(exc):
            return True
        # A failure while cleaning up after a lost connection (a rollback that cannot be sent)
        # carries the original one as its context.
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def _connection_failure(exc: BaseException) -> bool:
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    driver = exc.__cause__ or exc  # Django re-raises the driver's error "from" it
    code = getattr(driver, "pgcode", None) or getattr(driver, "sqlstate", None)
    if code:
        return code.startswith("08") or code in _PG_UNAVAILABLE
    sqlite_name = getattr(driver, "sqlite_errorname", None)
    if sqlite_name:
        return bool(_SQLITE_UNAVAILABLE.match(sqlite_name))
    if isinstance(exc, InterfaceError):
        # "connection already closed": the connection was lost earlier in this request.
        # Other interface errors ("cursor already closed") are programming errors.
        return bool(_CLOSED_CONNECTION.search(str(driver)))
    # An OperationalError without a server code comes from the client library: the
    # connection was refused, timed out, or the server went away mid-query.
    return driver.__class__.__module__.split(".")[0] in {"psycopg2", "psycopg"}
