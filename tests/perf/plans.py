"""How many rows of a table a statement really read, from PostgreSQL's ``EXPLAIN (ANALYZE, FORMAT JSON)``.

A list page that shows 25 issues should read about 25 issues, not the whole table: this module
runs each captured statement again under ``EXPLAIN ANALYZE`` and adds up, for every plan node
that reads a watched table, the rows the node produced plus the rows it threw away (a filter, a
lossy bitmap's recheck), times the node's loops. That sum is what the statement cost in rows of
that table, whatever the plan's shape: a sequential scan, an index scan that filters most of
what it fetches, a nested loop that looks the table up once per outer row, a bitmap scan, or a
parallel scan (its loops count every worker).

PostgreSQL reports "Actual Rows" and "Rows Removed by …" per loop (averaged), hence the product
with "Actual Loops". A "Bitmap Index Scan" names only its index: its entries are counted under
the "Bitmap Heap Scan" above it (the larger of what the index gave and what the heap examined,
so a BitmapAnd of two wide index ranges that leaves ten rows still counts as wide).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db import connection

# The statements worth explaining: reads that name one of the watched tables.
_READ = re.compile(r"^\s*\(?\s*(SELECT|WITH)\b", re.IGNORECASE)
# Row locks or advisory locks would be taken a second time by EXPLAIN ANALYZE.
_SIDE_EFFECTS = re.compile(r"\bFOR\s+(UPDATE|NO\s+KEY\s+UPDATE|SHARE|KEY\s+SHARE)\b|\bpg_\w*advisory", re.IGNORECASE)


def nodes(plan: dict) -> Iterator[dict]:
    """Every node of a plan tree, the root first (InitPlans and SubPlans included)."""
    yield plan
    for child in plan.get("Plans", ()):
        yield from nodes(child)


def _examined(node: dict) -> float:
    per_loop = (
        node.get("Actual Rows", 0)
        + node.get("Rows Removed by Filter", 0)
        + node.get("Rows Removed by Index Recheck", 0)
    )
    return per_loop * node.get("Actual Loops", 0)


def _bitmap_entries(node: dict) -> float:
    """Entries the bitmap index scans under a Bitmap Heap Scan returned (through BitmapAnd/BitmapOr)."""
    total = 0.0
    for child in node.get("Plans", ()):
        if child.get("Parent Relationship") in ("InitPlan", "SubPlan"):
            continue
        if child["Node Type"] == "Bitmap Index Scan":
            total += _examined(child)
        elif child["Node Type"] in ("BitmapAnd", "BitmapOr"):
            total += _bitmap_entries(child)
    return total


def node_reads(plan: dict, table: str) -> list[tuple[dict, int]]:
    """Each node that reads ``table``, with the rows it read over all its loops."""
    found = []
    for node in nodes(plan):
        if node.get("Relation Name") != table:
            continue
        read = _examined(node)
        if node["Node Type"] == "Bitmap Heap Scan":
            read = max(read, _bitmap_entries(node))
        found.append((node, round(read)))
    return found


def rows_read(plan: dict, table: str) -> int:
    """Rows of ``table`` the executed plan read, over all its nodes and loops."""
    return sum(read for _node, read in node_reads(plan, table))


def describe(node: dict) -> str:
    """A node as EXPLAIN's text names it: "Index Scan using issue_period_idx on cases_issue"."""
    index = f" using {node['Index Name']}" if node.get("Index Name") else ""
    return f"{node['Node Type']}{index} on {node.get('Relation Name', '?')}"


def reads_table(plan: dict, table: str) -> bool:
    """Whether any node of the plan reads ``table`` (executed or not)."""
    return any(node.get("Relation Name") == table for node in nodes(plan))


def seq_scans(plan: dict, table: str) -> list[dict]:
    """The plan's sequential scans of ``table`` (parallel ones too: same node type)."""
    return [node for node in nodes(plan) if node["Node Type"] == "Seq Scan" and node.get("Relation Name") == table]


def explain(sql: str, *, fmt: str = "JSON"):
    """Run ``sql`` under EXPLAIN ANALYZE: the root plan node (JSON) or the plan's text (TEXT)."""
    with connection.cursor() as cursor:
        # No parameters: the captured SQL is complete (client-side binding), and its % are literal.
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT {fmt}) {sql}")
        rows = cursor.fetchall()
    if fmt == "TEXT":
        return "\n".join(row[0] for row in rows)
    document = rows[0][0]
    if isinstance(document, str):
        document = json.loads(document)
    return document[0]["Plan"]


def is_checked(sql: str, tables: Iterable[str]) -> bool:
    """A plain read naming one of ``tables`` (quoted or not); locking reads are left alone."""
    if not _READ.match(sql) or _SIDE_EFFECTS.search(sql):
        return False
    return any(re.search(rf"\b{re.escape(table)}\b", sql) for table in tables)


@dataclass
class Statement:
    """One captured statement and what its executed plan read of each watched table."""

    sql: str
    plan: dict
    rows: dict[str, int] = field(default_factory=dict)
    seq_scans: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, sql: str, tables: Iterable[str]) -> Statement:
        plan = explain(sql)
        return cls(
            sql=sql,
            plan=plan,
            rows={table: rows_read(plan, table) for table in tables},
            seq_scans={table: len(seq_scans(plan, table)) for table in tables},
        )

    def reads(self, table: str) -> bool:
        return reads_table(self.plan, table)


def statements(sqls: Iterable[str], tables: Iterable[str]) -> list[Statement]:
    tables = tuple(tables)
    return [Statement.of(sql, tables) for sql in sqls if is_checked(sql, tables)]


def shorten(sql: str, limit: int = 1200) -> str:
    sql = " ".join(sql.split())
    return sql if len(sql) <= limit else f"{sql[: limit // 2]} … {sql[-limit // 2 :]}"


def _problem(statement: Statement, table: str, bound: int) -> str | None:
    rows, scans = statement.rows[table], statement.seq_scans[table]
    if rows <= bound and not scans:
        return None
    reads = node_reads(statement.plan, table)
    why = []
    if rows > bound:
        node, most = max(reads, key=lambda pair: pair[1])
        why.append(f"reads {rows:,} rows of {table} (bound {bound:,}), {most:,} of them in {describe(node)}")
    why += [f"has a {describe(node)} ({read:,} rows)" for node, read in reads if node["Node Type"] == "Seq Scan"]
    return "; ".join(why)


def problems(found: list[Statement], bounds: dict[str, int], *, context: str = "") -> list[str]:
    """One readable paragraph per statement over a bound or scanning a watched table whole:
    what it read, the SQL (shortened) and its plan as text, so a failure says why."""
    out = []
    for number, statement in enumerate(found, start=1):
        why = [text for table, bound in bounds.items() if (text := _problem(statement, table, bound))]
        if not why:
            continue
        out.append(
            f"{context}statement {number} of {len(found)} {'; '.join(why)}\n"
            f"SQL: {shorten(statement.sql)}\n"
            f"Plan:\n{explain(statement.sql, fmt='TEXT')}"
        )
    return out
