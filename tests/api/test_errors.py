"""One error shape for every failure: {"error": {"code", "message", "fields"}}."""

import pytest
from rest_framework.test import APIClient

from cases.models import Event
from tests.api.conftest import token_client


def _checked_error(response, status, code):
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], dict)
    return error


def test_validation_error_names_each_field(officer, issue):
    response = token_client(officer).post(f"/api/v1/issues/{issue.pk}/approach/", {"approach": "pray"}, format="json")
    error = _checked_error(response, 400, "invalid")
    assert error["fields"] == {"approach": ['"pray" is not a valid choice.']}
    assert error["message"] == 'approach: "pray" is not a valid choice.'


def test_missing_fields_are_each_reported(officer):
    response = token_client(officer).post("/api/v1/issues/", {}, format="json")
    error = _checked_error(response, 400, "invalid")
    assert set(error["fields"]) == {"category", "description"}


def test_nested_errors_get_dotted_paths(officer, neighborhood):
    response = token_client(officer).post(
        "/api/v1/activities/",
        {
            "kind": "clean_up",
            "title": "Clean-up",
            "starts_at": "2026-05-01T10:00:00Z",
            "ends_at": "2026-05-01T12:00:00Z",
            "neighborhood": neighborhood.pk,
            "languages": ["en", "klingon"],
        },
        format="json",
    )
    error = _checked_error(response, 400, "invalid")
    assert list(error["fields"]) == ["languages.1"]


def test_a_service_rule_becomes_a_400_with_its_message(officer, issue):
    """Services raise django's ValidationError; the page shows the same text."""
    client = token_client(officer)
    assert client.post(f"/api/v1/issues/{issue.pk}/acknowledge/").status_code == 200
    events = Event.objects.count()
    error = _checked_error(client.post(f"/api/v1/issues/{issue.pk}/acknowledge/"), 400, "invalid")
    assert error["message"] == "Cannot acknowledge an issue that is acknowledged."
    assert error["fields"] == {"non_field_errors": ["Cannot acknowledge an issue that is acknowledged."]}
    assert Event.objects.count() == events


def test_a_service_field_error_keeps_its_field(officer, neighborhood, category):
    """A point outside every neighborhood: the service's {"location": …} error reaches the client."""
    response = token_client(officer).post(
        "/api/v1/issues/",
        {"category": category.pk, "description": "Couch on the curb", "lat": 10.0, "lng": 10.0},
        format="json",
    )
    error = _checked_error(response, 400, "invalid")
    assert error["fields"] == {"location": ["That point is outside every neighborhood we serve."]}


def test_malformed_json_is_a_parse_error(officer, issue):
    response = token_client(officer).post(
        f"/api/v1/issues/{issue.pk}/note/", data='{"text": "unterminated', content_type="application/json"
    )
    _checked_error(response, 400, "parse_error")


def test_form_encoded_body_is_refused_as_unsupported(officer, issue):
    response = token_client(officer).post(
        f"/api/v1/issues/{issue.pk}/note/", data="text=hello", content_type="application/x-www-form-urlencoded"
    )
    _checked_error(response, 415, "unsupported_media_type")


def test_not_authenticated(issue):
    response = APIClient().get("/api/v1/issues/")
    _checked_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


def test_lone_surrogate_escape_is_refused(officer, issue):
    """JSON may spell a lone UTF-16 surrogate ("\\ud800"); PostgreSQL could not store it."""
    events = Event.objects.count()
    response = token_client(officer).post(
        f"/api/v1/issues/{issue.pk}/note/", data='{"text": "lone \\ud800"}', content_type="application/json"
    )
    error = _checked_error(response, 400, "invalid")
    assert list(error["fields"]) == ["text"]
    assert Event.objects.count() == events


