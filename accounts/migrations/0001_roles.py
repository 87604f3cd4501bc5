"""The Officer, Supervisor and Administrator groups with their permissions, as of this migration.

The roles as they stood when the groups moved to the accounts app (earlier,
``outreach.0002_roles`` and ``cases.0013_privacy`` made them, importing live code).
A migration states its data rather than importing the app: ``accounts.roles``
may change later, this must not. A change to the roles is a new migration here;
``tests/accounts/test_roles.py`` fails while ``accounts.roles`` and the latest one
disagree. Permissions are normally created after ``migrate``; they are created here
first, for every app, so that a fresh database has complete roles in one step.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

# As accounts/roles.py stated them when this migration was written.
OFFICER_PERMISSIONS = {
    "partners": ["view_neighborhood", "view_partner", "view_partnercontact", "view_staffprofile"],
    "cases": [
        "view_category",
        "view_issue",
        "add_issue",
        "change_issue",
        "view_report",
        "add_report",
        "view_event",
        "add_event",
        "view_escalation",
        "view_problem",
        "change_problem",
        "view_feedback",
        "view_notification",
        "work_issue",
        "view_residentmessage",
        "add_residentmessage",
    ],
    "outreach": ["view_activity", "add_activity", "change_activity"],
}

SUPERVISOR_PERMISSIONS = {
    "partners": OFFICER_PERMISSIONS["partners"]
    + ["add_partner", "change_partner", "add_partnercontact", "change_partnercontact"],
    "cases": OFFICER_PERMISSIONS["cases"]
    + [
        "change_escalation",
        "add_problem",
        "view_dashboard",
        "view_all_contact_details",
        "export_data",
        "moderate",
        "view_audit",
        "view_moderationitem",
        "change_moderationitem",
    ],
    "outreach": OFFICER_PERMISSIONS["outreach"] + ["edit_any_activity"],
}

ROLES = {"Officer": OFFICER_PERMISSIONS, "Supervisor": SUPERVISOR_PERMISSIONS}
# The Administrator holds every permission of these apps.
ADMINISTRATOR = "Administrator"
ADMIN_APPS = ("partners", "cases", "outreach", "auth", "authtoken")


def create_roles(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames_by_app in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for app_label, codenames in codenames_by_app.items():
            found = list(Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames))
            missing = set(codenames) - {permission.codename for permission in found}
            if missing:
                raise RuntimeError(f"Role {role}: unknown permissions {app_label}.{sorted(missing)}")
            wanted += found
        group.permissions.set(wanted)
    administrator, _ = Group.objects.get_or_create(name=ADMINISTRATOR)
    administrator.permissions.set(Permission.objects.filter(content_type__app_label__in=ADMIN_APPS))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=[*ROLES, ADMINISTRATOR]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("authtoken", "0004_alter_tokenproxy_options"),
        ("partners", "0002_partner_outreach_figures"),
        ("cases", "0020_drop_assignee_status_index"),
        ("outreach", "0003_activity_period_indexes_cover_figures"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
