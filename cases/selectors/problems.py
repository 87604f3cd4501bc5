"""Reads behind the SARA problem pages: who may do what, lists, a Problem's issues and its assessment.

Every officer and supervisor may read every Problem. Officers contribute
(notes, analysis, response plan: ``cases.change_problem``); supervisors lead
(open, move stages, group or remove issues, close: ``cases.view_dashboard``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import Case, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from cases.models import Issue, Problem, ProblemEvent
from cases.selectors.issues import is_supervisor

__all__ = [
    "ProblemFilters",
    "ACTIVE_STAGES",
    "can_view_problems",
    "can_contribute_to_problem",
    "can_lead_problems",
    "problems_visible_to",
    "problem_list",
    "problem_stage_counts",
    "problem_for_user",
    "problem_issues",
    "problem_timeline",
    "problem_candidate_issues",
    "problem_activities",
    "problem_assessment",
    "Assessment",
    "problem_page",
    "stage_total",
]

ACTIVE_STAGES = [
    Problem.Stage.SCANNING,
    Problem.Stage.ANALYSIS,
    Problem.Stage.RESPONSE,
    Problem.Stage.ASSESSMENT,
]
# The assessment looks at most this far either side of the response's start.
ASSESSMENT_MAX_WINDOW = timedelta(days=180)


def can_view_problems(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_perm("cases.view_problem"))


def can_contribute_to_problem(user, problem: Problem | None = None) -> bool:
    return can_view_problems(user) and user.has_perm("cases.change_problem")


def can_lead_problems(user) -> bool:
    return can_view_problems(user) and is_supervisor(user)


def problems_visible_to(user) -> QuerySet[Problem]:
    if not can_view_problems(user):
        return Problem.objects.none()
    return Problem.objects.select_related("category", "neighborhood", "owner")


@dataclass(frozen=True)
class ProblemFilters:
    """``stage`` is a stage value, ``"active"`` (every stage but closed) or ``""`` (all)."""

    stage: str = "active"
    neighborhood_id: int | None = None
    district: str = ""
    category_id: int | None = None
    owner_id: int | None = None
    q: str = ""
    # A staff member's area (``core.area``): problems in these neighborhoods, and those of none.
    neighborhood_ids: frozenset[int] | None = None


def _filtered(user, filters: ProblemFilters, *, with_stage: bool = True) -> QuerySet[Problem]:
    qs = problems_visible_to(user)
    if with_stage:
        if filters.stage == "active":
            qs = qs.filter(stage__in=ACTIVE_STAGES)
        elif filters.stage:
            qs = qs.filter(stage=filters.stage)
    if filters.neighborhood_id:
        qs = qs.filter(neighborhood_id=filters.neighborhood_id)
    if filters.district:
        qs = qs.filter(neighborhood__district=filters.district)
    if filters.neighborhood_ids is not None:
        # A problem of no one neighborhood (the whole city, a corridor) concerns every area.
        qs = qs.filter(Q(neighborhood_id__in=sorted(filters.neighborhood_ids)) | Q(neighborhood__isnull=True))
    if filters.category_id:
        qs = qs.filter(category_id=filters.category_id)
    if filters.owner_id:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.q.strip():
        qs = qs.filter(title__icontains=filters.q.strip())
    return qs


def _stage_rank():
    return Case(
        *[When(stage=stage, then=Value(i)) for i, stage in enumerate([*ACTIVE_STAGES, Problem.Stage.CLOSED])],
        output_field=IntegerField(),
    )


def _issue_count(only_open: bool = False) -> Coalesce:
    """A problem's issues (or its open ones), counted for each row shown: a correlated count read
    from issue_problem_idx, so a page of problems reads its own issues, not every grouped issue
    (a GROUP BY over the join read all of them before the first page: 250 ms at 1 000 000 issues)."""
    issues = Issue.objects.filter(problem=OuterRef("pk"))
    if only_open:
        issues = issues.filter(status__in=Issue.OPEN_STATUSES)
    counted = issues.order_by().values("problem").annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def problem_list(user, filters: ProblemFilters) -> QuerySet[Problem]:
    """Problems by SARA stage (scanning first), newest first within a stage; issue counts in SQL."""
    return (
        _filtered(user, filters)
        .annotate(
            issue_count=_issue_count(),
            open_issue_count=_issue_count(only_open=True),
            stage_rank=_stage_rank(),
        )
        .order_by("stage_rank", "-created_at", "-id")
    )


def problem_page(user, filters: ProblemFilters, number, *, size: int, counts: dict[str, int]) -> Page:
    """Page ``number`` of ``problem_list``, its total taken from ``counts`` (``problem_stage_counts``).

    The page's ids are sorted on the problems alone; only that page's rows are then read with
    their joins and issue counts. (Sorting every matching problem with its category, neighborhood
    and owner carried along was most of the list's statement: 6.5 ms of 8 at 1 100 problems.)
    """
    listed = problem_list(user, filters)
    paginator = Paginator(listed.values_list("pk", flat=True), size)
    # The stage tabs' figures already count what the list holds: no second COUNT(*).
    paginator.count = stage_total(counts, filters.stage)
    page = paginator.get_page(number)
    ids = list(page.object_list)
    rows = {problem.pk: problem for problem in listed.filter(pk__in=ids)}
    page.object_list = [rows[pk] for pk in ids if pk in rows]
    return page


def stage_total(counts: dict[str, int], stage: str) -> int:
    """How many problems a stage tab holds, from ``problem_stage_counts``: "active", one stage, or "" (all)."""
    return counts.get(stage, sum(counts[s] for s in Problem.Stage.values))


def problem_stage_counts(user, filters: ProblemFilters) -> dict[str, int]:
    """How many problems each stage holds under the other filters (one query)."""
    rows = _filtered(user, filters, with_stage=False).values("stage").annotate(n=Count("id")).order_by()
    counts = dict.fromkeys(Problem.Stage.values, 0)
    for row in rows:
        counts[row["stage"]] = row["n"]
    counts["active"] = sum(counts[s] for s in ACTIVE_STAGES)
    return counts


def problem_for_user(user, pk) -> Problem:
    return get_object_or_404(problems_visible_to(user).prefetch_related("partners"), pk=pk)


def problem_issues(problem: Problem, now: datetime | None = None) -> list[Issue]:
    """The grouped issues, oldest first, with what the table and the map show."""
    from cases.selectors.staff import with_overdue

    return list(
        with_overdue(problem.issues.select_related("category", "neighborhood", "assignee"), now).order_by(
            "created_at", "id"
        )
    )


def problem_timeline(problem: Problem) -> QuerySet[ProblemEvent]:
    return problem.events.select_related("actor").order_by("created_at", "id")


def problem_candidate_issues(problem: Problem, *, limit: int = 20) -> list[Issue]:
    """Open issues of the problem's category in its neighborhood not grouped yet: the likely additions."""
    if problem.category_id is None or problem.neighborhood_id is None or problem.stage == Problem.Stage.CLOSED:
        return []
    return list(
        Issue.objects.filter(
            category_id=problem.category_id,
            neighborhood_id=problem.neighborhood_id,
            status__in=Issue.OPEN_STATUSES,
        )
        .filter(Q(problem__isnull=True) | Q(problem__stage=Problem.Stage.CLOSED))
        .select_related("category")
        .order_by("-created_at")[:limit]
    )


def problem_activities(problem: Problem):
    """Outreach activities logged against the problem (linked from the outreach log)."""
    # The reverse accessor keeps cases from importing outreach (apps depend one way).
    return problem.activities.select_related("neighborhood").order_by("-starts_at")


@dataclass(frozen=True)
class Assessment:
    """Issues of the problem's category in its neighborhood, before and after the response began."""

    response_started_at: datetime
    window_days: float
    before_start: datetime
    after_end: datetime
    before: int
    after: int

    @property
    def change(self) -> int:
        return self.after - self.before

    @property
    def change_pct(self) -> float | None:
        return None if self.before == 0 else round(100 * (self.after - self.before) / self.before, 1)


def problem_assessment(problem: Problem, now: datetime | None = None) -> Assessment | None:
    """Counts in two equal windows either side of ``response_started_at`` (POP Center practice).

    The "after" window runs from the response's start to now (or to closing),
    capped at 180 days; the "before" window is just as long. Duplicates are not
    counted: they are the same incident reported twice. None until the response starts.
    """
    start = problem.response_started_at
    if start is None or problem.category_id is None or problem.neighborhood_id is None:
        return None
    end = problem.closed_at or now or timezone.now()
    window = min(max(end - start, timedelta(0)), ASSESSMENT_MAX_WINDOW)
    before_start, after_end = start - window, start + window
    counts = (
        Issue.objects.filter(
            category_id=problem.category_id,
            neighborhood_id=problem.neighborhood_id,
            created_at__gte=before_start,
            created_at__lt=after_end,
        )
        .exclude(status=Issue.Status.DUPLICATE)
        .aggregate(
            before=Count("id", filter=Q(created_at__lt=start)), after=Count("id", filter=Q(created_at__gte=start))
        )
    )
    return Assessment(
        response_started_at=start,
        window_days=round(window.total_seconds() / 86400, 1),
        before_start=before_start,
        after_end=after_end,
        before=counts["before"],
        after=counts["after"],
    )
