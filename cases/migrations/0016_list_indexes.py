import django.db.models.deletion
from django.conf import settings

"""Indexes that let every issue list read a page, not the table (issue 14).

- ``issue_cat_created_idx`` and ``issue_nbhd_created_idx``: one category's or one
  neighborhood's issues newest first (the second replaces the plain neighborhood index).
- On PostgreSQL, ``pg_trgm`` and a trigram GIN index on the staff search text
  (``cases.search.IssueSearchText``: the expression must stay identical).
"""

from django.db import migrations, models

SEARCH_INDEX = (
    "CREATE INDEX IF NOT EXISTS issue_search_trgm_idx ON cases_issue USING gin "
    "((UPPER(tracking_code || ' ' || address || ' ' || description)) gin_trgm_ops)"
)


def search_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(SEARCH_INDEX)


def drop_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS issue_search_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0015_public_address"),
        ("partners", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="issue",
            name="neighborhood",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="issues",
                to="partners.neighborhood",
            ),
        ),
        migrations.AddIndex(
            model_name="issue",
            index=models.Index(fields=["category", "created_at", "id"], name="issue_cat_created_idx"),
        ),
        migrations.AddIndex(
            model_name="issue",
            index=models.Index(fields=["neighborhood", "created_at", "id"], name="issue_nbhd_created_idx"),
        ),
        migrations.RunPython(search_index, drop_search_index),
    ]
