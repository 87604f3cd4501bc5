"""core.prepared: a statement prepared once per database session, outside transactions only."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from cases.models import Event, Report
from core import prepared
from tests.core.test_inserts import _insert, _rows

SQL = "SELECT %s::int + %s::int"


def _run(*params):
    with connection.cursor() as cursor:
        prepared.execute(cursor, SQL, params)
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_prepared_once_per_session_then_executed():
    with CaptureQueriesContext(connection) as queries:
        assert _run(1, 2) == 3
        assert _run(40, 2) == 42
    sent = [q["sql"] for q in queries.captured_queries]
    assert sent[0].startswith("PREPARE cg_") and "$1::int + $2::int" in sent[0]
    name = sent[0].split()[1]
    assert [statement.split("(")[0] for statement in sent[1:]] == [f"EXECUTE {name}"] * 2
    connection.close()  # a new session knows nothing: prepared again
    with CaptureQueriesContext(connection) as queries:
        assert _run(2, 2) == 4
    assert queries.captured_queries[0]["sql"].startswith("PREPARE ")


@pytest.mark.django_db(transaction=True)
def test_a_statement_the_session_lost_is_prepared_again():
    assert _run(1, 1) == 2
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # what a pooler's DISCARD ALL does
    assert _run(5, 5) == 10


@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_the_statement_is_sent_as_text():
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        assert _run(3, 4) == 7
    assert [q["sql"] for q in queries.captured_queries] == ["SELECT 3::int + 4::int"]


@pytest.mark.django_db(transaction=True)
def test_a_report_written_through_the_prepared_statement_reads_back_whole():
    for _ in range(2):  # the second one runs the statement the first prepared
        issue, report, event, outbox = _rows()
        with CaptureQueriesContext(connection) as queries:
            _insert(issue, report, event, outbox)
        assert queries.captured_queries[-1]["sql"].startswith("EXECUTE cg_")
        assert Report.objects.get(pk=report.pk).issue_id == issue.pk
        assert Event.objects.get(pk=event.pk).data == {"channel": "web", "report_id": report.pk}
