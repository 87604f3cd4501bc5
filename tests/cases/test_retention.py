"""Contact retention: residents' details are erased CONTACT_RETENTION_DAYS after their issue is finished.

Time is frozen with time-machine; the database is the real PostgreSQL of the suite.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection

from cases.models import Event, Issue, OutboxMessage, Report
from cases.notifications.drain import outbox_drain
from cases.services import issue_mark_duplicate, issue_reopen, issue_resolve, issue_submit
from cases.services.retention import ERASED_ADDRESS, contact_details_due, contact_details_erase
from tests.cases.test_worker import worker  # noqa: F401 (fixture)
from tests.cases.web.public.public_helpers import CENTER_LAT, CENTER_LNG
from tests.factories import officer

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
NAME, EMAIL, PHONE = "Rosalind Quetzal", "rosalind.q@example.org", "816-555-0142"
DAY = timedelta(days=1)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(T0, tick=False)

    def at(moment):
        time_machine.move_to(moment, tick=False)
        return moment

    return at


@pytest.fixture
def cop(place):
    return officer(neighborhoods=[place], username="officer_vance")


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def submit(cat, *, name=NAME, email=EMAIL, phone=PHONE, join=None, text="Tags on the laundromat wall"):
    return issue_submit(
        category=cat,
        text=text,
        lat=CENTER_LAT + 0.0003,
        lng=CENTER_LNG + 0.0004,
        reporter_name=name,
        reporter_email=email,
        reporter_phone=phone,
        contact_consent=True,
        join_issue=join,
    )


@pytest.fixture
def finished(clock, cat, place, cop):
    """An issue reported (receipt sent) and resolved at T0, with a second reporter's 'me too'."""
    report = submit(cat)
    submit(cat, name="Bo Ng", email="bo.ng@example.net", phone="", join=report.issue)
    outbox_drain(now=T0)
    assert OutboxMessage.objects.filter(state=OutboxMessage.State.SENT, recipient_email=EMAIL).count() == 1
    issue = issue_resolve(issue=report.issue, actor=cop, note="Painted over")
    outbox_drain(now=T0)  # the "resolved" update to each reporter, sent too
    return issue


def contact_rows(issue):
    return list(issue.reports.order_by("pk").values_list("reporter_name", "reporter_email", "reporter_phone"))


def assert_no_trace(*values):
    """The erased values appear nowhere in the events or the outbox, in any column."""
    with connection.cursor() as cursor:
        for table in (Event._meta.db_table, OutboxMessage._meta.db_table, Report._meta.db_table):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 (our own table names)
            dump = json.dumps(cursor.fetchall(), default=str)
            for value in values:
                assert value not in dump, (table, value)


def test_erased_after_90_days_not_at_89(finished, clock):
    clock(T0 + 89 * DAY)
    assert contact_details_erase() == 0
    assert contact_rows(finished) == [(NAME, EMAIL, PHONE), ("Bo Ng", "bo.ng@example.net", "")]
    assert not Event.objects.filter(kind=Event.Kind.CONTACT_ERASED).exists()

    clock(T0 + 90 * DAY - timedelta(seconds=1))
    assert contact_details_erase() == 0

    moment = clock(T0 + 90 * DAY + timedelta(seconds=1))
    assert contact_details_erase() == 1
    assert contact_rows(finished) == [("", "", ""), ("", "", "")]
    for report in finished.reports.all():
        assert report.contact_erased_at == moment and not report.contact_consent and not report.has_contact
    [event] = Event.objects.filter(kind=Event.Kind.CONTACT_ERASED)
    assert event.issue_id == finished.pk and event.actor is None and not event.is_public
    # Two receipts, and the "resolved" update each reporter (who agreed to be contacted) got.
    assert event.data == {"reports": 2, "fields": ["name", "email", "phone"], "messages": 4}
    assert event.created_at == moment and event.message == ""
    # The receipts and updates keep their existence, not their addresses.
    receipts = OutboxMessage.objects.filter(issue=finished)
    assert receipts.count() == 4
    assert set(receipts.values_list("recipient_email", flat=True)) == {ERASED_ADDRESS}
    assert all(state == OutboxMessage.State.SENT for state in receipts.values_list("state", flat=True))
    assert_no_trace(NAME, EMAIL, PHONE, "Bo Ng", "bo.ng@example.net")


