"""The few places PostgreSQL and SQLite differ in hand-written SQL, stated once.

Set-based SQL (the escalation sweep, the dashboard's and transparency's figures) is written
once; where the two databases spell something differently, it asks a ``Dialect`` for the
spelling instead of checking ``connection.vendor`` itself. Embedded mode runs SQLite, every
other mode PostgreSQL; nothing else is supported (``has_item`` refuses other backends too).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django.db import connection as default_connection
from django.db.models import DateTimeField, F, Func, IntegerField, Value

__all__ = ["Dialect", "LocalTimeOffset", "LocalTimeText", "WholeHours", "local_iso", "local_times"]


class Dialect:
    def __init__(self, conn=None, *, vendor: str | None = None):
        self.conn = conn if conn is not None else default_connection
        self.postgres = (vendor or self.conn.vendor) == "postgresql"

    def dt(self, value: datetime):
        """A datetime parameter as the backend stores it (SQLite: naive UTC text)."""
        return self.conn.ops.adapt_datetimefield_value(value)

    def moment(self, value) -> datetime:
        """A timestamp a raw cursor read, as an aware datetime (SQLite gives naive UTC text)."""
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    def in_ids(self, column: str) -> str:
        """``column`` among the ids of one parameter (``ids``): one array or JSON list, not 5 000 placeholders."""
        if self.postgres:
            return f"{column} = ANY(%s)"
        return f"{column} IN (SELECT value FROM json_each(%s))"  # noqa: S608 (a column name from code; the ids are one bound parameter)

    def ids(self, ids) -> object:
        return list(ids) if self.postgres else json.dumps(list(ids))

    def hours_since(self, now_sql: str, column: str) -> str:
        """Whole hours from ``column`` to ``now`` (both timestamps)."""
        if self.postgres:
            return f"CAST(FLOOR(EXTRACT(EPOCH FROM ({now_sql} - {column})) / 3600) AS integer)"
        return f"CAST((julianday({now_sql}) - julianday({column})) * 24 AS integer)"

    def json_object(self, pairs: list[tuple[str, str]]) -> str:
        args = ", ".join(f"'{key}', {value}" for key, value in pairs)
        return f"jsonb_build_object({args})" if self.postgres else f"json_object({args})"

    def text(self, expression: str) -> str:
        return f"CAST({expression} AS TEXT)"

    def now_param(self) -> str:
        """A timestamp parameter PostgreSQL can type inside expressions."""
        return "CAST(%s AS timestamp with time zone)" if self.postgres else "%s"

    def snapshot(self) -> str | None:
        """What this connection's next statement can see, as text equal for equal data; None
        where that cannot be told (SQLite, or a transaction that has written: its own changes
        are visible to it alone).

        PostgreSQL decides every row's visibility from the snapshot alone (``xmin:xmax:running
        xids``). Two statements under the same snapshot see the same rows of every table, and a
        snapshot never comes back once a writing transaction has ended, so an answer kept under
        it can be neither stale nor mixed up with another. Reading transactions take no xid: the
        snapshot moves only when something writes.
        """
        if not self.postgres:
            return None
        with self.conn.cursor() as cursor:
            cursor.execute("SELECT CASE WHEN txid_current_if_assigned() IS NULL THEN pg_current_snapshot()::text END")
            return cursor.fetchone()[0]

    def typed_null(self, sql_type: str) -> str:
        """A NULL of ``sql_type`` (PostgreSQL types the branches of a UNION from their first one)."""
        return f"CAST(NULL AS {sql_type})" if self.postgres else "NULL"

    def median(self, column: str, cte: str) -> str:
        """The median of ``column`` over the CTE's rows where it is not NULL, as one scalar expression."""
        if self.postgres:
            return f"(SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY {column}) FROM {cte})"  # noqa: S608 (identifiers from code; values are bound parameters)
        # Average the middle one or two values of the sorted column. The modulo is written %%
        # because the statement always carries parameters (the driver's placeholders).
        return (
            f"(SELECT AVG({column}) FROM (SELECT {column} FROM {cte} WHERE {column} IS NOT NULL ORDER BY {column} "  # noqa: S608 (identifiers from code; values are bound parameters)
            f"LIMIT 2 - (SELECT COUNT({column}) FROM {cte}) %% 2 "
            f"OFFSET (SELECT (COUNT({column}) - 1) / 2 FROM {cte})) AS middle)"
        )

    def grouped_median(self, column: str, key: str, cte: str) -> str:
        """``SELECT k, median`` per ``key``, over the CTE's rows where ``column`` is not NULL."""
        if self.postgres:
            return (
                f"SELECT {key} AS k, percentile_cont(0.5) WITHIN GROUP (ORDER BY {column}) AS median "  # noqa: S608 (identifiers from code; values are bound parameters)
                f"FROM {cte} WHERE {column} IS NOT NULL GROUP BY {key}"
            )
        return (
            f"SELECT k, AVG(v) AS median FROM (SELECT {key} AS k, {column} AS v, "  # noqa: S608 (identifiers from code; values are bound parameters)
            f"ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY {column}) AS rn, "
            f"COUNT(*) OVER (PARTITION BY {key}) AS n FROM {cte} WHERE {column} IS NOT NULL) AS ranked "
            f"WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY k"
        )


