"""core.inserts.rows_insert: several new rows that point at each other, in one statement on PostgreSQL."""

from __future__ import annotations

import copy
import warnings
from datetime import UTC, datetime, timedelta

import pytest
from django.db import DataError, IntegrityError, connection, transaction
from django.db.models.signals import post_save, pre_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.translation import gettext_lazy

from cases.models import Event, Issue, OutboxMessage, Report
from core.inserts import Row, _params, _statement, rows_insert
from tests import factories
from tests.sqlite import checked_run_on_sqlite

pytestmark = pytest.mark.django_db


def _rows(*, email="resident@example.org"):
    now = timezone.now()
    category, place = factories.CategoryFactory(), factories.NeighborhoodFactory()
    issue = Issue(
        category=category,
        neighborhood=place,
        lat=39.0997,
        lng=-94.5786,
        description="Tires dumped",
        created_at=now,
        due_at=now + timedelta(hours=72),
        report_count=1,
    )
    report = Report(issue=issue, text="Tires dumped", reporter_email=email, contact_consent=True, created_at=now)
    event = Event(issue=issue, kind=Event.Kind.CREATED, is_public=True, data={"channel": "web"}, created_at=now)
    outbox = OutboxMessage(
        channel=OutboxMessage.Channel.EMAIL,
        recipient_email=email,
        issue=issue,
        subject="We received your report",
        body="Thank you.",
        next_attempt_at=now,
        created_at=now,
    )
    return issue, report, event, outbox


def _insert(issue, report, event, outbox):
    rows_insert(
        Row(issue),
        Row(report, refs={"issue_id": 0}),
        Row(event, refs={"issue_id": 0}, json_refs={"data": {"report_id": 1}}),
        Row(outbox, refs={"issue_id": 0}),
    )


def test_rows_are_written_in_one_statement_and_read_back_as_saved():
    issue, report, event, outbox = _rows()
    with CaptureQueriesContext(connection) as queries:
        _insert(issue, report, event, outbox)
    # The rows in one statement; then the rollups' change log, which a new issue's save signal
    # writes (issue_submit puts that row into its statement too: tests/insights/test_rollups.py).
    assert len(queries) == 2 and queries[0]["sql"].startswith("WITH ")
    assert queries[1]["sql"].startswith('INSERT INTO "cases_changedday"')
    assert issue.pk and report.pk and event.pk and outbox.pk
    assert not any(obj._state.adding for obj in (issue, report, event, outbox))
    # The references point at the new issue, and the cached instance is still the one given.
    assert report.issue_id == event.issue_id == outbox.issue_id == issue.pk
    with CaptureQueriesContext(connection) as queries:
        assert report.issue is issue
    assert len(queries) == 0
    assert event.data == {"channel": "web", "report_id": report.pk}

    stored = Issue.objects.get(pk=issue.pk)
    assert stored.tracking_code == issue.tracking_code and stored.updated_at is not None  # default and auto_now
    assert Report.objects.get(pk=report.pk).reporter_email == "resident@example.org"
    assert Event.objects.get(pk=event.pk).data == {"channel": "web", "report_id": report.pk}
    assert OutboxMessage.objects.get(pk=outbox.pk).issue_id == issue.pk


def test_rows_hold_what_save_would_have_written():
    by_save, by_rows = _rows(), _rows()
    saved_issue, saved_report, saved_event, saved_outbox = by_save
    saved_issue.save()
    saved_report.issue = saved_issue
    saved_report.save()
    saved_event.issue = saved_issue
    saved_event.data = {**saved_event.data, "report_id": saved_report.pk}
    saved_event.save()
    saved_outbox.issue = saved_issue
    saved_outbox.save()
    _insert(*by_rows)
    # What differs by construction: ids, the random code, each set's own place, category and clock.
    skip = {"id", "tracking_code", "issue", "category", "neighborhood", "created_at", "updated_at", "due_at"}
    skip |= {"next_attempt_at"}
    for saved, inserted in zip(by_save, by_rows, strict=True):
        model = type(saved)
        fields = [f.attname for f in model._meta.concrete_fields if f.name not in skip and f.attname not in skip]
        stored = model.objects.filter(pk=saved.pk).values(*fields).get()
        written = model.objects.filter(pk=inserted.pk).values(*fields).get()
        if model is Event:
            stored.pop("data"), written.pop("data")
        assert written == stored, model.__name__


def _rows_of(issue, report, event, outbox):
    return (
        Row(issue),
        Row(report, refs={"issue_id": 0}),
        Row(event, refs={"issue_id": 0}, json_refs={"data": {"report_id": 1}}),
        Row(outbox, refs={"issue_id": 0}),
    )


def _sent(value):
    return type(value), getattr(value, "adapted", value)  # a JSON value: the adapter's object


class _Code(str):
    """A str of another class, as a TextChoices member is."""


