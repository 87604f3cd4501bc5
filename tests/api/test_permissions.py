"""The permission matrix: every endpoint × {anonymous, officer, officer of another
district, supervisor, token of a deactivated user} → the expected status.

The officer works in the neighborhood of ``world["issue"]``; the other officer
works elsewhere (sees every issue, as in the pages, but may not act on it).
A refused write changes nothing.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases import services
from cases.models import Event, Issue, Problem, ProblemEvent
from outreach.models import Activity, ActivityRevision

USERS = ("anonymous", "officer", "other_officer", "supervisor", "revoked")


def expect(anonymous, officer, other_officer, supervisor, revoked=401):
    return dict(zip(USERS, (anonymous, officer, other_officer, supervisor, revoked), strict=True))


PUBLIC = expect(200, 200, 200, 200)
STAFF = expect(401, 200, 200, 200)
SUPERVISORS = expect(401, 403, 403, 200)


def work(ok):
    """Acting on an issue: the officer of its neighborhood and supervisors; others 403."""
    return expect(401, ok, 403, ok)


def staff_write(ok):
    return expect(401, ok, ok, ok)


def lead(ok):
    return expect(401, 403, 403, ok)


def _held(w):
    services.issue_hold(issue=w["issue"], actor=w["supervisor"], reason="Waiting for the owner")


def _resolved(w):
    services.issue_resolve(issue=w["issue"], actor=w["supervisor"], note="Painted over")


def _activity_body(w):
    start = timezone.now() - timedelta(hours=3)
    return {
        "kind": "youth_sports",
        "title": "Little-league game",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "neighborhood": w["neighborhood"].pk,
    }


# (method, path, body, setup, expected)
MATRIX = [
    # public catalog
    ("get", "/api/v1/categories/", None, None, PUBLIC),
    ("get", "/api/v1/categories/{category}/", None, None, PUBLIC),
    ("get", "/api/v1/neighborhoods/", None, None, PUBLIC),
    ("get", "/api/v1/neighborhoods/{neighborhood}/", None, None, PUBLIC),
    ("get", "/api/v1/neighborhoods.geojson", None, None, PUBLIC),
    ("get", "/api/schema/", None, None, expect(200, 200, 200, 200, 200)),
    ("get", "/api/docs/", None, None, expect(200, 200, 200, 200, 200)),
    # staff reads
    ("get", "/api/v1/issues/", None, None, STAFF),
    ("get", "/api/v1/issues/{issue}/", None, None, STAFF),
    ("get", "/api/v1/issues/{elsewhere}/", None, None, STAFF),
    ("get", "/api/v1/issues/queue/", None, None, STAFF),
    ("get", "/api/v1/issues/{issue}/events/", None, None, STAFF),
    ("get", "/api/v1/reports/", None, None, STAFF),
    ("get", "/api/v1/reports/{report}/", None, None, STAFF),
    ("get", "/api/v1/escalations/", None, None, STAFF),
    ("get", "/api/v1/escalations/{escalation}/", None, None, STAFF),
    ("get", "/api/v1/notifications/", None, None, STAFF),
    ("get", "/api/v1/notifications/{notification}/", None, None, expect(401, 200, 404, 404)),
    ("get", "/api/v1/partners/", None, None, STAFF),
    ("get", "/api/v1/partners/{partner}/", None, None, STAFF),
    ("get", "/api/v1/staff/", None, None, STAFF),
    ("get", "/api/v1/staff/{officer}/", None, None, STAFF),
    ("get", "/api/v1/me/", None, None, STAFF),
    ("get", "/api/v1/activities/", None, None, STAFF),
    ("get", "/api/v1/activities/{activity}/", None, None, STAFF),
    ("get", "/api/v1/problems/", None, None, STAFF),
    ("get", "/api/v1/problems/{problem}/", None, None, STAFF),
    ("get", "/api/v1/problems/{problem}/events/", None, None, STAFF),
    ("get", "/api/v1/stats/", None, None, SUPERVISORS),
    ("get", "/api/v1/stats/languages/", None, None, SUPERVISORS),
    # entering a report
    (
        "post",
        "/api/v1/issues/",
        lambda w: {"category": w["category"].pk, "description": "Couch dumped", "neighborhood": w["neighborhood"].pk},
        None,
        staff_write(201),
    ),
    # issue actions
    ("post", "/api/v1/issues/{issue}/acknowledge/", None, None, work(200)),
    ("post", "/api/v1/issues/{issue}/assign/", lambda w: {"officer": w["officer"].pk}, None, work(200)),
    ("post", "/api/v1/issues/{issue}/approach/", {"approach": "deter"}, None, work(200)),
    ("post", "/api/v1/issues/{issue}/priority/", {"priority": "high"}, None, work(200)),
    ("post", "/api/v1/issues/{issue}/note/", {"text": "Spoke with the owner"}, None, work(201)),
    ("post", "/api/v1/issues/{issue}/hold/", {"reason": "Waiting for the owner"}, None, work(200)),
    ("post", "/api/v1/issues/{issue}/resume/", None, _held, work(200)),
    ("post", "/api/v1/issues/{issue}/duplicate/", lambda w: {"duplicate_of": w["second"].pk}, None, work(200)),
    ("post", "/api/v1/issues/{issue}/refer/", {"agency": "Public Works"}, None, work(200)),
    ("post", "/api/v1/issues/{issue}/resolve/", {"note": "Painted over"}, None, work(200)),
    ("post", "/api/v1/issues/{issue}/crime-report/", {"report_number": "KC-26-0042"}, None, work(200)),
    ("post", "/api/v1/issues/{issue}/reopen/", {"reason": "It came back"}, _resolved, work(200)),
    ("post", "/api/v1/issues/{issue}/close/", None, _resolved, work(200)),
    ("post", "/api/v1/issues/{issue}/decision/", {"decision": "acknowledge"}, None, lead(200)),
    # notifications
    ("post", "/api/v1/notifications/{notification}/read/", None, None, expect(401, 200, 404, 404)),
    ("post", "/api/v1/notifications/read-all/", None, None, staff_write(200)),
    # outreach
    ("post", "/api/v1/activities/", _activity_body, None, staff_write(201)),
    ("patch", "/api/v1/activities/{activity}/", {"attendance": 31}, None, expect(401, 200, 403, 200)),
    # problems
    ("post", "/api/v1/problems/", {"title": "Dumping behind the strip mall"}, None, lead(201)),
    ("post", "/api/v1/problems/{problem}/advance/", {}, None, lead(200)),
    ("post", "/api/v1/problems/{problem}/move/", {"to": "analysis"}, None, lead(200)),
    ("post", "/api/v1/problems/{problem}/close/", {"outcome": "reduced"}, None, lead(200)),
    ("post", "/api/v1/problems/{problem}/add-issues/", lambda w: {"issues": [w["elsewhere"].pk]}, None, lead(200)),
    ("post", "/api/v1/problems/{problem}/remove-issue/", lambda w: {"issue": w["second"].pk}, None, lead(200)),
    ("post", "/api/v1/problems/{problem}/owner/", lambda w: {"owner": w["officer"].pk}, None, lead(200)),
    ("post", "/api/v1/problems/{problem}/analysis/", {"place": "Alley behind 31st"}, None, staff_write(200)),
    ("post", "/api/v1/problems/{problem}/response/", {"approach": "deter", "plan": "Lights"}, None, staff_write(200)),
    ("post", "/api/v1/problems/{problem}/note/", {"text": "Met the owners"}, None, staff_write(201)),
]

CASES = [
    pytest.param(method, path, body, setup, who, expected[who], id=f"{method.upper()} {path} [{who}]")
    for method, path, body, setup, expected in MATRIX
    for who in USERS
]


def _counts():
    return {
        model.__name__: model.objects.count()
        for model in (Event, ProblemEvent, Issue, Problem, Activity, ActivityRevision)
    }


@pytest.mark.parametrize(("method", "path", "body", "setup", "who", "status"), CASES)
def test_permission_matrix(clients, world, method, path, body, setup, who, status):
    if setup is not None:
        setup(world)
    url = path.format(**{name: getattr(obj, "pk", obj) for name, obj in world.items()})
    payload = body(world) if callable(body) else body
    before = _counts()
    response = getattr(clients[who], method)(url, payload, format="json")
    assert response.status_code == status, response.content[:500]
    if status >= 400:
        if not path.startswith("/api/docs/"):
            assert set(response.json()) == {"error"}
        if method != "get":
            assert _counts() == before, "a refused request changed something"


def _template(path):
    """/api/v1/issues/{issue}/events/ → the schema's /api/v1/issues/{issue_id}/events/."""
    parts = path.split("/")
    for i, part in enumerate(parts):
        if part.startswith("{"):
            nested = parts[i + 1 : i + 2] == ["events"]
            parts[i] = {"issues": "{issue_id}", "problems": "{problem_id}"}[parts[i - 1]] if nested else "{id}"
    return "/".join(parts)


def test_matrix_covers_every_operation_of_the_schema():
    """A new endpoint cannot slip in without its row in the matrix."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    documented = {(method, path) for path, operations in schema["paths"].items() for method in operations}
    covered = {(method, _template(path)) for method, path, *_ in MATRIX if path.startswith("/api/v1/")}
    assert documented == covered
