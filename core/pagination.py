"""Keyset ("seek") pagination and capped counts: list pages whose cost follows the page, not the table.

A page is read as "the next ``size`` rows after this position" in the list's
order, where the position is the sort key of a row (``created_at`` and ``id``,
say) carried in an opaque cursor. The database walks the index that matches
the order from that key on and stops after ``size + 1`` rows, whether the list
holds fifty issues or five million. ``OFFSET`` would read and throw away every
row before the page; an exact ``COUNT(*)`` would read every row that matches.

The total is counted only up to a cap (``count_capped``): "1 000+" is as useful
to a person as "1 003 412", and reading it costs at most ``cap + 1`` index
entries.

Cursors are base64 JSON: the key values of the row the page starts after (or
before) and the position of that row in the list (for "26–50" only). They are
not secret — the queryset is already scoped to the user, so a made-up cursor
can only move the window within what the user may see — and a cursor that does
not parse is refused with ``BadCursor`` (the page shows the first page, the API
answers 400).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connections
from django.db.models import Q, QuerySet
from django.db.models.query import ValuesIterable

from core import prepared

__all__ = [
    "BadCursor",
    "COUNT_CAP",
    "COUNT_PAGES",
    "count_cap_for",
    "KeysetPage",
    "capped_count",
    "capped_counts",
    "keyset_page",
    "keyset_order",
    "capped_count_of_parts",
    "window_rows",
]

# Lists count their rows up to ten pages ahead (and never more than COUNT_CAP): "1–25 of more
# than 250" tells a person to narrow the list as well as an exact figure would, and the count
# reads at most that many index entries however many rows match.
COUNT_PAGES = 10
COUNT_CAP = 1000


def count_cap_for(size: int) -> int:
    """How far a list of ``size`` rows a page counts."""
    return min(COUNT_PAGES * size, COUNT_CAP)


class BadCursor(ValueError):
    """A cursor that is not one this module wrote (edited, truncated, from another list)."""


@dataclass
class KeysetPage:
    """One page of a keyset-paginated list, shaped like Django's ``Page`` where templates read it."""

    object_list: list
    start_index: int = 0  # 1-based position of the first row (0 when empty)
    next_cursor: str | None = None
    previous_cursor: str | None = None
    count: int = 0  # rows in the list, counted up to the cap
    count_is_exact: bool = True
    size: int = 25
    extra: dict = field(default_factory=dict)

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.previous_cursor is not None

    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    @property
    def end_index(self) -> int:
        return self.start_index + len(self.object_list) - 1 if self.object_list else 0


# --- cursors -------------------------------------------------------------------------


def _encode_value(value):
    if isinstance(value, datetime | date):
        return {"t": value.isoformat()}
    if isinstance(value, Decimal):
        return {"d": str(value)}
    return value


def encode_cursor(values: Sequence, position: int) -> str:
    payload = json.dumps([[_encode_value(v) for v in values], position], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, fields: Sequence) -> tuple[list, int]:
    """The key values (converted by each model field) and position a cursor holds."""
    if not isinstance(cursor, str) or not cursor or len(cursor) > 512:
        raise BadCursor(cursor)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values, position = json.loads(raw)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as error:
        raise BadCursor(cursor) from error
    if not isinstance(values, list) or len(values) != len(fields) or not isinstance(position, int):
        raise BadCursor(cursor)
    converted = []
    for model_field, value in zip(fields, values, strict=True):
        if isinstance(value, dict) and len(value) == 1:
            value = next(iter(value.values()))
        if value is None or isinstance(value, list | dict):
            raise BadCursor(cursor)
        try:
            converted.append(model_field.to_python(value))
        except (ValidationError, ValueError, TypeError, OverflowError) as error:
            raise BadCursor(cursor) from error
    # Ids and counts the database could not hold are not positions anyone reached.
    for value in converted:
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise BadCursor(cursor)
    return converted, max(position, 0)


# --- pages ---------------------------------------------------------------------------


def _order_fields(queryset: QuerySet, order: Sequence[str]):
    """``[(name, descending, model_field)]`` for an order such as ``("-created_at", "-id")``;
    a name may also be one of the queryset's annotations (its output field then reads the cursor)."""
    opts = queryset.model._meta
    parsed = []
    for item in order:
        name = item.lstrip("-")
        annotation = queryset.query.annotations.get(name)
        if annotation is not None:
            parsed.append((name, item.startswith("-"), annotation.output_field))
            continue
        model_field = opts.pk if name == "pk" else opts.get_field(name)
        parsed.append((model_field.attname if model_field.is_relation else name, item.startswith("-"), model_field))
    return parsed


