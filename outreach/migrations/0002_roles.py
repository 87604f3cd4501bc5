"""Create the Officer, Supervisor and Administrator groups with their permissions.

Permissions are normally created after migrate; ``roles_sync`` creates them for
every app first so a fresh database has complete roles in one step.
"""

from django.db import migrations


def create_roles(apps, schema_editor):
    from config.roles import roles_sync

    roles_sync(apps)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Officer", "Supervisor", "Administrator"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("outreach", "0001_initial"),
        ("cases", "0001_initial"),
        ("partners", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
