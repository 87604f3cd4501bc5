"""The city's address points (issue 18, item 6), and on PostgreSQL the trigram index that serves the
suggestions' ``LIKE '%…%'`` on the search key.

``pg_trgm`` is created here when it is missing: it is a trusted extension (PostgreSQL 13+), so the
database's owner may create it. Where the role may not, the table is made all the same and the
suggestions scan it (a city's few hundred thousand short rows); the warning says how to add the
index later. SQLite has no such index: it scans, which a few thousand rows allow."""

import logging

import django.db.models.deletion
from django.db import DatabaseError, migrations, models, transaction

logger = logging.getLogger(__name__)

TRIGRAM_INDEX = "addresspoint_search_trgm"


def trigram_index_create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    AddressPoint = apps.get_model("partners", "AddressPoint")
    quote = schema_editor.quote_name
    table, column = quote(AddressPoint._meta.db_table), quote(AddressPoint._meta.get_field("search").column)
    try:
        # A savepoint: a refused CREATE EXTENSION must not abort the migration's transaction.
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as error:
        logger.warning(
            "pg_trgm could not be created (%s): address suggestions will scan the table. A superuser can "
            "add the index later: CREATE EXTENSION pg_trgm; CREATE INDEX %s ON %s USING gin (%s gin_trgm_ops);",
            str(error).strip().splitlines()[0],
            TRIGRAM_INDEX,
            table,
            column,
        )
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {quote(TRIGRAM_INDEX)} ON {table} USING gin ({column} gin_trgm_ops)"
    )


def trigram_index_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(TRIGRAM_INDEX)}")


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0002_partner_outreach_figures"),
    ]

    operations = [
        migrations.CreateModel(
            name="AddressPoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "source_id",
                    models.CharField(help_text="The city's own id of the point.", max_length=100, unique=True),
                ),
                ("number", models.CharField(blank=True, max_length=20)),
                ("street", models.CharField(blank=True, max_length=120)),
                ("unit", models.CharField(blank=True, max_length=40)),
                ("city", models.CharField(blank=True, max_length=80)),
                ("postal_code", models.CharField(blank=True, max_length=12)),
                ("label", models.CharField(help_text="The address as published, for display.", max_length=250)),
                (
                    "search",
                    models.CharField(help_text="Upper case, no punctuation, street types abbreviated.", max_length=250),
                ),
                ("lat", models.FloatField()),
                ("lng", models.FloatField()),
                (
                    "neighborhood",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="address_points",
                        to="partners.neighborhood",
                    ),
                ),
            ],
            options={
                "ordering": ["search", "id"],
                "indexes": [models.Index(fields=["search"], name="addresspoint_search_idx")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("lat__gte", -90), ("lat__lte", 90), ("lng__gte", -180), ("lng__lte", 180)),
                        name="addresspoint_coordinates_range",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("search", ""), _negated=True), name="addresspoint_search_not_empty"
                    ),
                ],
            },
        ),
        migrations.RunPython(trigram_index_create, trigram_index_drop),
    ]