def test_open_issues_and_other_issues_are_untouched(finished, clock, cat, cop):
    still_open = submit(cat, name="Open Owner", email="open@example.org", phone="816-555-0001").issue
    recent = submit(cat, name="Recent Owner", email="recent@example.org", phone="")
    clock(T0 + 60 * DAY)
    issue_resolve(issue=recent.issue, actor=cop, note="Done")
    clock(T0 + 91 * DAY)
    assert contact_details_erase() == 1
    assert contact_rows(still_open) == [("Open Owner", "open@example.org", "816-555-0001")]
    assert contact_rows(recent.issue) == [("Recent Owner", "recent@example.org", "")]
    assert OutboxMessage.objects.filter(issue=still_open, recipient_email="open@example.org").count() == 1
    # Its receipt and the "resolved" update.
    assert OutboxMessage.objects.filter(issue=recent.issue, recipient_email="recent@example.org").count() == 2
    clock(T0 + 151 * DAY)
    assert contact_details_erase() == 1  # the recent one, 90 days after its own finish
    assert contact_rows(recent.issue) == [("", "", "")]
    assert contact_rows(still_open) == [("Open Owner", "open@example.org", "816-555-0001")]


def test_reopened_before_the_deadline_keeps_them(finished, clock, cop):
    clock(T0 + 80 * DAY)
    issue_reopen(issue=finished, actor=cop, reason="Tags are back")
    clock(T0 + 200 * DAY)
    assert contact_details_erase() == 0
    assert contact_rows(finished)[0] == (NAME, EMAIL, PHONE)
    # Finished again: the clock starts from the new finish.
    finished.refresh_from_db()
    resolved_again = clock(T0 + 201 * DAY)
    issue_resolve(issue=finished, actor=cop, note="Painted over again")
    clock(resolved_again + 89 * DAY)
    assert contact_details_erase() == 0
    clock(resolved_again + 91 * DAY)
    assert contact_details_erase() == 1
    assert contact_rows(finished)[0] == ("", "", "")


def test_idempotent_a_second_run_erases_and_records_nothing(finished, clock):
    clock(T0 + 100 * DAY)
    assert contact_details_erase() == 1
    events, outbox = Event.objects.count(), list(OutboxMessage.objects.values().order_by("pk"))
    reports = list(Report.objects.values().order_by("pk"))
    clock(T0 + 101 * DAY)
    assert contact_details_erase() == 0
    assert Event.objects.count() == events
    assert list(OutboxMessage.objects.values().order_by("pk")) == outbox
    assert list(Report.objects.values().order_by("pk")) == reports  # contact_erased_at unchanged too


def test_batches_cover_every_due_issue_and_report_progress(clock, cat, cop):
    issues = []
    for i in range(5):
        report = submit(cat, name=f"Person {i}", email=f"p{i}@example.org", phone="")
        issues.append(issue_resolve(issue=report.issue, actor=cop, note="Done"))
    clock(T0 + 95 * DAY)
    seen = []
    assert contact_details_erase(batch_size=2, progress=seen.append) == 5
    assert [batch.issues for batch in seen] == [2, 2, 1]
    assert sum(batch.reports for batch in seen) == 5
    assert Event.objects.filter(kind=Event.Kind.CONTACT_ERASED).count() == 5
    assert not Report.objects.exclude(reporter_email="").exists()


def test_a_pending_message_to_the_resident_is_cancelled_not_sent(clock, cat, cop):
    report = submit(cat)  # its receipt is never drained (mail down for the whole period)
    issue_resolve(issue=report.issue, actor=cop, note="Done")
    clock(T0 + 91 * DAY)
    contact_details_erase()
    # Its receipt and its "resolved" update, neither ever sent.
    messages = OutboxMessage.objects.filter(issue=report.issue)
    assert messages.count() == 2
    for message in messages:
        assert message.state == OutboxMessage.State.FAILED
        assert message.recipient_email == ERASED_ADDRESS and "retention" in message.last_error
    from django.core import mail

    outbox_drain()
    assert mail.outbox == []


def test_staff_messages_are_left_alone(finished, clock, cop):
    staff = OutboxMessage.objects.create(
        channel=OutboxMessage.Channel.EMAIL,
        recipient=cop,
        recipient_email="vance@police.example.org",
        subject="Issue assigned",
        body="…",
        issue=finished,
        next_attempt_at=T0,
        created_at=T0,
    )
    clock(T0 + 91 * DAY)
    contact_details_erase()
    staff.refresh_from_db()
    assert staff.recipient_email == "vance@police.example.org"


def test_the_receipt_of_a_merged_duplicate_is_erased_with_the_issue_its_report_moved_to(clock, cat, cop):
    first = submit(cat, name="Ann First", email="ann@example.org", phone="")
    second = submit(cat, name="Dup Reporter", email="dup@example.org", phone="816-555-0002", text="Same tags")
    issue_mark_duplicate(issue=second.issue, of=first.issue, actor=cop)
    issue_resolve(issue=first.issue, actor=cop, note="Done")
    clock(T0 + 91 * DAY)
    assert contact_details_erase() == 1
    # The duplicate's receipt and its "merged" update.
    assert list(OutboxMessage.objects.filter(issue=second.issue).values_list("recipient_email", flat=True)) == [
        ERASED_ADDRESS,
        ERASED_ADDRESS,
    ]
    dup_event = Event.objects.get(kind=Event.Kind.CONTACT_ERASED, issue=second.issue)
    assert dup_event.data == {"reports": 0, "fields": [], "messages": 2}
    assert Event.objects.get(kind=Event.Kind.CONTACT_ERASED, issue=first.issue).data["reports"] == 2
    assert_no_trace("Dup Reporter", "dup@example.org", "816-555-0002", "ann@example.org")


