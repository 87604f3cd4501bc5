"""The SARA moves (issue 19, item 7): one table, ``cases.services.STAGE_MOVES``, says where a
Problem may go from each stage. The service takes exactly those moves and refuses the rest with a
message; the problem page offers exactly those as buttons, and a POST made by hand for any other
move is a 400 that changes nothing."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cases.models import Approach, Problem, ProblemEvent
from cases.services import (
    SARA_ORDER,
    STAGE_MOVES,
    problem_advance_stage,
    problem_close,
    problem_move_stage,
    problem_open,
)
from tests import factories

pytestmark = pytest.mark.django_db
Stage = Problem.Stage
PAIRS = [(stage, target) for stage in Stage.values for target in Stage.values if target != stage]


@pytest.fixture
def make(supervisor, neighborhood, category):
    """A Problem at ``stage`` with the work of every stage done, so no gate stands in a move's way."""

    def at(stage):
        issues = [factories.IssueFactory(neighborhood=neighborhood, category=category)]
        problem = problem_open(title=f"Tags ({stage})", actor=supervisor, issues=issues)
        Problem.objects.filter(pk=problem.pk).update(
            stage=stage,
            analysis_place="Back wall of the laundromat",
            approach=Approach.PROBLEM_SOLVE,
            response_plan="Mural with the youth league",
            response_started_at=timezone.now() - timedelta(days=10) if stage in ("response", "assessment") else None,
            closed_at=timezone.now() if stage == Stage.CLOSED else None,
        )
        problem.refresh_from_db()
        return problem

    return at


def _state(problem):
    problem.refresh_from_db()
    return (problem.stage, problem.closed_at, problem.response_started_at, problem.events.count())


def test_the_table_is_sara():
    """Forward one stage, back one (Assessment also back to Analysis), closed from any open stage."""
    assert set(STAGE_MOVES) == set(Stage.values) and STAGE_MOVES[Stage.CLOSED] == ()
    for index, stage in enumerate(SARA_ORDER):
        moves = STAGE_MOVES[stage]
        assert Stage.CLOSED in moves and len(set(moves)) == len(moves)
        if index + 1 < len(SARA_ORDER):
            assert moves[0] == SARA_ORDER[index + 1]  # the forward move first
        for target in moves:
            if target != Stage.CLOSED:
                assert SARA_ORDER.index(target) in (index + 1, index - 1) or (stage, target) == (
                    "assessment",
                    "analysis",
                )
    assert STAGE_MOVES[Stage.SCANNING] == (Stage.ANALYSIS, Stage.CLOSED)  # nothing before Scanning


@pytest.mark.parametrize("stage, target", PAIRS, ids=[f"{s}-to-{t}" for s, t in PAIRS])
def test_the_service_takes_the_allowed_moves_and_refuses_the_rest(make, supervisor, stage, target):
    problem = make(stage)
    before = _state(problem)
    allowed = target in STAGE_MOVES[stage]
    if target == Stage.CLOSED:
        if allowed:
            problem_close(problem=problem, actor=supervisor, outcome=Problem.Outcome.REDUCED)
            assert _state(problem)[0] == Stage.CLOSED
        else:
            with pytest.raises(ValidationError):
                problem_close(problem=problem, actor=supervisor, outcome=Problem.Outcome.REDUCED)
            assert _state(problem) == before
        # Closing takes an outcome: the stage move never closes.
        problem = make(stage)
        before = _state(problem)
        with pytest.raises(ValidationError):
            problem_move_stage(problem=problem, to=target, actor=supervisor)
        assert _state(problem) == before
        return
    if allowed:
        problem_move_stage(problem=problem, to=target, actor=supervisor, note="Why")
        assert _state(problem)[0] == target
        event = problem.events.latest("id")
        assert event.kind == ProblemEvent.Kind.STAGE and event.message == "Why"
        assert event.data == {"from": stage, "to": target, "back": SARA_ORDER.index(target) < SARA_ORDER.index(stage)}
    else:
        with pytest.raises(ValidationError) as refused:
            problem_move_stage(problem=problem, to=target, actor=supervisor)
        said = " ".join(refused.value.messages)
        if stage == Stage.CLOSED:
            assert "closed" in said
        else:
            assert f"cannot move to {Stage(target).label}" in said
        assert _state(problem) == before


def test_an_unknown_stage_is_refused(make, supervisor):
    problem = make(Stage.ANALYSIS)
    before = _state(problem)
    with pytest.raises(ValidationError, match="Unknown stage"):
        problem_move_stage(problem=problem, to="done", actor=supervisor)
    assert _state(problem) == before


