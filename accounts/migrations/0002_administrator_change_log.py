"""The Administrator again holds every permission of its apps, the change log's
(``cases.ChangedDay``) included: ``0001_roles`` gave it those that existed then."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ADMINISTRATOR = "Administrator"
ADMIN_APPS = ("partners", "cases", "outreach", "auth", "authtoken")


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    administrator, _ = Group.objects.get_or_create(name=ADMINISTRATOR)
    administrator.permissions.set(Permission.objects.filter(content_type__app_label__in=ADMIN_APPS))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_roles"), ("cases", "0022_figure_changes")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
