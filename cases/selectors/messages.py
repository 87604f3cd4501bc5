"""Reads behind the anonymous messages on the staff issue page.

Threads are read by report, not by issue: a report merged into another issue
(``issue_mark_duplicate``) brings its conversation along. One query for all of
an issue's threads, whatever their number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, QuerySet

from cases.models import Issue, Report, ResidentMessage
from cases.selectors.issues import can_work_issue

__all__ = ["MessageThread", "message_threads", "can_reply_to_residents", "with_unread_messages"]


@dataclass
class MessageThread:
    report: Report
    messages: list[ResidentMessage] = field(default_factory=list)
    # Messages from the resident no one who works the issue has seen yet.
    unread: int = 0
    # What an officer typed in a reply that was refused (shown again to correct).
    reply_body: str = ""
    reply_failed: bool = False


def can_reply_to_residents(user, issue) -> bool:
    return user.has_perm("cases.add_residentmessage") and can_work_issue(user, issue)


def message_threads(user, reports: list[Report], *, reply: dict | None = None) -> list[MessageThread]:
    """The conversations of these reports (already loaded): one per report whose holder has a key."""
    # Only a report with a key has a conversation (both services refuse one without): an issue
    # none of whose reports came through the web form costs no query.
    keyed = [report for report in reports if report.message_key_hash]
    if not keyed or not user.has_perm("cases.view_residentmessage"):
        return []
    by_report: dict[int, list[ResidentMessage]] = {}
    rows = (
        ResidentMessage.objects.filter(report_id__in=[report.pk for report in keyed])
        .select_related("author")
        .only(
            "id",
            "report_id",
            "direction",
            "body",
            "language",
            "created_at",
            "read_at",
            "author__id",
            "author__username",
            "author__first_name",
            "author__last_name",
        )
        .order_by("created_at", "id")
    )
    for message in rows:
        by_report.setdefault(message.report_id, []).append(message)
    threads = []
    for report in keyed:
        thread_messages = by_report.get(report.pk, [])
        thread = MessageThread(report=report, messages=thread_messages)
        thread.unread = sum(
            1 for m in thread_messages if m.direction == ResidentMessage.Direction.FROM_RESIDENT and m.read_at is None
        )
        if reply and reply.get("report_id") == report.pk:
            thread.reply_body = reply.get("body", "")
            thread.reply_failed = True
        threads.append(thread)
    return threads


def with_unread_messages(queryset: QuerySet[Issue]) -> QuerySet[Issue]:
    """Annotate ``has_unread_messages``: a resident wrote and no one who works the issue has seen it.

    An EXISTS per row of the page in the same query (message_issue_idx), not a query per issue.
    """
    unread = ResidentMessage.objects.filter(
        issue=OuterRef("pk"), direction=ResidentMessage.Direction.FROM_RESIDENT, read_at__isnull=True
    )
    return queryset.annotate(has_unread_messages=Exists(unread))
