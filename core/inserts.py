"""New rows of several models that point at each other, written in one statement where the database can.

A resident's report is four new rows — the Issue, the Report, the timeline Event,
the confirmation in the outbox — each pointing at the Issue, the Event naming the
Report too. Saved one by one that is six round trips (BEGIN, four INSERTs, COMMIT)
and four passes through ``Model.save``. On PostgreSQL ``rows_insert`` writes them
in one statement: each row an ``INSERT … RETURNING`` step of a ``WITH``, taking
the id an earlier step returned; in autocommit that statement is one transaction
of its own, inside the caller's ``atomic`` block it is part of it, and deferred
foreign keys are checked at commit either way. Elsewhere (SQLite, the embedded
mode, has no data-modifying ``WITH``) the same rows are saved in order inside
``transaction.atomic``.

Either way every instance ends up saved: primary key set, references filled in
(related instances already cached stay cached), ``pre_save``/``post_save`` sent as
``Model.save`` sends them. Values go through each field's own ``pre_save``
(``auto_now``, a file field's storage) and ``get_db_prep_save``, as Django's
insert compiler does — except a value those steps would hand back as it is (a
``str`` in a text field, an ``int`` in an integer field, an aware ``datetime`` on
PostgreSQL…: ``_unchanged_types``), which is taken directly; the statement text
for one shape of rows is built once per process, and prepared once per database
session (``core.prepared``).
"""

# The statements are built from model metadata, row positions and identifier-checked keys only.
# ruff: noqa: S608

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import connections, models, router, transaction
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models.fields import AutoFieldMixin
from django.db.models.signals import post_save, pre_save
from django.utils.functional import Promise

from core import prepared

__all__ = ["Row", "rows_insert"]

_KEY = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass
class Row:
    """One new instance to insert.

    ``refs``: a foreign key's attname → the position (in the ``rows_insert`` call)
    of the earlier row it points at. ``json_refs``: a JSON field's attname →
    {key: position}; that key of the stored object becomes the earlier row's id.
    """

    obj: object
    refs: dict[str, int] = field(default_factory=dict)
    json_refs: dict[str, dict[str, int]] = field(default_factory=dict)


def rows_insert(*rows: Row, using: str | None = None) -> None:
    """Insert every row's instance, in order (see the module)."""
    alias = using or router.db_for_write(type(rows[0].obj))
    connection = connections[alias]
    for position, row in enumerate(rows):
        _check(row, position)
    if connection.vendor != "postgresql":
        with transaction.atomic(using=alias):
            ids: list = []
            for row in rows:
                _fill_refs(row, ids)
                row.obj.save(force_insert=True, using=alias)
                ids.append(row.obj.pk)
        return
    for row in rows:
        pre_save.send(sender=type(row.obj), instance=row.obj, raw=False, using=alias, update_fields=None)
    sql, plans_of_rows = _statement(rows, connection)
    params = _params(rows, plans_of_rows, connection)
    with connection.cursor() as cursor:
        prepared.execute(cursor, sql, params)
        ids = cursor.fetchone()
    for row, pk in zip(rows, ids, strict=True):
        _fill_refs(row, ids)
        row.obj.pk = pk
        row.obj._state.adding = False
        row.obj._state.db = alias
    for row in rows:
        post_save.send(sender=type(row.obj), instance=row.obj, created=True, update_fields=None, raw=False, using=alias)


def _params(rows, plans_of_rows, connection) -> list:
    """Each field's value as ``save`` sends it: ``pre_save`` then ``get_db_prep_save``.

    A value those steps hand back unchanged (see ``_unchanged_types``) is taken as it is,
    without the five to ten calls each field's steps take (about 60 fields a report).
    """
    params = []
    for row, plan in zip(rows, plans_of_rows, strict=True):
        obj = row.obj
        for f, unchanged in plan:
            if unchanged:
                value = getattr(obj, f.attname)  # = its pre_save
                kind = type(value)
                if (
                    kind in unchanged
                    or (unchanged is _STR and isinstance(value, str) and not isinstance(value, Promise))
                    or (unchanged is _AWARE and kind is datetime and value.utcoffset() is not None)
                ):
                    params.append(value)
                    continue
            else:
                value = f.pre_save(obj, add=True)
            if hasattr(value, "resolve_expression"):
                raise ValueError(f"{type(obj).__name__}.{f.name}: rows_insert takes values, not expressions.")
            params.append(f.get_db_prep_save(value, connection))
    return params


