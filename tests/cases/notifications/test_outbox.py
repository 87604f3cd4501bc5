"""The outbox drain: email through Django's email backend, in-app Notification rows,
retries with exponential back-off, failure after the last attempt, no contact
details in logs, and nothing lost while no worker (or broker) is there.
"""

import logging
import smtplib
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection

from cases import services
from cases.escalation.sweep import escalation_sweep_run
from cases.models import EscalationRule, Notification, OutboxMessage
from cases.notifications.drain import outbox_drain, retry_delay
from tests.factories import EscalationRuleFactory, IssueFactory, NeighborhoodFactory, square, supervisor

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
State = OutboxMessage.State
SENT_TO_FAILING = []


class RefusingBackend(BaseEmailBackend):
    """An SMTP server that refuses every recipient (its error quotes the address)."""

    def send_messages(self, email_messages):
        for message in email_messages:
            SENT_TO_FAILING.append(message.to)
            raise smtplib.SMTPRecipientsRefused({message.to[0]: (550, b"mailbox unavailable")})
        return 0


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(T0, tick=False)

    def move(delta):
        time_machine.move_to(T0 + delta, tick=False)

    return move


@pytest.fixture
def refusing(settings):
    SENT_TO_FAILING.clear()
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    return SENT_TO_FAILING


def message(**kwargs):
    defaults = {
        "channel": OutboxMessage.Channel.EMAIL,
        "subject": "Escalated",
        "body": "Level 1",
        "url": "/issues/1/",
        "next_attempt_at": T0,
        "created_at": T0,
    }
    defaults.update(kwargs)
    return OutboxMessage.objects.create(**defaults)


@pytest.mark.django_db
def test_delivers_email_and_in_app_once(clock, supervisor):
    email = message(recipient=supervisor, recipient_email=supervisor.email)
    in_app = message(channel=OutboxMessage.Channel.IN_APP, recipient=supervisor)
    assert outbox_drain() == {"sent": 2, "retrying": 0, "failed": 0}
    assert [m.to for m in mail.outbox] == [[supervisor.email]]
    assert mail.outbox[0].subject == "Escalated"
    assert "/issues/1/" in mail.outbox[0].body
    note = Notification.objects.get()
    assert (note.user, note.subject, note.url, note.outbox_id) == (supervisor, "Escalated", "/issues/1/", in_app.pk)
    email.refresh_from_db()
    in_app.refresh_from_db()
    assert (email.state, email.attempts, email.sent_at) == (State.SENT, 1, T0)
    assert (in_app.state, in_app.attempts) == (State.SENT, 1)
    # Draining again sends nothing more.
    assert outbox_drain() == {"sent": 0, "retrying": 0, "failed": 0}
    assert len(mail.outbox) == 1 and Notification.objects.count() == 1


@pytest.mark.django_db
def test_email_falls_back_to_the_users_address(clock, supervisor):
    message(recipient=supervisor)
    outbox_drain()
    assert mail.outbox[0].to == [supervisor.email]


@pytest.mark.django_db
def test_not_yet_due_messages_wait(clock, supervisor):
    later = message(recipient=supervisor, recipient_email="s@example.org", next_attempt_at=T0 + timedelta(minutes=5))
    assert outbox_drain()["sent"] == 0
    clock(timedelta(minutes=5))
    assert outbox_drain()["sent"] == 1
    later.refresh_from_db()
    assert later.state == State.SENT


@pytest.mark.django_db
def test_failures_retry_with_exponential_back_off_then_fail(clock, refusing, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 4
    settings.OUTBOX_RETRY_BASE_SECONDS = 30
    settings.OUTBOX_RETRY_MAX_SECONDS = 3600
    row = message(recipient_email="resident@example.org")
    elapsed = timedelta(0)
    waits = []
    for attempt in range(1, 5):
        outcome = outbox_drain()
        row.refresh_from_db()
        assert row.attempts == attempt
        if attempt < 4:
            assert outcome == {"sent": 0, "retrying": 1, "failed": 0}
            waits.append(row.next_attempt_at - (T0 + elapsed))
            # Not before its time…
            clock(elapsed + waits[-1] - timedelta(seconds=1))
            assert outbox_drain() == {"sent": 0, "retrying": 0, "failed": 0}
            elapsed += waits[-1]
            clock(elapsed)
        else:
            assert outcome == {"sent": 0, "retrying": 0, "failed": 1}
    assert waits == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120)]
    assert row.state == State.FAILED
    assert row.last_error == "SMTPRecipientsRefused"
    assert len(refusing) == 4
    clock(elapsed + timedelta(days=1))
    assert outbox_drain() == {"sent": 0, "retrying": 0, "failed": 0}


