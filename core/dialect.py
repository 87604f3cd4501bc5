"""The few places PostgreSQL and SQLite differ in hand-written SQL, stated once.

Set-based SQL (the escalation sweep, the dashboard's and transparency's figures) is written
once; where the two databases spell something differently, it asks a ``Dialect`` for the
spelling instead of checking ``connection.vendor`` itself. Embedded mode runs SQLite, every
other mode PostgreSQL; nothing else is supported (``has_item`` refuses other backends too).
"""

from __future__ import annotations

import json
from datetime import datetime

from django.db import connection as default_connection

__all__ = ["Dialect"]


class Dialect:
    def __init__(self, conn=None, *, vendor: str | None = None):
        self.conn = conn if conn is not None else default_connection
        self.postgres = (vendor or self.conn.vendor) == "postgresql"

    def dt(self, value: datetime):
        """A datetime parameter as the backend stores it (SQLite: naive UTC text)."""
        return self.conn.ops.adapt_datetimefield_value(value)

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
