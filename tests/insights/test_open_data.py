"""Open data (/open-data/): public issues as CSV and GeoJSON, outreach as CSV; no personal data, streamed."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Issue
from insights import open_data
from outreach.models import Activity
from partners.models import Partner
from tests import factories

pytestmark = pytest.mark.django_db

SECRETS = ("Ana Lopez", "ana.lopez@example.org", "816-555-0147", "laundromat", "4711 Main St")


def _body(response) -> str:
    assert response.streaming, "an open-data file is streamed"
    return b"".join(response.streaming_content).decode("utf-8")


def _rows(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(_body(response))))


@pytest.fixture
def city():
    place = factories.NeighborhoodFactory(name="Westport", district="Central")
    public = factories.CategoryFactory(service_code="graffiti", name_en="Graffiti", name_es="Grafiti", is_public=True)
    sensitive = factories.CategoryFactory(service_code="drug-activity", is_public=False)
    now = timezone.now()
    shown = factories.IssueFactory(
        neighborhood=place,
        category=public,
        address="4711 Main St",
        lat=39.051234,
        lng=-94.593456,
        created_at=now - timedelta(days=3),
    )
    factories.ReportFactory(
        issue=shown, reporter_name="Ana Lopez", reporter_email="ana.lopez@example.org", reporter_phone="816-555-0147"
    )
    resolved = factories.IssueFactory(
        neighborhood=place, category=public, created_at=now - timedelta(days=40), lat=None, lng=None
    )
    Issue.objects.filter(pk=resolved.pk).update(
        status=Issue.Status.RESOLVED, outcome="resolved", resolved_at=now - timedelta(days=39)
    )
    hidden = factories.IssueFactory(neighborhood=place, category=sensitive, created_at=now - timedelta(days=2))
    return {"place": place, "shown": shown, "resolved": resolved, "hidden": hidden, "now": now}


def test_the_page_describes_each_file_in_english_and_spanish(client):
    english = client.get("/open-data/")
    assert english.status_code == 200
    text = english.content.decode()
    for link in ("/open-data/issues.csv", "/open-data/issues.geojson", "/open-data/outreach.csv"):
        assert f'href="{link}"' in text
    for field in (*open_data.ISSUE_FIELDS, *open_data.OUTREACH_FIELDS):
        assert f"<code>{field}</code>" in text, f"the page does not describe {field}"
    spanish = client.get("/es/open-data/")
    assert spanish.status_code == 200
    assert (
        "Datos abiertos" in spanish.content.decode() and 'href="/es/open-data/issues.csv"' in spanish.content.decode()
    )


def test_issues_csv_holds_public_issues_without_personal_data(client, city):
    response = client.get("/open-data/issues.csv")
    rows = _rows(response)
    assert response["Content-Disposition"] == 'attachment; filename="issues.csv"'
    assert [row["service_request_id"] for row in rows] == [city["resolved"].tracking_code, city["shown"].tracking_code]
    assert list(rows[0]) == open_data.ISSUE_FIELDS
    shown = rows[1]
    zone = timezone.get_current_timezone()
    assert shown["requested_datetime"] == city["shown"].created_at.astimezone(zone).isoformat(timespec="seconds")
    assert (shown["status"], shown["status_detail"], shown["closed_datetime"]) == ("open", "New", "")
    assert (shown["lat"], shown["long"]) == ("39.051", "-94.593")  # rounded as on the status page
    assert (shown["service_code"], shown["service_name"], shown["neighborhood"]) == ("graffiti", "Graffiti", "Westport")
    assert shown["agency_responsible"] == "Community policing, Central district"
    resolved = rows[0]
    assert (resolved["status"], resolved["lat"], resolved["expected_datetime"]) == ("closed", "", "")
    assert resolved["closed_datetime"].startswith(str((city["now"] - timedelta(days=39)).astimezone(zone).date()))
    body = _body(client.get("/open-data/issues.csv"))
    for secret in SECRETS:
        assert secret not in body


def test_issues_geojson_is_a_feature_collection_of_the_same_issues(client, city):
    response = client.get("/es/open-data/issues.geojson")
    assert response.status_code == 200 and response["Content-Type"] == "application/geo+json"
    data = json.loads(_body(response))
    assert data["type"] == "FeatureCollection"
    features = {f["properties"]["service_request_id"]: f for f in data["features"]}
    assert set(features) == {city["shown"].tracking_code, city["resolved"].tracking_code}
    assert features[city["shown"].tracking_code]["geometry"] == {"type": "Point", "coordinates": [-94.593, 39.051]}
    assert features[city["resolved"].tracking_code]["geometry"] is None
    assert features[city["shown"].tracking_code]["properties"]["service_name"] == "Grafiti"  # in the page's language
    for secret in SECRETS:
        assert secret not in json.dumps(data)


def test_a_date_range_narrows_the_file_and_a_bad_one_is_refused(client, city):
    today = timezone.localdate()
    recent = _rows(client.get(f"/open-data/issues.csv?start={today - timedelta(days=10)}&end={today}"))
    assert [row["service_request_id"] for row in recent] == [city["shown"].tracking_code]
    older = _rows(client.get(f"/open-data/issues.csv?end={today - timedelta(days=10)}"))
    assert [row["service_request_id"] for row in older] == [city["resolved"].tracking_code]
    bad = client.get("/open-data/issues.csv?start=12/01/2026")
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.content.decode()
    backwards = client.get(f"/open-data/outreach.csv?start={today}&end={today - timedelta(days=1)}")
    assert backwards.status_code == 400 and "before the start" in backwards.content.decode()


def test_outreach_csv_has_kinds_and_counts_but_no_names_or_text(client, city):
    officer = factories.UserFactory(first_name="Maria", last_name="Gonzalez")
    school = factories.PartnerFactory(name="Lincoln Prep", kind=Partner.Kind.SCHOOL)
    faith = factories.PartnerFactory(name="St. Mark's", kind=Partner.Kind.FAITH)
    activity = factories.ActivityFactory(
        neighborhood=city["place"],
        kind=Activity.Kind.SCHOOL_EVENT,
        title="Ana Lopez's block party",
        notes="Call ana.lopez@example.org",
        place="4711 Main St",
        attendance=35,
        hours=3.5,
        languages=["en", "es"],
    )
    activity.officers.add(officer)
    activity.partners.add(school, faith)
    response = client.get("/open-data/outreach.csv")
    rows = _rows(response)
    assert rows == [
        {
            "kind": "School event",
            "date": activity.starts_at.astimezone(timezone.get_current_timezone()).date().isoformat(),
            "neighborhood": "Westport",
            "hours": "3.50",
            "attendance": "35",
            "partner_types": "Faith group; School",
            "languages": "en; es",
        }
    ]
    body = _body(client.get("/open-data/outreach.csv"))
    for secret in (*SECRETS, "Maria", "Gonzalez", "Lincoln Prep", "St. Mark's", "block party"):
        assert secret not in body


def test_the_files_read_the_same_statements_whatever_their_size(client, city, monkeypatch):
    """Rows come through a cursor in chunks: a file's statements follow its chunks, not its rows."""
    monkeypatch.setattr(open_data, "CHUNK", 5)

    def statements(path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            _body(client.get(path))
        return len(captured.captured_queries)

    for _ in range(2):
        factories.ActivityFactory(neighborhood=city["place"])
    small = (statements("/open-data/issues.csv"), statements("/open-data/outreach.csv"))
    for _ in range(2):
        factories.IssueFactory(neighborhood=city["place"], category=city["shown"].category)
        factories.ActivityFactory(neighborhood=city["place"])
    assert (statements("/open-data/issues.csv"), statements("/open-data/outreach.csv")) == small
