"""Delivering the outbox: email through Django's email backend, in-app as Notification rows.

Every notification is first an ``OutboxMessage`` row written in the same
transaction as its cause (an escalation, an assignment, a resident's receipt).
``outbox_drain`` — run by Celery beat every ``OUTBOX_DRAIN_SECONDS`` — delivers
what is due. Rows are claimed with ``SELECT … FOR UPDATE SKIP LOCKED``, so two
drains at once never take the same row, and a broker outage only delays
delivery: the rows wait in the database until a drain runs again.

**In-app** messages have no effect outside the database: a batch is claimed, its
``Notification`` rows created and the messages marked sent in one transaction
(``Notification.outbox`` is one-to-one). Exactly once, whatever fails.

**Email** leaves the building, and no rollback takes it back; so no transaction
is open while the mail server is talking, and each email is recorded before the
next is sent:

1. *claim* — a short transaction takes ONE due row, adds 1 to ``attempts``, moves
   ``next_attempt_at`` forward by a lease (``OUTBOX_CLAIM_LEASE_SECONDS``, far
   longer than ``EMAIL_TIMEOUT``) and commits. No other drain takes the row
   before the lease runs out, lock or no lock.
2. *send* — outside any transaction, over one SMTP connection kept for the run.
3. *record* — a second short statement marks the row sent (``sent_at``), or
   schedules its retry with back-off, or marks it failed. A dropped database
   connection is reopened and the record retried, briefly.

What can be sent twice, precisely: an email whose send succeeded and whose
outcome could not be recorded — the worker died between steps 2 and 3, or the
database stayed unreachable through the record's retries. That single message
is sent again once its lease has run out. A message recorded as sent is never
sent again, and nothing that fails mid-run touches any message but the one in
flight (the batch transaction this replaces resent up to 50 emails after one lost
commit). ``attempts`` counts the sends really tried, plus — rarely — a claim
whose commit reached the database but whose acknowledgement was lost (nothing
was sent then; the lease makes the row wait). A row whose lease runs out with
every attempt spent is marked failed, not sent once more.

Claiming a batch per transaction and recording each send in its own savepoint
would not do: a lost commit loses every savepoint with it. Holding the row lock
across the send (claim, send, record in one transaction per message) would
resend only one message too, but keeps a transaction open for as long as the
mail server takes; the lease needs none.

A refused message is retried with exponential back-off —
``OUTBOX_RETRY_BASE_SECONDS`` × 2^(attempt−1), at most ``OUTBOX_RETRY_MAX_SECONDS``
— until ``OUTBOX_MAX_ATTEMPTS``; then it is marked failed and stays for the admin.
An unreachable mail server costs the message in hand one attempt and ends the
run's emails (the rest keep their attempts and wait for the next drain) instead
of timing out once per message. A database error ends the run with a warning;
no row is lost, and the next scheduled drain continues.

Logs name message ids and error classes, never addresses: recipients include
residents whose contact details must not reach a log line.
"""

from __future__ import annotations

import logging
import smtplib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from cases.models import Notification, OutboxMessage
from core.site import absolute_url

logger = logging.getLogger(__name__)

__all__ = ["DrainResult", "outbox_drain", "retry_delay"]

State = OutboxMessage.State
Channel = OutboxMessage.Channel
T = TypeVar("T")

# Pauses before retrying a short database step whose connection dropped: a blip
# (a restarted pooler, a killed backend) is over by then; an outage ends the run.
RECONNECT_DELAYS = (0.5, 2.0)


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def max_attempts() -> int:
    return _setting("OUTBOX_MAX_ATTEMPTS", 8)


def claim_lease() -> timedelta:
    return timedelta(seconds=_setting("OUTBOX_CLAIM_LEASE_SECONDS", 600))


def retry_delay(attempts: int) -> timedelta:
    """Back-off after the ``attempts``-th failed attempt: base × 2^(attempts−1), capped."""
    base = _setting("OUTBOX_RETRY_BASE_SECONDS", 30)
    cap = _setting("OUTBOX_RETRY_MAX_SECONDS", 3600)
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


@dataclass
class DrainResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def as_dict(self) -> dict:
        return asdict(self)

    def add(self, other: DrainResult) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed


class _Undeliverable(Exception):
    """Retrying will not help (no address, no recipient)."""


def _error_text(exc: Exception) -> str:
    # Class and SMTP code only: SMTP errors quote the recipient's address.
    code = getattr(exc, "smtp_code", None)
    text = exc.__class__.__name__ + (f" {code}" if code else "")
    if isinstance(exc, _Undeliverable):
        text += f": {exc}"
    return text[:500]


