"""The Administrator holds every permission of its apps again, those of the models added since
``0003`` included: the city's address points (``partners.AddressPoint``), the trust survey's
statements (``insights`` joins its apps: ``insights.PulseStatement`` is edited in the admin), the
assignment rules (``cases.AssignmentRule``) and the response templates
(``cases.ResponseTemplate``). The roles are stated again beside the Administrator's apps; the
steps are those of ``0003``, written out again: a migration does not import code that may change
after it."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

# The roles as they stand (unchanged since ``0001``: officers use the templates through the issue
# page, which needs no permission of the model), stated again beside the Administrator's apps.
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

ADMINISTRATOR = "Administrator"
ADMIN_APPS = ("partners", "cases", "outreach", "insights", "auth", "authtoken")


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
    dependencies = [
        ("accounts", "0003_administrator_followers"),
        ("partners", "0003_address_points"),
        ("insights", "0009_pulse_statements"),
        ("cases", "0029_response_templates"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
