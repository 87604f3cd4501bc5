"""Reads behind the audit log (/audit/): who saw residents' contact details, who changed
what the public sees, and what the retention task erased — who, when, which issue, why.

Scoping lives here, as everywhere: holders of ``cases.view_audit`` (supervisors,
administrators) read every entry; any other staff member reads only their own.

Pages are keyset pages, newest first by ``(created_at, id)``: a page is one
indexed range read of ``event_audit_idx`` (everyone's entries) or
``event_audit_actor_idx`` (one user's), however long the log grows — no OFFSET and
no COUNT(*) over the table. A cursor is the last row's ``created_at`` in
microseconds since the epoch and its id, ``"<micros>_<id>"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.db.models.fields.json import KT
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.roles import ROLE_NAMES
from cases.models import Event
from cases.selectors.issues import _is_staff_member

__all__ = [
    "AUDIT_PERMISSION",
    "AUDIT_ACTIONS",
    "SYSTEM_ACTOR",
    "may_read_whole_audit",
    "audit_events_for",
    "audit_events_filtered",
    "audit_actor_choices",
    "AuditPage",
    "audit_page",
    "cursor_parse",
    "cursor_of",
    "audit_action_label",
    "audit_reason",
    "audit_rows",
]

User = get_user_model()

AUDIT_PERMISSION = "cases.view_audit"
# The "action" filter's choices → the event kind each stands for.
AUDIT_ACTIONS = {
    "reveal": Event.Kind.CONTACT_VIEWED,
    "moderation": Event.Kind.MODERATED,
    "erasure": Event.Kind.CONTACT_ERASED,
}
# The "who" filter's value for entries no person made (the retention task's erasures).
SYSTEM_ACTOR = "system"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR = re.compile(r"^(\d{1,18})_(\d{1,18})$")

# A MODERATED event's data["action"] (cases.services.moderation.Action) in words.
_MODERATION_ACTIONS = {
    "issue_text": gettext_lazy("Moderation: issue's public text edited"),
    "report_text": gettext_lazy("Moderation: report's public text edited"),
    "report_hide": gettext_lazy("Moderation: report hidden"),
    "report_unhide": gettext_lazy("Moderation: report shown again"),
    "photo_approve": gettext_lazy("Moderation: photo approved"),
    "photo_hide": gettext_lazy("Moderation: photo hidden"),
    "resolve": gettext_lazy("Moderation: queue item resolved"),
}


def may_read_whole_audit(user) -> bool:
    return _is_staff_member(user) and user.has_perm(AUDIT_PERMISSION)


def audit_events_for(user) -> QuerySet[Event]:
    """The audit entries a user may read: everyone's with ``view_audit``, else their own."""
    if not _is_staff_member(user):
        return Event.objects.none()
    # The literal kind list is the partial indexes' predicate, so PostgreSQL may use them.
    queryset = Event.objects.filter(kind__in=list(Event.AUDIT_KINDS))
    if not user.has_perm(AUDIT_PERMISSION):
        queryset = queryset.filter(actor=user)
    return queryset


def audit_events_filtered(
    user,
    *,
    who: str = "",
    action: str = "",
    tracking_code: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Event]:
    """The entries the user may read, narrowed by the filter form, with what a row shows.

    ``who`` is a user id or ``SYSTEM_ACTOR`` (only applied for readers of the whole log:
    the others only ever see themselves); ``action`` a key of ``AUDIT_ACTIONS``;
    ``since`` inclusive, ``until`` exclusive. Only the two JSON keys a row shows are read
    out of ``data``: a moderation's before/after texts stay in the database.
    """
    queryset = audit_events_for(user)
    if who and may_read_whole_audit(user):
        queryset = queryset.filter(actor__isnull=True) if who == SYSTEM_ACTOR else queryset.filter(actor_id=who)
    if action:
        queryset = queryset.filter(kind=AUDIT_ACTIONS[action])
    if tracking_code:
        queryset = queryset.filter(issue__tracking_code=tracking_code)
    if since is not None:
        queryset = queryset.filter(created_at__gte=since)
    if until is not None:
        queryset = queryset.filter(created_at__lt=until)
    return (
        queryset.select_related("actor", "issue")
        .annotate(audit_action=KT("data__action"), reason_code=KT("data__reason_code"))
        .only(
            "id",
            "kind",
            "message",
            "created_at",
            "issue_id",
            "issue__tracking_code",
            "actor_id",
            "actor__username",
            "actor__first_name",
            "actor__last_name",
        )
    )


