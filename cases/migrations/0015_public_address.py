"""Issue.public_address: the address a resident typed, as Open311 publishes it, masked by
cases.redaction like the description. Existing addresses are masked here (``mask_public_text``
does the same in batches with progress, for a large table, before this migration)."""

from django.db import migrations, models


def fill(apps, schema_editor):
    from cases.redaction import public_copies_fill

    public_copies_fill(
        issue_model=apps.get_model("cases", "Issue"),
        report_model=apps.get_model("cases", "Report"),
        event_model=apps.get_model("cases", "Event"),
        batch_size=1000,
    )


class Migration(migrations.Migration):
    # Each batch commits on its own: a long fill is not one long transaction holding its locks.
    atomic = False

    dependencies = [
        ("cases", "0014_public_text_backfill"),
    ]

    operations = [
        migrations.AddField(
            model_name="issue",
            name="public_address",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
