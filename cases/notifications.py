"""Delivering the outbox: email through Django's email backend, in-app as Notification rows.

Every notification is first an ``OutboxMessage`` row written in the same
transaction as its cause (an escalation, an assignment, a resident's receipt).
``outbox_drain`` — run by Celery beat every ``OUTBOX_DRAIN_SECONDS`` — delivers
what is due:

* It claims pending rows whose ``next_attempt_at`` has come with
  ``SELECT … FOR UPDATE SKIP LOCKED``, so two drains at once never take the
  same row, and a broker outage only delays delivery: the rows wait in the
  database until a drain runs again.
* In-app delivery creates the ``Notification`` in the same transaction that
  marks the row sent (``Notification.outbox`` is one-to-one): exactly once.
* Email goes through ``django.core.mail``. A worker killed between sending and
  committing sends that email again on the next drain (at least once).
* A failure is retried with exponential back-off — ``OUTBOX_RETRY_BASE_SECONDS``
  × 2^(attempt−1), at most ``OUTBOX_RETRY_MAX_SECONDS`` — until
  ``OUTBOX_MAX_ATTEMPTS``; then the row is marked failed and stays for the admin.
* Logs name message ids and error classes, never addresses: recipients
  include residents whose contact details must not reach a log line.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone

from cases.models import Notification, OutboxMessage

logger = logging.getLogger(__name__)

__all__ = ["DrainResult", "outbox_drain", "retry_delay"]

State = OutboxMessage.State
Channel = OutboxMessage.Channel


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def max_attempts() -> int:
    return _setting("OUTBOX_MAX_ATTEMPTS", 8)


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


class _Undeliverable(Exception):
    """Retrying will not help (no address, no recipient)."""


def _error_text(exc: Exception) -> str:
    # Class and SMTP code only: SMTP errors quote the recipient's address.
    code = getattr(exc, "smtp_code", None)
    text = exc.__class__.__name__ + (f" {code}" if code else "")
    if isinstance(exc, _Undeliverable):
        text += f": {exc}"
    return text[:500]


def _email_for(message: OutboxMessage, connection) -> EmailMessage:
    address = message.recipient_email or (message.recipient.email if message.recipient_id else "")
    if not address:
        raise _Undeliverable("no email address")
    body = message.body
    if message.url:
        site = settings.SITE_URL.rstrip("/")
        body = f"{body}\n\n{site}{message.url}"
    return EmailMessage(
        subject=message.subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
        connection=connection,
    )


def _claim(now: datetime, size: int) -> list[OutboxMessage]:
    return list(
        OutboxMessage.objects.filter(state=State.PENDING, next_attempt_at__lte=now)
        .select_related("recipient")
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("next_attempt_at", "id")[:size]
    )


def outbox_drain(*, now: datetime | None = None, batch_size: int = 50, limit: int = 2000) -> dict:
    """Deliver up to ``limit`` due outbox messages; returns counts (sent / retrying / failed)."""
    now = now or timezone.now()
    result = DrainResult()
    handled = 0
    connection = get_connection(fail_silently=False)
    while handled < limit:
        with transaction.atomic():
            batch = _claim(now, min(batch_size, limit - handled))
            if not batch:
                break
            handled += len(batch)
            notifications, done, retry, dead = [], [], [], []
            for message in batch:
                message.attempts += 1
                try:
                    if message.channel == Channel.IN_APP:
                        if not message.recipient_id:
                            raise _Undeliverable("in-app message without a recipient")
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
                    elif message.channel == Channel.EMAIL:
                        connection.send_messages([_email_for(message, connection)])
                    else:
                        raise _Undeliverable(f"unknown channel {message.channel}")
                except Exception as exc:  # any delivery failure is retried, not fatal to the batch
                    message.last_error = _error_text(exc)
                    if isinstance(exc, _Undeliverable) or message.attempts >= max_attempts():
                        message.state = State.FAILED
                        dead.append(message)
                    else:
                        message.next_attempt_at = now + retry_delay(message.attempts)
                        retry.append(message)
                    logger.warning(
                        "outbox message %s: attempt %d failed (%s)%s",
                        message.pk,
                        message.attempts,
                        message.last_error,
                        "; giving up" if message.state == State.FAILED else "",
                    )
                else:
                    message.state = State.SENT
                    message.sent_at = now
                    message.last_error = ""
                    done.append(message)
            Notification.objects.bulk_create(notifications)
            OutboxMessage.objects.bulk_update(
                batch, ["state", "attempts", "next_attempt_at", "sent_at", "last_error"], batch_size=500
            )
        result.sent += len(done)
        result.retrying += len(retry)
        result.failed += len(dead)
    if handled:
        logger.info("outbox drain: %d sent, %d to retry, %d failed", result.sent, result.retrying, result.failed)
    return result.as_dict()
