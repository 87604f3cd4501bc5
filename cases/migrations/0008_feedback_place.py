"""Feedback carries its issue's neighborhood and category (see ``Feedback.neighborhood``).

Added nullable, filled from the issues in one set-based UPDATE, then made required.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_place(apps, schema_editor):
    Feedback = apps.get_model("cases", "Feedback")
    Issue = apps.get_model("cases", "Issue")
    issue = Issue.objects.filter(pk=OuterRef("issue_id"))
    Feedback.objects.update(
        neighborhood_id=Subquery(issue.values("neighborhood_id")[:1]),
        category_id=Subquery(issue.values("category_id")[:1]),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0007_lean_write_indexes_digest_items"),
        ("partners", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="feedback",
            name="neighborhood",
            field=models.ForeignKey(
                null=True,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="partners.neighborhood",
            ),
        ),
        migrations.AddField(
            model_name="feedback",
            name="category",
            field=models.ForeignKey(
                null=True,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="cases.category",
            ),
        ),
        migrations.RunPython(copy_place, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="feedback",
            name="neighborhood",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="partners.neighborhood",
            ),
        ),
        migrations.AlterField(
            model_name="feedback",
            name="category",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="cases.category",
            ),
        ),
        migrations.RemoveIndex(model_name="feedback", name="feedback_created_idx"),
        migrations.AddIndex(
            model_name="feedback",
            index=models.Index(
                fields=["created_at", "neighborhood", "category", "satisfaction", "fixed"],
                name="feedback_period_idx",
            ),
        ),
    ]
