"""Reads for moderation: the supervisors' queue, and the photos the public may see.

A resident's photo is public only once a moderator approved it (``photo_state``
approved, a ``public_photo`` copy written), while its report is not hidden, and
only on an issue of a public category: sensitive categories never show a place
publicly, and a photo shows one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from cases.models import Issue, ModerationItem, Report

__all__ = [
    "QUEUE_PAGE_SIZE",
    "QueuePage",
    "moderation_queue",
    "public_photo_reports",
    "public_photo_q",
    "public_photo_report",
    "issue_public_photos",
    "report_for_staff_photo",
]

QUEUE_PAGE_SIZE = 25


def public_photo_q(prefix: str = "") -> Q:
    """Reports whose photo or link the public may see (``prefix`` for lookups through a relation)."""
    return Q(
        **{
            f"{prefix}photo_state": Report.PhotoState.APPROVED,
            f"{prefix}is_hidden": False,
            f"{prefix}issue__category__is_public": True,
        }
    )


def public_photo_reports() -> QuerySet[Report]:
    return Report.objects.filter(public_photo_q()).exclude(public_photo="")


def public_photo_report(report_id: int, token: str, ext: str) -> Report | None:
    """The report whose approved public copy this URL names, or None (unknown, unapproved, wrong token)."""
    import hmac

    from cases.photos import public_photo_token

    report = public_photo_reports().filter(pk=report_id).only("id", "public_photo").first()
    if report is None:
        return None
    name = report.public_photo.name
    if not name.endswith(f".{ext}"):
        return None
    # Constant-time: the token is the secret that keeps ids from being enumerated.
    if not hmac.compare_digest(public_photo_token(name).encode(), token.encode()):
        return None
    return report


def issue_public_photos(issue: Issue) -> list[Report]:
    """The approved public copies of an issue's photos, oldest first (the status page)."""
    return list(
        public_photo_reports().filter(issue=issue).only("id", "public_photo", "created_at").order_by("created_at", "id")
    )


def report_for_staff_photo(issue: Issue, report_id: int) -> Report | None:
    """A report of an issue the user may already see, with its original photo; None otherwise."""
    return Report.objects.filter(issue=issue, pk=report_id).exclude(photo="").only("id", "issue_id", "photo").first()


@dataclass
class QueuePage:
    items: list[ModerationItem]
    # The keyset of the next page ((created_at, id) of this page's last item), None on the last page.
    next_after: tuple[datetime, int] | None


def moderation_queue(
    *, reason: str = "", after: tuple[datetime, int] | None = None, limit: int = QUEUE_PAGE_SIZE
) -> QueuePage:
    """Unresolved items, oldest first, one page from a (created_at, id) keyset.

    One query whatever the queue's size (moderation_open_idx serves the order and the
    "unresolved" filter; no COUNT over the table): one extra row says whether a next page exists.
    """
    queryset = (
        ModerationItem.objects.filter(resolved_at__isnull=True)
        .select_related("issue", "issue__category", "issue__neighborhood", "report")
        .order_by("created_at", "id")
    )
    if reason:
        queryset = queryset.filter(reason=reason)
    if after is not None:
        created_at, item_id = after
        queryset = queryset.filter(Q(created_at__gt=created_at) | Q(created_at=created_at, id__gt=item_id))
    rows = list(queryset[: limit + 1])
    items = rows[:limit]
    next_after = (items[-1].created_at, items[-1].pk) if len(rows) > limit else None
    return QueuePage(items=items, next_after=next_after)
