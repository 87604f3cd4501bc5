"""Lookups that work the same on both databases we run on (PostgreSQL, and SQLite in embedded mode).

Django's ``contains`` on a JSONField exists on PostgreSQL only: on SQLite it raises
"contains lookup is not supported on this database backend" — a 500 on any filter that
used it. ``has_item`` asks the one question our JSON lists are filtered by ("is this code in
the list?") and compiles it for each database.
"""

from __future__ import annotations

from django.db import NotSupportedError
from django.db.models import Lookup
from django.db.models.lookups import In

SCALARS = (str, int, float)


class HasItem(Lookup):
    """``languages__has_item="es"``: the JSON list holds the value as one of its items.

    Only a scalar item (text or a number) is accepted: that is what our lists hold, and it
    keeps the two compilations equivalent (a list or an object would compare differently
    on the two databases). A value that is not a JSON list, or NULL, holds nothing.
    """

    lookup_name = "has_item"
    # The item itself, not a JSON document: JSONField's own preparation would encode it.
    prepare_rhs = False

    def get_prep_lookup(self):
        if hasattr(self.rhs, "resolve_expression"):
            raise TypeError("has_item takes a value, not an expression.")
        # bool is an int subclass, but JSON true is not the number 1 on PostgreSQL.
        if isinstance(self.rhs, bool) or not isinstance(self.rhs, SCALARS):
            raise TypeError(f"has_item takes text or a number, not {type(self.rhs).__name__}.")
        return self.rhs

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        # jsonb containment of a one-item array: the form a GIN index on the column serves.
        # A scalar or an object never contains an array, so only lists match, as on SQLite.
        item = connection.ops.adapt_json_value([self.rhs], self.lhs.output_field.encoder)
        return f"{lhs} @> %s", (*lhs_params, item)

    def as_sqlite(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        # json_each turns the array into rows; ``value`` is each item as an SQL value (text as
        # text, numbers as numbers), compared with the bound parameter. The type check keeps a
        # scalar document (json_each yields the scalar itself) from matching. Only the compiled
        # column is interpolated; the item is a bound parameter.
        items = f"SELECT 1 FROM json_each({lhs}) AS item WHERE item.value = %s"  # noqa: S608
        sql = f"(json_type({lhs}) = 'array' AND EXISTS ({items}))"
        return sql, (*lhs_params, *lhs_params, self.rhs)

    def as_sql(self, compiler, connection):
        raise NotSupportedError(f"has_item is written for PostgreSQL and SQLite, not {connection.vendor}.")


class InArray(Lookup):
    """``pk__in_array=[3, 5, 8]``: the value is one of the list's, as ``__in`` asks.

    On PostgreSQL the list is one bound array (``"id" = ANY(%s)``), so the statement's text is
    the same whatever the number of values: a page read by its rows' ids can be prepared once
    per session (``core.prepared.rows``). Elsewhere it is Django's own ``IN (…)``.
    """

    lookup_name = "in_array"
    prepare_rhs = False

    def get_prep_lookup(self):
        if hasattr(self.rhs, "resolve_expression") or isinstance(self.rhs, str | bytes):
            raise TypeError("in_array takes a list of values, not an expression or text.")
        field = self.lhs.output_field
        return [field.get_prep_value(value) for value in self.rhs]

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        values = [field.get_db_prep_value(value, connection, prepared=True) for value in self.rhs]
        return f"{lhs} = ANY(%s)", (*lhs_params, values)

    def as_sql(self, compiler, connection):
        return In(self.lhs, self.rhs).as_sql(compiler, connection)
