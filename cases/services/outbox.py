"""Writes around notifications: reading in-app notifications.

``outbox_enqueue`` (queue a message in the caller's transaction) stays in
``cases.services.issues`` and is exported from ``cases.services``; delivery is
``cases.notifications.outbox_drain``.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from cases.models import Notification

__all__ = ["notification_mark_read", "notification_mark_all_read"]


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
