"""What the read endpoints answer: the catalog (public), GeoJSON, problems with
their assessment, outreach activities and their validation, the staff directory."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from cases import services
from cases.models import CategoryAttribute, Problem
from tests import factories
from tests.api.conftest import token_client


def test_public_catalog_hides_retired_categories_from_the_public(db, supervisor):
    active = factories.CategoryFactory(service_code="graffiti")
    CategoryAttribute.objects.create(category=active, code="surface", description_en="What is painted?", required=True)
    factories.CategoryFactory(service_code="retired", is_active=False)
    public = APIClient().get("/api/v1/categories/").json()["results"]
    assert [c["service_code"] for c in public] == ["graffiti"]
    assert public[0]["target_hours"] == {"urgent": 4, "high": 24, "normal": 72, "low": 168}
    assert public[0]["attributes"][0]["code"] == "surface"
    staff = token_client(supervisor).get("/api/v1/categories/?is_active=false").json()["results"]
    assert [c["service_code"] for c in staff] == ["retired"]
    assert APIClient().get(f"/api/v1/categories/{staff[0]['id']}/").status_code == 404


def test_neighborhoods_as_json_and_geojson(db):
    here = factories.NeighborhoodFactory(name="Westside", district="Central", boundary=factories.square(39.0, -94.6))
    body = APIClient().get("/api/v1/neighborhoods/?district=Central").json()
    assert [n["name"] for n in body["results"]] == ["Westside"]
    assert body["results"][0]["bbox"] == pytest.approx([-94.6, 39.0, -94.59, 39.01])
    detail = APIClient().get(f"/api/v1/neighborhoods/{here.pk}/").json()
    assert detail["boundary"] == here.boundary
    response = APIClient().get("/api/v1/neighborhoods.geojson")
    assert response["Content-Type"] == "application/geo+json"
    collection = response.json()
    assert collection["type"] == "FeatureCollection"
    feature = collection["features"][0]
    assert (feature["type"], feature["id"], feature["geometry"]) == ("Feature", here.pk, here.boundary)
    assert feature["properties"]["slug"] == here.slug
    # A client that asks for plain JSON gets the same document.
    as_json = APIClient().get("/api/v1/neighborhoods.geojson", HTTP_ACCEPT="application/json")
    assert as_json["Content-Type"] == "application/json" and as_json.json() == collection


def test_problem_detail_shows_issues_analysis_and_assessment(supervisor, officer, neighborhood, category):
    before = factories.IssueFactory(
        neighborhood=neighborhood, category=category, created_at=timezone.now() - timedelta(days=20)
    )
    problem = services.problem_open(title="Tagging on Troost", actor=supervisor, issues=[before])
    client = token_client(officer)
    analysis = client.post(
        f"/api/v1/problems/{problem.pk}/analysis/", {"place": "Underpass", "why": "No lights"}, format="json"
    ).json()
    assert analysis["analysis"] == {"place": "Underpass", "harmed": "", "causing": "", "when": "", "why": "No lights"}
    # Fields left out keep their value.
    again = client.post(f"/api/v1/problems/{problem.pk}/analysis/", {"harmed": "Riders"}, format="json").json()
    assert again["analysis"]["place"] == "Underpass" and again["analysis"]["harmed"] == "Riders"

    lead = token_client(supervisor)
    assert lead.post(f"/api/v1/problems/{problem.pk}/advance/", {}, format="json").json()["stage"] == "analysis"
    client.post(f"/api/v1/problems/{problem.pk}/response/", {"approach": "deter", "plan": "Lights"}, format="json")
    detail = lead.post(f"/api/v1/problems/{problem.pk}/advance/", {}, format="json").json()
    assert detail["stage"] == "response" and detail["response_started_at"]
    factories.IssueFactory(neighborhood=neighborhood, category=category)
    detail = lead.get(f"/api/v1/problems/{problem.pk}/").json()
    assert [i["id"] for i in detail["issues"]] == [before.pk]
    assert (detail["issue_count"], detail["open_issue_count"]) == (1, 1)
    assert detail["assessment"]["after"] == 1
    assert detail["permissions"] == {"lead": True, "contribute": True}
    listed = lead.get("/api/v1/problems/?stage=response").json()["results"]
    assert [(p["id"], p["issue_count"]) for p in listed] == [(problem.pk, 1)]
    # A stage cannot be skipped: the services' SARA gates answer through the API.
    refused = lead.post(f"/api/v1/problems/{problem.pk}/close/", {"outcome": "nothing"}, format="json")
    assert refused.status_code == 400 and "outcome" in refused.json()["error"]["fields"]
    closed = lead.post(f"/api/v1/problems/{problem.pk}/close/", {"outcome": "reduced"}, format="json").json()
    assert closed["stage"] == Problem.Stage.CLOSED and closed["outcome"] == "reduced"
    assert lead.post(f"/api/v1/problems/{problem.pk}/advance/", {}, format="json").status_code == 400
    timeline = lead.get(f"/api/v1/problems/{problem.pk}/events/").json()["results"]
    assert [e["kind"] for e in timeline][0] == "opened" and timeline[-1]["kind"] == "closed"


def test_activity_validation_comes_back_per_field(officer, neighborhood):
    start = timezone.now()
    response = token_client(officer).post(
        "/api/v1/activities/",
        {
            "kind": "service",
            "title": "Showers for day laborers",
            "starts_at": start.isoformat(),
            "ends_at": (start - timedelta(hours=1)).isoformat(),
            "neighborhood": neighborhood.pk,
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"ends_at": ["The end is before the start."]}


def test_activity_detail_and_who_may_edit(world):
    w = world
    own = token_client(w["officer"]).get(f"/api/v1/activities/{w['activity'].pk}/").json()
    assert own["can_edit"] is True
    assert [o["id"] for o in own["officers"]] == [w["officer"].pk]
    assert own["partners"] == [{"id": w["partner"].pk, "name": w["partner"].name, "kind": w["partner"].kind}]
    assert token_client(w["other_officer"]).get(f"/api/v1/activities/{w['activity'].pk}/").json()["can_edit"] is False
    assert token_client(w["supervisor"]).get(f"/api/v1/activities/{w['activity'].pk}/").json()["can_edit"] is True
    edited = token_client(w["supervisor"]).patch(
        f"/api/v1/activities/{w['activity'].pk}/",
        {"partners": [], "issues": [w["issue"].pk], "hours": None},
        format="json",
    )
    assert edited.status_code == 200, edited.json()
    assert edited.json()["partners"] == [] and [i["id"] for i in edited.json()["issues"]] == [w["issue"].pk]
    assert edited.json()["hours"] == "2.00"  # recomputed: two hours × one officer


def test_staff_directory_and_me(world):
    w = world
    client = token_client(w["officer"])
    staff = {row["username"]: row for row in client.get("/api/v1/staff/").json()["results"]}
    assert set(staff) == {w["officer"].username, w["other_officer"].username, w["supervisor"].username}
    assert staff[w["officer"].username]["neighborhoods"] == [w["neighborhood"].pk]
    assert staff[w["supervisor"].username]["roles"] == ["Supervisor"]
    me = client.get("/api/v1/me/").json()
    assert me["id"] == w["officer"].pk and "cases.view_dashboard" not in me["permissions"]


def test_the_queue_is_the_officers_queue(world):
    w = world
    services.issue_assign(issue=w["elsewhere"], officer=w["officer"], actor=w["supervisor"])
    queue = token_client(w["officer"]).get("/api/v1/issues/queue/").json()["results"]
    ids = [row["id"] for row in queue]
    assert set(ids) == {w["issue"].pk, w["second"].pk, w["elsewhere"].pk}
    assert [row["due_at"] for row in queue] == sorted(row["due_at"] for row in queue)
    assert token_client(w["other_officer"]).get("/api/v1/issues/queue/").json()["count"] == 0


def test_a_problem_moves_back_and_forth_through_the_api_as_its_page_allows(supervisor, officer, neighborhood, category):
    """``moves`` lists what the page's buttons offer (``cases.services.STAGE_MOVES``); ``move/``
    takes one of them and refuses any other with the field's message, changing nothing."""
    issue = factories.IssueFactory(neighborhood=neighborhood, category=category)
    lead = token_client(supervisor)
    problem = lead.post("/api/v1/problems/", {"title": "Tags", "issues": [issue.pk]}, format="json").json()
    assert problem["moves"] == ["analysis"]
    url = f"/api/v1/problems/{problem['id']}/move/"
    skipped = lead.post(url, {"to": "response"}, format="json")
    assert skipped.status_code == 400 and "to" in skipped.json()["error"]["fields"]
    assert lead.get(f"/api/v1/problems/{problem['id']}/").json()["stage"] == "scanning"
    moved = lead.post(url, {"to": "analysis", "note": "Enough to analyse"}, format="json").json()
    assert moved["stage"] == "analysis" and moved["moves"] == ["response", "scanning"]
    back = lead.post(url, {"to": "scanning"}, format="json").json()
    assert back["stage"] == "scanning"
    assert lead.post(url, {"to": "closed"}, format="json").status_code == 400  # closing is close/
    assert token_client(officer).post(url, {"to": "analysis"}, format="json").status_code == 403
