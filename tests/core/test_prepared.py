"""core.prepared: a statement prepared once per database session, outside transactions only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection, transaction
from django.db.models import Case, Value, When
from django.test.utils import CaptureQueriesContext

from cases.models import Event, Issue, Report
from core import prepared
from tests import factories
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
        # The rows' statement; after it only the rollups' change log row the issue's save signal
        # writes, in a transaction of its own (this test commits).
        statements = [q["sql"] for q in queries.captured_queries]
        rows_statement = statements.index(next(s for s in statements if s.startswith("EXECUTE cg_")))
        assert [s.split(" ")[0] for s in statements[rows_statement + 1 :]] in ([], ["BEGIN", "INSERT", "COMMIT"])
        assert all('"cases_changedday"' in s for s in statements[rows_statement + 1 :] if s.startswith("INSERT"))
        assert Report.objects.get(pk=report.pk).issue_id == issue.pk
        assert Event.objects.get(pk=event.pk).data == {"channel": "web", "report_id": report.pk}


@pytest.mark.django_db(transaction=True)
def test_values_keep_the_type_they_have_as_text():
    """Where nothing in the statement types a value (a CASE's result, a bare select), a prepared
    parameter would be text: ``true`` came back as the string 'true', which Python finds true."""
    sql = "SELECT CASE WHEN %s > 0 THEN %s ELSE %s END, %s, %s, %s"
    moment = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    for values in ((1, False, True, 7, moment, [3, 5]), (0, True, False, 2**40, None, ["a"])):
        with connection.cursor() as cursor:
            cursor.execute(sql, values)
            as_text = cursor.fetchone()
            prepared.execute(cursor, sql, values)
            as_prepared = cursor.fetchone()
        assert as_prepared == as_text
        assert type(as_prepared[0]) is bool and as_prepared[0] is values[2 if values[0] <= 0 else 1]
    # The same text with other types (a NULL, then a timestamp) is a statement of its own.
    with CaptureQueriesContext(connection) as queries, connection.cursor() as cursor:
        prepared.execute(cursor, "SELECT %s", [None])
        prepared.execute(cursor, "SELECT %s", [moment])
        assert cursor.fetchone()[0] == moment
    names = {q["sql"].split()[1].split("(")[0] for q in queries.captured_queries if q["sql"].startswith("PREPARE")}
    assert len(names) == 2


@pytest.mark.django_db(transaction=True)
def test_rows_prepares_the_querysets_own_statement_and_reads_the_same_rows():
    issues = [factories.IssueFactory(priority=priority) for priority in ("urgent", "low", "urgent")]
    ids = [issue.pk for issue in issues]
    queryset = (
        Issue.objects.filter(pk__in_array=ids)
        .annotate(flag=Value(True), late=Case(When(priority="urgent", then=Value(True)), default=Value(False)))
        .select_related("category")
        .prefetch_related("reports")
        .order_by("id")
    )
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            rows = prepared.rows(queryset.all())
        assert len(queries.captured_queries) == 2  # the rows, then their reports
        assert [(r.pk, r.flag, r.late, r.category.name_en) for r in rows] == [
            (r.pk, r.flag, r.late, r.category.name_en) for r in queryset.all()
        ]
        assert [type(r.late) for r in rows] == [bool] * 3 and [r.late for r in rows] == [True, False, True]
    # The session holds the rows' statement, and only it: the prefetch was sent as text.
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE from_sql")
        statements = [row[0] for row in cursor.fetchall()]
    assert len(statements) == 1 and '"cases_issue"."id" = ANY($' in statements[0]
    assert prepared.rows(queryset.filter(pk__in_array=[])) == []
