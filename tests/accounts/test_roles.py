"""The role groups: made by a migration that states them, kept in step with ``accounts.roles``."""

from __future__ import annotations

import importlib
from pathlib import Path

from django.contrib.auth.models import Group

from accounts import roles

MIGRATIONS = Path(roles.__file__).parent / "migrations"


def _latest_roles_migration():
    names = sorted(path.stem for path in MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))
    modules = [importlib.import_module(f"accounts.migrations.{name}") for name in names]
    return [module for module in modules if hasattr(module, "ROLES")][-1]


def test_the_latest_roles_migration_states_the_roles_accounts_roles_defines():
    migration = _latest_roles_migration()
    assert dict(roles.ROLE_PERMISSIONS) == migration.ROLES
    assert migration.ADMINISTRATOR == roles.ADMINISTRATOR
    assert tuple(migration.ADMIN_APPS) == tuple(roles.ADMIN_APPS)


def test_a_migrated_database_holds_the_roles_roles_sync_would_make(db):
    """The test database is made by the migrations: its groups are what ``roles_sync`` writes."""
    migrated = {
        group.name: set(group.permissions.values_list("content_type__app_label", "codename"))
        for group in Group.objects.all()
    }
    roles.roles_sync()
    synced = {
        group.name: set(group.permissions.values_list("content_type__app_label", "codename"))
        for group in Group.objects.all()
    }
    assert set(migrated) == set(roles.ROLE_NAMES)
    assert migrated == synced


# Field defaults and validators are referred to by their import path, as Django writes them; the
# two public-copy backfills mask existing text with the live redactor, since a public copy must be
# what the redactor of the day gives (a frozen copy of it would publish what today's one masks).
ALLOWED = {
    ("cases/migrations/0001_initial.py", "import cases.models"),
    ("cases/migrations/0007_lean_write_indexes_digest_items.py", "import cases.models"),
    ("cases/migrations/0014_public_text_backfill.py", "from cases.redaction import public_copies_fill"),
    ("cases/migrations/0015_public_address.py", "from cases.redaction import public_copies_fill"),
}
APPS = ("accounts", "cases", "config", "core", "insights", "outreach", "partners")


def test_no_migration_imports_the_apps_code_but_the_allowed():
    """Migrations read models through ``apps.get_model``: one importing live code would change what an
    old migration does whenever that code changes."""
    root = MIGRATIONS.parent.parent
    found = set()
    for path in sorted(root.glob("*/migrations/[0-9]*.py")):
        for line in path.read_text().splitlines():
            words = line.split()
            if len(words) >= 2 and words[0] in ("from", "import") and words[1].split(".")[0] in APPS:
                found.add((str(path.relative_to(root)), line.strip()))
    assert found - ALLOWED == set()