def test_back_off_is_capped(settings):
    settings.OUTBOX_RETRY_BASE_SECONDS = 30
    settings.OUTBOX_RETRY_MAX_SECONDS = 600
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4, 5, 6, 10)] == [30, 60, 120, 240, 480, 600, 600]


@pytest.mark.django_db
def test_contact_details_never_reach_logs_or_the_error_column(clock, refusing, caplog, category):
    NeighborhoodFactory(boundary=square(39.0, -94.6, 0.01))  # the point below lies in it
    with caplog.at_level(logging.DEBUG):
        report = services.issue_submit(
            category=category,
            text="Needles in the park",
            lat=39.005,
            lng=-94.595,
            reporter_name="Maria Lopez",
            reporter_email="maria.lopez@example.org",
            reporter_phone="816-555-0199",
        )
        receipt = OutboxMessage.objects.get(issue=report.issue)
        assert receipt.recipient_email == "maria.lopez@example.org"
        outbox_drain()
    receipt.refresh_from_db()
    assert receipt.state == State.PENDING and receipt.attempts == 1
    assert refusing == [["maria.lopez@example.org"]]
    assert "outbox message" in caplog.text
    for secret in ("maria.lopez", "Maria Lopez", "555-0199", "example.org"):
        assert secret not in caplog.text
        assert secret not in receipt.last_error


@pytest.mark.django_db
def test_undeliverable_messages_fail_without_retrying(clock, supervisor):
    supervisor.email = ""
    supervisor.save(update_fields=["email"])
    no_address = message(recipient=supervisor)
    no_user = message(channel=OutboxMessage.Channel.IN_APP, recipient_email="x@example.org")
    assert outbox_drain() == {"sent": 0, "retrying": 0, "failed": 2}
    no_address.refresh_from_db()
    no_user.refresh_from_db()
    assert no_address.state == no_user.state == State.FAILED
    assert no_address.last_error == "_Undeliverable: no email address"


@pytest.mark.django_db
def test_one_failure_does_not_hold_back_the_rest(clock, supervisor, settings):
    message(recipient=supervisor, recipient_email="a@example.org")
    message(channel=OutboxMessage.Channel.IN_APP, recipient_email="b@example.org")  # no user: fails
    message(channel=OutboxMessage.Channel.IN_APP, recipient=supervisor)
    assert outbox_drain(batch_size=2) == {"sent": 2, "retrying": 0, "failed": 1}


@pytest.mark.django_db
def test_escalation_notifications_wait_in_the_outbox_until_a_drain_runs(clock, category, neighborhood):
    """No worker, no broker: the sweep writes outbox rows; a later drain delivers them all."""
    boss = supervisor(neighborhoods=[neighborhood])
    EscalationRuleFactory(category=category, level=1, hours_overdue=0, action=EscalationRule.Action.NOTIFY_SUPERVISOR)
    issues = IssueFactory.create_batch(
        2, category=category, neighborhood=neighborhood, created_at=T0, due_at=T0 + timedelta(hours=1)
    )
    clock(timedelta(hours=30))
    escalation_sweep_run()
    # One digest per channel tells of both issues.
    assert OutboxMessage.objects.filter(state=State.PENDING).count() == 2
    assert not Notification.objects.exists() and mail.outbox == []
    clock(timedelta(hours=40))  # the broker was down for ten hours
    assert outbox_drain() == {"sent": 2, "retrying": 0, "failed": 0}
    assert Notification.objects.filter(user=boss).count() == 1
    assert len(mail.outbox) == 1
    assert all(issue.tracking_code in mail.outbox[0].body for issue in issues)
    assert {m.to[0] for m in mail.outbox} == {boss.email}
    note = Notification.objects.get(user=boss)
    assert note.subject == f"Escalated: 2 issues in {neighborhood.name}"
    assert all(issue.tracking_code in note.body for issue in issues)


@pytest.mark.django_db(transaction=True)
def test_two_drains_at_once_deliver_each_message_once(supervisor):
    from django.utils import timezone

    now = timezone.now()
    OutboxMessage.objects.bulk_create(
        OutboxMessage(
            channel=OutboxMessage.Channel.IN_APP if i % 2 else OutboxMessage.Channel.EMAIL,
            recipient=supervisor,
            recipient_email=supervisor.email,
            subject=f"Message {i}",
            body="",
            next_attempt_at=now,
            created_at=now,
        )
        for i in range(400)
    )
    barrier = threading.Barrier(2)
    results, errors = [], []

    def drain():
        try:
            barrier.wait()
            results.append(outbox_drain(batch_size=20, limit=1000))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=drain) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(r["sent"] for r in results) == 400
    assert Notification.objects.count() == 200
    assert sorted(m.subject for m in mail.outbox) == sorted(f"Message {i}" for i in range(0, 400, 2))
    assert set(OutboxMessage.objects.values_list("state", "attempts")) == {(State.SENT, 1)}
