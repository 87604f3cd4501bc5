"""Retention: residents' contact details are erased CONTACT_RETENTION_DAYS after their issue is finished.

*Finished* is a status in ``Issue.FINISHED_STATUSES`` with ``resolved_at`` — set by every
finish (``_finish`` in cases.services.issues) and cleared by a reopen — older than the
cutoff. An issue reopened before its deadline keeps its reporters' details; the clock
starts again when it is finished again.

What is erased, per issue:

- every report's ``reporter_name``, ``reporter_email`` and ``reporter_phone`` (blanked;
  ``contact_consent`` becomes False, ``contact_erased_at`` says when);
- the followers of its updates (``cases.notifications.residents``: the reporter, or anyone
  who followed it from the status page), deleted with their addresses;
- the copies in the outbox: messages addressed to a resident (no staff ``recipient``)
  of the issue and of the issues merged into it as duplicates (their reports moved
  here, their receipts did not). The address becomes ``ERASED_ADDRESS`` — the table's
  constraint wants an address or a user, and ``.invalid`` can never be delivered — and
  the address is cut out of the subject and body. A message still pending then would
  reach the resident after the deadline: it is cancelled (failed, with the reason),
  never sent. Normally there is none: receipts go out within seconds of the report.

Messages to the same address on *other* issues are left alone: those issues' own
deadlines apply, and a still-open issue needs its receipt. Free text a resident typed
(descriptions, report text, messages) is not contact data in this sense; the public
copies of it are masked elsewhere (cases.redaction).

Each erasure is one internal timeline Event per issue (kind ``contact_erased``, no
actor) saying how many reports and messages and which kinds of field — never a value.

The work is set-based and batched: each batch locks up to ``batch_size`` due issues
(``FOR UPDATE SKIP LOCKED``: an issue an officer is reopening right now is left for
the next run), blanks their reports in one UPDATE, their resident messages in one
more, and inserts the events with one ``bulk_create`` — and commits. A run killed
midway keeps what it committed; the next run carries on, and a run with nothing due
changes and records nothing. The due issues are found through the partial index
``report_has_contact_idx`` (reports still holding contact details), which only ever
holds recent reports once the policy runs. The same statements run on SQLite (where
``select_for_update`` is a no-op and the writer holds the database's lock).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet, Value
from django.db.models.functions import Replace
from django.utils import timezone

from cases.models import Event, Follower, Issue, OutboxMessage, Report

__all__ = [
    "ERASED_ADDRESS",
    "ErasureBatch",
    "contact_details_due",
    "contact_details_erase",
    "contact_retention_cutoff",
]

# Where an erased resident message "goes": a reserved top-level domain (RFC 2606) that no
# mail server accepts, so nothing can be delivered to it even by mistake.
ERASED_ADDRESS = "erased@erased.invalid"
ERASED_TEXT = "[erased]"
CANCELLED = "Cancelled: the resident's contact details were erased (retention policy)."
DEFAULT_BATCH_SIZE = 500

# Exactly the condition of report_has_contact_idx, so the planner can use that index.
HAS_CONTACT = ~Q(reporter_name="") | ~Q(reporter_email="") | ~Q(reporter_phone="")
_FIELDS = (("name", "reporter_name"), ("email", "reporter_email"), ("phone", "reporter_phone"))


@dataclass
class ErasureBatch:
    """What one committed batch erased."""

    issues: int = 0
    reports: int = 0
    messages: int = 0
    cancelled: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def contact_retention_cutoff(now: datetime | None = None) -> datetime:
    """Issues finished before this moment have passed their deadline."""
    return (now or timezone.now()) - timedelta(days=settings.CONTACT_RETENTION_DAYS)


def _due_issues(cutoff: datetime) -> QuerySet[Issue]:
    return Issue.objects.filter(
        status__in=Issue.FINISHED_STATUSES,
        resolved_at__lt=cutoff,
        pk__in=Report.objects.filter(HAS_CONTACT).values("issue_id"),
    )


def contact_details_due(*, now: datetime | None = None) -> dict:
    """How many issues and reports the next run would erase (``--dry-run``); changes nothing."""
    cutoff = contact_retention_cutoff(now)
    issues = _due_issues(cutoff)
    reports = Report.objects.filter(HAS_CONTACT, issue__in=issues.values("pk"))
    return {"issues": issues.count(), "reports": reports.count(), "cutoff": cutoff}


def _merged_into(issue_ids: list[int]) -> list[int]:
    """The issues and, transitively, every issue marked as a duplicate of them (issue_duplicate_of_idx)."""
    seen, frontier = set(issue_ids), list(issue_ids)
    while frontier:
        frontier = [
            pk
            for pk in Issue.objects.filter(duplicate_of_id__in=frontier).values_list("pk", flat=True)
            if pk not in seen
        ]
        seen.update(frontier)
    return sorted(seen)


def _erase_batch(cutoff: datetime, now: datetime, batch_size: int) -> ErasureBatch | None:
    """Erase one batch in the caller's transaction; None when nothing is due (or all of it is locked)."""
    issue_ids = list(
        _due_issues(cutoff).select_for_update(skip_locked=True).order_by("pk").values_list("pk", flat=True)[:batch_size]
    )
    if not issue_ids:
        return None
    # The rows are ours until commit (locked issues; mark_duplicate, the only other writer of a
    # report's issue, locks the issue first), so the counts below are what the UPDATE changes.
    holding = Report.objects.filter(HAS_CONTACT, issue_id__in=issue_ids)
    per_issue = {
        row["issue_id"]: row
        for row in holding.order_by()
        .values("issue_id")
        .annotate(
            reports=Count("pk"),
            **{kind: Count("pk", filter=~Q(**{column: ""})) for kind, column in _FIELDS},
        )
    }
    reports = holding.update(
        reporter_name="", reporter_email="", reporter_phone="", contact_consent=False, contact_erased_at=now
    )

    to_residents = OutboxMessage.objects.filter(issue_id__in=_merged_into(issue_ids), recipient__isnull=True).exclude(
        recipient_email=ERASED_ADDRESS
    )
    messages_per_issue = dict(
        to_residents.order_by().values("issue_id").annotate(n=Count("pk")).values_list("issue_id", "n")
    )
    cancelled = to_residents.filter(state=OutboxMessage.State.PENDING).update(
        state=OutboxMessage.State.FAILED, last_error=CANCELLED
    )
    # Every SET reads the row as it was, so subject and bodies lose the address being replaced.
    messages = to_residents.update(
        recipient_email=ERASED_ADDRESS,
        subject=Replace(F("subject"), F("recipient_email"), Value(ERASED_TEXT)),
        body=Replace(F("body"), F("recipient_email"), Value(ERASED_TEXT)),
        html_body=Replace(F("html_body"), F("recipient_email"), Value(ERASED_TEXT)),
    )

    events = []
    for issue_id in sorted(set(per_issue) | set(messages_per_issue)):
        row = per_issue.get(issue_id, {})
        data = {
            "reports": row.get("reports", 0),
            "fields": [kind for kind, _column in _FIELDS if row.get(kind)],
        }
        if messages_per_issue.get(issue_id):
            data["messages"] = messages_per_issue[issue_id]
        events.append(
            Event(
                issue_id=issue_id,
                kind=Event.Kind.CONTACT_ERASED,
                actor=None,
                is_public=False,
                data=data,
                created_at=now,
            )
        )
    Event.objects.bulk_create(events)
    return ErasureBatch(issues=len(per_issue), reports=reports, messages=messages, cancelled=cancelled)


def contact_details_erase(
    *,
    now: datetime | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[ErasureBatch], None] | None = None,
) -> int:
    """Erase every contact detail past its deadline; returns how many issues had theirs erased.

    Each batch commits on its own (call it outside a transaction for that to hold);
    ``progress`` hears of each committed batch. Safe to run twice or on two workers
    at once: a batch only takes issues that still hold details and nobody else has
    locked, so nothing is erased or recorded twice.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be 1 or more")
    now = now or timezone.now()
    cutoff = contact_retention_cutoff(now)
    total = 0
    # Followers of finished issues past the deadline, whoever they are (anyone may follow an issue
    # whose reporters left no details): one statement driven by the followers' own table.
    Follower.objects.filter(issue__status__in=Issue.FINISHED_STATUSES, issue__resolved_at__lt=cutoff).delete()
    while True:
        with transaction.atomic():
            batch = _erase_batch(cutoff, now, batch_size)
        if batch is None or batch.issues == 0:
            return total
        total += batch.issues
        if progress is not None:
            progress(batch)
