"""Role definitions: the groups and the permissions each holds (``accounts.0001_roles`` creates them).

Roles are Django groups so an administrator can adjust them in the admin; code
asks for permissions (``user.has_perm``), never for group names, except to show
a role's name.
"""

OFFICER = "Officer"
SUPERVISOR = "Supervisor"
ADMINISTRATOR = "Administrator"
ROLE_NAMES = (OFFICER, SUPERVISOR, ADMINISTRATOR)

# app_label -> codenames. Model permissions are Django's defaults
# (view_/add_/change_/delete_<model>); the rest are declared in Meta.permissions.
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

ROLE_PERMISSIONS = {OFFICER: OFFICER_PERMISSIONS, SUPERVISOR: SUPERVISOR_PERMISSIONS}
# Administrator receives every permission of the four apps plus auth's (insights: the trust pulse's statements).
ADMIN_APPS = ("partners", "cases", "outreach", "insights", "auth", "authtoken")


def roles_of(user):
    """Names of the role groups a user belongs to (cached on the user object)."""
    cached = getattr(user, "_cg_roles", None)
    if cached is None and user.is_active and not user.is_superuser and not hasattr(user, "_perm_cache"):
        from accounts.backends import load_permissions

        load_permissions(user)  # the roles come with the permissions, in one statement
        cached = user._cg_roles
    if cached is None:
        cached = set(user.groups.filter(name__in=ROLE_NAMES).values_list("name", flat=True))
        if user.is_superuser:
            cached |= {ADMINISTRATOR}
        user._cg_roles = cached
    return cached


def roles_sync(verbosity=0):
    """Create/refresh the role groups and their permissions from this module. Idempotent.

    Used by seed_demo, the bench loader, and tests after a transactional test has flushed
    the tables. A fresh database gets them from the migration (``accounts.0001_roles``),
    which states the roles as they were when it was written.
    """
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=verbosity)
    for role, perms_by_app in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for app_label, codenames in perms_by_app.items():
            found = list(Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames))
            missing = set(codenames) - {p.codename for p in found}
            if missing:
                raise RuntimeError(f"Role {role}: unknown permissions {app_label}.{sorted(missing)}")
            wanted += found
        group.permissions.set(wanted)
    admin_group, _ = Group.objects.get_or_create(name=ADMINISTRATOR)
    admin_group.permissions.set(Permission.objects.filter(content_type__app_label__in=ADMIN_APPS))
