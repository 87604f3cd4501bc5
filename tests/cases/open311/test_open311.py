"""Open311 GeoReport v2: every answer checked against the spec's schemas and XML element names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
import time_machine
from django.utils import timezone

from cases import services
from cases.models import Event, Issue, OutboxMessage, Report
from tests.cases.open311.test_open311_support import BASE, checked_xml_of, child_tags, seed_services, validate
from tests.factories import ApiClientFactory, CategoryFactory, IssueFactory, ReportFactory, officer

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"
INSIDE = {"lat": "39.0051", "long": "-94.5949"}  # inside Westside (square 39.0..39.01, -94.6..-94.59)


@pytest.fixture
def world():
    return seed_services()


def post(client, data, fmt="json", **extra):
    return client.post(f"{BASE}/requests.{fmt}", urlencode(data, doseq=True), content_type=FORM, **extra)


def valid_graffiti(world, **overrides):
    data = {"api_key": world["client"].key, "service_code": "graffiti", "attribute[surface]": "wall", **INSIDE}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def checked_errors_of(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert isinstance(body, list) and body
    for error in body:
        assert set(error) == {"code", "description"}
        assert error["code"] == status
        assert isinstance(error["description"], str) and error["description"]
    return " ".join(error["description"] for error in body)


def counts():
    return Issue.objects.count(), Report.objects.count(), Event.objects.count(), OutboxMessage.objects.count()


# --- discovery and services ----------------------------------------------------------------


def test_discovery_json_and_xml(client, world):
    response = client.get(f"{BASE}/discovery.json")
    assert response.status_code == 200
    body = response.json()
    assert body["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert body["endpoints"][0]["url"] == "http://testserver/open311/v2"
    assert body["endpoints"][0]["formats"] == ["text/xml", "application/json"]
    datetime.fromisoformat(body["changeset"])

    root = checked_xml_of(client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    assert child_tags(root) == ["changeset", "contact", "key_service", "endpoints"]
    endpoint = root.find("endpoints/endpoint")
    assert child_tags(endpoint) == ["specification", "url", "changeset", "type", "formats"]
    assert [f.text for f in endpoint.findall("formats/format")] == ["text/xml", "application/json"]


def test_services_list_public_active_categories_only(client, world):
    response = client.get(f"{BASE}/services.json")
    assert response.status_code == 200
    body = response.json()
    validate(body, "services.json")
    by_code = {service["service_code"]: service for service in body}
    assert set(by_code) == {"graffiti", "streetlight"}  # not the sensitive one, not the retired one
    assert by_code["graffiti"] == {
        "service_code": "graffiti",
        "service_name": "Graffiti",
        "description": "Paint or tags on walls",
        "metadata": True,
        "type": "realtime",
        "keywords": "paint, tags, vandalism",
        "group": "Property",
    }
    assert by_code["streetlight"]["metadata"] is False
    assert by_code["streetlight"]["keywords"] is None
    # Friendly to clients: cacheable for a while, per language, readable from browser apps.
    assert "max-age=300" in response["Cache-Control"]
    assert "Accept-Language" in response["Vary"]
    assert response["Access-Control-Allow-Origin"] == "*"


def test_services_in_spanish_by_locale_or_accept_language(client, world):
    by_locale = {s["service_code"]: s for s in client.get(f"{BASE}/services.json", {"locale": "es_MX"}).json()}
    assert by_locale["graffiti"]["service_name"] == "Grafiti"
    assert by_locale["graffiti"]["group"] == "Propiedad"
    assert by_locale["graffiti"]["description"] == "Pintura o marcas en paredes"
    by_header = client.get(f"{BASE}/services.json", HTTP_ACCEPT_LANGUAGE="es").json()
    assert {s["service_code"]: s["service_name"] for s in by_header}["streetlight"] == "Farola rota"
    english = client.get(f"{BASE}/services.json", {"locale": "en"}, HTTP_ACCEPT_LANGUAGE="es").json()
    assert {s["service_code"]: s["service_name"] for s in english}["graffiti"] == "Graffiti"


def test_services_xml_element_names(client, world):
    root = checked_xml_of(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services"
    assert set(child_tags(root)) == {"service"}
    graffiti = next(s for s in root if s.findtext("service_code") == "graffiti")
    assert child_tags(graffiti) == [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ]
    assert graffiti.findtext("metadata") == "true"
    assert graffiti.findtext("type") == "realtime"


def test_service_definition_json_and_xml(client, world):
    response = client.get(f"{BASE}/services/graffiti.json")
    assert response.status_code == 200
    body = response.json()
    validate(body, "service-definition.json")
    assert body["service_code"] == "graffiti"
    assert [a["code"] for a in body["attributes"]] == ["surface", "colors", "size", "seen_at", "note"]
    surface = body["attributes"][0]
    assert surface == {
        "variable": True,
        "code": "surface",
        "datatype": "singlevaluelist",
        "required": True,
        "datatype_description": None,
        "order": 1,
        "description": "What is painted?",
        "values": [{"key": "wall", "name": "Wall"}, {"key": "sign", "name": "Sign"}],
    }
    assert "values" not in body["attributes"][2]
    spanish = client.get(f"{BASE}/services/graffiti.json", {"locale": "es"}).json()
    assert spanish["attributes"][0]["description"] == "¿Qué está pintado?"

    root = checked_xml_of(client.get(f"{BASE}/services/graffiti.xml"))
    assert root.tag == "service_definition"
    assert child_tags(root) == ["service_code", "attributes"]
    attribute = root.find("attributes/attribute")
    assert child_tags(attribute) == [
        "variable",
        "code",
        "datatype",
        "required",
        "datatype_description",
        "order",
        "description",
        "values",
    ]
    assert [(v.findtext("key"), v.findtext("name")) for v in attribute.findall("values/value")] == [
        ("wall", "Wall"),
        ("sign", "Sign"),
    ]


@pytest.mark.parametrize("code", ["no-such-thing", "drug-activity", "old-signs", "x" * 300])
def test_unknown_sensitive_or_retired_service_definition_is_404(client, world, code):
    checked_errors_of(client.get(f"{BASE}/services/{code}.json"), 404)
    root = checked_xml_of(client.get(f"{BASE}/services/{code}.xml"))
    assert root.tag == "errors"
    error = root.find("error")
    assert child_tags(error) == ["code", "description"]
    assert error.findtext("code") == "404"


# --- POST requests -------------------------------------------------------------------------


def test_post_with_lat_long_opens_an_issue_on_the_open311_channel(client, world):
    data = valid_graffiti(
        world,
        description="Tags on the laundromat wall",
        email="ana@example.org",
        first_name="Ana",
        last_name="Lopez",
        phone="816-555-0199",
        device_id="device-123",
        account_id="acct-9",
        media_url="https://img.example.org/1.jpg",
        **{"attribute[colors][]": ["red", "black"], "attribute[size]": "12", "attribute[note]": "behind the bus stop"},
    )
    response = post(client, data)
    assert response.status_code == 201, response.content
    [answer] = response.json()
    assert set(answer) == {"service_request_id", "token", "service_notice", "account_id"}
    assert answer["account_id"] is None
    issue = Issue.objects.get(tracking_code=answer["service_request_id"])
    assert f"/report/{issue.tracking_code}/" in answer["service_notice"]
    assert "72 hours" in answer["service_notice"]
    assert response["Location"] == f"{BASE}/requests/{issue.tracking_code}.json"
    assert issue.neighborhood == world["westside"]
    assert (issue.lat, issue.lng) == (39.0051, -94.5949)
    assert issue.category == world["graffiti"]
    assert issue.description == "Tags on the laundromat wall"
    assert issue.due_at == issue.created_at + timedelta(hours=world["graffiti"].target_hours_normal)
    report = issue.reports.get()
    assert report.channel == Report.Channel.OPEN311
    assert report.open311_client == world["client"]
    assert report.open311_token == answer["token"]
    assert (report.reporter_name, report.reporter_email, report.reporter_phone) == (
        "Ana Lopez",
        "ana@example.org",
        "816-555-0199",
    )
    assert report.contact_consent and not report.is_anonymous
    assert report.media_url == "https://img.example.org/1.jpg"
    assert report.attributes == {
        "surface": "wall",
        "colors": ["red", "black"],
        "size": 12,
        "note": "behind the bus stop",
    }
    assert issue.events.get().kind == Event.Kind.CREATED
    # The confirmation goes through the outbox, sent by the worker.
    assert OutboxMessage.objects.filter(issue=issue, recipient_email="ana@example.org").count() == 1


def test_post_answers_in_xml(client, world):
    response = post(client, valid_graffiti(world), fmt="xml")
    assert response.status_code == 201
    root = checked_xml_of(response)
    assert root.tag == "service_requests"
    request = root.find("request")
    assert child_tags(request) == ["service_request_id", "token", "service_notice", "account_id"]
    assert Issue.objects.filter(tracking_code=request.findtext("service_request_id")).exists()
    assert request.findtext("account_id") == ""


def test_post_spanish_client_gets_spanish_status_page_and_report_language(client, world):
    response = post(client, valid_graffiti(world, locale="es"))
    [answer] = response.json()
    assert f"/es/report/{answer['service_request_id']}/" in answer["service_notice"]
    assert Report.objects.get().language == "es"


def test_post_without_contact_is_stored_anonymous_and_description_defaults_to_service_name(client, world):
    [answer] = post(client, valid_graffiti(world)).json()
    report = Report.objects.get()
    assert report.is_anonymous and not report.has_contact and not report.contact_consent
    assert report.issue.description == "Graffiti"
    assert report.issue.tracking_code == answer["service_request_id"]


def test_post_address_string_placed_by_the_neighborhood_it_names(client, world):
    data = valid_graffiti(world, lat=None, long=None, address_string="1200 Main St, Westside, Kansas City, MO 64106")
    response = post(client, data)
    assert response.status_code == 201, response.content
    issue = Issue.objects.get()
    assert issue.neighborhood == world["westside"]
    assert issue.lat is None and issue.lng is None
    assert issue.address == "1200 Main St, Westside, Kansas City, MO 64106"
    [item] = client.get(f"{BASE}/requests/{issue.tracking_code}.json").json()
    assert item["zipcode"] == "64106"
    assert item["address"] == issue.address
    assert item["lat"] is None and item["long"] is None


def test_post_address_string_with_lat_long_keeps_the_point(client, world):
    post(client, valid_graffiti(world, address_string="1200 Main St"))
    issue = Issue.objects.get()
    assert issue.address == "1200 Main St"
    assert issue.lat == 39.0051


def test_post_address_string_naming_no_neighborhood_is_400_and_saves_nothing(client, world):
    before = counts()
    text = checked_errors_of(
        post(client, valid_graffiti(world, lat=None, long=None, address_string="1200 Main St")), 400
    )
    assert "neighborhood" in text
    assert counts() == before


def test_post_address_string_uses_the_configured_geocoder(client, world, settings):
    settings.GEOCODER = "tests.cases.open311.test_open311.fake_geocoder"
    post(client, valid_graffiti(world, lat=None, long=None, address_string="1200 Main St"))
    issue = Issue.objects.get()
    assert (issue.lat, issue.lng, issue.neighborhood) == (39.002, -94.598, world["westside"])


def test_a_failing_geocoder_falls_back_to_the_neighborhood_name(client, world, settings):
    settings.GEOCODER = "tests.cases.open311.test_open311.broken_geocoder"
    response = post(client, valid_graffiti(world, lat=None, long=None, address_string="9 Oak St, Westside"))
    assert response.status_code == 201
    assert Issue.objects.get().lat is None


def test_post_address_string_is_placed_by_an_address_point_before_the_geocoder(client, world, settings):
    from partners.address_import import AddressRow
    from partners.services import address_points_import

    settings.GEOCODER = "tests.cases.open311.test_open311.fake_geocoder"
    row = {"number": "1200", "street": "Main St", "unit": "", "city": "", "postal_code": "", "label": "1200 Main St"}
    address_points_import(rows=[AddressRow(source_id="A1", search="1200 MAIN ST", lat=39.003, lng=-94.597, **row)])
    post(client, valid_graffiti(world, lat=None, long=None, address_string="1200 Main Street"))
    issue = Issue.objects.get()
    assert (issue.lat, issue.lng, issue.neighborhood) == (39.003, -94.597, world["westside"])


def fake_geocoder(address):
    return (39.002, -94.598) if address == "1200 Main St" else None


def broken_geocoder(address):
    raise ConnectionError("geocoder down")


def test_post_address_id_is_kept_and_echoed(client, world):
    response = post(client, valid_graffiti(world, address_id="westside"))
    assert response.status_code == 201
    issue = Issue.objects.get()
    assert issue.address_id == "westside"
    # With no point and no address, our own address ids (neighborhood slugs) place the request.
    post(client, valid_graffiti(world, lat=None, long=None, address_id="WESTSIDE"))
    second = Issue.objects.exclude(pk=issue.pk).get()
    assert second.neighborhood == world["westside"] and second.lat is None
    [item] = client.get(f"{BASE}/requests/{second.tracking_code}.json").json()
    assert item["address_id"] == "WESTSIDE"


def test_post_attributes_validated_against_the_service_definition(client, world):
    seen = "2026-03-01T08:30:00-06:00"
    response = post(
        client,
        valid_graffiti(
            world,
            **{
                "attribute[surface]": "sign",
                "attribute[colors]": ["red", "red"],
                "attribute[size]": "2.5",
                "attribute[seen_at]": seen,
            },
        ),
    )
    assert response.status_code == 201, response.content
    assert Report.objects.get().attributes == {"surface": "sign", "colors": ["red"], "size": 2.5, "seen_at": seen}


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"attribute[surface]": None}, "attribute[surface] is required"),
        ({"attribute[surface]": ""}, "attribute[surface] is required"),
        ({"attribute[surface]": "roof"}, "not one of its values"),
        ({"attribute[surface]": ["wall", "sign"]}, "takes one value"),
        ({"attribute[colors][]": ["red", "green"]}, "not one of its values"),
        ({"attribute[size]": "twelve"}, "decimal number"),
        ({"attribute[size]": "NaN"}, "decimal number"),
        ({"attribute[size]": "1e999"}, "finite"),
        ({"attribute[seen_at]": "yesterday"}, "W3C datetime"),
        ({"attribute[note]": "x" * 201}, "at most 200"),
        ({"attribute[unknown]": "1"}, "is not an attribute of service graffiti"),
    ],
)
def test_post_bad_attributes_are_400_and_save_nothing(client, world, overrides, needle):
    before = counts()
    assert needle in checked_errors_of(post(client, valid_graffiti(world, **overrides)), 400)
    assert counts() == before


def test_post_attribute_to_a_service_without_attributes_is_400(client, world):
    data = {"api_key": world["client"].key, "service_code": "streetlight", "attribute[x]": "1", **INSIDE}
    assert "not an attribute" in checked_errors_of(post(client, data), 400)


def test_post_collects_every_mistake_in_one_answer(client, world):
    response = post(client, valid_graffiti(world, lat="north", email="nope", **{"attribute[surface]": None}))
    text = checked_errors_of(response, 400)
    assert "lat must be a decimal number" in text
    assert "email is not a valid" in text
    assert "attribute[surface] is required" in text
    assert len(response.json()) == 3


@pytest.mark.parametrize(
    ("overrides", "status", "needle"),
    [
        ({"api_key": None}, 403, "api_key is required"),
        ({"api_key": ""}, 403, "api_key is required"),
        ({"api_key": "not-a-key"}, 403, "not valid"),
        ({"api_key": "k" * 500}, 403, "not valid"),
        ({"service_code": None}, 400, "service_code is required"),
        ({"service_code": "no-such-service"}, 404, "Unknown service_code"),
        ({"service_code": "drug-activity"}, 404, "Unknown service_code"),
        ({"service_code": "old-signs"}, 404, "Unknown service_code"),
        ({"lat": None, "long": None}, 400, "A location is required"),
        ({"long": None}, 400, "both lat and long"),
        ({"lat": "39.1.2"}, 400, "decimal number"),
        ({"lat": "nan"}, 400, "decimal number"),
        ({"lat": "inf"}, 400, "decimal number"),
        ({"lat": "1e400"}, 400, "finite"),
        ({"lat": "91"}, 400, "between -90 and 90"),
        ({"long": "-181"}, 400, "between -180 and 180"),
        ({"lat": "10", "long": "10"}, 400, "outside every neighborhood"),
        ({"description": "x" * 4001}, 400, "at most 4000"),
        ({"description": "null\x00byte"}, 400, "control characters"),
        ({"email": "not an email"}, 400, "email"),
        ({"phone": "call me maybe"}, 400, "phone"),
        ({"first_name": "A" * 61}, 400, "first_name"),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
        ({"media_url": "https://example.org/" + "a" * 300}, 400, "media_url"),
        ({"address_string": "x" * 201}, 400, "address_string"),
        ({"address_id": "x" * 65}, 400, "address_id"),
        ({"device_id": "d" * 101}, 400, "device_id"),
        ({"service_code": ["graffiti", "streetlight"]}, 400, "more than once"),
        ({"lat": ["39.0051", "39.0052"]}, 400, "more than once"),
    ],
)
def test_post_errors_have_their_status_and_save_nothing(client, world, overrides, status, needle):
    before = counts()
    text = checked_errors_of(post(client, valid_graffiti(world, **overrides)), status)
    assert needle in text
    assert counts() == before


def test_post_error_in_xml_uses_the_spec_element_names(client, world):
    response = post(client, valid_graffiti(world, api_key="wrong"), fmt="xml")
    assert response.status_code == 403
    root = checked_xml_of(response)
    assert root.tag == "errors"
    assert [child_tags(error) for error in root] == [["code", "description"]]
    assert root.findtext("error/code") == "403"


def test_same_value_sent_twice_is_tolerated(client, world):
    response = post(client, valid_graffiti(world, service_code=["graffiti", "graffiti"]))
    assert response.status_code == 201


def test_revoked_key_is_403_and_saves_nothing(client, world):
    assert post(client, valid_graffiti(world)).status_code == 201
    services.api_client_revoke(client=world["client"])
    before = counts()
    assert "revoked" in checked_errors_of(post(client, valid_graffiti(world)), 403)
    assert counts() == before


def test_post_json_body_is_400(client, world):
    response = client.post(f"{BASE}/requests.json", {"api_key": world["client"].key}, content_type="application/json")
    assert "form-encoded" in checked_errors_of(response, 400)


def test_post_needs_no_csrf_token(world):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert post(strict, valid_graffiti(world)).status_code == 201


def test_post_api_key_may_come_in_the_query_string(client, world):
    data = valid_graffiti(world, api_key=None)
    response = client.post(
        f"{BASE}/requests.json?api_key={world['client'].key}", urlencode(data, doseq=True), content_type=FORM
    )
    assert response.status_code == 201


def test_post_multipart_is_accepted(client, world):
    response = client.post(f"{BASE}/requests.json", valid_graffiti(world))
    assert response.status_code == 201


def test_too_large_body_is_400(client, world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    before = counts()
    assert "too large" in checked_errors_of(post(client, valid_graffiti(world, description="z" * 2000)), 400)
    assert counts() == before


def test_too_many_fields_is_400(client, world):
    data = valid_graffiti(world, **{f"x{i}": "1" for i in range(1200)})
    assert "Too many parameters" in checked_errors_of(post(client, data), 400)


def test_other_methods_are_405_in_the_error_shape(client, world):
    response = client.put(f"{BASE}/requests.json")
    checked_errors_of(response, 405)
    assert response["Allow"] == "GET, POST"
    checked_errors_of(client.post(f"{BASE}/services.json"), 405)


def test_unknown_paths_answer_404_in_the_asked_format(client, world):
    checked_errors_of(client.get(f"{BASE}/nothing-here.json"), 404)
    checked_errors_of(client.get(f"{BASE}/requests"), 404)
    assert checked_xml_of(client.get(f"{BASE}/nothing/here.xml")).tag == "errors"


@time_machine.travel(datetime(2026, 5, 1, 17, 0, 5, tzinfo=UTC), tick=False)
def test_posting_is_rate_limited_per_client_with_retry_after(client, world, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": "2/min", "anon": "5/min"}}
    assert post(client, valid_graffiti(world)).status_code == 201
    assert post(client, valid_graffiti(world)).status_code == 201
    before = counts()
    response = post(client, valid_graffiti(world))
    checked_errors_of(response, 429)
    assert response["Retry-After"] == "55"
    assert counts() == before
    # Another client application has its own budget.
    other = ApiClientFactory()
    assert post(client, valid_graffiti(world, api_key=other.key)).status_code == 201


@time_machine.travel(datetime(2026, 5, 1, 17, 0, 5, tzinfo=UTC), tick=False)
def test_reads_are_rate_limited_per_address(client, world, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": "9/min", "anon": "3/min"}}
    for _ in range(3):
        assert client.get(f"{BASE}/services.json").status_code == 200
    response = client.get(f"{BASE}/services.json")
    checked_errors_of(response, 429)
    assert "Retry-After" in response
    assert client.get(f"{BASE}/services.json", REMOTE_ADDR="10.1.2.3").status_code == 200


# --- GET requests --------------------------------------------------------------------------


def graffiti_issue(world, **kwargs):
    return IssueFactory(category=world["graffiti"], neighborhood=world["westside"], **kwargs)


def test_get_request_never_shows_contact_details(client, world):
    data = valid_graffiti(
        world, email="ana.secret@example.org", first_name="Anastasia", last_name="Zyxwv", phone="816-555-0142"
    )
    [answer] = post(client, data).json()
    code = answer["service_request_id"]
    for path in (f"requests/{code}", "requests", f"tokens/{answer['token']}"):
        for fmt in ("json", "xml"):
            content = client.get(f"{BASE}/{path}.{fmt}").content.decode()
            assert code in content
            for secret in ("ana.secret", "Anastasia", "Zyxwv", "555-0142"):
                assert secret not in content


def test_get_request_item_fields(client, world, settings):
    settings.PUBLIC_LOCATION_DECIMALS = 3
    issue = graffiti_issue(world, lat=39.00512345, lng=-94.59498765, address="12 Oak St, Westside, MO 64111")
    # A client's link is shown once a moderator approved it (tests/cases/web/test_moderation_photos.py).
    ReportFactory(issue=issue, media_url="https://img.example.org/a.jpg", photo_state="approved")
    response = client.get(f"{BASE}/requests/{issue.tracking_code}.json")
    assert response.status_code == 200
    body = response.json()
    validate(body, "requests.json")
    [item] = body
    issue.refresh_from_db()
    assert item["service_request_id"] == issue.tracking_code
    assert item["status"] == "open"
    assert item["service_code"] == "graffiti"
    assert item["service_name"] == "Graffiti"
    assert item["description"] == issue.description
    assert item["agency_responsible"] == "Community policing, Central district"
    assert item["requested_datetime"] == timezone.localtime(issue.created_at).isoformat(timespec="seconds")
    assert item["updated_datetime"] == timezone.localtime(issue.updated_at).isoformat(timespec="seconds")
    assert datetime.fromisoformat(item["expected_datetime"]) == issue.due_at.replace(microsecond=0)
    assert (item["lat"], item["long"]) == (39.005, -94.595)
    assert item["zipcode"] == "64111"
    assert item["media_url"] == "https://img.example.org/a.jpg"
    assert item["status_notes"] is None
    # The status page of the request is the resident's status page.
    assert client.get(f"{BASE}/requests/{issue.tracking_code.lower()}.json").json()[0]["service_request_id"] == (
        issue.tracking_code
    )


def test_get_request_xml_element_names(client, world):
    issue = graffiti_issue(world)
    root = checked_xml_of(client.get(f"{BASE}/requests/{issue.tracking_code}.xml"))
    assert root.tag == "service_requests"
    [request] = list(root)
    assert request.tag == "request"
    assert child_tags(request) == [
        "service_request_id",
        "status",
        "status_notes",
        "service_name",
        "service_code",
        "description",
        "agency_responsible",
        "service_notice",
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
        "address",
        "address_id",
        "zipcode",
        "lat",
        "long",
        "media_url",
    ]
    assert request.findtext("status") == "open"
    assert datetime.fromisoformat(request.findtext("expected_datetime")).tzinfo is not None


def test_expected_datetime_follows_due_at(client, world):
    issue = graffiti_issue(world)
    before = client.get(f"{BASE}/requests/{issue.tracking_code}.json").json()[0]["expected_datetime"]
    services.issue_set_priority(issue=issue, priority="urgent", actor=officer(neighborhoods=[world["westside"]]))
    issue.refresh_from_db()
    after = client.get(f"{BASE}/requests/{issue.tracking_code}.json").json()[0]["expected_datetime"]
    assert after != before
    assert datetime.fromisoformat(after) == issue.due_at.replace(microsecond=0)


def test_status_notes_is_the_latest_public_note(client, world):
    issue = graffiti_issue(world)
    actor = officer(neighborhoods=[world["westside"]])
    t0 = timezone.now()
    with time_machine.travel(t0 + timedelta(minutes=1), tick=False):
        services.issue_add_note(issue=issue, actor=actor, text="Crew scheduled for Tuesday", public=True)
    with time_machine.travel(t0 + timedelta(minutes=2), tick=False):
        services.issue_add_note(issue=issue, actor=actor, text="Internal: owner is uncooperative", public=False)
    [item] = client.get(f"{BASE}/requests/{issue.tracking_code}.json").json()
    assert item["status_notes"] == "Crew scheduled for Tuesday"
    with time_machine.travel(t0 + timedelta(minutes=3), tick=False):
        services.issue_resolve(issue=issue, actor=actor, note="Wall repainted")
    [item] = client.get(f"{BASE}/requests/{issue.tracking_code}.json").json()
    assert (item["status"], item["status_notes"]) == ("closed", "Wall repainted")


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (Issue.Status.NEW, "open"),
        (Issue.Status.ACKNOWLEDGED, "open"),
        (Issue.Status.IN_PROGRESS, "open"),
        (Issue.Status.ON_HOLD, "open"),
        (Issue.Status.RESOLVED, "closed"),
        (Issue.Status.CLOSED, "closed"),
        (Issue.Status.REFERRED, "closed"),
        (Issue.Status.DUPLICATE, "closed"),
    ],
)
def test_status_maps_to_open_or_closed(client, world, status, expected):
    extra = {}
    if status == Issue.Status.ON_HOLD:
        extra["hold_started_at"] = timezone.now()
    if status == Issue.Status.DUPLICATE:
        extra["duplicate_of"] = graffiti_issue(world)
    if status == Issue.Status.REFERRED:
        extra["referred_to"] = "Public Works"
    issue = graffiti_issue(world, status=status, **extra)
    [item] = client.get(f"{BASE}/requests/{issue.tracking_code}.json").json()
    assert item["status"] == expected
    # The SLA notice is a promise about open requests only.
    assert (item["service_notice"] is None) == (expected == "closed")
    if status == Issue.Status.REFERRED:
        assert item["agency_responsible"] == "Public Works"
    only = client.get(f"{BASE}/requests.json", {"status": expected}).json()
    assert issue.tracking_code in {i["service_request_id"] for i in only}
    other = "closed" if expected == "open" else "open"
    assert issue.tracking_code not in {
        i["service_request_id"] for i in client.get(f"{BASE}/requests.json", {"status": other}).json()
    }


def test_sensitive_requests_are_not_found_anywhere(client, world):
    hidden = IssueFactory(category=world["drugs"], neighborhood=world["westside"])
    ReportFactory(issue=hidden, open311_token="hidden-token")
    shown = graffiti_issue(world)
    listed = {i["service_request_id"] for i in client.get(f"{BASE}/requests.json").json()}
    assert listed == {shown.tracking_code}
    checked_errors_of(client.get(f"{BASE}/requests/{hidden.tracking_code}.json"), 404)
    by_id = client.get(f"{BASE}/requests.json", {"service_request_id": f"{hidden.tracking_code},{shown.tracking_code}"})
    assert [i["service_request_id"] for i in by_id.json()] == [shown.tracking_code]
    checked_errors_of(client.get(f"{BASE}/requests.json", {"service_code": "drug-activity"}), 404)
    checked_errors_of(client.get(f"{BASE}/tokens/hidden-token.json"), 404)


def test_get_requests_list_newest_first_with_schema_and_xml(client, world):
    now = timezone.now()
    old = graffiti_issue(world, created_at=now - timedelta(days=3))
    new = graffiti_issue(world, created_at=now - timedelta(hours=1))
    light = IssueFactory(
        category=world["streetlight"], neighborhood=world["westside"], created_at=now - timedelta(days=1)
    )
    response = client.get(f"{BASE}/requests.json")
    body = response.json()
    validate(body, "requests.json")
    assert [i["service_request_id"] for i in body] == [new.tracking_code, light.tracking_code, old.tracking_code]
    root = checked_xml_of(client.get(f"{BASE}/requests.xml"))
    assert [r.findtext("service_request_id") for r in root.findall("request")] == [
        new.tracking_code,
        light.tracking_code,
        old.tracking_code,
    ]
    by_code = client.get(f"{BASE}/requests.json", {"service_code": "streetlight"}).json()
    assert [i["service_request_id"] for i in by_code] == [light.tracking_code]
    both = client.get(f"{BASE}/requests.json", {"service_code": "streetlight,graffiti"}).json()
    assert len(both) == 3
    checked_errors_of(client.get(f"{BASE}/requests.json", {"service_code": "graffiti,nope"}), 404)


def test_get_requests_comma_list_of_ids_overrides_other_filters(client, world):
    now = timezone.now()
    ancient = graffiti_issue(world, created_at=now - timedelta(days=400))
    recent = graffiti_issue(world, created_at=now - timedelta(days=1))
    graffiti_issue(world)
    body = client.get(
        f"{BASE}/requests.json",
        {
            "service_request_id": f" {ancient.tracking_code} ,{recent.tracking_code.lower()},CG-NOPE-NOPE,",
            "status": "closed",
        },
    ).json()
    validate(body, "requests.json")
    assert [i["service_request_id"] for i in body] == [recent.tracking_code, ancient.tracking_code]
    too_many = ",".join(f"CG-{i:04d}-AAAA" for i in range(1001))
    checked_errors_of(client.get(f"{BASE}/requests.json", {"service_request_id": too_many}), 400)


def test_get_requests_default_window_is_90_days(client, world):
    now = timezone.now()
    inside = graffiti_issue(world, created_at=now - timedelta(days=89))
    graffiti_issue(world, created_at=now - timedelta(days=91))
    body = client.get(f"{BASE}/requests.json").json()
    assert [i["service_request_id"] for i in body] == [inside.tracking_code]


def test_get_requests_by_dates(client, world):
    base = timezone.make_aware(datetime(2026, 3, 10, 12, 0))
    with time_machine.travel(base + timedelta(days=200), tick=False):
        march = graffiti_issue(world, created_at=base)
        april = graffiti_issue(world, created_at=base + timedelta(days=30))

        def checked_codes(**params):
            response = client.get(f"{BASE}/requests.json", params)
            assert response.status_code == 200, response.content
            return [i["service_request_id"] for i in response.json()]

        assert checked_codes(start_date="2026-03-01T00:00:00-06:00", end_date="2026-04-30T00:00:00Z") == [
            april.tracking_code,
            march.tracking_code,
        ]
        assert checked_codes(start_date="2026-03-11T00:00:00-05:00") == [april.tracking_code]
        assert checked_codes(end_date="2026-03-10") == [march.tracking_code]  # a date-only end covers that whole day
        assert checked_codes(start_date="2026-03-10T12:00:00", end_date="2026-03-10T12:00:00") == [march.tracking_code]
        assert checked_codes() == []  # both are older than the default 90 days


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"start_date": "last tuesday"}, "W3C datetime"),
        ({"start_date": "2026-13-01T00:00:00Z"}, "W3C datetime"),
        ({"end_date": "2026-02-30"}, "W3C datetime"),
        ({"start_date": "2026-01-01T00:00:00+99:00"}, "W3C datetime"),
        ({"start_date": "0001-01-01T00:00:00+14:00"}, "W3C datetime"),
        ({"end_date": "0001-01-02T00:00:00Z"}, "calendar"),
        ({"start_date": "9999-12-31T00:00:00Z"}, "calendar"),
        ({"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-02-01T00:00:00Z"}, "before end_date"),
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, "90 days"),
        ({"status": "pending"}, "status must be"),
        ({"status": ["open", "closed"]}, "more than once"),
        ({"service_code": "bad\x01code"}, "control characters"),
    ],
)
def test_get_requests_bad_parameters_are_400(client, world, params, needle):
    assert needle in checked_errors_of(client.get(f"{BASE}/requests.json", params), 400)


def test_get_requests_returns_at_most_1000(client, world):
    now = timezone.now()
    issue = graffiti_issue(world, created_at=now - timedelta(days=5))
    Issue.objects.bulk_create(
        [
            Issue(
                category=world["graffiti"],
                neighborhood=world["westside"],
                description="Tags",
                created_at=now - timedelta(minutes=i + 1),
                due_at=now + timedelta(hours=72),
                tracking_code=f"CG-{i:04d}-TEST",
            )
            for i in range(1000)
        ]
    )
    body = client.get(f"{BASE}/requests.json").json()
    assert len(body) == 1000
    assert issue.tracking_code not in {i["service_request_id"] for i in body}  # the oldest falls off
    assert body[0]["service_request_id"] == "CG-0000-TEST"


def test_get_requests_pages_with_page_and_page_size(client, world):
    now = timezone.now()
    codes = []
    for i in range(7):
        codes.append(graffiti_issue(world, created_at=now - timedelta(minutes=i + 1)).tracking_code)
    first = [r["service_request_id"] for r in client.get(f"{BASE}/requests.json", {"page_size": 3}).json()]
    second = [r["service_request_id"] for r in client.get(f"{BASE}/requests.json", {"page_size": 3, "page": 2}).json()]
    third = [r["service_request_id"] for r in client.get(f"{BASE}/requests.json", {"page_size": 3, "page": 3}).json()]
    assert (first, second, third) == (codes[:3], codes[3:6], codes[6:])  # newest first, no overlap
    assert client.get(f"{BASE}/requests.json", {"page_size": 3, "page": 4}).json() == []
    xml = client.get(f"{BASE}/requests.xml", {"page_size": 2, "page": 2}).content.decode()
    assert codes[2] in xml and codes[3] in xml and codes[1] not in xml


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"page_size": "0"}, "page_size must be a whole number from 1 to 1000"),
        ({"page_size": "1001"}, "page_size must be a whole number from 1 to 1000"),
        ({"page": "-1"}, "page must be a whole number"),
        ({"page": "two"}, "page must be a whole number"),
        ({"page": "\u00b2"}, "page must be a whole number"),  # a digit to str.isdigit, not to int
        ({"page": "11", "page_size": "1000"}, "narrow start_date and end_date"),
    ],
)
def test_get_requests_bad_paging_is_400(client, world, params, needle):
    assert needle in checked_errors_of(client.get(f"{BASE}/requests.json", params), 400)


@pytest.mark.parametrize("size", [3, 40])
def test_get_requests_runs_a_fixed_number_of_queries(client, world, django_assert_max_num_queries, size):
    actor = officer(neighborhoods=[world["westside"]])
    for i in range(size):
        issue = (
            graffiti_issue(world)
            if i % 2
            else IssueFactory(category=world["streetlight"], neighborhood=world["westside"])
        )
        # Approved media only: a client's link, or our public copy of a photo (its URL needs no query).
        if i % 3:
            ReportFactory(issue=issue, media_url=f"https://img.example.org/{i}.jpg", photo_state="approved")
        else:
            ReportFactory(issue=issue, public_photo=f"public/2026/12/{i:032x}.jpg", photo_state="approved")
        services.issue_add_note(issue=issue, actor=actor, text=f"Note {i}", public=True)
    # The snapshot a kept answer is looked up by (views._kept), then the requests themselves.
    with django_assert_max_num_queries(2):
        body = client.get(f"{BASE}/requests.json").json()
    assert len(body) == size
    assert all(item["status_notes"].startswith("Note ") and item["media_url"] for item in body)
    assert sum("testserver/photos/" in item["media_url"] for item in body) == (size + 2) // 3
    with django_assert_max_num_queries(2):
        client.get(f"{BASE}/requests.xml")


@pytest.mark.parametrize("size", [2, 30])
def test_services_run_a_fixed_number_of_queries(client, world, django_assert_max_num_queries, size):
    for _ in range(size):
        CategoryFactory()
    with django_assert_max_num_queries(1):
        assert len(client.get(f"{BASE}/services.json").json()) == size + 2


# --- tokens ----------------------------------------------------------------------------


def test_token_lookup(client, world):
    [answer] = post(client, valid_graffiti(world)).json()
    response = client.get(f"{BASE}/tokens/{answer['token']}.json")
    assert response.status_code == 200
    assert response.json() == [{"service_request_id": answer["service_request_id"], "token": answer["token"]}]
    root = checked_xml_of(client.get(f"{BASE}/tokens/{answer['token']}.xml"))
    assert root.tag == "service_requests"
    assert child_tags(root.find("request")) == ["service_request_id", "token"]
    checked_errors_of(client.get(f"{BASE}/tokens/unknown-token.json"), 404)
    checked_errors_of(client.get(f"{BASE}/tokens/{'t' * 100}.json"), 404)


def test_requests_of_a_retired_service_stay_readable(client, world):
    issue = IssueFactory(category=world["retired"], neighborhood=world["westside"])
    body = client.get(f"{BASE}/requests.json", {"service_code": "old-signs"}).json()
    validate(body, "requests.json")
    assert [i["service_request_id"] for i in body] == [issue.tracking_code]


def test_long_descriptions_are_cut_to_the_spec_limit(client, world):
    issue = graffiti_issue(world, description="y" * 4500)
    body = client.get(f"{BASE}/requests/{issue.tracking_code}.json").json()
    validate(body, "requests.json")
    assert len(body[0]["description"]) == 4000


def test_control_characters_stored_elsewhere_never_break_the_xml(client, world):
    issue = graffiti_issue(world, description="bell\x07 and form feed\x0c")
    root = checked_xml_of(client.get(f"{BASE}/requests/{issue.tracking_code}.xml"))
    assert root.findtext("request/description") == "bell and form feed"


def test_service_request_id_opens_the_residents_status_page_without_contact_details(client, world):
    data = valid_graffiti(world, email="ana.secret@example.org", first_name="Anastasia", phone="816-555-0142")
    [answer] = post(client, data).json()
    page = client.get(f"/report/{answer['service_request_id']}/")
    assert page.status_code == 200
    content = page.content.decode()
    assert answer["service_request_id"] in content
    for secret in ("ana.secret", "Anastasia", "555-0142"):
        assert secret not in content


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'--xyz\r\nContent-Disposition: form-data; name="api_key"\r\n\r\nabc', "multipart/form-data; boundary=xyz"),
        (b"--xyz\r\n\r\n", "multipart/form-data"),
        (b"\xff\xfe\x00a\x00p\x00i", "application/x-www-form-urlencoded; charset=utf-16"),
        (b"api_key=%FF%FE&service_code=%00&lat=%E2%82", "application/x-www-form-urlencoded; charset=no-such-charset"),
        (b"\x00\x01\x02binary", "application/octet-stream"),
        (b"", ""),
    ],
)
def test_junk_bodies_are_answered_in_the_error_shape(client, world, body, content_type):
    before = counts()
    response = client.generic("POST", f"{BASE}/requests.json", body, content_type=content_type)
    assert response.status_code in (400, 403)
    checked_errors_of(response, response.status_code)
    assert counts() == before
