"""Reads behind the staff issue pages: list filters, the detail page, assignable officers.

Every queryset starts from ``issues_visible_to(user)`` so scoping stays in one
place; the functions here only add what a page shows (overdue flag, filters,
prefetches) and run a fixed number of queries whatever the number of rows.
"""

from __future__ import annotations

import functools
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connections
from django.db.models import BooleanField, Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from cases.models import Event, Issue, Report, tracking_code_normalize
from cases.search import issue_text_search
from cases.selectors.issues import issues_listed_to, issues_visible_to
from core import prepared
from core.pagination import COUNT_CAP, COUNT_PAGES, capped_count, window_rows

__all__ = [
    "with_overdue",
    "issues_filtered",
    "issue_reports",
    "issue_timeline",
    "issue_duplicates",
    "assignable_officers",
    "assignable_officer_choices",
    "issue_by_tracking_code",
    "normalize_tracking_code",
    "issue_search",
    "queue_summary",
    "queue_window",
    "issues_text_search",
]

User = get_user_model()


def with_overdue(queryset: QuerySet[Issue], now: datetime | None = None) -> QuerySet[Issue]:
    """Annotate ``is_overdue``: still escalating (not on hold, not finished) and past due_at."""
    now = now or timezone.now()
    return queryset.annotate(
        is_overdue=Case(
            When(overdue_condition(now), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def overdue_condition(now: datetime) -> Q:
    """Still escalating and past due (as a plain condition, which the open-issue indexes serve)."""
    return Q(status__in=Issue.ESCALATING_STATUSES, due_at__lt=now)


def queue_window(queue: QuerySet[Issue], cap: int | None = None, branches=None) -> list[dict]:
    """The queue's first ``cap + 1`` issues in due order (ten pages' worth by default), as the
    values its summary counts (``id``, ``assignee_id``, ``status``, ``due_at``,
    ``escalation_level``): one statement, each of ``branches`` read on its own index
    (core.pagination). The queue's first page is read by these ids too."""
    cap = min(COUNT_PAGES * 25, COUNT_CAP) if cap is None else cap
    columns = queue.values("id", "assignee_id", "status", "due_at", "escalation_level")
    return window_rows(columns, ("due_at", "id"), cap + 1, branches=branches)


def queue_summary(
    user,
    queue: QuerySet[Issue],
    now: datetime | None = None,
    cap: int | None = None,
    branches=None,
    window: list[dict] | None = None,
) -> dict:
    """The queue's figures — in it, assigned to me, overdue, escalated: ``{name: {"n", "exact"}}``.

    Counted from ``window`` (``queue_window``, read here when not given), so the cost is the
    cap's, not the queue's. When the queue holds more, the total is shown as "250+"; the
    overdue figure is still exact when the window reaches past now (overdue issues come
    first in due order); "escalated" is then an "at least" figure, marked the same way; mine
    are counted apart (a second statement), up to the cap.
    """
    now = now or timezone.now()
    cap = min(COUNT_PAGES * 25, COUNT_CAP) if cap is None else cap
    rows = queue_window(queue, cap, branches) if window is None else window
    complete = len(rows) <= cap
    rows = rows[:cap]
    overdue = [row for row in rows if row["status"] in Issue.ESCALATING_STATUSES and row["due_at"] < now]
    overdue_complete = complete or (bool(rows) and rows[-1]["due_at"] >= now)
    figures = {
        "total": (len(rows), complete),
        # Mine are counted on their own (one index, capped the same way): exact whatever the queue's size.
        "mine": capped_count(branches[0] if branches else queue.filter(assignee=user), cap),
        "overdue": (len(overdue), overdue_complete),
        "escalated": (sum(row["escalation_level"] > 0 for row in rows), complete),
    }
    return {name: {"n": n, "exact": exact} for name, (n, exact) in figures.items()}


normalize_tracking_code = tracking_code_normalize  # the one parser, under the name this module exports


def issues_text_search(queryset: QuerySet[Issue], text: str) -> QuerySet[Issue]:
    """Issues whose code, address or description hold every word (cases.search), or whose
    tracking code is the text, however it was typed ("cg 4f7k-2m9q")."""
    code = normalize_tracking_code(text.strip())
    return issue_text_search(queryset, text, also=Q(tracking_code=code) if code else None)


def issues_filtered(
    user,
    *,
    status: str = "",
    category=None,
    neighborhood=None,
    neighborhood_ids=None,
    priority: str = "",
    overdue: bool | None = None,
    escalation_level: int | None = None,
    assignee: str = "",
    q: str = "",
    now: datetime | None = None,
) -> QuerySet[Issue]:
    """The /issues/ list: visible issues narrowed by the filter form, newest first.

    ``status`` is a status value or ``"open"`` / ``"finished"``; ``assignee`` is
    ``"me"``, ``"unassigned"`` or a user id; ``escalation_level`` ``n`` means "at
    least n" (3 shows everything that reached level 3 or beyond); ``neighborhood_ids`` narrows
    to a staff member's area (``core.area``).
    """
    now = now or timezone.now()
    queryset = with_overdue(issues_listed_to(user), now)
    # The statuses asked for, as one condition: "open" and "overdue" together are the escalating
    # statuses (two overlapping IN lists would make PostgreSQL misjudge how many rows match).
    groups = {"open": Issue.OPEN_STATUSES, "finished": Issue.FINISHED_STATUSES}
    statuses = groups.get(status, (status,) if status else None)
    if overdue is True:
        statuses = [s for s in (statuses or Issue.ESCALATING_STATUSES) if s in Issue.ESCALATING_STATUSES]
        queryset = queryset.filter(due_at__lt=now)
    if statuses is not None:
        queryset = queryset.filter(status=statuses[0]) if len(statuses) == 1 else queryset.filter(status__in=statuses)
    if category is not None:
        queryset = queryset.filter(category=category)
    if neighborhood is not None:
        queryset = queryset.filter(neighborhood=neighborhood)
    elif neighborhood_ids is not None:
        queryset = queryset.filter(neighborhood_id__in=sorted(neighborhood_ids))
    if priority:
        queryset = queryset.filter(priority=priority)
    if overdue is False:
        queryset = queryset.exclude(overdue_condition(now))
    if escalation_level is not None:
        queryset = (
            queryset.filter(escalation_level__gte=escalation_level)
            if escalation_level
            else queryset.filter(escalation_level=0)
        )
    if assignee == "me":
        queryset = queryset.filter(assignee=user)
    elif assignee == "unassigned":
        queryset = queryset.filter(assignee__isnull=True)
    elif assignee:
        queryset = queryset.filter(assignee_id=assignee)
    if q.strip():
        queryset = issues_text_search(queryset, q)
    return queryset.order_by("-created_at", "-id")


def issue_reports(issue: Issue) -> QuerySet[Report]:
    return issue.reports.select_related("created_by").order_by("created_at", "id")


def issue_timeline(issue: Issue) -> QuerySet[Event]:
    return issue.events.select_related("actor").order_by("created_at", "id")


def issue_duplicates(issue: Issue) -> QuerySet[Issue]:
    """Issues merged into this one."""
    return issue.duplicates.only("id", "tracking_code", "status", "duplicate_of").order_by("id")


def assignable_q() -> Q:
    """A user may work issues: active, and ``cases.work_issue`` through a group, directly, or superuser.

    Two EXISTS tests instead of joins: no row per group or permission to remove again with
    DISTINCT, so a statement reads the active users once (about 1 ms at 200 officers).
    """
    permission = Permission.objects.filter(content_type__app_label="cases", codename="work_issue").values("pk")
    through_group = User.groups.through.objects.filter(user=OuterRef("pk"), group__permissions__in=permission)
    direct = User.user_permissions.through.objects.filter(user=OuterRef("pk"), permission__in=permission)
    return Q(is_active=True) & (Q(is_superuser=True) | Exists(through_group) | Exists(direct))


def assignable_officers() -> QuerySet:
    """Active users who may work issues (``assignable_q``), by name."""
    return User.objects.filter(assignable_q()).order_by("last_name", "first_name", "username")


@functools.cache
def _officer_rows_sql() -> tuple[str, str, tuple]:
    """``assignable_officers`` as ``(database alias, SQL, parameters)``: the same text on every call."""
    rows = assignable_officers().values_list("pk", "first_name", "last_name", "username")
    return (rows.db, *rows.query.sql_with_params())


def assignable_officer_choices(*, with_username: bool = False) -> list[tuple[str, str]]:
    """``(id, full name or username)`` of every officer ``assignable_officers`` returns, in its order
    (``with_username``: "Full Name (username)" where there is a name, to tell namesakes apart).

    Every staff list's filter form shows them: the queryset's own SQL, compiled once per
    process and run as a prepared statement (``core.prepared``) — building and planning the
    queryset cost three times running it.
    """
    alias, sql, params = _officer_rows_sql()
    with connections[alias].cursor() as cursor:
        prepared.execute(cursor, sql, params)
        rows = cursor.fetchall()
    choices = []
    for pk, first, last, username in rows:
        name = f"{first} {last}".strip()
        label = (f"{name} ({username})" if with_username else name) if name else username
        choices.append((str(pk), label))
    return choices


def issue_by_tracking_code(user, code: str) -> Issue | None:
    """A visible issue by its tracking code, forgiving case, spaces and a missing ``CG-`` prefix."""
    code = normalize_tracking_code(code)
    return issues_visible_to(user).filter(tracking_code=code).first() if code else None


def issue_search(user, q: str, *, limit: int = 10, open_only: bool = False) -> list[Issue]:
    """Search-as-you-type for forms that link issues (e.g. outreach "issues addressed")."""
    q = (q or "").strip()[:100]
    if not q:
        return []
    queryset = issues_text_search(issues_visible_to(user), q)
    if open_only:
        queryset = queryset.filter(status__in=Issue.OPEN_STATUSES)
    # Exact tracking-code hits first, then open issues, then the newest.
    return list(
        queryset.annotate(
            exact=Case(
                When(tracking_code=normalize_tracking_code(q) or "", then=Value(0)),
                default=Value(1),
            ),
            finished=Case(When(status__in=Issue.OPEN_STATUSES, then=Value(0)), default=Value(1)),
        ).order_by("exact", "finished", "-created_at")[:limit]
    )
