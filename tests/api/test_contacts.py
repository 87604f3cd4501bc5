"""Residents' contact details through the API: only where the issue page would
show them, only when the request says why (``?reason=``), and every disclosure
recorded with its reason on the issue's timeline and in the audit log."""

import json

import pytest

from cases.models import Event
from tests import factories
from tests.api.conftest import token_client

SECRETS = ("Rosa Alvarez", "rosa@example.org", "816-555-0199")
CONTACT = {"name": "Rosa Alvarez", "email": "rosa@example.org", "phone": "816-555-0199", "consent": True}


REASON = "?reason=call_back"


def _views(issue):
    return list(issue.events.filter(kind=Event.Kind.CONTACT_VIEWED).values_list("actor_id", "is_public"))


@pytest.mark.parametrize("who", ["officer", "supervisor"])
def test_staff_of_the_area_see_contacts_and_the_view_is_recorded(world, who):
    user, report, issue = world[who], world["report"], world["issue"]
    response = token_client(user).get(f"/api/v1/reports/{report.pk}/{REASON}")
    assert response.status_code == 200
    assert response.json()["contact"] == CONTACT
    assert _views(issue) == [(user.pk, False)]
    token_client(user).get(f"/api/v1/reports/{report.pk}/?reason=Court+date+question")
    assert _views(issue) == [(user.pk, False)] * 2  # each disclosure, like each page view
    reasons = issue.events.filter(kind=Event.Kind.CONTACT_VIEWED).order_by("id").values_list("message", "data")
    assert list(reasons) == [
        ("Call the resident back", {"reason_code": "call_back"}),
        ("Court date question", {"reason_code": "other"}),
    ]


@pytest.mark.parametrize("query", ["", "?reason=", "?reason=+++", "?other=1"])
def test_without_a_reason_contact_is_null_and_nothing_is_recorded(world, query):
    response = token_client(world["officer"]).get(f"/api/v1/reports/{world['report'].pk}/{query}")
    assert response.status_code == 200
    body = response.json()
    assert body["contact"] is None and body["has_contact"] is True
    assert not any(secret in response.content.decode() for secret in SECRETS)
    assert _views(world["issue"]) == []


def test_too_long_a_reason_is_refused(world):
    response = token_client(world["officer"]).get(f"/api/v1/reports/{world['report'].pk}/?reason={'x' * 301}")
    assert response.status_code == 400
    assert "reason" in json.dumps(response.json())
    assert not any(secret in response.content.decode() for secret in SECRETS)
    assert _views(world["issue"]) == []


def test_the_schema_documents_the_reason(world):
    schema = token_client(world["officer"]).get("/api/schema/?format=json").json()
    retrieve = schema["paths"]["/api/v1/reports/{id}/"]["get"]
    (reason,) = [p for p in retrieve["parameters"] if p["name"] == "reason"]
    assert reason["in"] == "query" and "audit" in reason["description"]


def test_the_assignee_sees_contacts_even_outside_their_area(world):
    issue, outsider = world["issue"], world["other_officer"]
    assert token_client(outsider).get(f"/api/v1/reports/{world['report'].pk}/{REASON}").json()["contact"] is None
    issue.assignee = outsider
    issue.save(update_fields=["assignee"])
    assert token_client(outsider).get(f"/api/v1/reports/{world['report'].pk}/{REASON}").json()["contact"] == CONTACT


def test_an_officer_of_another_district_sees_the_report_but_not_who_sent_it(world):
    response = token_client(world["other_officer"]).get(f"/api/v1/reports/{world['report'].pk}/{REASON}")
    assert response.status_code == 200
    body = response.json()
    assert body["contact"] is None and body["has_contact"] is True
    assert not any(secret in response.content.decode() for secret in SECRETS)
    assert _views(world["issue"]) == []
    issue_view = token_client(world["other_officer"]).get(f"/api/v1/issues/{world['issue'].pk}/").json()
    assert issue_view["permissions"] == {"work": False, "view_contacts": False}


def test_a_report_without_contact_records_no_view(world):
    anonymous = factories.ReportFactory(issue=world["issue"], is_anonymous=True)
    body = token_client(world["officer"]).get(f"/api/v1/reports/{anonymous.pk}/{REASON}").json()
    assert body["contact"] is None and body["has_contact"] is False
    assert _views(world["issue"]) == []


@pytest.mark.parametrize("who", ["officer", "supervisor", "other_officer"])
def test_no_other_answer_carries_contact_details(world, who):
    """Lists, issues, timelines, search and the public catalog never carry them, whoever asks."""
    client = token_client(world[who])
    issue = world["issue"]
    paths = [
        "/api/v1/reports/",
        f"/api/v1/reports/?issue={issue.pk}",
        "/api/v1/issues/",
        f"/api/v1/issues/{issue.pk}/",
        f"/api/v1/issues/{issue.pk}/events/",
        "/api/v1/issues/?q=rosa",
        "/api/v1/issues/queue/",
        "/api/v1/escalations/",
        "/api/v1/notifications/",
        f"/api/v1/problems/{world['problem'].pk}/",
        "/api/v1/neighborhoods.geojson",
        "/api/v1/categories/",
    ]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        text = json.dumps(response.json())
        assert not any(secret in text for secret in SECRETS), path
    assert _views(issue) == []