def test_setting_changes_the_cutoff(finished, clock, settings):
    settings.CONTACT_RETENTION_DAYS = 30
    clock(T0 + 29 * DAY)
    assert contact_details_erase() == 0
    clock(T0 + 31 * DAY)
    assert contact_details_erase() == 1


@pytest.mark.parametrize("value", ["0", "-5", "ninety", "1.5"])
def test_a_bad_setting_stops_start_up_with_a_clear_message(value):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "CONTACT_RETENTION_DAYS": value,
            "VAR_DIR": str(django_settings.VAR_DIR),
        },
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "CONTACT_RETENTION_DAYS must be a whole number of days, 1 or more" in result.stderr
    assert repr(value) in result.stderr


def test_status_page_and_tracking_code_work_after_erasure(finished, clock, client):
    clock(T0 + 91 * DAY)
    contact_details_erase()
    response = client.get(f"/report/{finished.tracking_code}/")
    assert response.status_code == 200
    assert finished.tracking_code in response.content.decode()
    lookup = client.get("/report/", {"code": finished.tracking_code.lower()})
    assert lookup.status_code in (200, 302)


def test_staff_page_says_the_details_were_erased_and_offers_no_reveal(finished, clock, client, cop):
    clock(T0 + 91 * DAY)
    contact_details_erase()
    client.force_login(cop)
    html = client.get(f"/issues/{finished.pk}/").content.decode()
    assert "Contact details erased on Jun 1, 2026 (retention policy)" in html
    assert "Show contact details" not in html and "reveal-contacts" not in html
    assert "Contact details erased from 2 reports under the retention policy." in html
    for value in (NAME, EMAIL, PHONE):
        assert value not in html
    # Erased is not "never given".
    assert "No contact details given" not in html


def test_staff_page_offers_the_reveal_before_the_deadline(finished, clock, client, cop):
    clock(T0 + 89 * DAY)
    contact_details_erase()
    client.force_login(cop)
    html = client.get(f"/issues/{finished.pk}/").content.decode()
    assert "Show contact details" in html and "retention policy" not in html


def test_dry_run_counts_and_changes_nothing(finished, clock):
    clock(T0 + 91 * DAY)
    assert contact_details_due()["issues"] == 1 and contact_details_due()["reports"] == 2
    out = StringIO()
    call_command("erase_contact_details", "--dry-run", stdout=out)
    assert "Would erase the contact details of 2 report(s) on 1 issue(s)" in out.getvalue()
    assert contact_rows(finished)[0] == (NAME, EMAIL, PHONE)
    assert not Event.objects.filter(kind=Event.Kind.CONTACT_ERASED).exists()


def test_the_command_prints_progress_per_batch(clock, cat, cop):
    for i in range(3):
        report = submit(cat, name=f"Person {i}", email=f"p{i}@example.org", phone="")
        issue_resolve(issue=report.issue, actor=cop, note="Done")
    clock(T0 + 91 * DAY)
    out = StringIO()
    call_command("erase_contact_details", "--batch-size", "2", stdout=out)
    text = out.getvalue()
    assert "Erasing 3 report(s) on 3 issue(s)" in text
    assert "batch 1: 2 issue(s), 2 report(s)" in text and "batch 2: 1 issue(s), 1 report(s)" in text
    assert "Done: contact details erased on 3 issue(s)" in text
    assert "@example.org" not in text and "Person" not in text


def test_the_beat_schedule_runs_the_task_daily(settings):
    from celery.schedules import crontab

    entry = django_settings.CELERY_BEAT_SCHEDULE["contact-retention"]
    assert entry["task"] == "cases.tasks.contact_details_erase_task"
    assert isinstance(entry["schedule"], crontab)
    assert entry["schedule"].hour == {3} and entry["schedule"].minute == {30}
    from cases.tasks import contact_details_erase_task

    assert contact_details_erase_task.name == entry["task"]


def test_the_task_calls_the_service(finished, clock):
    from cases.tasks import contact_details_erase_task

    clock(T0 + 91 * DAY)
    assert contact_details_erase_task.apply().get() == {"issues": 1}
    assert contact_rows(finished)[0] == ("", "", "")


