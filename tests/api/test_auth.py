"""Authentication: per-user tokens an administrator issues and revokes in the
Django admin, session authentication for the browser (with CSRF), and tokens of
deactivated users refused."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests import factories
from tests.api.conftest import token_client


@pytest.fixture
def administrator(db):
    """A member of the Administrator role (not a superuser): the admin is where tokens are managed."""
    user = factories.UserFactory(username="admin-role", is_staff=True)
    user.groups.add(Group.objects.get(name="Administrator"))
    return user


def _admin(user):
    client = Client()
    client.force_login(user)
    return client


def test_administrator_issues_a_token_in_the_admin_and_the_client_uses_it(administrator, officer, issue):
    admin = _admin(administrator)
    assert admin.get("/admin/authtoken/tokenproxy/add/").status_code == 200
    response = admin.post("/admin/authtoken/tokenproxy/add/", {"user": officer.pk})
    assert response.status_code == 302, response.content[:500]
    token = Token.objects.get(user=officer)
    listing = admin.get("/admin/authtoken/tokenproxy/")
    assert officer.username in listing.content.decode()

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    me = client.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["username"] == officer.username
    assert me.json()["roles"] == ["Officer"]
    assert "cases.work_issue" in me.json()["permissions"]
    assert client.get(f"/api/v1/issues/{issue.pk}/").status_code == 200


def test_administrator_revokes_a_token_and_it_stops_working_at_once(administrator, officer):
    token = Token.objects.create(user=officer)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/v1/me/").status_code == 200

    admin = _admin(administrator)
    # The token admin addresses tokens by their user's id.
    assert admin.get(f"/admin/authtoken/tokenproxy/{officer.pk}/delete/").status_code == 200
    response = admin.post(f"/admin/authtoken/tokenproxy/{officer.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Token.objects.filter(user=officer).exists()

    refused = client.get("/api/v1/me/")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "authentication_failed"


def test_an_officer_cannot_manage_tokens(officer):
    officer.is_staff = True
    officer.save(update_fields=["is_staff"])
    assert _admin(officer).get("/admin/authtoken/tokenproxy/add/").status_code == 403


def test_a_deactivated_users_token_is_refused(officer, issue):
    client = token_client(officer)
    assert client.get("/api/v1/issues/").status_code == 200
    officer.is_active = False
    officer.save(update_fields=["is_active"])
    response = client.get("/api/v1/issues/")
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "authentication_failed",
        "message": "User inactive or deleted.",
        "fields": {},
    }
    # Not even the public catalog answers a request carrying it: the client must learn its key is dead.
    assert client.get("/api/v1/categories/").status_code == 401


def test_session_authentication_for_the_browser_needs_the_csrf_token(officer, issue):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(officer)
    assert browser.get(f"/api/v1/issues/{issue.pk}/").status_code == 200

    refused = browser.post(f"/api/v1/issues/{issue.pk}/acknowledge/", content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    assert "CSRF" in refused.json()["error"]["message"]
    issue.refresh_from_db()
    assert issue.status == "new"

    browser.get(f"/issues/{issue.pk}/")  # the issue page sets the CSRF cookie for its forms
    token = browser.cookies["csrftoken"].value
    accepted = browser.post(
        f"/api/v1/issues/{issue.pk}/acknowledge/", content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "acknowledged"


def test_a_user_without_a_role_sees_nothing(db, issue):
    nobody = factories.UserFactory(username="resident-account")
    client = token_client(nobody)
    assert client.get("/api/v1/issues/").status_code == 403
    assert client.get(f"/api/v1/issues/{issue.pk}/").status_code == 403
    assert client.get("/api/v1/categories/").status_code == 200