def keyset_order(queryset: QuerySet) -> list[str] | None:
    """The queryset's order (its ``order_by``, else its model's ``ordering``) as names ending with
    the unique id, ready for ``keyset_page``; None when it cannot be a keyset: an expression, a
    related field, or a column that may be empty (rows with NULL there have no position)."""
    raw = list(queryset.query.order_by or queryset.model._meta.ordering or [])
    if any(not isinstance(item, str) or "__" in item or "." in item for item in raw):
        return None
    order = ["-id" if item == "-pk" else "id" if item == "pk" else item for item in raw]
    opts = queryset.model._meta
    for item in order:
        name = item.lstrip("-")
        if name in queryset.query.annotations:
            continue
        try:
            model_field = opts.get_field(name)
        except FieldDoesNotExist:
            return None
        if model_field.null or model_field.many_to_many or model_field.one_to_many:
            return None
    if not any(item.lstrip("-") == "id" for item in order):
        order.append("-id" if order and order[-1].startswith("-") else "id")
    return order


def _beyond(parsed, values, *, forward: bool) -> Q:
    """Rows strictly after ``values`` in the order (``forward``), or strictly before it.

    Written as ``k1 <= v1 AND (k1 < v1 OR (k1 = v1 AND k2 < v2) …)`` (for a descending
    order) so that the leading key bounds the index range scan.
    """
    condition = Q()
    equal = Q()
    for index, (name, descending, _field) in enumerate(parsed):
        later = "lt" if descending == forward else "gt"
        term = equal & Q(**{f"{name}__{later}": values[index]})
        condition = term if index == 0 else condition | term
        equal &= Q(**{name: values[index]})
    first_name, first_descending, _ = parsed[0]
    bound = "lte" if first_descending == forward else "gte"
    return Q(**{f"{first_name}__{bound}": values[0]}) & condition


def _row_values(row, parsed) -> list:
    return [getattr(row, name) for name, _descending, _field in parsed]


def _reader(queryset: QuerySet, branches: Sequence[QuerySet] | None):
    """``read(condition, order, limit)``: the first ``limit`` rows of ``queryset`` in ``order``.

    With ``branches`` — disjoint querysets whose union is ``queryset`` (e.g. "assigned to me"
    and "unassigned in my neighborhood N", one per neighborhood) — each branch is read in
    order up to ``limit`` rows on its own index and only their ids are merged, so a list
    defined by an OR reads ``len(branches) × limit`` rows at most instead of everything
    that matches. Databases that cannot order and limit inside a UNION (SQLite, the
    embedded mode) read ``queryset`` itself.
    """
    connection = connections[queryset.db]
    use_branches = bool(branches) and connection.features.supports_slicing_ordering_in_compound

    def read(condition: Q | None, order: Sequence[str], limit: int) -> list:
        if not use_branches:
            narrowed = queryset.filter(condition) if condition is not None else queryset
            return list(narrowed.order_by(*order)[:limit])
        parts = [
            (branch.filter(condition) if condition is not None else branch).order_by(*order).values("pk")[:limit]
            for branch in branches
        ]
        ids = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
        return list(queryset.filter(pk__in=ids).order_by(*order)[:limit])

    return read


def keyset_page(
    queryset: QuerySet,
    order: Sequence[str],
    *,
    after: str | None = None,
    before: str | None = None,
    size: int = 25,
    count_cap: int | None | bool = True,
    branches: Sequence[QuerySet] | None = None,
    first_ids: Sequence | None = None,
) -> KeysetPage:
    """The page after the ``after`` cursor, or before ``before``, or the first page.

    ``order`` must end with a unique key (``id``) and name only non-null columns.
    Queries: the page (``size + 1`` rows, to know whether another follows), plus a count
    capped at ``count_cap`` (``True``: ``count_cap_for(size)``; ``None``: no count); going
    back past the first page costs one more (the first page itself). A first page with a
    count reads the ids of the first ``count_cap + 1`` rows and then the page's rows by id
    (still two queries, the list's filter evaluated once). Raises ``BadCursor`` for a cursor it did not write.
    ``branches``: see ``_reader``. ``first_ids``: the ids of the list's first rows in ``order``
    (at least ``size + 1`` of them, or all there are), read already by the caller for something
    else (the queue's summary): the first page is then read by id, not by the list's condition.
    """
    read = _reader(queryset, branches)
    parsed = _order_fields(queryset, order)
    fields = [model_field for _n, _d, model_field in parsed]
    reverse = [("" if item.startswith("-") else "-") + item.lstrip("-") for item in order]
    start = 1
    first_page = True
    has_next = False
    rows: list | None = None
    if before:
        values, position = decode_cursor(before, fields)
        older = read(_beyond(parsed, values, forward=False), reverse, size + 1)
        if len(older) > size:
            # A full page before the cursor, and more before it: read back, shown in order.
            rows = older[:size][::-1]
            start, first_page, has_next = max(position - size, 2), False, True
        # Otherwise the cursor is within the first page: show the first page, full.
    elif after:
        values, position = decode_cursor(after, fields)
        rows = read(_beyond(parsed, values, forward=True), order, size + 1)
        start, first_page = position + 1, False
        has_next = len(rows) > size
        rows = rows[:size]
    cap = count_cap_for(size) if count_cap is True else count_cap
    counted_here = None
    if rows is None and cap is not None and not branches:
        # The first page and its count from one reading of the list: the ids of its first
        # cap + 1 rows (what the count would read), then the page's rows by id. A list whose
        # filter is costly to evaluate (a word search) evaluates it once, not twice.
        window = list(queryset.order_by(*order).values_list("pk", flat=True)[: cap + 1])
        counted_here = (min(len(window), cap), len(window) <= cap)
        rows, has_next = _rows_of(queryset, window, order, size)
    if rows is None and first_ids is not None:
        rows, has_next = _rows_of(queryset, first_ids, order, size)
    if rows is None:
        rows = read(None, order, size + 1)
        has_next = len(rows) > size
        rows = rows[:size]
    page = KeysetPage(object_list=rows, start_index=start if rows else 0, size=size)
    if rows and has_next:
        page.next_cursor = encode_cursor(_row_values(rows[-1], parsed), start + len(rows) - 1)
    if rows and not first_page:
        page.previous_cursor = encode_cursor(_row_values(rows[0], parsed), start)
    if counted_here is not None:
        page.count, page.count_is_exact = counted_here
    elif cap is not None:
        # Counted in the page's order, so the count walks the index the page walks and stops
        # after cap + 1 rows (without an order the planner may read rows in any order it likes).
        counted = branches if branches else [queryset]
        page.count, page.count_is_exact = capped_count_of_parts([part.order_by(*order) for part in counted], cap)
    return page


