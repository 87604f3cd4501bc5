"""Who may open which outreach and directory page (issue 4, item 10).

Every page and action of the outreach log and the directories against anonymous,
an officer (the author of the activity, attached to its neighborhood), an officer
of another district, a supervisor, and a signed-in account with no role.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from outreach.models import Activity
from outreach.services import activity_create
from tests import factories

pytestmark = pytest.mark.django_db

LOGIN = "login"  # a redirect to the login page
CREATED = "created"  # a redirect to the saved activity

ROLES = ("anonymous", "officer", "other_officer", "supervisor", "no_role")


@pytest.fixture
def world(officer, neighborhood, category):
    partner = factories.PartnerFactory(name="Mattie Rhodes Center")
    partner.neighborhoods.set([neighborhood])
    issue = factories.IssueFactory(neighborhood=neighborhood, category=category)
    start = timezone.now() - timedelta(days=2)
    activity = activity_create(
        actor=officer,
        kind=Activity.Kind.CULTURAL,
        title="Día de los Muertos altar",
        starts_at=start,
        ends_at=start + timedelta(hours=3),
        neighborhood=neighborhood,
        partners=[partner],
        issues=[issue],
    )
    return {"partner": partner, "issue": issue, "activity": activity, "neighborhood": neighborhood}


def activity_post(world, **overrides):
    a = world["activity"]
    data = {
        "kind": a.kind,
        "title": a.title,
        "starts_at": timezone.localtime(a.starts_at).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": timezone.localtime(a.ends_at).strftime("%Y-%m-%dT%H:%M"),
        "neighborhood": str(a.neighborhood_id),
        "officers": [str(a.created_by_id)],
        "partners": [str(world["partner"].pk)],
        "attendance": "30",
        "hours": "",
        "issues": world["issue"].tracking_code,
    }
    data.update(overrides)
    return data


def expect(officer, other_officer, supervisor):
    return {"officer": officer, "other_officer": other_officer, "supervisor": supervisor}


# (method, path template, data builder or None, {role: expected})
MATRIX = [
    ("get", "/outreach/", None, expect(200, 200, 200)),
    ("get", "/outreach/?area=city", None, expect(200, 200, 200)),
    ("get", "/outreach/?mine=on&kind=cultural", None, expect(200, 200, 200)),
    ("get", "/outreach/new/", None, expect(200, 200, 200)),
    (
        "post",
        "/outreach/new/",
        lambda w: activity_post(w, title="Posted"),
        expect(CREATED, CREATED, CREATED),
    ),
    ("get", "/outreach/{activity}/", None, expect(200, 200, 200)),
    ("get", "/outreach/{activity}/edit/", None, expect(200, 403, 200)),
    (
        "post",
        "/outreach/{activity}/edit/",
        lambda w: activity_post(w, attendance="31"),
        expect(CREATED, 403, CREATED),
    ),
    ("get", "/outreach/export.csv", None, expect(403, 403, 200)),
    ("get", "/outreach/issue-search/?q=CG", None, expect(200, 200, 200)),
    ("get", "/partners/", None, expect(200, 200, 200)),
    ("get", "/partners/?cops_type=nonprofit", None, expect(200, 200, 200)),
    ("get", "/partners/{partner}/", None, expect(200, 200, 200)),
    ("get", "/partners/search/?q=mat", None, expect(200, 200, 200)),
    ("get", "/neighborhoods/", None, expect(200, 200, 200)),
    ("get", "/neighborhoods/{slug}/", None, expect(200, 200, 200)),
]


def expected_for(row, role):
    if role == "anonymous":
        return LOGIN
    if role == "no_role":
        return 403
    return row[role]


CASES = [
    pytest.param(method, path, data, role, expected_for(row, role), id=f"{method}-{path}-{role}")
    for method, path, data, row in MATRIX
    for role in ROLES
]


@pytest.mark.parametrize("method, path, data, role, expected", CASES)
def test_permission_matrix(client, world, officer, other_officer, supervisor, method, path, data, role, expected):
    users = {
        "officer": officer,
        "other_officer": other_officer,
        "supervisor": supervisor,
        "no_role": factories.UserFactory(username="resident-account"),
    }
    if role != "anonymous":
        client.force_login(users[role])
    url = path.format(activity=world["activity"].pk, partner=world["partner"].pk, slug=world["neighborhood"].slug)
    before = (Activity.objects.count(), world["activity"].revisions.count())
    response = getattr(client, method)(url, data(world) if data else None)

    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")
    elif expected == CREATED:
        assert response.status_code == 302, response.content[:500]
        assert response["Location"].startswith("/outreach/")
        assert not response["Location"].startswith("/accounts/")
    else:
        assert response.status_code == expected
    if expected != CREATED:
        # Refused requests change nothing.
        assert (Activity.objects.count(), world["activity"].revisions.count()) == before
    elif url == "/outreach/new/":
        assert Activity.objects.count() == before[0] + 1
    else:
        assert world["activity"].revisions.count() == before[1] + 1


def test_matrix_covers_every_route_of_the_area():
    """A new outreach or directory route must be added to the matrix above."""
    from django.urls import get_resolver

    covered = {path.split("?")[0] for _m, path, _d, _r in MATRIX}
    routes = set()
    for pattern in get_resolver().url_patterns:
        namespace = getattr(pattern, "namespace", None)
        if namespace in ("outreach", "partners"):
            for sub in pattern.url_patterns:
                route = "/" + str(sub.pattern)
                route = route.replace("<int:pk>", "{activity}" if namespace == "outreach" else "{partner}")
                routes.add(route.replace("<slug:slug>", "{slug}"))
    assert routes == covered
