"""SARA problem services: every write lands in the Problem's timeline (and the issues' own)."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from cases.escalation.decisions import decision_acknowledge, decision_assign, decision_open_problem, escalation_decide
from cases.models import Escalation, EscalationRule, Event, Issue, Problem, ProblemEvent
from cases.selectors.problems import problem_assessment
from cases.services import (
    problem_add_issues,
    problem_add_note,
    problem_advance_stage,
    problem_close,
    problem_open,
    problem_remove_issue,
    problem_set_owner,
    problem_update_analysis,
    problem_update_response,
)
from tests import factories

pytestmark = pytest.mark.django_db
Stage = Problem.Stage


def kinds(problem):
    return list(problem.events.order_by("created_at", "id").values_list("kind", flat=True))


@pytest.fixture
def issues(neighborhood, category):
    return [factories.IssueFactory(neighborhood=neighborhood, category=category) for _ in range(3)]


def test_open_groups_issues_and_takes_their_place_and_category(supervisor, issues, neighborhood, category):
    problem = problem_open(title="  Tags on Main St  ", actor=supervisor, issues=issues[:2], note="Third this month")
    assert problem.title == "Tags on Main St"
    assert (problem.stage, problem.source, problem.owner) == (Stage.SCANNING, Problem.Source.MANUAL, supervisor)
    assert (problem.category, problem.neighborhood) == (category, neighborhood)
    assert kinds(problem) == [ProblemEvent.Kind.OPENED, ProblemEvent.Kind.ISSUE_ADDED]
    added = problem.events.get(kind=ProblemEvent.Kind.ISSUE_ADDED)
    assert sorted(added.data["issues"]) == sorted(i.pk for i in issues[:2])
    for issue in issues[:2]:
        issue.refresh_from_db()
        assert issue.problem == problem
        event = Event.objects.get(issue=issue, kind=Event.Kind.PROBLEM)
        assert event.actor == supervisor and event.data["action"] == "added"
    assert issues[2].problem is None


def test_open_refuses_bad_input_and_saves_nothing(supervisor, issues):
    with pytest.raises(ValidationError) as error:
        problem_open(title="   ", actor=supervisor, issues=issues)
    assert "title" in error.value.message_dict
    other = problem_open(title="First", actor=supervisor, issues=issues[:1])
    with pytest.raises(ValidationError) as error:
        problem_open(title="Second", actor=supervisor, issues=issues[:2])
    assert "already belongs to the open problem" in str(error.value)
    assert Problem.objects.count() == 1
    issues[1].refresh_from_db()
    assert issues[1].problem is None
    problem_close(problem=other, actor=supervisor, outcome=Problem.Outcome.REDUCED)
    # An issue of a closed problem may join a new one.
    again = problem_open(title="Second", actor=supervisor, issues=issues[:2])
    issues[0].refresh_from_db()
    assert issues[0].problem == again


def test_stages_advance_in_sara_order_with_gates(supervisor, issues):
    problem = problem_open(title="Dumping", actor=supervisor)
    with pytest.raises(ValidationError, match="at least one issue"):
        problem_advance_stage(problem=problem, actor=supervisor)
    problem_add_issues(problem=problem, issues=issues, actor=supervisor)
    problem = problem_advance_stage(problem=problem, actor=supervisor, note="Enough to analyse")
    assert problem.stage == Stage.ANALYSIS
    with pytest.raises(ValidationError, match="analysis"):
        problem_advance_stage(problem=problem, actor=supervisor)
    problem_update_analysis(problem=problem, actor=supervisor, place="Alley behind the market", why="No lighting")
    with time_machine.travel(timezone.now() + timedelta(days=1), tick=False):
        problem = problem_advance_stage(problem=problem, actor=supervisor)
        assert problem.stage == Stage.RESPONSE
        assert problem.response_started_at == timezone.now()
    with pytest.raises(ValidationError, match="approach"):
        problem_advance_stage(problem=problem, actor=supervisor)
    problem_update_response(problem=problem, actor=supervisor, approach="problem_solve", plan="Lights with the city")
    problem = problem_advance_stage(problem=problem, actor=supervisor)
    assert problem.stage == Stage.ASSESSMENT
    with pytest.raises(ValidationError, match="last stage"):
        problem_advance_stage(problem=problem, actor=supervisor)
    stage_events = problem.events.filter(kind=ProblemEvent.Kind.STAGE).order_by("id")
    assert [(e.data["from"], e.data["to"]) for e in stage_events] == [
        ("scanning", "analysis"),
        ("analysis", "response"),
        ("response", "assessment"),
    ]
    assert stage_events[0].message == "Enough to analyse"


def test_remove_issue_writes_both_timelines(supervisor, issues):
    problem = problem_open(title="Tags", actor=supervisor, issues=issues)
    problem_remove_issue(problem=problem, issue=issues[0], actor=supervisor, reason="Different wall")
    issues[0].refresh_from_db()
    assert issues[0].problem is None
    removed = problem.events.get(kind=ProblemEvent.Kind.ISSUE_REMOVED)
    assert removed.data == {"issue": issues[0].pk, "reason": "Different wall"}
    event = Event.objects.filter(issue=issues[0], kind=Event.Kind.PROBLEM).latest("id")
    assert event.data["action"] == "removed"
    with pytest.raises(ValidationError, match="not part of this problem"):
        problem_remove_issue(problem=problem, issue=issues[0], actor=supervisor)


def test_analysis_and_response_record_what_changed(supervisor, issues):
    partners = [factories.PartnerFactory(), factories.PartnerFactory()]
    problem = problem_open(title="Noise", actor=supervisor, issues=issues)
    problem_update_analysis(problem=problem, actor=supervisor, place="Corner lot", harmed="Residents nearby")
    updated = problem.events.get(kind=ProblemEvent.Kind.UPDATED)
    assert sorted(updated.data["fields"]) == ["analysis_harmed", "analysis_place"]
    # Saving the same text again is not a change.
    problem_update_analysis(problem=problem, actor=supervisor, place="Corner lot", harmed="Residents nearby")
    assert problem.events.filter(kind=ProblemEvent.Kind.UPDATED).count() == 1
    problem_update_response(problem=problem, actor=supervisor, approach="deter", plan="Patrols", partners=partners)
    problem.refresh_from_db()
    assert set(problem.partners.all()) == set(partners)
    last = problem.events.latest("id")
    assert sorted(last.data["partners_added"]) == sorted(p.pk for p in partners)
    with pytest.raises(ValidationError):
        problem_update_response(problem=problem, actor=supervisor, approach="ignore", plan="")
    with pytest.raises(ValidationError):
        problem_update_analysis(problem=problem, actor=supervisor, why="x" * 5001)


def test_note_owner_and_close(supervisor, officer, issues):
    problem = problem_open(title="Dumping", actor=supervisor, issues=issues)
    problem_add_note(problem=problem, actor=officer, text="Spoke with the landlord")
    assert problem.events.get(kind=ProblemEvent.Kind.NOTE).actor == officer
    with pytest.raises(ValidationError):
        problem_add_note(problem=problem, actor=officer, text="  ")
    problem_set_owner(problem=problem, owner=officer, actor=supervisor)
    problem.refresh_from_db()
    assert problem.owner == officer
    with pytest.raises(ValidationError, match="outcome"):
        problem_close(problem=problem, actor=supervisor, outcome="")
    problem = problem_close(problem=problem, actor=supervisor, outcome="eliminated", note="No reports in 60 days")
    assert problem.stage == Stage.CLOSED and problem.closed_at is not None
    assert problem.events.latest("id").data == {"from": "scanning", "outcome": "eliminated"}
    for write in (
        lambda: problem_advance_stage(problem=problem, actor=supervisor),
        lambda: problem_add_issues(problem=problem, issues=[factories.IssueFactory()], actor=supervisor),
        lambda: problem_close(problem=problem, actor=supervisor, outcome="reduced"),
    ):
        with pytest.raises(ValidationError, match="closed"):
            write()


def test_assessment_counts_equal_windows_around_the_response(supervisor, neighborhood, category):
    start = timezone.now() - timedelta(days=10)
    problem = factories.ProblemFactory(
        category=category, neighborhood=neighborhood, stage=Stage.RESPONSE, response_started_at=start
    )
    other_place = factories.NeighborhoodFactory()

    def issue(days_from_start, **kw):
        created = start + timedelta(days=days_from_start)
        return factories.IssueFactory(
            category=kw.pop("category", category),
            neighborhood=kw.pop("neighborhood", neighborhood),
            created_at=created,
            due_at=created + timedelta(hours=72),
            **kw,
        )

    for d in (-9.5, -5, -1, -0.1):  # 4 before, inside the 10-day window
        issue(d)
    issue(-11)  # before the window
    for d in (0, 3):  # 2 since
        issue(d)
    issue(2, neighborhood=other_place)  # elsewhere
    issue(2, category=factories.CategoryFactory())  # another kind
    dup_of = issue(4)
    issue(5, status=Issue.Status.DUPLICATE, duplicate_of=dup_of, outcome="duplicate", resolved_at=start)
    result = problem_assessment(problem)
    assert (result.before, result.after) == (4, 3)
    assert result.window_days == pytest.approx(10.0, abs=0.01)
    assert result.change == -1 and result.change_pct == -25.0
    assert problem_assessment(factories.ProblemFactory(category=category, neighborhood=neighborhood)) is None


def test_escalation_decisions(supervisor, neighborhood, category):
    issue = factories.IssueFactory(neighborhood=neighborhood, category=category, needs_decision=True)
    escalation = Escalation.objects.create(
        issue=issue, level=3, action=EscalationRule.Action.NEEDS_DECISION, created_at=timezone.now()
    )
    officer = factories.officer()
    decision_assign(issue=issue, officer=officer, actor=supervisor)
    escalation.refresh_from_db()
    issue.refresh_from_db()
    assert escalation.decided_by == supervisor and escalation.decided_at is not None
    assert issue.assignee == officer and issue.needs_decision is False
    with pytest.raises(ValidationError, match="not waiting"):
        escalation_decide(issue=issue, actor=supervisor, decision="again")

    second = factories.IssueFactory(neighborhood=neighborhood, category=category, needs_decision=True)
    decision_acknowledge(issue=second, actor=supervisor)
    second.refresh_from_db()
    assert second.status == Issue.Status.ACKNOWLEDGED and not second.needs_decision

    third = factories.IssueFactory(neighborhood=neighborhood, category=category, needs_decision=True)
    problem = decision_open_problem(issue=third, actor=supervisor)
    assert problem.source == Problem.Source.ESCALATION
    assert problem.title == f"{category.name} in {neighborhood.name}"
    third.refresh_from_db()
    assert third.problem == problem and not third.needs_decision
    with pytest.raises(ValidationError):
        decision_assign(issue=third, officer=None, actor=supervisor)