def _rows_of(queryset: QuerySet, ids: Sequence, order: Sequence[str], size: int) -> tuple[list, bool]:
    """The first page's rows, from the ids of the list's first rows: ``(rows, has_next)``.

    Read by id through one bound array, so the statement is prepared once per session
    (``core.prepared.rows``): a page's joins cost about as much to plan as to read.
    """
    wanted = list(ids[: size + 1])
    rows = prepared.rows(queryset.filter(pk__in_array=wanted).order_by(*order)) if wanted else []
    return rows[:size], len(rows) > size


# --- capped counts -------------------------------------------------------------------


def _capped_sql(queryset: QuerySet, cap: int) -> tuple[str, tuple]:
    # The queryset's order is kept: it names the index to walk (see keyset_page).
    limited = queryset.values("pk")[: cap + 1]
    sql, params = limited.query.sql_with_params()
    # The inner statement is Django's own compiled SQL with its parameters kept apart.
    return f"SELECT COUNT(*) FROM ({sql}) capped", params  # noqa: S608


def capped_count(queryset: QuerySet, cap: int | None = None) -> tuple[int, bool]:
    """``(n, exact)``: the number of rows up to ``cap`` (default ``COUNT_CAP``); ``(cap, False)``
    when there are more."""
    (counts,) = capped_counts({"n": queryset}, cap).values()
    return counts


def capped_count_of_parts(parts: Sequence[QuerySet], cap: int | None = None) -> tuple[int, bool]:
    """The capped count of the union of disjoint querysets, each counted up to the cap, in one statement."""
    cap = COUNT_CAP if cap is None else cap
    counts = capped_counts({str(index): part for index, part in enumerate(parts)}, cap)
    total = sum(n for n, _exact in counts.values())
    exact = all(exact for _n, exact in counts.values()) and total <= cap
    return min(total, cap), exact


def window_rows(queryset: QuerySet, order: Sequence[str], limit: int, *, branches=None) -> list:
    """The first ``limit`` rows of ``queryset`` in ``order`` (read branch by branch, see ``_reader``).

    A ``values()`` queryset's columns are read in each branch itself and the branches' rows
    merged in order: no second look-up of the merged ids in the table, and PostgreSQL merges
    the branches' index scans and stops at ``limit`` rows in all.
    """
    connection = connections[queryset.db]
    columns = queryset._fields if queryset._iterable_class is ValuesIterable else ()
    if not (columns and branches and connection.features.supports_slicing_ordering_in_compound):
        return _reader(queryset, branches)(None, order, limit)
    parts = [branch.order_by(*order).values(*columns)[:limit] for branch in branches]
    if len(parts) == 1:
        return list(parts[0])
    return list(parts[0].union(*parts[1:], all=True).order_by(*order)[:limit])


def capped_counts(querysets: dict[str, QuerySet], cap: int | None = None) -> dict[str, tuple[int, bool]]:
    """Several capped counts in one statement: ``{name: (n, exact)}``.

    Each reads at most ``cap + 1`` matching index entries (``LIMIT`` inside the count).
    """
    if not querysets:
        return {}
    cap = COUNT_CAP if cap is None else cap
    parts, params = [], []
    database = next(iter(querysets.values())).db
    for queryset in querysets.values():
        sql, part_params = _capped_sql(queryset, cap)
        parts.append(f"({sql})")
        params.extend(part_params)
    with connections[database].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return {name: (min(n, cap), n <= cap) for name, n in zip(querysets, row, strict=True)}


def page_from_request(request, queryset: QuerySet, order: Sequence[str], *, size: int = 25, **kwargs) -> KeysetPage:
    """The page a list view shows for ``?after=`` / ``?before=``; a cursor that does not parse
    (an edited or truncated link) shows the first page rather than an error."""
    after, before = request.GET.get("after") or None, request.GET.get("before") or None
    try:
        return keyset_page(queryset, order, after=after, before=before, size=size, **kwargs)
    except BadCursor:
        return keyset_page(queryset, order, size=size, **kwargs)
