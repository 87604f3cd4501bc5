"""/api/v1/stats/: the dashboard's figures and filters as JSON, for supervisors."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import services
from insights.rollups import rollups_apply_all
from tests import factories
from tests.api.conftest import token_client


@pytest.fixture
def city(neighborhood, category, officer, supervisor):
    """Hand-countable figures: three issues here, one in the East district, one activity."""
    east = factories.NeighborhoodFactory(district="East")
    here = [factories.IssueFactory(neighborhood=neighborhood, category=category, assignee=officer) for _ in range(3)]
    there = factories.IssueFactory(neighborhood=east, category=category)
    services.issue_resolve(issue=here[0], actor=officer, note="Painted over")
    services.issue_record_crime_report(issue=here[1], actor=officer, report_number="KC-26-0007")
    activity = factories.ActivityFactory(neighborhood=neighborhood, hours=Decimal("2.50"), attendance=18)
    activity.officers.set([officer])
    rollups_apply_all()  # the worker folds the changes into the summary tables
    return {"east": east, "here": here, "there": there}


def test_figures_follow_the_dashboards_definitions(supervisor, neighborhood, city):
    body = token_client(supervisor).get("/api/v1/stats/").json()
    issues = body["issues"]
    assert (issues["reported"], issues["open"], issues["finished"]) == (4, 2, 2)
    assert (issues["within_sla"], issues["sla_share"]) == (2, 1.0)
    assert (issues["crime_reports"], issues["crime_share"]) == (1, 0.5)
    assert body["outreach"]["activities"] == 1
    assert Decimal(body["outreach"]["hours"]) == Decimal("2.50")
    assert body["outreach"]["attendance"] == 18
    rows = {row["id"]: row for row in body["neighborhoods"]}
    assert (rows[neighborhood.pk]["reported"], rows[city["east"].pk]["reported"]) == (3, 1)
    today = timezone.localdate()
    assert body["period"]["end"] == today.isoformat()
    assert body["weeks"][-1]["new"] == 4


def test_the_dashboards_filters_narrow_the_figures(supervisor, neighborhood, city):
    client = token_client(supervisor)
    assert client.get(f"/api/v1/stats/?neighborhood={neighborhood.pk}").json()["issues"]["reported"] == 3
    east = client.get("/api/v1/stats/?district=East").json()
    assert east["issues"]["reported"] == 1 and east["outreach"]["activities"] == 0
    assert east["scope"] == {"district": "East", "neighborhood": None, "category": None}
    old = (timezone.localdate() - timedelta(days=300)).isoformat()
    older = (timezone.localdate() - timedelta(days=200)).isoformat()
    assert client.get(f"/api/v1/stats/?start={old}&end={older}").json()["issues"]["reported"] == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("start=2026-13-01", "start"),
        ("start=2026-05-10&end=2026-05-01", "end"),
        ("start=2020-01-01&end=2026-01-01", "start"),
        ("neighborhood=999999", "neighborhood"),
        ("district=Atlantis", "district"),
        ("start=9999-12-30&end=9999-12-31", "start"),
        ("start=0001-01-01&end=0001-01-02", "start"),
    ],
)
def test_bad_filters_are_400_with_the_field(supervisor, query, field):
    response = token_client(supervisor).get(f"/api/v1/stats/?{query}")
    assert response.status_code == 400, response.content[:300]
    assert field in response.json()["error"]["fields"]


def test_officers_may_not_read_the_dashboard(officer):
    assert token_client(officer).get("/api/v1/stats/").status_code == 403


def test_stats_run_a_fixed_number_of_queries(supervisor, neighborhood, category, officer, city):
    client = token_client(supervisor)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/api/v1/stats/").status_code == 200
    for _ in range(20):
        factories.IssueFactory(neighborhood=factories.NeighborhoodFactory(), category=category, assignee=officer)
    rollups_apply_all()
    with CaptureQueriesContext(connection) as many:
        body = client.get("/api/v1/stats/").json()
    assert body["issues"]["reported"] == 24
    assert len(many) == len(few)
