"""``manage.py escalate`` runs one sweep; ``--dry-run`` prints what it would do and changes nothing."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cases.escalation import ladders
from cases.models import Escalation, EscalationRule, Event, Issue, OutboxMessage, Problem, SweepRun
from tests.factories import IssueFactory, supervisor

pytestmark = pytest.mark.django_db

Action = EscalationRule.Action
T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def overdue(time_machine, category, neighborhood):
    time_machine.move_to(T0, tick=False)
    supervisor(neighborhoods=[neighborhood])
    ladders.escalation_ladder_set(
        category=category,
        ladder=[(1, 0, Action.NOTIFY_SUPERVISOR), (2, 24, Action.RAISE_PRIORITY), (3, 72, Action.NEEDS_DECISION)],
    )
    issues = [
        IssueFactory(
            category=category,
            neighborhood=neighborhood,
            created_at=T0 - timedelta(hours=200),
            due_at=T0 - timedelta(hours=hours),
        )
        for hours in (30, 80, 90)
    ]
    time_machine.move_to(T0, tick=False)
    return issues


def snapshot():
    return (
        Escalation.objects.count(),
        Event.objects.count(),
        OutboxMessage.objects.count(),
        Problem.objects.count(),
        SweepRun.objects.count(),
        sorted(Issue.objects.values_list("id", "escalation_level", "priority", "needs_decision", "problem_id")),
    )


def run(*args):
    out = StringIO()
    call_command("escalate", *args, stdout=out)
    return out.getvalue()


def test_dry_run_prints_every_due_level_and_hot_spot_and_changes_nothing(overdue):
    before = snapshot()
    out = run("--dry-run")
    assert snapshot() == before
    assert "nothing is changed" in out
    assert "Would escalate 3 issue(s) with 8 escalation level(s)" in out
    for issue in overdue:
        assert issue.tracking_code in out
    assert f"{overdue[2].tracking_code}: level 3 (needs_decision), 90 hours overdue, cycle 0" in out
    assert "total notify_supervisor: 3" in out and "total needs_decision: 2" in out
    assert "Would handle 1 hot spot(s)" in out and "open a problem" in out


def test_dry_run_lists_at_most_limit_lines(overdue):
    out = run("--dry-run", "--limit", "2")
    assert "… and 6 more" in out


def test_dry_run_can_look_ahead(overdue):
    out = run("--dry-run", "--now", (T0 - timedelta(hours=40)).isoformat())
    assert "Would escalate 2 issue(s) with 4 escalation level(s)" in out


def test_bad_now_is_a_clear_error(overdue):
    with pytest.raises(CommandError, match="not an ISO 8601"):
        run("--dry-run", "--now", "yesterday")
    with pytest.raises(CommandError, match="only for --dry-run"):
        run("--now", T0.isoformat())


def test_escalate_runs_one_sweep_then_nothing_is_left(overdue):
    out = run()
    assert "Sweep done: 8 escalation(s) on 3 issue(s), 1 hot spot(s), 1 problem(s) opened" in out
    assert Escalation.objects.count() == 8
    assert SweepRun.objects.get().escalations == 8
    assert "Would escalate 0 issue(s)" in run("--dry-run")
    assert "Sweep done: 0 escalation(s)" in run()


def test_small_batches_give_the_same_result(overdue):
    out = run("--batch-size", "1")
    assert "in 3 batch(es)" in out
    assert sorted(Escalation.objects.values_list("issue_id", "level")) == sorted(
        [(overdue[0].pk, 1), (overdue[0].pk, 2)] + [(i.pk, lvl) for i in overdue[1:] for lvl in (1, 2, 3)]
    )