def _unchanged_types(f, connection) -> tuple[type, ...]:
    """What ``f.pre_save`` and ``f.get_db_prep_save`` hand back as it is: a tuple of exact types.

    Only for Django's own text, integer, boolean, float and date-time fields and foreign keys
    to an integer primary key, whose every step (``pre_save``, ``get_db_prep_save``,
    ``get_db_prep_value``, ``get_prep_value``, ``to_python``) is Django's — checked on the
    class and all it inherits from, so a field or backend that changes one goes the whole way.
    For these, ``pre_save`` reads the attribute and the value then comes through unconverted
    when it is: for text, any ``str`` that is not a lazy translation (``to_python`` returns a
    ``str`` as it is, ``TextChoices`` members included; ``_STR``); for integers an ``int``
    (``int(x)`` of an ``int`` is itself; a ``bool`` is not an ``int`` here); a ``bool``; a
    ``float``; for a date-time field without ``auto_now``/``auto_now_add``, an aware
    ``datetime`` on a backend that adapts them as they are (PostgreSQL; ``_AWARE``); and
    ``None`` for each.
    """
    cls, ops = type(f), type(connection.ops)
    if not _djangos_own_steps(cls):
        return ()
    if isinstance(f, models.ForeignKey):
        target = type(f.target_field)
        if (
            _djangos_own_steps(target)
            and target.get_db_prep_value is _AUTO_PREP_VALUE
            and target.get_prep_value is models.IntegerField.get_prep_value
            and ops.validate_autopk_value is BaseDatabaseOperations.validate_autopk_value
            and cls.pre_save is models.Field.pre_save
        ):
            return _INT
        return ()
    if cls.get_db_prep_save is not models.Field.get_db_prep_save:
        return ()
    prep, value, to_python = cls.get_prep_value, cls.get_db_prep_value, cls.to_python
    if isinstance(f, models.DateTimeField):
        if (
            cls.pre_save is models.DateTimeField.pre_save
            and not f.auto_now
            and not f.auto_now_add
            and value is models.DateTimeField.get_db_prep_value
            and prep is models.DateTimeField.get_prep_value
            and to_python is models.DateTimeField.to_python
            and _adapts_datetimes_as_they_are(connection)
        ):
            return _AWARE
        return ()
    if cls.pre_save is not models.Field.pre_save:
        return ()
    if value is models.Field.get_db_prep_value:
        if (prep, to_python) in _TEXT_STEPS:
            return _STR
        if prep is models.BooleanField.get_prep_value and to_python is models.BooleanField.to_python:
            return _BOOL
        if prep is models.FloatField.get_prep_value:
            return _FLOAT
        return ()
    if (
        value is models.IntegerField.get_db_prep_value
        and prep is models.IntegerField.get_prep_value
        and ops.adapt_integerfield_value is BaseDatabaseOperations.adapt_integerfield_value
    ):
        return _INT
    return ()


_STEPS = ("pre_save", "get_db_prep_save", "get_db_prep_value", "get_prep_value", "to_python")
_DJANGO_FIELD_MODULES = ("django.db.models.fields", "django.db.models.fields.related")


def _djangos_own_steps(cls) -> bool:
    """Whether every class ``cls`` inherits a step from is one of Django's model fields."""
    return all(
        klass.__module__ in _DJANGO_FIELD_MODULES
        for klass in cls.__mro__
        if any(step in vars(klass) for step in _STEPS)
    )


def _adapts_datetimes_as_they_are(connection) -> bool:
    probe = datetime(2000, 1, 1, tzinfo=UTC)
    return connection.ops.adapt_datetimefield_value(probe) is probe


_NONE = type(None)
_STR, _INT, _BOOL, _FLOAT = (str, _NONE), (int, _NONE), (bool, _NONE), (float, _NONE)
_AWARE = (_NONE,)  # and an aware datetime, checked apart
_TEXT_STEPS = {
    (models.CharField.get_prep_value, models.CharField.to_python),
    (models.TextField.get_prep_value, models.TextField.to_python),
}
_AUTO_PREP_VALUE = AutoFieldMixin.get_db_prep_value


