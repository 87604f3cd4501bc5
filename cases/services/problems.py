"""SARA problem-solving projects: every write to a Problem goes through here.

Each function locks the Problem row, checks the move is allowed, saves only the
fields it changed and writes the Problem's timeline (ProblemEvent) in the same
transaction. Issues joining or leaving a Problem also get an Event of kind
``problem`` on their own timeline, so both sides tell the same story.

Who may do what is the caller's check (see ``cases.selectors.problems``):
supervisors lead (open, stage, issues, close), officers contribute (notes,
analysis, response plan).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Approach, Category, Event, Issue, Problem, ProblemEvent
from cases.services.issues import event_record
from core.text import clean_text
from partners.models import Neighborhood, Partner

__all__ = [
    "SARA_ORDER",
    "STAGE_MOVES",
    "problem_stage_moves",
    "problem_open",
    "problem_advance_stage",
    "problem_move_stage",
    "problem_add_issues",
    "problem_remove_issue",
    "problem_update_analysis",
    "problem_update_response",
    "problem_add_note",
    "problem_set_owner",
    "problem_close",
]

Stage = Problem.Stage
SARA_ORDER = [Stage.SCANNING, Stage.ANALYSIS, Stage.RESPONSE, Stage.ASSESSMENT]
# The SARA moves: from each stage, the stages a Problem may go to, forward move first. Forward
# one stage (``_stage_gate`` checks the work the stage was for is there); back one stage when
# the work shows the earlier one was not done, and from Assessment back to Analysis too (the
# response failed because the analysis missed the cause: SARA is a loop, not a line); closed,
# with an outcome, from any open stage (a hot spot that proves to be no problem is closed from
# Scanning). The problem page offers exactly these moves; the services refuse every other.
STAGE_MOVES: dict[str, tuple[str, ...]] = {
    Stage.SCANNING: (Stage.ANALYSIS, Stage.CLOSED),
    Stage.ANALYSIS: (Stage.RESPONSE, Stage.SCANNING, Stage.CLOSED),
    Stage.RESPONSE: (Stage.ASSESSMENT, Stage.ANALYSIS, Stage.CLOSED),
    Stage.ASSESSMENT: (Stage.CLOSED, Stage.RESPONSE, Stage.ANALYSIS),
    Stage.CLOSED: (),
}
ANALYSIS_FIELDS = ("analysis_place", "analysis_harmed", "analysis_causing", "analysis_when", "analysis_why")
TEXT_LIMIT = 5000


def _problem_event(*, problem: Problem, kind: str, actor, message: str = "", data=None, at=None) -> ProblemEvent:
    return ProblemEvent.objects.create(
        problem=problem,
        kind=kind,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        message=message,
        data=data or {},
        created_at=at or timezone.now(),
    )


def _locked(problem: Problem) -> Problem:
    return Problem.objects.select_for_update().get(pk=problem.pk)


def _require_open(problem: Problem) -> None:
    if problem.stage == Stage.CLOSED:
        raise ValidationError(_("This problem is closed; reopen work as a new problem."))


def _text(value, *, field: str, required: bool = False, max_length: int = TEXT_LIMIT) -> str:
    return clean_text(value, field=field, required=required, max_length=max_length)


def _attach(*, problem: Problem, issues: list[Issue], actor, now: datetime) -> list[Issue]:
    """Link issues (already locked by the caller) to the problem; both timelines record it."""
    attached = []
    for issue in issues:
        if issue.problem_id == problem.pk:
            continue
        if issue.problem_id is not None and issue.problem.stage != Stage.CLOSED:
            raise ValidationError(
                {
                    "issues": _("%(code)s already belongs to the open problem “%(title)s”.")
                    % {"code": issue.tracking_code, "title": issue.problem.title}
                }
            )
        previous = issue.problem_id
        issue.problem = problem
        issue.save(update_fields=["problem", "updated_at"])
        event_record(
            issue=issue,
            kind=Event.Kind.PROBLEM,
            actor=actor,
            message=_("Added to problem “%(title)s”.") % {"title": problem.title},
            data={"problem": problem.pk, "action": "added", "from": previous},
            at=now,
        )
        attached.append(issue)
    if attached:
        _problem_event(
            problem=problem,
            kind=ProblemEvent.Kind.ISSUE_ADDED,
            actor=actor,
            message=", ".join(i.tracking_code for i in attached),
            data={"issues": [i.pk for i in attached]},
            at=now,
        )
    return attached


def _lock_issues(issues: Iterable[Issue]) -> list[Issue]:
    ids = sorted({i.pk for i in issues})
    # Lock in id order so two supervisors linking overlapping sets cannot deadlock.
    locked = list(Issue.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk"))
    if len(locked) != len(ids):
        raise ValidationError({"issues": _("One of those issues no longer exists.")})
    # The lock is on the issue rows only; the problem each one belongs to is read alongside.
    problems = {p.pk: p for p in Problem.objects.filter(pk__in={i.problem_id for i in locked if i.problem_id})}
    for issue in locked:
        if issue.problem_id:
            issue.problem = problems[issue.problem_id]
    return locked


@transaction.atomic
def problem_open(
    *,
    title: str,
    actor,
    category: Category | None = None,
    neighborhood: Neighborhood | None = None,
    issues: Iterable[Issue] = (),
    owner=None,
    source: str = Problem.Source.MANUAL,
    note: str = "",
    now: datetime | None = None,
) -> Problem:
    """Open a Problem in the scanning stage, optionally grouping issues right away.

    Category and neighborhood default to those the issues share.
    """
    now = now or timezone.now()
    title = _text(title, field="title", required=True, max_length=200)
    note = _text(note, field="note")
    if source not in Problem.Source.values:
        raise ValidationError({"source": _("Unknown source.")})
    locked = _lock_issues(issues) if issues else []
    if category is None and locked and len({i.category_id for i in locked}) == 1:
        category = locked[0].category
    if neighborhood is None and locked and len({i.neighborhood_id for i in locked}) == 1:
        neighborhood = locked[0].neighborhood
    if owner is None and getattr(actor, "is_authenticated", False):
        owner = actor
    problem = Problem.objects.create(
        title=title,
        category=category,
        neighborhood=neighborhood,
        owner=owner,
        source=source,
        stage=Stage.SCANNING,
    )
    _problem_event(
        problem=problem,
        kind=ProblemEvent.Kind.OPENED,
        actor=actor,
        message=note,
        data={"source": source},
        at=now,
    )
    _attach(problem=problem, issues=locked, actor=actor, now=now)
    return problem


def _stage_gate(problem: Problem, target: str) -> None:
    """SARA discipline: each stage needs what the previous one was for."""
    if target == Stage.ANALYSIS and not problem.issues.exists():
        raise ValidationError(_("Group at least one issue before analysing the problem."))
    if target == Stage.RESPONSE and not any(getattr(problem, f).strip() for f in ANALYSIS_FIELDS):
        raise ValidationError(_("Write the analysis (place, those harmed, those causing it, when, why) first."))
    if target == Stage.ASSESSMENT and not (problem.approach and problem.response_plan.strip()):
        raise ValidationError(_("Choose the approach and write the response plan first."))


def problem_stage_moves(problem: Problem) -> tuple[str, ...]:
    """The stages ``problem`` may go to from where it stands (``STAGE_MOVES``), forward move first."""
    return STAGE_MOVES.get(problem.stage, ())


def _require_move(problem: Problem, target: str) -> None:
    _require_open(problem)
    if target not in Stage.values:
        raise ValidationError({"to": _("Unknown stage.")})
    if target not in STAGE_MOVES[problem.stage]:
        raise ValidationError(
            {
                "to": _("A problem in %(stage)s cannot move to %(target)s.")
                % {"stage": problem.get_stage_display(), "target": Stage(target).label}
            }
        )


def _move(*, problem: Problem, target: str, actor, note: str, now: datetime | None) -> Problem:
    """Move the locked, open ``problem`` to ``target`` (an allowed move other than closing)."""
    _require_move(problem, target)
    if target == Stage.CLOSED:
        raise ValidationError({"to": _("Close the problem with its outcome.")})
    previous = problem.stage
    forward = SARA_ORDER.index(Stage(target)) > SARA_ORDER.index(Stage(previous))
    if forward:
        _stage_gate(problem, target)
    now = now or timezone.now()
    problem.stage = target
    fields = ["stage", "updated_at"]
    # Entering Response from Analysis starts a response, and the clock the assessment measures
    # from; coming back to it from Assessment carries on with the response already under way.
    if target == Stage.RESPONSE and (problem.response_started_at is None or previous == Stage.ANALYSIS):
        problem.response_started_at = now
        fields.append("response_started_at")
    problem.save(update_fields=fields)
    _problem_event(
        problem=problem,
        kind=ProblemEvent.Kind.STAGE,
        actor=actor,
        message=_text(note, field="note"),
        data={"from": previous, "to": target, "back": not forward},
        at=now,
    )
    return problem


@transaction.atomic
def problem_move_stage(*, problem: Problem, to: str, actor, note: str = "", now: datetime | None = None) -> Problem:
    """Move to another SARA stage, forward or back, as ``STAGE_MOVES`` allows; closing is ``problem_close``."""
    return _move(problem=_locked(problem), target=to, actor=actor, note=note, now=now)


@transaction.atomic
def problem_advance_stage(*, problem: Problem, actor, note: str = "", now: datetime | None = None) -> Problem:
    """Move to the next SARA stage. Entering Response starts the clock the assessment measures from."""
    problem = _locked(problem)
    _require_open(problem)
    index = SARA_ORDER.index(Stage(problem.stage))
    if index == len(SARA_ORDER) - 1:
        raise ValidationError(_("Assessment is the last stage; close the problem with its outcome."))
    return _move(problem=problem, target=SARA_ORDER[index + 1], actor=actor, note=note, now=now)


@transaction.atomic
def problem_add_issues(*, problem: Problem, issues: Iterable[Issue], actor, now: datetime | None = None) -> list[Issue]:
    """Group more issues under the problem. Returns the issues newly linked."""
    problem = _locked(problem)
    _require_open(problem)
    issues = list(issues)
    if not issues:
        raise ValidationError({"issues": _("Choose at least one issue.")})
    return _attach(problem=problem, issues=_lock_issues(issues), actor=actor, now=now or timezone.now())


@transaction.atomic
def problem_remove_issue(
    *, problem: Problem, issue: Issue, actor, reason: str = "", now: datetime | None = None
) -> Issue:
    problem = _locked(problem)
    _require_open(problem)
    issue = Issue.objects.select_for_update().get(pk=issue.pk)
    if issue.problem_id != problem.pk:
        raise ValidationError({"issue": _("%(code)s is not part of this problem.") % {"code": issue.tracking_code}})
    reason = _text(reason, field="reason", max_length=500)
    now = now or timezone.now()
    issue.problem = None
    issue.save(update_fields=["problem", "updated_at"])
    event_record(
        issue=issue,
        kind=Event.Kind.PROBLEM,
        actor=actor,
        message=_("Removed from problem “%(title)s”.") % {"title": problem.title},
        data={"problem": problem.pk, "action": "removed", "reason": reason},
        at=now,
    )
    _problem_event(
        problem=problem,
        kind=ProblemEvent.Kind.ISSUE_REMOVED,
        actor=actor,
        message=issue.tracking_code + (f": {reason}" if reason else ""),
        data={"issue": issue.pk, "reason": reason},
        at=now,
    )
    return issue


def _apply_changes(problem: Problem, values: dict) -> list[str]:
    changed = [name for name, value in values.items() if getattr(problem, name) != value]
    for name in changed:
        setattr(problem, name, values[name])
    return changed


@transaction.atomic
def problem_update_analysis(
    *,
    problem: Problem,
    actor,
    place: str = "",
    harmed: str = "",
    causing: str = "",
    when: str = "",
    why: str = "",
    now: datetime | None = None,
) -> Problem:
    """The problem triangle, in aggregate: where, who is harmed, what behaviour causes it, when, why it recurs."""
    problem = _locked(problem)
    _require_open(problem)
    values = {
        "analysis_place": _text(place, field="place"),
        "analysis_harmed": _text(harmed, field="harmed"),
        "analysis_causing": _text(causing, field="causing"),
        "analysis_when": _text(when, field="when"),
        "analysis_why": _text(why, field="why"),
    }
    changed = _apply_changes(problem, values)
    if changed:
        problem.save(update_fields=changed + ["updated_at"])
        _problem_event(
            problem=problem,
            kind=ProblemEvent.Kind.UPDATED,
            actor=actor,
            message=_("Analysis updated."),
            data={"fields": changed},
            at=now,
        )
    return problem


@transaction.atomic
def problem_update_response(
    *,
    problem: Problem,
    actor,
    approach: str,
    plan: str,
    partners: Iterable[Partner] = (),
    now: datetime | None = None,
) -> Problem:
    """The response plan: the approach (deter / problem-solve / enforce), what will be done, with which partners."""
    problem = _locked(problem)
    _require_open(problem)
    if approach and approach not in Approach.values:
        raise ValidationError({"approach": _("Choose deter, problem-solve or enforce.")})
    values = {"approach": approach or "", "response_plan": _text(plan, field="plan")}
    changed = _apply_changes(problem, values)
    partner_ids = {p.pk for p in partners}
    before = set(problem.partners.values_list("pk", flat=True))
    if changed:
        problem.save(update_fields=changed + ["updated_at"])
    if partner_ids != before:
        problem.partners.set(partner_ids)
        changed.append("partners")
    if changed:
        _problem_event(
            problem=problem,
            kind=ProblemEvent.Kind.UPDATED,
            actor=actor,
            message=_("Response plan updated."),
            data={
                "fields": changed,
                "partners_added": sorted(partner_ids - before),
                "partners_removed": sorted(before - partner_ids),
            },
            at=now,
        )
    return problem


@transaction.atomic
def problem_add_note(*, problem: Problem, actor, text: str, now: datetime | None = None) -> ProblemEvent:
    problem = _locked(problem)
    text = _text(text, field="text", required=True)
    return _problem_event(problem=problem, kind=ProblemEvent.Kind.NOTE, actor=actor, message=text, at=now)


@transaction.atomic
def problem_set_owner(*, problem: Problem, owner, actor, now: datetime | None = None) -> Problem:
    problem = _locked(problem)
    _require_open(problem)
    if owner is not None and (not owner.is_active or not owner.has_perm("cases.change_problem")):
        raise ValidationError({"owner": _("%(name)s cannot work on problems.") % {"name": owner.get_username()}})
    if problem.owner_id == (owner.pk if owner else None):
        return problem
    previous = problem.owner_id
    problem.owner = owner
    problem.save(update_fields=["owner", "updated_at"])
    _problem_event(
        problem=problem,
        kind=ProblemEvent.Kind.UPDATED,
        actor=actor,
        message=_("Owner: %(name)s") % {"name": (owner.get_full_name() or owner.get_username()) if owner else "—"},
        data={"fields": ["owner"], "from": previous, "to": owner.pk if owner else None},
        at=now,
    )
    return problem


@transaction.atomic
def problem_close(*, problem: Problem, actor, outcome: str, note: str = "", now: datetime | None = None) -> Problem:
    """Close with the assessed outcome (POP Center's: eliminated, reduced, handled better, displaced, no change)."""
    problem = _locked(problem)
    _require_move(problem, Stage.CLOSED)
    if outcome not in Problem.Outcome.values:
        raise ValidationError({"outcome": _("Choose the outcome.")})
    note = _text(note, field="note")
    now = now or timezone.now()
    previous = problem.stage
    problem.stage = Stage.CLOSED
    problem.closed_at = now
    problem.outcome = outcome
    problem.outcome_note = note
    problem.save(update_fields=["stage", "closed_at", "outcome", "outcome_note", "updated_at"])
    _problem_event(
        problem=problem,
        kind=ProblemEvent.Kind.CLOSED,
        actor=actor,
        message=note,
        data={"from": previous, "outcome": outcome},
        at=now,
    )
    return problem