# --- a timestamp as local ISO 8601 text, written by the database where it can ------------


class WholeHours(Func):
    """Whole hours from ``start`` to ``end`` (two datetime columns), rounded down; the same number
    on both engines, to the microsecond (2 h less a microsecond is 1).

    SQLite stores a datetime as UTC text, ``YYYY-MM-DD HH:MM:SS[.ffffff]``: whole seconds come from
    ``strftime('%s')`` of its first 19 characters and microseconds from the rest of the text (SQLite's
    date functions keep milliseconds only, rounding .999999 up to the next second)."""

    output_field = IntegerField()

    def __init__(self, start: str, end: str):
        super().__init__(F(start), F(end))

    def as_sql(self, compiler, connection, **extra_context):
        start, start_params = compiler.compile(self.source_expressions[0])
        end, end_params = compiler.compile(self.source_expressions[1])
        seconds = "CAST(strftime('%%s', substr({}, 1, 19)) AS integer)"
        micros = "CAST(substr({}, 21, 6) AS integer)"
        sql = (
            f"((({seconds.format(end)} - {seconds.format(start)}) * 1000000"
            f" + {micros.format(end)} - {micros.format(start)}) / 3600000000)"
        )
        return sql, (*end_params, *start_params, *end_params, *start_params)

    def as_postgresql(self, compiler, connection, **extra_context):
        start, start_params = compiler.compile(self.source_expressions[0])
        end, end_params = compiler.compile(self.source_expressions[1])
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM ({end} - {start})) / 3600) AS integer)", (*end_params, *start_params)


class LocalTimeText(Func):
    """``column`` as local time in ``zone``, ISO 8601 to the second without its offset
    (``2026-12-07T05:31:47``), written by PostgreSQL; pair it with ``LocalTimeOffset``.

    Writing 3 000 times in Python (parse, ``astimezone``, ``isoformat``) was a tenth of a
    1 000-request Open311 answer. SQLite has no time-zone data: there the column comes back as
    the datetime it is (``output_field``), ``LocalTimeOffset`` is NULL, and the caller writes it
    (``local_iso``).
    """

    output_field = DateTimeField()

    def __init__(self, column: str, zone: str):
        super().__init__(F(column), Value(zone))

    def as_sql(self, compiler, connection, **extra_context):
        return compiler.compile(self.source_expressions[0])

    def as_postgresql(self, compiler, connection, **extra_context):
        column, column_params = compiler.compile(self.source_expressions[0])
        zone, zone_params = compiler.compile(self.source_expressions[1])
        sql = f"to_char(({column}) AT TIME ZONE {zone}, 'YYYY-MM-DD\"T\"HH24:MI:SS')"
        return sql, (*column_params, *zone_params)


class LocalTimeOffset(Func):
    """The UTC offset of ``zone`` at ``column``, in seconds (PostgreSQL; NULL on SQLite)."""

    output_field = IntegerField()

    def __init__(self, column: str, zone: str):
        super().__init__(F(column), Value(zone))

    def as_sql(self, compiler, connection, **extra_context):
        return "NULL", ()

    def as_postgresql(self, compiler, connection, **extra_context):
        column, column_params = compiler.compile(self.source_expressions[0])
        zone, zone_params = compiler.compile(self.source_expressions[1])
        sql = f"CAST(EXTRACT(EPOCH FROM (({column}) AT TIME ZONE {zone}) - (({column}) AT TIME ZONE 'UTC')) AS integer)"
        return sql, (*column_params, *zone_params, *column_params)


def local_times(names, zone: str) -> dict:
    """Annotations ``<name>_local`` and ``<name>_offset`` for each ``<name>_at`` column, in ``zone``
    (read back with ``local_iso``)."""
    return {
        f"{name}_{part}": kind(f"{name}_at", zone)
        for name in names
        for part, kind in (("local", LocalTimeText), ("offset", LocalTimeOffset))
    }


_OFFSETS: dict[int, str] = {}


def local_iso(text, offset: int | None, zone) -> str | None:
    """What ``value.astimezone(zone).isoformat(timespec="seconds")`` gives, from a
    ``LocalTimeText`` and its ``LocalTimeOffset``: the text and ``±HH:MM`` (``:SS`` when the
    offset has seconds, as Python writes it), or, on SQLite, the datetime written in Python."""
    if text is None:
        return None
    if offset is None:
        return text.astimezone(zone).isoformat(timespec="seconds")
    suffix = _OFFSETS.get(offset)
    if suffix is None:
        sign = "-" if offset < 0 else "+"
        hours, rest = divmod(abs(offset), 3600)
        minutes, seconds = divmod(rest, 60)
        suffix = f"{sign}{hours:02d}:{minutes:02d}" + (f":{seconds:02d}" if seconds else "")
        _OFFSETS[offset] = suffix
    return text + suffix
