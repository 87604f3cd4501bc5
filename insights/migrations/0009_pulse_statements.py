"""The survey's first statements (the four of the issue: 21st Century Policing rec. 1.7), in both
languages; the admin edits them afterwards. Written out here: a migration does not import app code."""

from django.db import migrations

STATEMENTS = [
    (
        "Police in my neighborhood treat people with respect.",
        "La policía de mi barrio trata a las personas con respeto.",
    ),
    (
        "I would report a problem in my neighborhood to the police.",
        "Yo reportaría a la policía un problema de mi barrio.",
    ),
    ("I feel safe in my neighborhood.", "Me siento seguro o segura en mi barrio."),
    (
        "Police and residents work together to solve problems here.",
        "La policía y los vecinos trabajan juntos para resolver los problemas aquí.",
    ),
]


def add(apps, schema_editor):
    PulseStatement = apps.get_model("insights", "PulseStatement")
    if PulseStatement.objects.exists():
        return
    PulseStatement.objects.bulk_create(
        PulseStatement(text_en=en, text_es=es, position=10 * (i + 1), active=True) for i, (en, es) in enumerate(STATEMENTS)
    )


class Migration(migrations.Migration):
    dependencies = [("insights", "0008_pulse")]

    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
