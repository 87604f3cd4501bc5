"""Supervisors' decisions on escalated issues (the dashboard's "needs a decision" list).

An issue whose ladder asks for a decision waits on the list until a supervisor decides:
assign it (one issue or several to one officer), let the handling continue, or open a
Problem around it. Each records the decision on every undecided escalation of the issue.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Escalation, Event, Issue, Problem
from cases.services.issues import event_record, issue_acknowledge, issue_assign
from cases.services.problems import problem_open
from core.text import clean_text

__all__ = [
    "escalation_decide",
    "decision_assign",
    "decision_assign_many",
    "decision_acknowledge",
    "decision_open_problem",
]


@transaction.atomic
def escalation_decide(*, issue: Issue, actor, decision: str, now: datetime | None = None) -> int:
    """Record a supervisor's decision on an issue waiting for one.

    Every undecided escalation of the issue gets ``decided_at``/``decided_by``,
    and the issue leaves the "needs a decision" list. Returns how many
    escalations were decided; deciding twice finds nothing the second time.
    """
    now = now or timezone.now()
    decision = clean_text(decision, field="decision", max_length=200)
    issue = Issue.objects.select_for_update().get(pk=issue.pk)
    decided = Escalation.objects.filter(issue=issue, decided_at__isnull=True).update(
        decided_at=now, decided_by=actor, decision=decision
    )
    if not decided and not issue.needs_decision:
        raise ValidationError(_("%(code)s is not waiting for a decision.") % {"code": issue.tracking_code})
    if issue.needs_decision:
        issue.needs_decision = False
        issue.save(update_fields=["needs_decision", "updated_at"])
    event_record(
        issue=issue,
        kind=Event.Kind.NOTE,
        actor=actor,
        message=_("Supervisor's decision: %(decision)s") % {"decision": decision},
        data={"decision": decision, "escalations_decided": decided},
        at=now,
    )
    return decided


@transaction.atomic
def decision_assign(*, issue: Issue, officer, actor) -> Issue:
    """Decide by assigning the issue to an officer."""
    if officer is None:
        raise ValidationError({"officer": _("Choose an officer.")})
    issue = issue_assign(issue=issue, officer=officer, actor=actor)
    escalation_decide(
        issue=issue,
        actor=actor,
        decision=_("Assigned to %(name)s") % {"name": officer.get_full_name() or officer.get_username()},
    )
    return issue


@transaction.atomic
def decision_assign_many(*, issues: list[Issue], officer, actor) -> tuple[list[Issue], dict[Issue, str]]:
    """Decide several escalated issues at once, each by assigning it to the same officer.

    Each issue is decided in its own savepoint: one that can no longer be (finished or decided
    meanwhile) is left as it was and returned with the reason, and the others are still assigned.
    """
    if officer is None:
        raise ValidationError({"officer": _("Choose an officer.")})
    assigned, refused = [], {}
    for issue in issues:
        try:
            assigned.append(decision_assign(issue=issue, officer=officer, actor=actor))
        except ValidationError as error:
            refused[issue] = " ".join(error.messages)
    return assigned, refused


@transaction.atomic
def decision_acknowledge(*, issue: Issue, actor) -> Issue:
    """Decide to let the current handling continue; a new issue is acknowledged at the same time."""
    if issue.status == Issue.Status.NEW:
        issue = issue_acknowledge(issue=issue, actor=actor)
    escalation_decide(issue=issue, actor=actor, decision=_("Acknowledged; handling continues"))
    return issue


@transaction.atomic
def decision_open_problem(*, issue: Issue, actor, title: str = "") -> Problem:
    """Decide that the issue is part of a recurring problem: open a Problem around it."""
    if not issue.is_open:
        raise ValidationError(_("Only an open issue can start a problem-solving project."))
    title = title.strip() or _("%(category)s in %(neighborhood)s") % {
        "category": issue.category.name,
        "neighborhood": issue.neighborhood.name,
    }
    problem = problem_open(title=title, actor=actor, issues=[issue], source=Problem.Source.ESCALATION)
    escalation_decide(
        issue=issue, actor=actor, decision=_("Problem #%(id)d opened: %(title)s") % {"id": problem.pk, "title": title}
    )
    return problem