def test_unknown_token(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    _checked_error(client.get("/api/v1/issues/"), 401, "authentication_failed")


def test_permission_denied(other_officer, issue):
    error = _checked_error(
        token_client(other_officer).post(f"/api/v1/issues/{issue.pk}/acknowledge/"), 403, "permission_denied"
    )
    assert error["message"] == "You may not act on issues outside your neighborhoods."


def test_not_found(officer):
    _checked_error(token_client(officer).get("/api/v1/issues/999999/"), 404, "not_found")
    _checked_error(token_client(officer).get("/api/v1/issues/99999999999999999999999/"), 404, "not_found")


@pytest.mark.parametrize(
    "path", ["/api/v1/nowhere/", "/api/v1/issues/abc/", "/api/v2/issues/", "/api/v1/issues/1/x\n/"]
)
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_unknown_paths_answer_json_404(officer, path, method):
    _checked_error(getattr(token_client(officer), method)(path), 404, "not_found")


def test_method_not_allowed(officer, issue):
    error = _checked_error(token_client(officer).delete(f"/api/v1/issues/{issue.pk}/"), 405, "method_not_allowed")
    assert "DELETE" in error["message"]


def test_invalid_filter_value(officer):
    error = _checked_error(
        token_client(officer).get("/api/v1/issues/?status=lost&created_after=yesterday"), 400, "invalid"
    )
    assert set(error["fields"]) == {"status", "created_after"}


# A bare number, garbage, an object, one key of two, an impossible date.
BAD_CURSORS = ["7", "not-a-cursor", "eyJhIjoxfQ", "W1sxXSwwXQ", "W1t7InQiOiIyMDI2LTEzLTk5In0sMV0sMF0"]


@pytest.mark.parametrize("cursor", BAD_CURSORS)
def test_a_cursor_it_did_not_write_is_400(officer, issue, cursor):
    for param in ("after", "before"):
        error = _checked_error(token_client(officer).get(f"/api/v1/issues/?{param}={cursor}"), 400, "invalid")
        assert "cursor" in error["fields"]


@pytest.mark.parametrize(
    "query",
    [
        "created_after=9999-12-31T23:00:00-05:00",
        "created_before=0001-01-01T00:00:00%2B05:00",
        "category=99999999999999999999",
        "q=%00",
        "escalation_level_min=1.5",
    ],
)
def test_extreme_filter_values_are_400_not_500(officer, query):
    _checked_error(token_client(officer).get(f"/api/v1/issues/?{query}"), 400, "invalid")


@pytest.mark.parametrize(
    "body",
    [
        {"text": "nul \x00 byte"},
        {"text": ["a list"]},
        ["not", "an", "object"],
        {"text": "x" * 5001},
    ],
)
def test_hostile_bodies_are_400_and_change_nothing(officer, issue, body):
    events = Event.objects.count()
    _checked_error(token_client(officer).post(f"/api/v1/issues/{issue.pk}/note/", body, format="json"), 400, "invalid")
    assert Event.objects.count() == events


def test_throttled_in_the_same_shape(officer, issue, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "write": "2/min"},
    }
    client = token_client(officer)
    for _ in range(2):
        assert client.post(f"/api/v1/issues/{issue.pk}/note/", {"text": "ok"}, format="json").status_code == 201
    response = client.post(f"/api/v1/issues/{issue.pk}/note/", {"text": "one too many"}, format="json")
    error = _checked_error(response, 429, "throttled")
    assert 0 < error["retry_after"] <= 60
    assert int(response["Retry-After"]) == error["retry_after"]
    # Reads are not writes: the write budget does not block them.
    assert client.get(f"/api/v1/issues/{issue.pk}/").status_code == 200
    assert Event.objects.filter(message="one too many").count() == 0


def test_contact_details_have_their_own_budget(officer, issue, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "contacts": "1/hour"},
    }
    client = token_client(officer)
    report = issue.reports.get()
    assert client.get(f"/api/v1/reports/{report.pk}/").status_code == 200
    _checked_error(client.get(f"/api/v1/reports/{report.pk}/"), 429, "throttled")
    assert client.get("/api/v1/reports/").status_code == 200  # the list shows no contact details


def test_anonymous_requests_are_throttled_by_address(settings, category):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "3/min"},
    }
    client = APIClient()
    for _ in range(3):
        assert client.get("/api/v1/categories/").status_code == 200
    _checked_error(client.get("/api/v1/categories/"), 429, "throttled")
