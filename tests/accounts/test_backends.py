"""accounts.backends: the permissions and role names of a user, in one statement, as Django's
ModelBackend and accounts.roles would answer them with three."""

from __future__ import annotations

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser, Group, Permission, User

from accounts.backends import PermissionsBackend
from accounts.roles import ADMINISTRATOR, OFFICER, SUPERVISOR, roles_of
from tests import factories


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _people():
    export = Permission.objects.get(codename="export_data", content_type__app_label="cases")
    clerks = Group.objects.create(name="Clerks")
    clerks.permissions.add(Permission.objects.get(codename="view_partner", content_type__app_label="partners"))
    officer = factories.officer()
    both = factories.supervisor()
    both.groups.add(factories.role_group(OFFICER), clerks)
    direct = factories.UserFactory()
    direct.user_permissions.add(export)
    mixed = factories.officer()
    mixed.user_permissions.add(export)
    mixed.groups.add(clerks)
    gone = factories.officer(is_active=False)
    root = factories.UserFactory(is_superuser=True)
    nobody = factories.UserFactory()
    return [officer, both, direct, mixed, gone, root, nobody]


def test_same_permissions_as_djangos_backend(db):
    for person in _people():
        ours = PermissionsBackend()
        expected = ModelBackend()
        theirs = User.objects.get(pk=person.pk)
        mine = User.objects.get(pk=person.pk)
        assert ours.get_all_permissions(mine) == expected.get_all_permissions(theirs), person.username
        assert ours.get_user_permissions(mine) == expected.get_user_permissions(theirs), person.username
        assert ours.get_group_permissions(mine) == expected.get_group_permissions(theirs), person.username
    assert PermissionsBackend().get_all_permissions(AnonymousUser()) == set()


def test_roles_match_the_groups_whichever_is_asked_first(db):
    for person in _people():
        expected = set(
            person.groups.filter(name__in=[OFFICER, SUPERVISOR, ADMINISTRATOR]).values_list("name", flat=True)
        )
        if person.is_superuser:
            expected.add(ADMINISTRATOR)
        roles_first = User.objects.get(pk=person.pk)
        assert roles_of(roles_first) == expected
        roles_first.has_perm("cases.view_issue")
        perms_first = User.objects.get(pk=person.pk)
        perms_first.has_perm("cases.view_issue")
        assert roles_of(perms_first) == expected, person.username


def test_one_statement_for_permissions_and_roles(db, django_assert_num_queries):
    supervisor = User.objects.get(pk=factories.supervisor().pk)
    with django_assert_num_queries(1):
        assert supervisor.has_perm("cases.view_dashboard")
        assert supervisor.has_perm("cases.work_issue")
        assert not supervisor.has_perm("auth.delete_user")
        assert roles_of(supervisor) == {SUPERVISOR}


def test_a_removed_role_counts_from_the_next_request(client, db):
    """The answers live with the user object: a role taken away holds from the next request on."""
    officer = factories.officer()
    client.force_login(officer)
    assert client.get("/queue/").status_code == 200
    officer.groups.clear()
    assert client.get("/queue/").status_code == 403
