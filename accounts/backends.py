"""The authentication backend: Django's ``ModelBackend``, with a user's permissions read in one statement.

Every staff page and API call asks for permissions, and draws the user's role names in
the header. ``ModelBackend`` reads the user's own permissions and their groups' in two
statements, and ``accounts.roles.roles_of`` the role names in a third. Here one prepared
statement (``core.prepared``) reads all three, and fills the caches each of them keeps
on the user object (``_user_perm_cache``, ``_group_perm_cache``, ``_perm_cache``,
``_cg_roles``), so they answer from it as they would from their own reads. The answers
live as long as Django's own cache does: with the user object, one request.

Superusers keep ``ModelBackend``'s way (every permission there is).
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router

from accounts.roles import ADMINISTRATOR, ROLE_NAMES
from core import prepared

__all__ = ["PermissionsBackend", "load_permissions"]


def _sql(connection) -> str:
    quote = connection.ops.quote_name
    permission, content_type = quote(Permission._meta.db_table), quote(ContentType._meta.db_table)
    user_permission = quote(User.user_permissions.through._meta.db_table)
    user_group = quote(User.groups.through._meta.db_table)
    group_permission = quote(Group.permissions.through._meta.db_table)
    group = quote(Group._meta.db_table)
    roles = ", ".join(f"'{name}'" for name in ROLE_NAMES)  # constants of accounts.roles
    named = f"FROM {permission} p JOIN {content_type} ct ON ct.id = p.content_type_id"
    # Table names from the models and the role names above: no input in the text.
    return (
        f"SELECT 'user', ct.app_label, p.codename {named}"  # noqa: S608
        f" JOIN {user_permission} up ON up.permission_id = p.id WHERE up.user_id = %s"
        f" UNION ALL SELECT 'group', ct.app_label, p.codename {named}"
        f" JOIN {group_permission} gp ON gp.permission_id = p.id"
        f" JOIN {user_group} ug ON ug.group_id = gp.group_id WHERE ug.user_id = %s"
        f" UNION ALL SELECT 'role', g.name, '' FROM {group} g"
        f" JOIN {user_group} ug ON ug.group_id = g.id WHERE ug.user_id = %s AND g.name IN ({roles})"
    )


def load_permissions(user) -> None:
    """Fill the permission and role caches of an active, signed-in, non-superuser ``user``."""
    connection = connections[router.db_for_read(Permission)]
    with connection.cursor() as cursor:
        prepared.execute(cursor, _sql(connection), [user.pk, user.pk, user.pk])
        rows = cursor.fetchall()
    own, through_groups, roles = set(), set(), set()
    for kind, first, second in rows:
        if kind == "role":
            roles.add(first)
        else:
            (own if kind == "user" else through_groups).add(f"{first}.{second}")
    user._user_perm_cache = own
    user._group_perm_cache = through_groups
    user._perm_cache = own | through_groups
    if getattr(user, "_cg_roles", None) is None:
        user._cg_roles = roles | ({ADMINISTRATOR} if user.is_superuser else set())


class PermissionsBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache") and not user_obj.is_superuser:
            load_permissions(user_obj)
        return super().get_all_permissions(user_obj, obj)