@pytest.mark.django_db(transaction=True)
def test_each_batch_commits_on_its_own_and_a_rerun_continues(clock, cat, cop, monkeypatch):
    for i in range(3):
        report = submit(cat, name=f"Person {i}", email=f"p{i}@example.org", phone="")
        issue_resolve(issue=report.issue, actor=cop, note="Done")
    clock(T0 + 91 * DAY)
    real = Event.objects.bulk_create
    calls = []

    def dies_on_the_second_batch(objs, *args, **kwargs):
        calls.append(len(objs))
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return real(objs, *args, **kwargs)

    monkeypatch.setattr(Event.objects, "bulk_create", dies_on_the_second_batch)
    with pytest.raises(RuntimeError):
        contact_details_erase(batch_size=1)
    assert Report.objects.filter(contact_erased_at__isnull=False).count() == 1  # the first batch stayed
    assert Event.objects.filter(kind=Event.Kind.CONTACT_ERASED).count() == 1
    monkeypatch.setattr(Event.objects, "bulk_create", real)
    assert contact_details_erase(batch_size=1) == 2
    assert not Report.objects.exclude(reporter_email="").exists()
    assert Event.objects.filter(kind=Event.Kind.CONTACT_ERASED).count() == 3
    assert not Issue.objects.exclude(reports__contact_erased_at__isnull=False).exists()


SQLITE_SCENARIO = r"""
import json
from datetime import timedelta
import django
django.setup()
from django.core.management import call_command
from django.utils import timezone
call_command("migrate", verbosity=0)
from io import StringIO
from tests import factories as f
from cases.models import Event, OutboxMessage, Report
from cases.services.retention import contact_details_erase

now = timezone.now()
issues = []
for i, days in enumerate((100, 95, 10)):
    issue = f.IssueFactory(created_at=now - timedelta(days=120), due_at=now - timedelta(days=119),
                           status="resolved", outcome="resolved", resolved_at=now - timedelta(days=days))
    f.ReportFactory(issue=issue, reporter_name=f"P{i}", reporter_email=f"p{i}@example.org",
                    reporter_phone="816-555-0100")
    OutboxMessage.objects.create(channel="email", recipient_email=f"p{i}@example.org", subject="Receipt",
                                 body=f"Sent to p{i}@example.org", issue=issue, next_attempt_at=now, created_at=now)
    issues.append(issue)
first = contact_details_erase(batch_size=1)
second = contact_details_erase(batch_size=1)
out = StringIO()
call_command("erase_contact_details", "--dry-run", stdout=out)
print(json.dumps({
    "first": first, "second": second,
    "kept": list(Report.objects.exclude(reporter_email="").values_list("reporter_email", flat=True)),
    "events": [e.data for e in Event.objects.filter(kind="contact_erased").order_by("issue_id")],
    "bodies": sorted(OutboxMessage.objects.values_list("recipient_email", "body")),
    "dry_run": "Would erase the contact details of 0 report(s) on 0 issue(s)" in out.getvalue(),
}))
"""


def test_the_same_erasure_runs_on_sqlite(tmp_path):
    from tests.sqlite import checked_run_on_sqlite

    result = checked_run_on_sqlite(SQLITE_SCENARIO, tmp_path)
    assert (result["first"], result["second"]) == (2, 0)
    assert result["kept"] == ["p2@example.org"]
    assert result["events"] == [{"reports": 1, "fields": ["name", "email", "phone"], "messages": 1}] * 2
    assert result["bodies"] == [
        [ERASED_ADDRESS, "Sent to [erased]"],
        [ERASED_ADDRESS, "Sent to [erased]"],
        ["p2@example.org", "Sent to p2@example.org"],
    ]
    assert result["dry_run"]


@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_task_runs_in_a_real_worker(worker):  # noqa: F811 (the fixture imported above)
    """The task sent through the real broker is run by a real worker (beat only fires it at 03:30)."""
    import time

    from django.utils import timezone

    from cases.tasks import contact_details_erase_task
    from tests.cases.test_worker import _assert_eventually
    from tests.factories import IssueFactory, ReportFactory

    proc, log = worker
    now = timezone.now()
    issue = IssueFactory(
        created_at=now - 120 * DAY,
        due_at=now - 119 * DAY,
        status=Issue.Status.RESOLVED,
        outcome=Issue.Outcome.RESOLVED,
        resolved_at=now - 100 * DAY,
    )
    report = ReportFactory(issue=issue, reporter_name=NAME, reporter_email=EMAIL, reporter_phone=PHONE)
    started = time.monotonic()
    contact_details_erase_task.delay()
    _assert_eventually(lambda: Report.objects.filter(pk=report.pk, contact_erased_at__isnull=False).exists(), proc, log)
    assert time.monotonic() - started < 60
    assert Event.objects.filter(issue=issue, kind=Event.Kind.CONTACT_ERASED).count() == 1
    assert EMAIL not in log.read_text() and NAME not in log.read_text()
