"""Property tests: arbitrary Open311 parameters never produce a 500, and rejected input saves nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cases.models import Event, Issue, OutboxMessage, Report
from tests.cases.open311.test_open311_support import BASE, checked_xml_of, seed_services, validate
from tests.factories import IssueFactory

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"
PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text a form can carry: anything but lone surrogates (not encodable in UTF-8).
any_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**400), max_value=10**400).map(str),
    st.sampled_from(["39.0051", "-94.5949", "39.0051e0", "nan", "inf", "-inf", "1e999", "", " ", "0x10", "1_000"]),
)
dates = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.dates().map(str),
    st.sampled_from(["2026-02-30", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "yesterday", "T"]),
    any_text,
)
codes = st.sampled_from(["graffiti", "streetlight", "drug-activity", "old-signs", "nope", "", "GRAFFITI"])
values = st.one_of(any_text, numbers, dates, codes)


def param_values(strategy):
    """One value, or the parameter repeated (duplicate params)."""
    return st.one_of(strategy, st.lists(strategy, min_size=2, max_size=3))


POST_FIELDS = {
    "api_key": st.one_of(st.just("VALID"), any_text),
    "service_code": param_values(codes),
    "lat": param_values(numbers),
    "long": param_values(numbers),
    "address_string": param_values(st.one_of(any_text, st.just("12 Oak St, Westside"), st.text(min_size=190))),
    "address_id": param_values(st.one_of(any_text, st.just("westside"))),
    "email": param_values(st.one_of(any_text, st.emails())),
    "device_id": param_values(any_text),
    "account_id": param_values(any_text),
    "first_name": param_values(any_text),
    "last_name": param_values(any_text),
    "phone": param_values(st.one_of(any_text, st.just("+1 816 555 0100"))),
    "description": param_values(st.one_of(any_text, st.text(min_size=3990, max_size=4010))),
    "media_url": param_values(st.one_of(any_text, st.just("https://img.example.org/x.jpg"))),
    "attribute[surface]": param_values(st.one_of(st.sampled_from(["wall", "sign", "roof"]), any_text)),
    "attribute[colors][]": param_values(st.sampled_from(["red", "black", "green", ""])),
    "attribute[size]": param_values(numbers),
    "attribute[seen_at]": param_values(dates),
    "attribute[note]": param_values(any_text),
    "locale": any_text,
}
VALID_CORE = {
    "api_key": st.just("VALID"),
    "service_code": st.just("graffiti"),
    "attribute[surface]": st.just("wall"),
    "lat": st.just("39.0051"),
    "long": st.just("-94.5949"),
}
post_params = st.one_of(
    st.fixed_dictionaries({}, optional=POST_FIELDS),
    # A valid request with arbitrary optional fields added, so validation past the key, service and
    # place runs too, and some of these are accepted.
    st.fixed_dictionaries(
        VALID_CORE, optional={key: value for key, value in POST_FIELDS.items() if key not in VALID_CORE}
    ),
)
extra_params = st.dictionaries(st.text(max_size=20).filter(lambda k: "\x00" not in k), values, max_size=3)


def counts():
    return Issue.objects.count(), Report.objects.count(), Event.objects.count(), OutboxMessage.objects.count()


@pytest.fixture
def world():
    return seed_services()


@PROPERTY_SETTINGS
@given(data=post_params, extra=extra_params, fmt=st.sampled_from(["json", "xml"]))
def test_post_requests_never_500_and_rejections_save_nothing(client, world, data, extra, fmt):
    payload = {**extra, **data}
    if payload.get("api_key") == "VALID":
        payload["api_key"] = world["client"].key
    before = counts()
    response = client.post(f"{BASE}/requests.{fmt}", urlencode(payload, doseq=True), content_type=FORM)
    assert response.status_code in (201, 400, 403, 404), response.content[:500]
    event(f"status {response.status_code}")
    if response.status_code == 201:
        issues, reports, events, _outbox = counts()
        assert (issues, reports, events) == (before[0] + 1, before[1] + 1, before[2] + 1)
        report = Report.objects.latest("pk")
        assert report.channel == Report.Channel.OPEN311
        body = checked_xml_of(response) if fmt == "xml" else response.json()
        code = body.find("request/service_request_id").text if fmt == "xml" else body[0]["service_request_id"]
        assert code == report.issue.tracking_code
    else:
        assert counts() == before
        if fmt == "xml":
            assert checked_xml_of(response).tag == "errors"
        else:
            errors = response.json()
            assert errors and all(e["code"] == response.status_code and e["description"] for e in errors)


GET_FIELDS = {
    "service_request_id": param_values(st.one_of(any_text, st.just("CG-AAAA-BBBB,cg-2222-3333, ,"))),
    "service_code": param_values(st.one_of(codes, st.just("graffiti,streetlight"), any_text)),
    "start_date": param_values(dates),
    "end_date": param_values(dates),
    "status": param_values(st.one_of(st.sampled_from(["open", "closed", "open,closed", "OPEN", ""]), any_text)),
    "locale": any_text,
    "jurisdiction_id": any_text,
}


@pytest.fixture
def requests_world(world):
    """A few requests for the searches to find, two of them under the ids the strategies use."""
    place = world["westside"]
    IssueFactory(category=world["graffiti"], neighborhood=place, tracking_code="CG-AAAA-BBBB", address="1 Main St")
    IssueFactory(category=world["streetlight"], neighborhood=place, tracking_code="CG-2222-3333", status="resolved")
    IssueFactory(category=world["drugs"], neighborhood=place)
    IssueFactory(category=world["graffiti"], neighborhood=place, created_at=timezone.now() - timedelta(days=30))
    return world


@PROPERTY_SETTINGS
@given(
    data=st.fixed_dictionaries({}, optional=GET_FIELDS),
    extra=extra_params,
    fmt=st.sampled_from(["json", "xml"]),
)
def test_get_requests_never_500_and_answers_match_the_schema(client, requests_world, data, extra, fmt):
    before = counts()
    response = client.get(f"{BASE}/requests.{fmt}?" + urlencode({**extra, **data}, doseq=True))
    assert response.status_code in (200, 400, 404), response.content[:500]
    event(f"status {response.status_code}")
    assert counts() == before
    if fmt == "xml":
        root = checked_xml_of(response)
        assert root.tag == ("service_requests" if response.status_code == 200 else "errors")
    elif response.status_code == 200:
        body = json.loads(response.content)
        validate(body, "requests.json")
        event(f"{min(len(body), 2)}+ requests found")
    else:
        assert all(e["code"] == response.status_code for e in response.json())


@PROPERTY_SETTINGS
@given(
    segment=st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/?#"), max_size=40),
    resource=st.sampled_from(["services", "requests", "tokens"]),
    fmt=st.sampled_from(["json", "xml"]),
)
def test_any_resource_id_answers_200_or_404(client, world, segment, resource, fmt):
    from urllib.parse import quote

    response = client.get(f"{BASE}/{resource}/{quote(segment)}.{fmt}")
    assert response.status_code in (200, 404), response.content[:500]


@PROPERTY_SETTINGS
@given(
    body=st.binary(max_size=300),
    content_type=st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=latin-1",
            "multipart/form-data; boundary=b",
            "multipart/form-data",
            "application/json",
            "",
        ]
    ),
)
def test_post_arbitrary_bodies_never_500(client, world, body, content_type):
    before = counts()
    response = client.generic("POST", f"{BASE}/requests.json", body, content_type=content_type)
    assert response.status_code in (400, 403, 404), response.content[:500]
    assert all(e["code"] == response.status_code for e in response.json())
    assert counts() == before


# Values an answer may hold: any text (control characters, markup, U+2028, emoji), numbers,
# booleans and nulls, flat or nested as the services' and definitions' answers are.
answer_scalars = st.one_of(
    any_text,
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
)
answer_items = st.lists(
    st.dictionaries(
        st.sampled_from(["service_request_id", "description", "lat", "status_notes", "address"]),
        st.one_of(
            answer_scalars,
            st.lists(st.fixed_dictionaries({"key": any_text, "name": any_text}), max_size=2),
        ),
        max_size=5,
    ),
    max_size=4,
)


@pytest.mark.django_db(False)
@PROPERTY_SETTINGS
@given(items=answer_items)
def test_json_answers_carry_every_value_as_given(items):
    """The JSON answers are written by orjson (fast): read back, they are the values given, whatever text they hold."""
    from cases.open311.render import answer

    response = answer("json", items, xml_root="service_requests")
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(response.content.decode("utf-8")) == items


def test_json_answers_are_compact_utf8():
    from cases.open311.render import answer

    items = [{"description": "Ñandú — 🚧 <b>&\u2028\x01", "lat": 39.1, "ok": True, "none": None}]
    assert answer("json", items, xml_root="service_requests").content == (
        json.dumps(items, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    )


@pytest.mark.django_db(False)
@PROPERTY_SETTINGS
@given(items=st.lists(st.dictionaries(st.sampled_from(["description", "address", "lat"]), answer_scalars), max_size=4))
def test_xml_answers_are_what_elementtree_writes_for_any_text(items):
    """Whatever a value holds (markup, control characters XML cannot carry), the text writer and ElementTree agree."""
    from cases.open311.render import to_xml, to_xml_tree

    assert to_xml("service_requests", items) == to_xml_tree("service_requests", items)