@pytest.mark.parametrize("odd", [False, True])
def test_each_value_is_what_the_fields_own_steps_give(odd, time_machine):
    """The values sent are those of each field's pre_save and get_db_prep_save, taken as they are
    only where those steps would hand them back unchanged."""
    time_machine.move_to(datetime(2026, 3, 5, 14, 30, tzinfo=UTC), tick=False)
    issue, report, event, outbox = _rows()
    if odd:  # what a resident's report never holds but a caller might: each goes through its field's steps
        issue.report_count = True  # a bool in an integer field: 1
        issue.reopen_count = "2"  # a digit string: 2
        issue.lat, issue.lng = 39, "-94.5"  # an int and a string in float fields
        issue.address = gettext_lazy("Main St")  # a lazy translation: its text
        issue.description = _Code("Tires dumped")
        issue.due_at = datetime(2026, 3, 9, 9, 0)  # naive: made aware, with Django's warning
        outbox.sent_at = "2026-03-05 10:00:00+00:00"  # a string: parsed
        report.contact_consent = "t"
    rows = _rows_of(issue, report, event, outbox)
    mirror = _rows_of(*copy.deepcopy([issue, report, event, outbox]))
    _, plans = _statement(rows, connection)
    with warnings.catch_warnings(record=True) as heard:
        warnings.simplefilter("always")
        sent = _params(rows, plans, connection)
        by_steps = [
            f.get_db_prep_save(f.pre_save(row.obj, add=True), connection)
            for row, plan in zip(mirror, plans, strict=True)
            for f, _ in plan
        ]
    assert [_sent(v) for v in sent] == [_sent(v) for v in by_steps]
    assert len(heard) == (2 if odd else 0)  # the naive date warned of once each way
    if odd:
        assert 1 in sent and 2 in sent and -94.5 in sent and "Main St" in sent


def test_signals_are_sent_as_save_sends_them():
    heard = []

    def listen(signal):
        def receiver(sender, instance, **kwargs):
            heard.append((signal, sender.__name__, instance.pk, kwargs.get("created"), kwargs["raw"]))

        return receiver

    before, after = listen("pre"), listen("post")
    pre_save.connect(before, weak=False)
    post_save.connect(after, weak=False)
    try:
        issue, report, event, outbox = _rows()
        _insert(issue, report, event, outbox)
    finally:
        pre_save.disconnect(before)
        post_save.disconnect(after)
    pre = [h for h in heard if h[0] == "pre" and h[1] in {"Issue", "Report", "Event", "OutboxMessage"}]
    post = [h for h in heard if h[0] == "post" and h[1] in {"Issue", "Report", "Event", "OutboxMessage"}]
    assert [h[1] for h in pre] == ["Issue", "Report", "Event", "OutboxMessage"]
    assert all(h[2] is None for h in pre), "pre_save comes before the row exists"
    assert [(h[1], h[2], h[3], h[4]) for h in post] == [
        ("Issue", issue.pk, True, False),
        ("Report", report.pk, True, False),
        ("Event", event.pk, True, False),
        ("OutboxMessage", outbox.pk, True, False),
    ]


def test_all_rows_or_none():
    issue, report, event, outbox = _rows()
    event.kind = "x" * 50  # longer than the column: the third step fails
    before = (Issue.objects.count(), Report.objects.count(), Event.objects.count())
    with pytest.raises(DataError), transaction.atomic():
        _insert(issue, report, event, outbox)
    assert (Issue.objects.count(), Report.objects.count(), Event.objects.count()) == before


def test_a_broken_reference_is_refused_by_the_database():
    issue, report, event, outbox = _rows()
    issue.neighborhood_id = 987654321  # no such neighborhood
    with pytest.raises(IntegrityError), transaction.atomic():
        _insert(issue, report, event, outbox)
        connection.check_constraints()  # the deferred foreign keys, as at commit
    assert not Report.objects.filter(text="Tires dumped").exists()


def test_misuse_is_refused_before_anything_is_written():
    issue, report, event, outbox = _rows()
    with pytest.raises(ValueError, match="unsaved row"):
        rows_insert(Row(issue), Row(report))  # the report's issue is new but not named in refs
    with pytest.raises(ValueError, match="only at rows before it"):
        rows_insert(Row(report, refs={"issue_id": 1}), Row(issue))
    issue.save()
    with pytest.raises(ValueError, match="new rows only"):
        rows_insert(Row(issue))
    assert not Report.objects.exists()


def test_on_sqlite_the_rows_are_saved_in_order(tmp_path):
    scenario = """
import json, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.db import connection
from django.test.utils import CaptureQueriesContext
from tests.core.test_inserts import _insert, _rows
issue, report, event, outbox = _rows()
with CaptureQueriesContext(connection) as queries:
    _insert(issue, report, event, outbox)
from cases.models import Event, OutboxMessage, Report
stored = Event.objects.get(pk=event.pk)
print(json.dumps({
    "vendor": connection.vendor,
    "inserts": [q["sql"].split('"')[1] for q in queries.captured_queries if q["sql"].startswith("INSERT")],
    "report_issue": Report.objects.get(pk=report.pk).issue_id == issue.pk,
    "event_data": stored.data == {"channel": "web", "report_id": report.pk},
    "outbox_issue": OutboxMessage.objects.get(pk=outbox.pk).issue_id == issue.pk,
    "cached": report.issue is issue,
}))
"""
    result = checked_run_on_sqlite(scenario, tmp_path)
    assert result == {
        "vendor": "sqlite",
        # One per row, in order (the issue's save signal adds the rollups' change log row after it).
        "inserts": ["cases_issue", "cases_changedday", "cases_report", "cases_event", "cases_outboxmessage"],
        "report_issue": True,
        "event_data": True,
        "outbox_issue": True,
        "cached": True,
    }
