"""Permission matrix: every staff issue page and action × who asks → the expected status.

Roles: anonymous (→ login), officer of the issue's neighborhood, officer of
another district (sees every issue — problems cross beat lines — but may not
act), supervisor, and a signed-in user with no role (→ 403 everywhere).
"""

import pytest

from cases import services
from cases.models import Event
from tests import factories


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness is not under test here; users are created in every test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


ROLES = ("anonymous", "officer", "other_district", "supervisor", "no_role")

# endpoint: (method, path, expected status for each role in ROLES order)
MATRIX = {
    "queue": ("GET", "/queue/", (302, 200, 200, 200, 403)),
    "list": ("GET", "/issues/", (302, 200, 200, 200, 403)),
    "list-city": ("GET", "/issues/?area=city", (302, 200, 200, 200, 403)),
    "list-filtered": ("GET", "/issues/?status=open&assignee=me&overdue=yes", (302, 200, 200, 200, 403)),
    "search": ("GET", "/issues/search/?q=laundromat", (302, 200, 200, 200, 403)),
    "detail": ("GET", "/issues/{pk}/", (302, 200, 200, 200, 403)),
    # Revealing contact details is a POST with a reason (the audit log records why); an officer
    # of another district may read the issue but not its residents' contact details.
    "reveal-contacts": ("POST", "/issues/{pk}/contacts/", (302, 200, 403, 200, 403)),
    "acknowledge": ("POST", "/issues/{pk}/acknowledge/", (302, 302, 403, 302, 403)),
    "assign": ("POST", "/issues/{pk}/assign/", (302, 302, 403, 302, 403)),
    "approach": ("POST", "/issues/{pk}/approach/", (302, 302, 403, 302, 403)),
    "priority": ("POST", "/issues/{pk}/priority/", (302, 302, 403, 302, 403)),
    "note": ("POST", "/issues/{pk}/note/", (302, 302, 403, 302, 403)),
    "hold": ("POST", "/issues/{pk}/hold/", (302, 302, 403, 302, 403)),
    "resume": ("POST", "/issues/{pk}/resume/", (302, 302, 403, 302, 403)),
    "duplicate": ("POST", "/issues/{pk}/duplicate/", (302, 302, 403, 302, 403)),
    "refer": ("POST", "/issues/{pk}/refer/", (302, 302, 403, 302, 403)),
    "resolve": ("POST", "/issues/{pk}/resolve/", (302, 302, 403, 302, 403)),
    "crime-report": ("POST", "/issues/{pk}/crime-report/", (302, 302, 403, 302, 403)),
    "reopen": ("POST", "/issues/{pk}/reopen/", (302, 302, 403, 302, 403)),
    "close": ("POST", "/issues/{pk}/close/", (302, 302, 403, 302, 403)),
}

TABLE = [
    pytest.param(endpoint, role, MATRIX[endpoint][2][i], id=f"{endpoint}-{role}")
    for endpoint in MATRIX
    for i, role in enumerate(ROLES)
]


def _prepare(endpoint, issue, admin):
    """Bring the issue into a state where the action is valid, so only permission decides."""
    if endpoint == "resume":
        services.issue_hold(issue=issue, actor=admin, reason="Waiting")
    elif endpoint in ("reopen", "close"):
        services.issue_resolve(issue=issue, actor=admin, note="Done")


def _data(endpoint, issue, user):
    if endpoint == "assign":
        return {"officer": user.pk if user and user.has_perm("cases.work_issue") else ""}
    if endpoint == "duplicate":
        other = factories.IssueFactory(neighborhood=issue.neighborhood, category=issue.category)
        return {"tracking_code": other.tracking_code}
    return {
        "approach": {"approach": "deter"},
        "priority": {"priority": "urgent"},
        "note": {"text": "Checked", "visibility": "internal"},
        "hold": {"reason": "Waiting for the city"},
        "refer": {"agency": "Code Enforcement"},
        "resolve": {"note": "Cleaned"},
        "crime-report": {"report_number": "KC-77"},
        "reopen": {"reason": "Back again"},
        "reveal-contacts": {"reason_code": "call_back"},
    }.get(endpoint, {})


@pytest.fixture
def users(officer, other_officer, supervisor, db):
    return {
        "anonymous": None,
        "officer": officer,
        "other_district": other_officer,
        "supervisor": supervisor,
        "no_role": factories.UserFactory(),
    }


@pytest.mark.parametrize(("endpoint", "role", "expected"), TABLE)
def test_permission_matrix(client, users, neighborhood, category, endpoint, role, expected):
    issue = factories.IssueFactory(neighborhood=neighborhood, category=category)
    factories.ReportFactory(issue=issue, reporter_email="resident@example.org")
    _prepare(endpoint, issue, users["supervisor"])
    user = users[role]
    if user is not None:
        client.force_login(user)
    method, path, _ = MATRIX[endpoint]
    url = path.format(pk=issue.pk)
    events_before = issue.events.count()

    if method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, _data(endpoint, issue, user))

    assert response.status_code == expected
    if role == "anonymous":
        assert response["Location"].startswith("/accounts/login/?next=")
    elif method == "POST" and expected == 302:
        assert response["Location"] == f"/issues/{issue.pk}/"
    if expected >= 400 or role == "anonymous":
        # Refused: nothing recorded, nothing changed.
        assert issue.events.count() == events_before
    if endpoint == "reveal-contacts":
        viewed = issue.events.filter(kind=Event.Kind.CONTACT_VIEWED).count()
        assert viewed == (1 if role in ("officer", "supervisor") else 0)
        if expected == 200:
            shown = "resident@example.org" in response.content.decode()
            assert shown == (role in ("officer", "supervisor"))


def test_other_district_officer_sees_no_action_forms(client, other_officer, neighborhood, category):
    issue = factories.IssueFactory(neighborhood=neighborhood, category=category)
    client.force_login(other_officer)
    body = client.get(f"/issues/{issue.pk}/").content.decode()
    assert f"/issues/{issue.pk}/acknowledge/" not in body
    assert "Acting on it is for its assignee" in body


def test_other_district_officer_may_act_once_assigned(client, other_officer, supervisor, neighborhood, category):
    issue = factories.IssueFactory(neighborhood=neighborhood, category=category)
    services.issue_assign(issue=issue, officer=other_officer, actor=supervisor)
    client.force_login(other_officer)
    response = client.post(f"/issues/{issue.pk}/note/", {"text": "On my way", "visibility": "public"})
    assert response.status_code == 302
    assert issue.events.filter(kind=Event.Kind.NOTE, actor=other_officer).exists()


def test_expired_session_during_htmx_action_sends_the_page_to_login(client, neighborhood, category):
    issue = factories.IssueFactory(neighborhood=neighborhood, category=category)
    response = client.post(
        f"/issues/{issue.pk}/acknowledge/",
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=f"http://testserver/issues/{issue.pk}/?contacts=show",
    )
    assert response.status_code == 401
    assert response["HX-Redirect"] == f"/accounts/login/?next=%2Fissues%2F{issue.pk}%2F%3Fcontacts%3Dshow"
    issue.refresh_from_db()
    assert issue.status == "new"


def test_refused_page_explains_itself(client, other_officer, neighborhood, category):
    issue = factories.IssueFactory(neighborhood=neighborhood, category=category)
    client.force_login(other_officer)
    response = client.post(f"/issues/{issue.pk}/resolve/", {"note": "x"})
    assert response.status_code == 403
    assert "You may not act on issues outside your neighborhoods." in response.content.decode()
