"""The bench loader's hand-written INSERTs name every column a row cannot do without.

``benchmarks/data.py`` loads a city with set-based SQL. Most tables go through
``_insert_select``, which fills the columns it is not given with the model's default; a few
statements are written out by hand (escalations, feedback, problems, link tables). A field added
later with a default but no database default is NOT NULL in PostgreSQL, so such a statement fails
``make bench`` after a full migration (seen: ``StaffProfile.language``). This reads each of those
statements and checks its column list against the model, without loading a million rows.
"""

import re
from pathlib import Path

from django.apps import apps

SOURCE = Path(__file__).resolve().parents[2] / "benchmarks" / "data.py"
INSERT = re.compile(r"INSERT INTO (\w+)\s*\(([^)]*)\)")


def _tables():
    found = {}
    for model in apps.get_models(include_auto_created=True):
        found[model._meta.db_table] = model
    return found


def _required_columns(model) -> set[str]:
    required = set()
    for field in model._meta.local_concrete_fields:
        if field.primary_key and (field.auto_created or getattr(field, "db_returning", False)):
            continue
        if field.null or field.has_db_default():
            continue
        required.add(field.column)
    return required


def test_every_hand_written_insert_names_the_columns_that_cannot_be_null():
    statements = INSERT.findall(SOURCE.read_text())
    assert len(statements) >= 8, "the loader's INSERT statements were not found"
    tables = _tables()
    missing = {}
    for table, columns in statements:
        if table == "bench_meta":
            continue
        assert table in tables, f"{table}: no model has this table"
        named = {column.strip() for column in columns.split(",")}
        lacking = _required_columns(tables[table]) - named
        if lacking:
            missing[table] = sorted(lacking)
    assert missing == {}, f"INSERTs that leave NOT NULL columns without a value: {missing}"
