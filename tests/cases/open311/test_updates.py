"""mySociety's Open311 extension: GET servicerequestupdates.{json,xml}, the public timeline as updates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from cases import services
from tests.cases.open311.test_open311_support import BASE, checked_xml_of, child_tags, seed_services
from tests.factories import CategoryFactory, IssueFactory, officer

pytestmark = pytest.mark.django_db

DAY = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 09:00 in Kansas City (CST, -06:00)
UPDATE_KEYS = ["update_id", "service_request_id", "status", "updated_datetime", "description"]


@pytest.fixture
def world():
    return seed_services()


def lived(world, *, category=None):
    """An issue through its life, one step an hour from DAY; returns it."""
    actor = officer(neighborhoods=[world["westside"]])
    with time_machine.travel(DAY - timedelta(hours=1), tick=False):
        issue = IssueFactory(category=category or world["graffiti"], neighborhood=world["westside"])
    steps = [
        lambda: services.issue_acknowledge(issue=issue, actor=actor),
        lambda: services.issue_add_note(issue=issue, actor=actor, text="Crew booked for Tuesday", public=True),
        lambda: services.issue_add_note(issue=issue, actor=actor, text="Owner is a pain, internal", public=False),
        lambda: services.issue_resolve(issue=issue, actor=actor, note="Painted over"),
        lambda: services.issue_add_note(
            issue=issue, actor=actor, text="Call ana.secret@example.org or 816-555-0142", public=True
        ),
        lambda: services.issue_reopen(issue=issue, actor=actor, reason="Tags are back"),
    ]
    for hour, step in enumerate(steps):
        with time_machine.travel(DAY + timedelta(hours=hour), tick=False):
            step()
    return issue


def updates(client, fmt="json", **query):
    query = {"start_date": "2026-03-01", "end_date": "2026-03-05", **query}
    return client.get(f"{BASE}/servicerequestupdates.{fmt}", query)


def test_each_public_entry_is_an_update_with_the_status_it_left_the_request_in(client, world):
    issue = lived(world)
    response = updates(client)
    assert response.status_code == 200
    body = response.json()
    assert [list(item) for item in body] == [UPDATE_KEYS] * 5  # the internal note is not there
    assert {item["service_request_id"] for item in body} == {issue.tracking_code}
    assert [item["status"] for item in body] == ["open", "open", "closed", "closed", "open"]
    assert [item["updated_datetime"] for item in body] == [
        "2026-03-02T09:00:00-06:00",
        "2026-03-02T10:00:00-06:00",
        "2026-03-02T12:00:00-06:00",
        "2026-03-02T13:00:00-06:00",
        "2026-03-02T14:00:00-06:00",
    ]
    descriptions = [item["description"] for item in body]
    assert descriptions[0] == "Acknowledged"  # no words of its own: what happened
    assert descriptions[1] == "Crew booked for Tuesday"
    assert "Painted over" in descriptions[2]
    assert "ana.secret" not in response.content.decode() and "555-0142" not in response.content.decode()
    assert "Owner is a pain" not in response.content.decode()
    assert len({item["update_id"] for item in body}) == 5


def test_spanish_and_xml(client, world):
    lived(world)
    spanish = updates(client, locale="es").json()
    assert spanish[0]["description"] == "Recibido"  # the status page's word for it
    root = checked_xml_of(updates(client, "xml"))
    assert root.tag == "service_request_updates"
    assert child_tags(root) == ["request_update"] * 5
    assert child_tags(root[0]) == UPDATE_KEYS
    assert [element.findtext("status") for element in root] == ["open", "open", "closed", "closed", "open"]


def test_sensitive_categories_have_no_updates(client, world):
    lived(world, category=CategoryFactory(service_code="welfare", is_public=False))
    assert updates(client).json() == []


def test_the_window_and_the_paging(client, world):
    lived(world)
    assert (
        updates(client, start_date="2026-03-02T10:30:00-06:00", end_date="2026-03-02T13:00:00-06:00").json()[0][
            "updated_datetime"
        ]
        == "2026-03-02T12:00:00-06:00"
    )
    assert updates(client, start_date="2026-03-03", end_date="2026-03-05").json() == []
    first = updates(client, page_size="2").json()
    second = updates(client, page_size="2", page="2").json()
    third = updates(client, page_size="2", page="3").json()
    assert [len(first), len(second), len(third)] == [2, 2, 1]
    assert [item["update_id"] for item in first + second + third] == [
        item["update_id"] for item in updates(client).json()
    ]


@pytest.mark.parametrize(
    "query, needle",
    [
        ({"start_date": "yesterday"}, "start_date must be a W3C datetime"),
        ({"start_date": "2026-03-05", "end_date": "2026-03-01"}, "start_date must be before end_date"),
        ({"start_date": "2025-01-01", "end_date": "2026-03-01"}, "90 days"),
        ({"page_size": "0"}, "page_size"),
        ({"page": "-1"}, "page"),
        ({"page": "11", "page_size": "1000"}, "reach no further"),
    ],
)
def test_bad_parameters_are_400_in_the_spec_shape(client, world, query, needle):
    for fmt in ("json", "xml"):
        response = updates(client, fmt, **query)
        assert response.status_code == 400
        assert needle in response.content.decode()


def test_a_fixed_number_of_queries_whatever_the_timeline(client, world, django_assert_max_num_queries):
    lived(world)
    with django_assert_max_num_queries(2):  # the snapshot (views._kept), the updates
        assert len(updates(client).json()) == 5
    for _ in range(3):
        lived(world)
    with django_assert_max_num_queries(2):
        assert len(updates(client).json()) == 20
