"""Open311 list answers kept under the database snapshot (cases.open311.views._kept), on
PostgreSQL and Redis, with committed data: a kept answer is shared only while nothing has
been written, and one request builds it while the others asking the same wait."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.core.cache import cache
from django.db import connection, connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cases import services
from cases.open311 import selectors
from core.dialect import Dialect
from tests.cases.open311.test_open311_support import BASE, seed_services
from tests.factories import IssueFactory, officer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world():
    world = seed_services()
    world["issues"] = [
        IssueFactory(category=world["graffiti"], neighborhood=world["westside"], public_description=f"Tags {i}")
        for i in range(3)
    ]
    return world


@pytest.fixture
def builds(monkeypatch):
    """How many times the requests were read from the database (the real read, counted)."""
    calls = []
    real = selectors.requests_matching

    def counted(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(selectors, "requests_matching", counted)
    return calls


@pytest.fixture
def snapshots(monkeypatch):
    """The snapshot each answer was looked up under. Snapshots are the server's: a write in another
    database on it (a parallel test worker's) moves them too, and each new one is rightly built
    afresh; the tests below repeat their requests until they all fell in one snapshot."""
    seen = []
    real = Dialect.snapshot

    def recorded(self):
        seen.append(real(self))
        return seen[-1]

    monkeypatch.setattr(Dialect, "snapshot", recorded)
    return seen


def in_one_snapshot(ask, snapshots, builds, tries=20):
    """``ask()``'s answers from a run whose requests all saw one snapshot (and its builds)."""
    for _ in range(tries):
        snapshots.clear()
        builds.clear()
        answers = ask()
        if len(set(snapshots)) == 1:
            return answers
    pytest.fail(f"the snapshot moved during each of {tries} runs")


def test_the_same_search_with_nothing_written_between_is_answered_from_the_kept_copy(world, builds, snapshots):
    client = Client()

    def ask():
        cache.clear()
        first = client.get(f"{BASE}/requests.json")
        with CaptureQueriesContext(connection) as queries:
            second = client.get(f"{BASE}/requests.json")
        return first, second, queries

    first, second, queries = in_one_snapshot(ask, snapshots, builds)
    assert second.status_code == 200 and second["Content-Type"] == first["Content-Type"]
    assert second.content == first.content
    assert len(builds) == 1
    assert [query["sql"] for query in queries] == [
        "SELECT CASE WHEN txid_current_if_assigned() IS NULL THEN pg_current_snapshot()::text END"
    ]
    assert {item["description"] for item in second.json()} == {"Tags 0", "Tags 1", "Tags 2"}


def test_any_committed_change_is_in_the_next_answer(world, builds):
    client = Client()
    issue = world["issues"][0]
    assert {item["status"] for item in client.get(f"{BASE}/requests.json").json()} == {"open"}
    services.issue_resolve(issue=issue, actor=officer(neighborhoods=[world["westside"]]), note="Painted over")
    after = {item["service_request_id"]: item for item in client.get(f"{BASE}/requests.json").json()}
    assert after[issue.tracking_code]["status"] == "closed"
    assert after[issue.tracking_code]["status_notes"] == "Painted over"
    IssueFactory(category=world["graffiti"], neighborhood=world["westside"], public_description="New tags")
    assert "New tags" in {item["description"] for item in client.get(f"{BASE}/requests.json").json()}
    assert len(builds) == 3


def test_format_language_and_search_each_have_their_own_answer(world, builds, snapshots):
    client = Client()

    def ask():
        cache.clear()
        return (
            client.get(f"{BASE}/requests.json"),
            client.get(f"{BASE}/requests.xml"),
            client.get(f"{BASE}/requests.json").json(),
            client.get(f"{BASE}/requests.json", {"locale": "es"}).json(),
            client.get(f"{BASE}/requests.json", {"status": "closed"}).json(),
            client.get(f"{BASE}/requests.json", {"page_size": "2"}).json(),
        )

    json_answer, xml_answer, english, spanish, closed, two = in_one_snapshot(ask, snapshots, builds)
    assert xml_answer["Content-Type"].startswith("text/xml") and xml_answer.content.startswith(b"<?xml")
    assert {item["service_name"] for item in english} == {"Graffiti"}
    assert {item["service_name"] for item in spanish} == {"Grafiti"}
    assert closed == [] and len(two) == 2
    assert json_answer.json() == english
    # json, xml, es, status=closed, page_size=2; the second English JSON was the kept one.
    assert len(builds) == 5


def test_a_transaction_that_has_written_reads_afresh():
    dialect = Dialect()
    assert dialect.snapshot()  # nothing written yet: a snapshot to keep answers under
    with transaction.atomic():
        IssueFactory()
        assert dialect.snapshot() is None  # its own change is visible to it alone


def test_many_clients_asking_the_same_new_search_wait_for_one_read(world, builds, snapshots):
    def ask_together():
        answers, barrier = [], threading.Barrier(8)
        # A search not asked before in each run, retries included: no answer is kept for it yet.
        search = {"status": "open", "run": uuid.uuid4().hex}

        def ask():
            try:
                barrier.wait()
                answers.append(Client().get(f"{BASE}/requests.xml", search).content)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=ask) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return answers

    answers = in_one_snapshot(ask_together, snapshots, builds)
    assert len(answers) == 8 and len(set(answers)) == 1 and b"Tags 0" in answers[0]
    assert len(builds) == 1
