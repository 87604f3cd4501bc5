"""The public copies (Issue.public_description, Report.public_text) of rows written before
masking, and the public timeline messages, masked by cases.redaction.

On a large table an operator runs ``manage.py mask_public_text`` first (batched, with
progress, safe to interrupt and run again); this migration then finds nothing left to do.
"""

from django.db import migrations


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
        ("cases", "0013_privacy"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
