"""Each partner's outreach figures as columns (issue 14): how many activities list it and when the
latest of them started. Filled here from the activity rows in one UPDATE; from then on the outreach
services keep them (outreach.services.partner_figures_refresh)."""

from django.db import migrations, models


def partner_figures_backfill(apps, schema_editor):
    """Every partner's count and latest start, grouped from the link and activity rows in one statement
    (``UPDATE … FROM``: PostgreSQL, and SQLite from 3.33). Every partner is read, those without an
    activity too, so the figures are right whatever the columns held before."""
    Partner = apps.get_model("partners", "Partner")
    Activity = apps.get_model("outreach", "Activity")
    Link = Activity.partners.through
    quote = schema_editor.connection.ops.quote_name
    partner, link, activity = (quote(m._meta.db_table) for m in (Partner, Link, Activity))
    link_partner, link_activity = (quote(Link._meta.get_field(name).column) for name in ("partner", "activity"))
    sql = f"""
        UPDATE {partner} SET activity_count = figures.n, last_activity_at = figures.latest
        FROM (
            SELECT p.id AS partner_id, COUNT(a.id) AS n, MAX(a.starts_at) AS latest
            FROM {partner} p
            LEFT JOIN {link} l ON l.{link_partner} = p.id
            LEFT JOIN {activity} a ON a.id = l.{link_activity}
            GROUP BY p.id
        ) AS figures
        WHERE {partner}.id = figures.partner_id
    """  # noqa: S608 (identifiers from the models' meta)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0001_initial"),
        # The activities and their partner links the figures are counted from.
        ("outreach", "0003_activity_period_indexes_cover_figures"),
    ]

    operations = [
        migrations.AddField(
            model_name="partner",
            name="activity_count",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="partner",
            name="last_activity_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(partner_figures_backfill, migrations.RunPython.noop, elidable=True),
    ]
