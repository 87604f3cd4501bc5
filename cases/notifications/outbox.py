"""Writes around notifications: queueing one in the caller's transaction, and reading in-app ones.

Delivery is ``cases.notifications.drain.outbox_drain``.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from cases.models import Issue, Notification, OutboxMessage

__all__ = ["outbox_enqueue", "notification_mark_read", "notification_mark_all_read", "resident_email"]


def outbox_enqueue(
    *,
    channel: str,
    subject: str,
    body: str,
    recipient=None,
    recipient_email: str = "",
    issue: Issue | None = None,
    url: str = "",
    dedupe_key: str | None = None,
    now: datetime | None = None,
) -> OutboxMessage | None:
    """Queue a notification in the caller's transaction. With a dedupe_key, at most once ever."""
    now = now or timezone.now()
    fields = {
        "channel": channel,
        "subject": subject[:200],
        "body": body,
        "recipient": recipient,
        "recipient_email": recipient_email,
        "issue": issue,
        "url": url,
        "next_attempt_at": now,
        "created_at": now,
    }
    if dedupe_key is None:
        return OutboxMessage.objects.create(**fields)
    message, created = OutboxMessage.objects.get_or_create(dedupe_key=dedupe_key, defaults=fields)
    return message if created else None


def resident_email(
    *, template: str, context: dict, language: str, recipient_email: str, now: datetime, **fields
) -> OutboxMessage:
    """An email to a resident (unsaved): subject, plain text and HTML rendered in ``language`` from
    ``emails/<template>_subject.txt``, ``emails/<template>.txt`` and ``emails/<template>.html``
    (which read ``language`` for their ``lang``); ``fields`` are the message's other columns."""
    context = {**context, "language": language}
    with translation.override(language):
        subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
        body = render_to_string(f"emails/{template}.txt", context)
        html = render_to_string(f"emails/{template}.html", context)
    return OutboxMessage(
        channel=OutboxMessage.Channel.EMAIL,
        recipient_email=recipient_email,
        subject=subject[:200],
        body=body,
        html_body=html,
        next_attempt_at=now,
        created_at=now,
        **fields,
    )


@transaction.atomic
def notification_mark_read(*, notification: Notification, user) -> Notification:
    """Mark one of the user's own notifications read (idempotent: the first read time stays)."""
    if notification.user_id != user.pk:
        raise Notification.DoesNotExist
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
    return notification


@transaction.atomic
def notification_mark_all_read(*, user) -> int:
    """Mark every unread notification of the user read; returns how many changed."""
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
