"""Who may see and work which issues, and the querysets pages and the API share.

Department rule: every officer and supervisor may see every issue (problems
cross beat lines), but residents' contact details are shown only to the
assignee, officers attached to the issue's neighborhood or district, and
supervisors (permission ``cases.view_all_contact_details``). Acting on an issue
needs ``cases.work_issue`` and, for an officer, the issue being theirs or in
their area; supervisors (``cases.view_dashboard``) may act anywhere.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from cases.models import Issue
from partners.selectors import staff_area

__all__ = [
    "issues_visible_to",
    "issues_listed_to",
    "issue_for_user",
    "neighborhood_ids_of",
    "can_view_contacts",
    "can_work_issue",
    "is_supervisor",
    "issue_queue_for",
    "issue_queue_branches",
]


def _has_perm(user, perm: str) -> bool:
    """``user.has_perm(perm)``, remembered on the user object.

    Django keeps the user's permission set on the object already; an API list still asks
    for each row (who may work it, who may see its contacts), and each ask walks the
    authentication backends: a few hundred asks a page. The answers live as long as
    Django's own cache does, with the object (one request).
    """
    memo = getattr(user, "_cg_has_perm", None)
    if memo is None:
        memo = user._cg_has_perm = {}
    if perm not in memo:
        memo[perm] = user.has_perm(perm)
    return memo[perm]


def _is_staff_member(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and _has_perm(user, "cases.view_issue"))


def neighborhood_ids_of(user) -> frozenset[int]:
    """Neighborhoods a staff member is attached to, directly or through whole districts (cached)."""
    return staff_area(user).neighborhood_ids


def issues_visible_to(user) -> QuerySet[Issue]:
    """Issues a user may see, with what list pages show already joined."""
    if not _is_staff_member(user):
        return Issue.objects.none()
    return Issue.objects.select_related("category", "neighborhood", "assignee", "problem")


def issues_listed_to(user) -> QuerySet[Issue]:
    """``issues_visible_to`` for lists: a row never draws its neighborhood's boundary (a polygon
    that can weigh kilobytes), so it is not read and decoded for every row of a page."""
    return issues_visible_to(user).defer("neighborhood__boundary")


def issue_for_user(user, pk) -> Issue:
    """One issue the user may see, or 404."""
    return get_object_or_404(issues_visible_to(user), pk=pk)


def can_view_contacts(user, issue: Issue) -> bool:
    if not _is_staff_member(user):
        return False
    if _has_perm(user, "cases.view_all_contact_details"):
        return True
    return issue.assignee_id == user.pk or issue.neighborhood_id in neighborhood_ids_of(user)


def is_supervisor(user) -> bool:
    return _is_staff_member(user) and _has_perm(user, "cases.view_dashboard")


def can_work_issue(user, issue: Issue) -> bool:
    """Act on an issue: supervisors anywhere; officers on issues assigned to them or in their area."""
    if not (_is_staff_member(user) and _has_perm(user, "cases.work_issue")):
        return False
    if is_supervisor(user):
        return True
    return issue.assignee_id == user.pk or issue.neighborhood_id in neighborhood_ids_of(user)


def issue_queue_for(user) -> QuerySet[Issue]:
    """My queue: open issues assigned to me, plus unassigned open issues in my neighborhoods, by due time."""
    if not _is_staff_member(user):
        return Issue.objects.none()
    mine = Q(assignee=user)
    unassigned_here = Q(assignee__isnull=True, neighborhood_id__in=neighborhood_ids_of(user))
    return (
        issues_listed_to(user)
        .filter(status__in=Issue.OPEN_STATUSES)
        .filter(mine | unassigned_here)
        .order_by("due_at", "id")
    )


def issue_queue_branches(user) -> list[QuerySet[Issue]]:
    """``issue_queue_for`` as disjoint parts, each served in due order by its own index
    (issue_open_assignee_due_idx; issue_unassigned_nbhd_due_idx per neighborhood): a page of
    the queue reads a page from each (core.pagination) rather than every issue that matches."""
    if not _is_staff_member(user):
        return []
    open_issues = Issue.objects.filter(status__in=Issue.OPEN_STATUSES)
    return [open_issues.filter(assignee=user)] + [
        open_issues.filter(assignee__isnull=True, neighborhood_id=pk) for pk in sorted(neighborhood_ids_of(user))
    ]