def test_forward_moves_keep_their_gates_back_moves_need_none(supervisor, neighborhood, category):
    issue = factories.IssueFactory(neighborhood=neighborhood, category=category)
    problem = problem_open(title="Dumping", actor=supervisor, issues=[issue])
    problem_move_stage(problem=problem, to=Stage.ANALYSIS, actor=supervisor)
    with pytest.raises(ValidationError, match="Write the analysis"):
        problem_move_stage(problem=problem, to=Stage.RESPONSE, actor=supervisor)
    # Back to Scanning with nothing written: going back asks for no work done.
    assert problem_move_stage(problem=problem, to=Stage.SCANNING, actor=supervisor).stage == Stage.SCANNING


def test_a_new_response_restarts_the_assessment_clock_a_return_to_it_does_not(make, supervisor):
    problem = make(Stage.ASSESSMENT)
    started = problem.response_started_at
    problem = problem_move_stage(problem=problem, to=Stage.RESPONSE, actor=supervisor, note="Lights not on yet")
    assert problem.response_started_at == started  # the same response, carried on
    problem = problem_move_stage(problem=problem, to=Stage.ANALYSIS, actor=supervisor, note="Wrong cause")
    assert problem.response_started_at == started
    later = timezone.now() + timedelta(days=3)
    problem = problem_move_stage(problem=problem, to=Stage.RESPONSE, actor=supervisor, now=later)
    assert problem.response_started_at == later  # a new response, measured from its start


def test_advance_is_the_forward_move_of_the_table(make, supervisor):
    for stage in SARA_ORDER[:-1]:
        problem = problem_advance_stage(problem=make(stage), actor=supervisor)
        assert problem.stage == STAGE_MOVES[stage][0]
    with pytest.raises(ValidationError, match="last stage"):
        problem_advance_stage(problem=make(Stage.ASSESSMENT), actor=supervisor)


# --- the page ---------------------------------------------------------------------------------


def _offered(html):
    """The stage buttons of the page's move form, and whether the close form is there."""
    moves = re.findall(r'<button type="submit" name="to" value="(\w+)"', html)
    return moves, 'class="close-form"' in html


@pytest.mark.parametrize("stage", Stage.values)
def test_the_page_offers_exactly_the_moves_of_the_table(client, supervisor, make, stage):
    problem = make(stage)
    client.force_login(supervisor)
    html = client.get(f"/problems/{problem.pk}/").content.decode()
    moves, can_close = _offered(html)
    assert moves == [t for t in STAGE_MOVES[stage] if t != Stage.CLOSED]
    assert can_close == (Stage.CLOSED in STAGE_MOVES[stage])
    for target in moves:
        forward = SARA_ORDER.index(target) > SARA_ORDER.index(stage)
        word = "Move to" if forward else "Back to"
        assert re.search(rf'value="{target}" data-move="{target}"[^>]*>{word} {Stage(target).label}</button>', html)


def test_officers_see_no_moves(client, officer, make):
    problem = make(Stage.RESPONSE)
    client.force_login(officer)
    html = client.get(f"/problems/{problem.pk}/").content.decode()
    assert _offered(html) == ([], False)
    assert client.post(f"/problems/{problem.pk}/move/", {"to": Stage.ANALYSIS}).status_code == 403
    assert _state(problem)[0] == Stage.RESPONSE


# Every move the move form does not offer: those outside the table, and closing (the close form's).
NOT_OFFERED = [(s, t) for s, t in PAIRS if t not in STAGE_MOVES[s] or t == Stage.CLOSED]


@pytest.mark.parametrize("stage, target", NOT_OFFERED, ids=[f"{s}-to-{t}" for s, t in NOT_OFFERED])
def test_a_post_made_by_hand_for_a_move_not_offered_is_a_400_that_changes_nothing(
    client, supervisor, make, stage, target
):
    problem = make(stage)
    client.force_login(supervisor)
    before = _state(problem)
    response = client.post(f"/problems/{problem.pk}/move/", {"to": target, "note": "by hand"})
    assert response.status_code == 400
    assert 'class="error-summary"' in response.content.decode()
    assert _state(problem) == before


def test_allowed_moves_from_the_page_and_a_bogus_stage(client, supervisor, make):
    problem = make(Stage.ASSESSMENT)
    client.force_login(supervisor)
    url = f"/problems/{problem.pk}"
    before = _state(problem)
    assert client.post(f"{url}/move/", {"to": "bogus"}).status_code == 400
    assert client.post(f"{url}/move/", {}).status_code == 400
    assert _state(problem) == before
    response = client.post(f"{url}/move/", {"to": Stage.ANALYSIS, "note": "The cause was the lighting"})
    assert response.status_code == 302
    assert _state(problem)[0] == Stage.ANALYSIS
    html = client.get(f"{url}/").content.decode()
    assert "Moved to Analysis." in html and "Assessment → Analysis" in html
    assert client.post(f"{url}/move/", {"to": Stage.RESPONSE}).status_code == 302
    assert _state(problem)[0] == Stage.RESPONSE
