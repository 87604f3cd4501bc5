"""Shared helpers of the Open311 tests: the spec's JSON schemas, XML parsing, seed data."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse
from xml.etree import ElementTree

from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from cases.models import CategoryAttribute
from tests.factories import ApiClientFactory, CategoryFactory, NeighborhoodFactory, square

# The Open311 project's GeoReport v2 schemas, kept in the repository so a clone
# tests on its own; where ../shared is checked out beside it (CI, developers'
# machines) the copy must still be identical to the brief's.
SCHEMA_DIR = Path(__file__).resolve().parent / "open311_schemas"
SHARED_SCHEMA_DIR = Path(__file__).resolve().parents[3] / ".." / "shared" / "open311-schemas"
SCHEMA_FILES = ("request.json", "requests.json", "service.json", "services.json", "service-definition.json")
BASE = "/open311/v2"

_format_checker = FormatChecker()


@_format_checker.checks("date-time", raises=ValueError)
def _is_w3c_datetime(value) -> bool:
    """RFC 3339: a full date and time with an explicit offset (the spec's W3C format)."""
    if not isinstance(value, str) or "T" not in value:
        return False
    return datetime.fromisoformat(value).tzinfo is not None


@_format_checker.checks("uri", raises=ValueError)
def _is_uri(value) -> bool:
    parsed = urlparse(value)
    return bool(parsed.scheme and parsed.netloc)


def _registry() -> Registry:
    resources = []
    for name in SCHEMA_FILES:
        text = (SCHEMA_DIR / name).read_text()
        shared = SHARED_SCHEMA_DIR / name
        if shared.exists() and json.loads(shared.read_text()) != json.loads(text):
            raise AssertionError(f"{SCHEMA_DIR / name} differs from {shared}: copy the shared schema again.")
        resources.append((name, Resource(contents=json.loads(text), specification=DRAFT7)))
    return Registry().with_resources(resources)


_REGISTRY = _registry()


def validate(document, schema_name: str) -> None:
    """Raise unless the document matches the named schema of the Open311 project (formats checked)."""
    schema = _REGISTRY.contents(schema_name)
    Draft7Validator(schema, registry=_REGISTRY, format_checker=_format_checker).validate(document)


def checked_xml_of(response) -> ElementTree.Element:
    assert response["Content-Type"].startswith("text/xml"), response["Content-Type"]
    return ElementTree.fromstring(response.content)  # noqa: S314 (our own answer, in a test)


def child_tags(element: ElementTree.Element) -> list[str]:
    return [child.tag for child in element]


def seed_services():
    """A place, a public service with every kind of question, a plain one, a sensitive and a retired one."""
    westside = NeighborhoodFactory(name="Westside", slug="westside", district="Central", boundary=square(39.0, -94.6))
    graffiti = CategoryFactory(
        service_code="graffiti",
        name_en="Graffiti",
        name_es="Grafiti",
        hint_en="Paint or tags on walls",
        hint_es="Pintura o marcas en paredes",
        group_en="Property",
        group_es="Propiedad",
        keywords="paint, tags, vandalism",
    )
    CategoryAttribute.objects.create(
        category=graffiti,
        code="surface",
        datatype=CategoryAttribute.Datatype.SINGLEVALUELIST,
        required=True,
        description_en="What is painted?",
        description_es="¿Qué está pintado?",
        values=[{"key": "wall", "name": "Wall"}, {"key": "sign", "name": "Sign"}],
        order=1,
    )
    CategoryAttribute.objects.create(
        category=graffiti,
        code="colors",
        datatype=CategoryAttribute.Datatype.MULTIVALUELIST,
        description_en="Colors used",
        values=[{"key": "red", "name": "Red"}, {"key": "black", "name": "Black"}],
        order=2,
    )
    CategoryAttribute.objects.create(
        category=graffiti,
        code="size",
        datatype=CategoryAttribute.Datatype.NUMBER,
        description_en="Size in square feet",
        datatype_description="A number",
        order=3,
    )
    CategoryAttribute.objects.create(
        category=graffiti,
        code="seen_at",
        datatype=CategoryAttribute.Datatype.DATETIME,
        description_en="When was it first seen?",
        order=4,
    )
    CategoryAttribute.objects.create(
        category=graffiti,
        code="note",
        datatype=CategoryAttribute.Datatype.STRING,
        description_en="Anything else",
        order=5,
    )
    streetlight = CategoryFactory(
        service_code="streetlight", name_en="Broken streetlight", name_es="Farola rota", group_en="Streets", keywords=""
    )
    drugs = CategoryFactory(service_code="drug-activity", name_en="Open-air drug activity", is_public=False)
    retired = CategoryFactory(service_code="old-signs", name_en="Old signs", is_active=False)
    client = ApiClientFactory(name="City 311 app")
    return {
        "westside": westside,
        "graffiti": graffiti,
        "streetlight": streetlight,
        "drugs": drugs,
        "retired": retired,
        "client": client,
    }


def test_xml_written_as_text_is_what_elementtree_writes():
    """The XML answers are written as text (fast); ElementTree's output is the reference."""
    from cases.open311.render import to_xml, to_xml_tree

    payload = [
        {
            "service_request_id": "CG-A&B<C>\"'",
            "status": None,
            "lat": 39.0997,
            "metadata": True,
            "description": "Ñandú — ümlaut\x01 ctrl\ufffe",
            "attributes": [],
            "values": [{"key": "1", "name": "<one>"}, {"key": "", "name": ""}],
            "empty": {},
        },
        {},
    ]
    for root in ("service_requests", "errors"):
        assert to_xml(root, payload) == to_xml_tree(root, payload)
