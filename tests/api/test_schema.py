"""The OpenAPI 3 schema: valid, warning-free, precise about errors and paging; the
interactive docs are served from local static files only."""

import re

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator

ERROR_REF = "#/components/schemas/Error"


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_spectacular_validates_without_a_single_warning(tmp_path):
    """What CI runs: ``manage.py spectacular --validate --fail-on-warn``."""
    target = tmp_path / "openapi.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    written = yaml.safe_load(target.read_text())
    assert written["openapi"].startswith("3.")
    assert len(written["paths"]) >= 40


def test_schema_is_served_as_yaml_and_json(client, db):
    as_yaml = client.get("/api/schema/")
    assert as_yaml.status_code == 200
    assert yaml.safe_load(as_yaml.content)["info"]["title"] == "CommonGround API"
    as_json = client.get("/api/schema/?format=json")
    assert as_json.status_code == 200
    assert as_json.json()["paths"]


def _operations(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def test_every_operation_documents_its_errors_in_the_one_shape(schema):
    for path, method, operation in _operations(schema):
        responses = operation["responses"]
        for code in ("401", "429"):
            assert responses[code]["content"]["application/json"]["schema"]["$ref"] == ERROR_REF, (path, method, code)
        has_path_param = "{" in path
        if has_path_param:
            assert "404" in responses, (path, method)
        if method in ("post", "patch"):
            assert "400" in responses, (path, method)  # invalid input, or an action that does not fit the state
        assert ("415" in responses) is ("requestBody" in operation), (path, method)
        success = [code for code in responses if code.startswith("2")]
        assert len(success) == 1, (path, method)
        public = path.startswith(("/api/v1/categories", "/api/v1/neighborhoods"))
        assert ("403" in responses) is not public, (path, method)


def test_every_list_is_paginated_with_a_documented_page_size(schema):
    for path, method, operation in _operations(schema):
        if method != "get" or "{id}" in path or path.endswith((".geojson", "/me/", "/stats/", "/stats/languages/")):
            continue
        names = {p["name"] for p in operation.get("parameters", [])}
        assert {"page_size", "after", "before"} <= names, path
        body = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        assert body.split("/")[-1].startswith("Paginated"), path
        component = schema["components"]["schemas"][body.split("/")[-1]]
        assert set(component["required"]) == {"count", "count_is_exact", "next", "previous", "results"}, path


def test_ids_are_integers_everywhere(schema):
    for path, _method, operation in _operations(schema):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                assert parameter["schema"]["type"] == "integer", (path, parameter)


def test_contact_details_appear_only_in_the_report_detail(schema):
    # What the API answers (input components, "…Request", may take a resident's details).
    components = {k: v for k, v in schema["components"]["schemas"].items() if not k.endswith("Request")}
    holders = {name for name, component in components.items() if "contact" in component.get("properties", {})}
    assert holders == {"ReportDetail"}
    contact = components["ReportDetail"]["properties"]["contact"]
    assert contact["nullable"] is True
    assert not any(
        field in component.get("properties", {})
        for component in components.values()
        for field in ("reporter_name", "reporter_email", "reporter_phone")
    )


def test_docs_load_nothing_from_outside(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, html[:500]
    # Swagger UI's start-up script comes from this view (?script), not inline: the CSP allows no inline script.
    init_scripts = [asset for asset in assets if asset.startswith("/api/docs/?script")]
    assert len(init_scripts) == 1, assets
    for asset in assets:
        if asset in init_scripts:
            continue
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/")), f"{asset} is not a local static file"
    script = client.get(init_scripts[0])
    assert script.status_code == 200
    code = script.content.decode()
    assert "http://" not in code and "https://" not in code and "//cdn" not in code
    assert '"validatorUrl": null' in code  # Swagger UI's validator badge would call validator.swagger.io


def test_options_points_at_the_schema(officer, issue):
    from tests.api.conftest import token_client

    response = token_client(officer).options(f"/api/v1/issues/{issue.pk}/assign/")
    assert response.status_code == 200
    body = response.json()
    assert body["schema"].endswith("/api/schema/") and "actions" not in body
    assert "POST" in response["Allow"]
