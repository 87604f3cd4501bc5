"""Reads for in-app notifications: a staff member sees only their own."""

from __future__ import annotations

from django.db.models import QuerySet

from cases.models import Notification

__all__ = ["notifications_for", "unread_notification_count"]


def _is_staff_member(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_perm("cases.view_issue"))


def notifications_for(user) -> QuerySet[Notification]:
    """The user's notifications, newest first (unread and read)."""
    if not _is_staff_member(user):
        return Notification.objects.none()
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def unread_notification_count(user) -> int:
    """Unread notifications of the user (served by notification_unread_idx)."""
    if not _is_staff_member(user):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