def audit_actor_choices() -> list[tuple[str, str]]:
    """The "who" filter's people: everyone holding a staff role (one query), by username."""
    users = (
        User.objects.filter(Q(groups__name__in=ROLE_NAMES) | Q(is_superuser=True))
        .distinct()
        .order_by("username")
        .only("id", "username", "first_name", "last_name")
    )
    return [(str(u.pk), u.get_full_name() or u.get_username()) for u in users]


# --- keyset pages -------------------------------------------------------------------


def cursor_of(event: Event) -> str:
    return f"{(event.created_at - _EPOCH) // timedelta(microseconds=1)}_{event.pk}"


def cursor_parse(value: str) -> tuple[datetime, int] | None:
    """``"<micros>_<id>"`` → (created_at, id); None when it is not a cursor this page made."""
    match = _CURSOR.match(value or "")
    if match is None:
        return None
    try:
        return _EPOCH + timedelta(microseconds=int(match[1])), int(match[2])
    except OverflowError:
        return None


@dataclass
class AuditPage:
    rows: list[Event]
    older: str | None  # cursor for the next page back in time, if there is one
    newer: str | None  # cursor for the page before this one, if this is not the newest


def _older_than(created_at: datetime, pk: int) -> Q:
    # (created_at, id) < cursor, written so the index's leading column bounds the range scan.
    return Q(created_at__lte=created_at) & (Q(created_at__lt=created_at) | Q(id__lt=pk))


def _newer_than(created_at: datetime, pk: int) -> Q:
    return Q(created_at__gte=created_at) & (Q(created_at__gt=created_at) | Q(id__gt=pk))


def audit_page(
    queryset: QuerySet[Event],
    *,
    before: tuple[datetime, int] | None = None,
    after: tuple[datetime, int] | None = None,
    size: int = 50,
) -> AuditPage:
    """One page of entries, newest first: the newest, or those just older than ``before``,
    or just newer than ``after``. One query (two when "newer" reaches the top)."""
    newest_first = queryset.order_by("-created_at", "-id")
    if after is not None:
        rows = list(queryset.filter(_newer_than(*after)).order_by("created_at", "id")[: size + 1])
        if len(rows) > size:
            rows = rows[:size][::-1]
            return AuditPage(rows=rows, older=cursor_of(rows[-1]), newer=cursor_of(rows[0]))
        # Fewer than a page above the cursor: that is the top, shown as the newest full page.
        before = None
    rows = list((newest_first.filter(_older_than(*before)) if before else newest_first)[: size + 1])
    has_older = len(rows) > size
    rows = rows[:size]
    return AuditPage(
        rows=rows,
        older=cursor_of(rows[-1]) if has_older else None,
        newer=cursor_of(rows[0]) if before is not None and rows else None,
    )


# --- what a row says ----------------------------------------------------------------


def audit_action_label(event: Event) -> str:
    if event.kind == Event.Kind.CONTACT_VIEWED:
        return _("Contact details shown")
    if event.kind == Event.Kind.CONTACT_ERASED:
        return _("Contact details erased (retention)")
    action = getattr(event, "audit_action", None) or ""
    label = _MODERATION_ACTIONS.get(action)
    if label is not None:
        return str(label)
    return _("Moderation: %(action)s") % {"action": action.replace("_", " ")} if action else _("Moderation")


def audit_reason(event: Event) -> str:
    """Why, in the reader's language where it was chosen from a list.

    A reveal stores its reason in English (``message``), e.g. "Follow-up visit" or
    "Follow-up visit: <details>"; the chosen reason's words are shown translated.
    """
    message = event.message or ""
    code = getattr(event, "reason_code", None)
    if event.kind == Event.Kind.CONTACT_VIEWED and code in Event.RevealReason.values and code != "other":
        label = Event.RevealReason(code).label
        with translation.override("en"):
            english = str(label)
        if message.startswith(english):
            return str(label) + message[len(english) :]
    if not message and event.kind == Event.Kind.CONTACT_ERASED:
        return _("Retention period over")
    return message


def audit_rows(page_rows) -> Iterator[Event]:
    """Rows with their action and reason in words (no query)."""
    for event in page_rows:
        event.action_label = audit_action_label(event)
        event.reason_display = audit_reason(event)
        yield event