def _server_unreachable(exc: Exception) -> bool:
    """The mail server, not this message, is the problem (every SMTPException is an OSError too)."""
    if isinstance(
        exc,
        (
            smtplib.SMTPServerDisconnected,
            smtplib.SMTPConnectError,
            smtplib.SMTPHeloError,
            smtplib.SMTPAuthenticationError,
        ),
    ):
        return True
    return isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException)


def _with_reconnect(step: Callable[[], T]) -> T:
    """Run one short database step; if its connection dropped, reopen it and run the step again.

    Safe because each step is one transaction that either committed or did not: a
    claim retried after a lost acknowledgement takes another row (the first keeps
    its lease), and recording an outcome twice changes nothing. Inside a caller's
    transaction the connection is not ours to reopen, so the error goes up.
    """
    for delay in (*RECONNECT_DELAYS, None):
        try:
            return step()
        except (OperationalError, InterfaceError) as exc:
            if delay is None or connection.in_atomic_block:
                raise
            logger.warning("outbox drain: database connection lost (%s); reconnecting", exc.__class__.__name__)
            connection.close()
            time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def _address(message: OutboxMessage) -> str:
    return message.recipient_email or (message.recipient.email if message.recipient_id else "")


def _email_for(message: OutboxMessage, mail_connection) -> EmailMessage:
    address = _address(message)
    if not address:
        raise _Undeliverable("no email address")
    body = message.body
    if message.url and message.url not in body:
        link = message.url if message.url.startswith(("https://", "http://")) else absolute_url(message.url)
        body = f"{body}\n\n{link}"
    headers = {}
    if message.unsubscribe_url:
        # RFC 8058: a mail client may offer the reader one click that POSTs to this address.
        headers = {
            "List-Unsubscribe": f"<{message.unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
        headers=headers,
        connection=mail_connection,
    )
    if message.html_body:
        email.attach_alternative(message.html_body, "text/html")
    return email


# --- in-app: claim, deliver and mark sent in one transaction -------------------------


def _deliver_in_app(now: datetime, size: int) -> tuple[int, DrainResult]:
    """Deliver up to ``size`` due messages that are not email; returns (claimed, counts)."""
    counts = DrainResult()
    with transaction.atomic():
        # Every channel but email goes here: an unknown one fails below instead of waiting forever.
        batch = list(
            OutboxMessage.objects.filter(state=State.PENDING, next_attempt_at__lte=now)
            .exclude(channel=Channel.EMAIL)
            .select_for_update(skip_locked=True)
            .order_by("next_attempt_at", "id")[:size]
        )
        if not batch:
            return 0, counts
        notifications = []
        for message in batch:
            message.attempts += 1
            try:
                if message.channel != Channel.IN_APP:
                    raise _Undeliverable(f"unknown channel {message.channel}")
                if not message.recipient_id:
                    raise _Undeliverable("in-app message without a recipient")
            except _Undeliverable as exc:
                message.state = State.FAILED
                message.last_error = _error_text(exc)
                counts.failed += 1
                logger.warning("outbox message %s: undeliverable (%s)", message.pk, message.last_error)
                continue
            notifications.append(
                Notification(
                    user_id=message.recipient_id,
                    subject=message.subject,
                    body=message.body,
                    url=message.url,
                    issue_id=message.issue_id,
                    outbox=message,
                    created_at=now,
                )
            )
            message.state = State.SENT
            message.sent_at = now
            message.last_error = ""
            counts.sent += 1
        Notification.objects.bulk_create(notifications)
        OutboxMessage.objects.bulk_update(batch, ["state", "attempts", "sent_at", "last_error"], batch_size=500)
    return len(batch), counts


# --- email: claim one (commit), send, record ----------------------------------------


def _claim_email(now: datetime) -> OutboxMessage | None:
    """Claim the next due email in a short transaction of its own; None when none is due.

    The row comes back with its new ``attempts`` and lease, or already marked failed
    when it cannot be sent (no address; or its lease ran out with every attempt spent).
    """
    with transaction.atomic():
        message = (
            OutboxMessage.objects.filter(state=State.PENDING, channel=Channel.EMAIL, next_attempt_at__lte=now)
            .select_related("recipient")
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("next_attempt_at", "id")
            .first()
        )
        if message is None:
            return None
        if message.attempts >= max_attempts():
            # Its last claim never recorded an outcome (worker or database lost after the
            # send): sending once more would go past the limit, and it may have arrived.
            message.state = State.FAILED
            message.last_error = "no outcome recorded for the last attempt"
            message.save(update_fields=["state", "last_error"])
        elif not _address(message):
            message.attempts += 1
            message.state = State.FAILED
            message.last_error = _error_text(_Undeliverable("no email address"))
            message.save(update_fields=["state", "attempts", "last_error"])
        else:
            message.attempts += 1
            message.next_attempt_at = now + claim_lease()
            message.save(update_fields=["attempts", "next_attempt_at"])
    if message.state == State.FAILED:
        logger.warning(
            "outbox message %s: attempt %d failed (%s); giving up", message.pk, message.attempts, message.last_error
        )
    return message