def _check(row: Row, position: int) -> None:
    meta = row.obj._meta
    if row.obj.pk is not None or not row.obj._state.adding:
        raise ValueError(f"{meta.label}: rows_insert writes new rows only.")
    if meta.db_returning_fields != [meta.pk]:
        raise ValueError(f"{meta.label}: rows_insert returns only the primary key.")
    if any(index >= position for index in row.refs.values()) or any(
        index >= position for keys in row.json_refs.values() for index in keys.values()
    ):
        raise ValueError(f"{meta.label}: a row can point only at rows before it.")
    for relation in _relations(type(row.obj)).values():
        if relation.attname not in row.refs and relation.is_cached(row.obj):
            related = relation.get_cached_value(row.obj)
            if related is not None and related.pk is None:
                raise ValueError(f"{meta.label}.{relation.name} points at an unsaved row that is not in refs.")


_relations_of: dict[type, dict[str, object]] = {}


def _relations(model) -> dict[str, object]:
    """The model's foreign keys by attname (worked out once per model)."""
    relations = _relations_of.get(model)
    if relations is None:
        relations = _relations_of[model] = {f.attname: f for f in model._meta.concrete_fields if f.is_relation}
    return relations


def _fill_refs(row: Row, ids) -> None:
    """Point the row's references at the ids of the rows before it, keeping a cached related instance."""
    for attname, index in row.refs.items():
        relation = _relations(type(row.obj))[attname]
        related = relation.get_cached_value(row.obj, None)
        setattr(row.obj, attname, ids[index])
        if related is not None:
            relation.set_cached_value(row.obj, related)
    for attname, keys in row.json_refs.items():
        value = dict(getattr(row.obj, attname) or {})
        value.update({key: ids[index] for key, index in keys.items()})
        setattr(row.obj, attname, value)


_statements: dict[tuple, tuple[str, list]] = {}


def _statement(rows: tuple[Row, ...], connection) -> tuple[str, list]:
    """The ``WITH`` statement for this shape of rows, and per row the fields passed as parameters,
    each with the value types it writes unchanged (``_unchanged_types``)."""
    shape = (
        type(connection.ops),
        tuple(
            (type(row.obj), tuple(row.refs.items()), tuple((a, tuple(k.items())) for a, k in row.json_refs.items()))
            for row in rows
        ),
    )
    cached = _statements.get(shape)
    if cached is not None:
        return cached
    quote = connection.ops.quote_name
    steps, plans_of_rows = [], []
    for position, row in enumerate(rows):
        meta = row.obj._meta
        columns, values, fields = [], [], []
        for f in meta.local_concrete_fields:
            if f.generated or f is meta.auto_field:
                continue
            if getattr(f, "get_placeholder", None) is not None:
                raise ValueError(f"{meta.label}.{f.name} needs a placeholder of its own; rows_insert has none.")
            columns.append(quote(f.column))
            if f.attname in row.refs:
                values.append(f"(SELECT id FROM step{row.refs[f.attname]})")
                continue
            fields.append(f)
            keys = row.json_refs.get(f.attname)
            if keys:
                if not all(_KEY.match(key) for key in keys):
                    raise ValueError(f"{meta.label}.{f.name}: JSON keys filled in must be plain identifiers.")
                built = ", ".join(f"'{key}', (SELECT id FROM step{index})" for key, index in keys.items())
                values.append(f"(%s::jsonb || jsonb_build_object({built}))")
            else:
                values.append("%s")
        steps.append(
            f"step{position} AS (INSERT INTO {quote(meta.db_table)} ({', '.join(columns)}) "
            f"VALUES ({', '.join(values)}) RETURNING {quote(meta.pk.column)} AS id)"
        )
        plans_of_rows.append(tuple((f, _unchanged_types(f, connection)) for f in fields))
    selects = ", ".join(f"(SELECT id FROM step{position})" for position in range(len(rows)))
    cached = _statements[shape] = (f"WITH {', '.join(steps)} SELECT {selects}", plans_of_rows)
    return cached
