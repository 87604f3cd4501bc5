"""The Administrator again holds every permission of its apps, the city's address points
(``partners.AddressPoint``) included: ``0003`` gave it those that existed then. (The same steps as
``0003``, written out again: a migration does not import code that may change after it.)"""

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
    dependencies = [("accounts", "0003_administrator_followers"), ("partners", "0003_address_points")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