class _Mailer:
    """One connection to the mail server for the whole run, opened at the first email."""

    def __init__(self):
        self.connection = get_connection(fail_silently=False)
        self.is_open = False
        self.usable = True

    def send(self, email: EmailMessage) -> None:
        if not self.is_open:
            self.connection.open()
            self.is_open = True
        self.connection.send_messages([email])

    def close(self) -> None:
        if self.is_open:
            self.is_open = False
            try:
                self.connection.close()
            except Exception as exc:  # the run's work is recorded; a failed QUIT changes nothing
                logger.warning("outbox drain: closing the mail connection failed (%s)", exc.__class__.__name__)


def _record_sent(pk: int, sent_at: datetime) -> int:
    # Whichever claim of the row sent it first ends it: a stale claim's failure cannot reopen it.
    return OutboxMessage.objects.filter(pk=pk, state=State.PENDING).update(
        state=State.SENT, sent_at=sent_at, last_error=""
    )


def _record_failure(message: OutboxMessage) -> int:
    # Only while this claim is the row's latest: a claim that outlived its lease records nothing.
    return OutboxMessage.objects.filter(pk=message.pk, state=State.PENDING, attempts=message.attempts).update(
        state=message.state, next_attempt_at=message.next_attempt_at, last_error=message.last_error
    )


def _send_email(message: OutboxMessage, mailer: _Mailer, clock: Callable[[], datetime]) -> DrainResult:
    counts = DrainResult()
    started = time.monotonic()
    try:
        mailer.send(_email_for(message, mailer.connection))
    except Exception as exc:  # any delivery failure is retried, not fatal to the run
        message.last_error = _error_text(exc)
        if isinstance(exc, _Undeliverable) or message.attempts >= max_attempts():
            message.state = State.FAILED
            counts.failed += 1
        else:
            message.next_attempt_at = clock() + retry_delay(message.attempts)
            counts.retrying += 1
        logger.warning(
            "outbox message %s: attempt %d failed (%s)%s",
            message.pk,
            message.attempts,
            message.last_error,
            "; giving up" if message.state == State.FAILED else "",
        )
        if _server_unreachable(exc):
            mailer.close()
            mailer.usable = False
            logger.warning("outbox drain: mail server unreachable; the other emails wait for the next drain")
        _with_reconnect(partial(_record_failure, message))
        return counts
    if time.monotonic() - started > claim_lease().total_seconds():
        logger.warning(
            "outbox message %s: the send outlasted its claim's lease; another drain may resend it", message.pk
        )
    try:
        _with_reconnect(partial(_record_sent, message.pk, clock()))
    except DatabaseError:
        logger.warning(
            "outbox message %s was sent but could not be recorded; it is sent again after its lease", message.pk
        )
        raise
    counts.sent += 1
    return counts


def outbox_drain(*, now: datetime | None = None, batch_size: int = 50, limit: int = 2000) -> dict:
    """Deliver up to ``limit`` due outbox messages; returns counts (sent / retrying / failed).

    In-app messages go ``batch_size`` per transaction; emails one claim at a time,
    up to ``batch_size`` between two in-app batches, so neither channel starves.
    """
    clock: Callable[[], datetime] = (lambda: now) if now is not None else timezone.now
    result = DrainResult()
    mailer = _Mailer()
    handled = 0
    in_app_left = emails_left = True  # until a claim comes back short: then nothing of that kind is due
    try:
        while handled < limit and (in_app_left or (emails_left and mailer.usable)):
            if in_app_left:
                size = min(batch_size, limit - handled)
                claimed, counts = _with_reconnect(partial(_deliver_in_app, clock(), size))
                result.add(counts)
                handled += claimed
                in_app_left = claimed == size
            emails = 0
            while emails_left and mailer.usable and emails < batch_size and handled < limit:
                message = _with_reconnect(partial(_claim_email, clock()))
                if message is None:
                    emails_left = False
                    break
                emails += 1
                handled += 1
                if message.state == State.FAILED:
                    result.failed += 1
                else:
                    result.add(_send_email(message, mailer, clock))
    except DatabaseError as exc:
        if connection.in_atomic_block:
            raise  # the caller's transaction: theirs to roll back
        # Nothing is lost: unclaimed rows are untouched, the one in flight waits out its lease.
        logger.warning(
            "outbox drain stopped by a database error (%s); the next drain continues", exc.__class__.__name__
        )
        connection.close()
    finally:
        mailer.close()
    if handled:
        logger.info("outbox drain: %d sent, %d to retry, %d failed", result.sent, result.retrying, result.failed)
    return result.as_dict()
