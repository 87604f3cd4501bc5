"""Residents' contact details through the API: only where the issue page would
show them, and every disclosure recorded on the issue's timeline."""

import json

import pytest

from cases.models import Event
from tests import factories
from tests.api.conftest import token_client

SECRETS = ("Rosa Alvarez", "rosa@example.org", "816-555-0199")
CONTACT = {"name": "Rosa Alvarez", "email": "rosa@example.org", "phone": "816-555-0199", "consent": True}


def _views(issue):
    return list(issue.events.filter(kind=Event.Kind.CONTACT_VIEWED).values_list("actor_id", "is_public"))


@pytest.mark.parametrize("who", ["officer", "supervisor"])
def test_staff_of_the_area_see_contacts_and_the_view_is_recorded(world, who):
    user, report, issue = world[who], world["report"], world["issue"]
    response = token_client(user).get(f"/api/v1/reports/{report.pk}/")
    assert response.status_code == 200
    assert response.json()["contact"] == CONTACT
    assert _views(issue) == [(user.pk, False)]
    token_client(user).get(f"/api/v1/reports/{report.pk}/")
    assert _views(issue) == [(user.pk, False)] * 2  # each disclosure, like each page view


def test_the_assignee_sees_contacts_even_outside_their_area(world):
    issue, outsider = world["issue"], world["other_officer"]
    assert token_client(outsider).get(f"/api/v1/reports/{world['report'].pk}/").json()["contact"] is None
    issue.assignee = outsider
    issue.save(update_fields=["assignee"])
    assert token_client(outsider).get(f"/api/v1/reports/{world['report'].pk}/").json()["contact"] == CONTACT


def test_an_officer_of_another_district_sees_the_report_but_not_who_sent_it(world):
    response = token_client(world["other_officer"]).get(f"/api/v1/reports/{world['report'].pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["contact"] is None and body["has_contact"] is True
    assert not any(secret in response.content.decode() for secret in SECRETS)
    assert _views(world["issue"]) == []
    issue_view = token_client(world["other_officer"]).get(f"/api/v1/issues/{world['issue'].pk}/").json()
    assert issue_view["permissions"] == {"work": False, "view_contacts": False}


def test_a_report_without_contact_records_no_view(world):
    anonymous = factories.ReportFactory(issue=world["issue"], is_anonymous=True)
    body = token_client(world["officer"]).get(f"/api/v1/reports/{anonymous.pk}/").json()
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
