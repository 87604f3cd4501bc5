"""The escalation rules (issue 5), one by one, on real PostgreSQL with a frozen clock.

The decision (``escalations_due`` / ``hotspots_due``) is asked directly, and the
sweep (``escalation_sweep_run``) is run the way the worker runs it; nobody sleeps.
"""

import functools
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

import cases.escalation.sweep as engine
from cases import services
from cases.escalation import ladders
from cases.escalation.sweep import escalation_sweep_run, escalations_due, hotspots_due
from cases.models import (
    Escalation,
    EscalationRule,
    Event,
    Issue,
    OutboxMessage,
    Priority,
    Problem,
    ProblemEvent,
    SweepRun,
)
from tests.factories import (
    CategoryFactory,
    EscalationRuleFactory,
    IssueFactory,
    NeighborhoodFactory,
    ProblemFactory,
    officer,
    supervisor,
)

pytestmark = pytest.mark.django_db

Action = EscalationRule.Action
Status = Issue.Status
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.fixture
def clock(time_machine):
    """Freeze time at T0; ``clock(hours)`` moves to T0 + hours (or to a datetime)."""
    time_machine.move_to(T0, tick=False)

    def move(at):
        moment = at if isinstance(at, datetime) else T0 + timedelta(hours=at)
        time_machine.move_to(moment, tick=False)
        return moment

    return move


@pytest.fixture
def ladder(category):
    """0 / 24 / 72 hours past due: raise priority, notify supervisor, needs decision."""
    ladders.escalation_ladder_set(
        category=category,
        ladder=[(1, 0, Action.RAISE_PRIORITY), (2, 24, Action.NOTIFY_SUPERVISOR), (3, 72, Action.NEEDS_DECISION)],
    )
    return category


def overdue_issue(category, neighborhood, *, created=None, hours_to_due=72, **kwargs):
    """An issue created at ``created`` (default T0) and due ``hours_to_due`` later."""
    created = created or T0
    return IssueFactory(
        category=category,
        neighborhood=neighborhood,
        created_at=created,
        due_at=created + timedelta(hours=hours_to_due),
        **kwargs,
    )


def levels(issue, cycle=None):
    rows = Escalation.objects.filter(issue=issue)
    if cycle is not None:
        rows = rows.filter(cycle=cycle)
    return list(rows.order_by("cycle", "level").values_list("level", flat=True))


def escalated_events(issue):
    return list(issue.events.filter(kind=Event.Kind.ESCALATED).order_by("created_at", "id"))


# --- timing -----------------------------------------------------------------------


def test_never_escalates_at_creation_even_with_a_zero_hour_level(clock, ladder, neighborhood):
    issue = overdue_issue(ladder, neighborhood)
    assert escalations_due(T0) == []
    clock(72)  # exactly due: not past due yet
    assert escalations_due(T0 + 72 * H) == []
    result = escalation_sweep_run()
    assert result.escalations == 0
    assert levels(issue) == []


def test_zero_hour_level_fires_once_the_deadline_has_passed(clock, ladder, neighborhood):
    issue = overdue_issue(ladder, neighborhood)
    now = clock(T0 + 72 * H + timedelta(seconds=1))
    due = escalations_due(now)
    assert [(d.issue_id, d.level, d.action, d.cycle) for d in due] == [(issue.pk, 1, Action.RAISE_PRIORITY, 0)]
    escalation_sweep_run()
    assert levels(issue) == [1]


def test_each_level_fires_at_its_hour_exactly_once(clock, ladder, neighborhood):
    issue = overdue_issue(ladder, neighborhood)
    seen = []
    for hours in (71, 73, 73.5, 95, 96, 97, 143, 144, 200, 500):
        clock(hours)
        escalation_sweep_run()
        seen.append(levels(issue))
    assert seen == [[], [1], [1], [1], [1, 2], [1, 2], [1, 2], [1, 2, 3], [1, 2, 3], [1, 2, 3]]
    issue.refresh_from_db()
    assert issue.escalation_level == 3
    assert [e.data["level"] for e in escalated_events(issue)] == [1, 2, 3]


def test_one_sweep_applies_every_due_level_in_order(clock, ladder, neighborhood, supervisor):
    issue = overdue_issue(ladder, neighborhood)
    clock(72 + 100)  # 100 hours overdue: levels at 0, 24 and 72 hours are all due
    assert [d.level for d in escalations_due(T0 + 172 * H)] == [1, 2, 3]
    result = escalation_sweep_run()
    assert result.escalations == 3 and result.issues_escalated == 1
    rows = list(Escalation.objects.filter(issue=issue).order_by("level"))
    assert [(e.level, e.action, e.cycle) for e in rows] == [
        (1, Action.RAISE_PRIORITY, 0),
        (2, Action.NOTIFY_SUPERVISOR, 0),
        (3, Action.NEEDS_DECISION, 0),
    ]
    assert all(e.hours_overdue == 100 and e.created_at == T0 + 172 * H for e in rows)
    assert all(e.rule_id is not None for e in rows)
    events = escalated_events(issue)
    assert [e.data["level"] for e in events] == [1, 2, 3]
    assert all(not e.is_public and e.actor_id is None for e in events)
    assert events[0].message.startswith("Level 1: Raise priority (100 hours overdue)")
    issue.refresh_from_db()
    assert (issue.escalation_level, issue.priority, issue.needs_decision) == (3, Priority.HIGH, True)


def test_repeated_sweep_changes_nothing(clock, ladder, neighborhood, supervisor):
    issue = overdue_issue(ladder, neighborhood)
    clock(72 + 100)
    escalation_sweep_run()
    snapshot = (
        Escalation.objects.count(),
        Event.objects.count(),
        OutboxMessage.objects.count(),
        Issue.objects.values_list("escalation_level", "priority", "needs_decision").get(pk=issue.pk),
    )
    assert escalations_due(T0 + 172 * H) == []
    again = escalation_sweep_run()
    assert again.escalations == 0 and again.notifications == 0
    assert snapshot == (
        Escalation.objects.count(),
        Event.objects.count(),
        OutboxMessage.objects.count(),
        Issue.objects.values_list("escalation_level", "priority", "needs_decision").get(pk=issue.pk),
    )


def test_the_decision_is_a_plain_read(clock, ladder, neighborhood):
    overdue_issue(ladder, neighborhood)
    clock(200)
    before = (Escalation.objects.count(), Event.objects.count(), SweepRun.objects.count())
    assert len(escalations_due(T0 + 200 * H)) == 3
    assert len(escalations_due(T0 + 200 * H)) == 3
    # …and a function of `now`, not of the clock.
    assert [d.level for d in escalations_due(T0 + 100 * H)] == [1, 2]
    assert (Escalation.objects.count(), Event.objects.count(), SweepRun.objects.count()) == before


def test_misordered_ladder_still_climbs_in_order(clock, category, neighborhood):
    # Level 1 at 48 hours, level 2 at 24: level 2 waits for level 1.
    EscalationRuleFactory(category=category, level=1, hours_overdue=48, action=Action.NOTIFY_SUPERVISOR)
    EscalationRuleFactory(category=category, level=2, hours_overdue=24, action=Action.NEEDS_DECISION)
    issue = overdue_issue(category, neighborhood)
    clock(72 + 30)
    assert escalations_due(T0 + 102 * H) == []
    clock(72 + 49)
    escalation_sweep_run()
    assert levels(issue) == [1, 2]


def test_sweep_records_a_sweep_run(clock, ladder, neighborhood):
    overdue_issue(ladder, neighborhood)
    overdue_issue(ladder, neighborhood)
    clock(100)
    result = escalation_sweep_run()
    run = SweepRun.objects.get()
    assert run.pk == result.sweep_run_id
    assert (run.started_at, run.escalations, run.dry_run) == (T0 + 100 * H, 4, False)
    assert run.finished_at is not None and run.finished_at >= run.started_at
    assert result.as_dict()["escalations"] == 4


# --- which issues ------------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.RESOLVED, Status.CLOSED, Status.REFERRED])
def test_finished_issues_never_escalate(clock, ladder, neighborhood, status):
    issue = overdue_issue(ladder, neighborhood, status=status)
    clock(1000)
    assert escalations_due(T0 + 1000 * H) == []
    escalation_sweep_run()
    assert levels(issue) == []


def test_duplicates_never_escalate(clock, ladder, neighborhood):
    original = overdue_issue(ladder, neighborhood, hours_to_due=5000)
    duplicate = overdue_issue(ladder, neighborhood, status=Status.DUPLICATE, duplicate_of=original)
    clock(1000)
    escalation_sweep_run()
    assert levels(duplicate) == [] and levels(original) == []


@pytest.mark.parametrize("status", [Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS])
def test_every_open_working_status_escalates(clock, ladder, neighborhood, status):
    issue = overdue_issue(ladder, neighborhood, status=status)
    clock(73)
    escalation_sweep_run()
    assert levels(issue) == [1]


def test_time_on_hold_does_not_count(clock, ladder, neighborhood, supervisor):
    issue = overdue_issue(ladder, neighborhood)  # due at T0 + 72 h
    clock(10)
    services.issue_hold(issue=issue, actor=supervisor, reason="Waiting for the property owner")
    clock(500)  # long past due, but on hold
    assert escalations_due(T0 + 500 * H) == []
    escalation_sweep_run()
    assert levels(issue) == []
    services.issue_resume(issue=issue, actor=supervisor)
    issue.refresh_from_db()
    assert issue.due_at == T0 + (72 + 490) * H  # pushed by the 490 hours held
    clock(72 + 490)
    escalation_sweep_run()
    assert levels(issue) == []
    clock(72 + 490 + 25)  # 25 hours past the new due time: levels 1 and 2
    escalation_sweep_run()
    assert levels(issue) == [1, 2]


def test_reopened_issue_climbs_again_from_level_zero(clock, ladder, neighborhood, supervisor):
    issue = overdue_issue(ladder, neighborhood)
    clock(200)
    escalation_sweep_run()
    assert levels(issue, cycle=0) == [1, 2, 3]
    services.issue_resolve(issue=issue, actor=supervisor, note="Painted over")
    clock(210)
    issue = services.issue_reopen(issue=issue, actor=supervisor, reason="Tagged again")
    issue.refresh_from_db()
    assert (issue.escalation_level, issue.reopen_count, issue.needs_decision) == (0, 1, False)
    new_due = issue.due_at
    assert new_due > T0 + 210 * H
    escalation_sweep_run()
    assert levels(issue, cycle=1) == []
    clock(new_due + 25 * H)
    escalation_sweep_run()
    assert levels(issue, cycle=0) == [1, 2, 3]
    assert levels(issue, cycle=1) == [1, 2]
    issue.refresh_from_db()
    assert issue.escalation_level == 2


# --- actions -------------------------------------------------------------------------


def test_raise_priority_one_step_keeps_due_at(clock, category, neighborhood):
    EscalationRuleFactory(category=category, level=1, hours_overdue=0, action=Action.RAISE_PRIORITY)
    low = overdue_issue(category, neighborhood, priority=Priority.LOW, hours_to_due=72)
    urgent = overdue_issue(category, neighborhood, priority=Priority.URGENT, hours_to_due=72)
    clock(73)
    escalation_sweep_run()
    low.refresh_from_db()
    urgent.refresh_from_db()
    assert (low.priority, low.due_at) == (Priority.NORMAL, T0 + 72 * H)
    assert (urgent.priority, urgent.escalation_level) == (Priority.URGENT, 1)
    event = escalated_events(low)[0]
    assert (event.data["priority_from"], event.data["priority_to"]) == ("low", "normal")
    assert "priority low → normal" in event.message


def test_two_raise_levels_in_one_sweep_raise_two_steps(clock, category, neighborhood):
    EscalationRuleFactory(category=category, level=1, hours_overdue=0, action=Action.RAISE_PRIORITY)
    EscalationRuleFactory(category=category, level=2, hours_overdue=12, action=Action.RAISE_PRIORITY)
    issue = overdue_issue(category, neighborhood, priority=Priority.LOW)
    clock(72 + 13)
    escalation_sweep_run()
    issue.refresh_from_db()
    assert issue.priority == Priority.HIGH
    steps = [(e.data["priority_from"], e.data["priority_to"]) for e in escalated_events(issue)]
    assert steps == [("low", "normal"), ("normal", "high")]


def test_notify_supervisor_reaches_neighborhood_and_district_supervisors_only(clock, category, neighborhood):
    EscalationRuleFactory(category=category, level=1, hours_overdue=0, action=Action.NOTIFY_SUPERVISOR)
    direct = supervisor(neighborhoods=[neighborhood])
    district = supervisor(districts=[neighborhood.district])
    no_email = supervisor(neighborhoods=[neighborhood], email="")
    elsewhere = supervisor(districts=["North"], neighborhoods=[NeighborhoodFactory(district="North")])
    beat_officer = officer(neighborhoods=[neighborhood])
    issue = overdue_issue(category, neighborhood)
    clock(73)
    result = escalation_sweep_run()
    sent = set(OutboxMessage.objects.values_list("recipient_id", "channel", "recipient_email"))
    assert sent == {
        (direct.pk, "email", direct.email),
        (direct.pk, "in_app", ""),
        (district.pk, "email", district.email),
        (district.pk, "in_app", ""),
        (no_email.pk, "in_app", ""),
    }
    assert result.notifications == 5
    message = OutboxMessage.objects.filter(recipient=direct, channel="email").get()
    assert message.issue_id == issue.pk and message.url == f"/issues/{issue.pk}/"
    assert message.state == OutboxMessage.State.PENDING
    assert issue.tracking_code in message.subject and neighborhood.name in message.subject
    assert "1 hours past its due time" in message.body
    assert elsewhere.pk not in {r for r, _, _ in sent} and beat_officer.pk not in {r for r, _, _ in sent}


def no_hotspots(category):
    category.hotspot_threshold = 100
    category.save(update_fields=["hotspot_threshold"])


def test_escalations_of_one_sweep_reach_a_supervisor_as_one_digest(clock, category, neighborhood):
    no_hotspots(category)
    EscalationRuleFactory(category=category, level=1, hours_overdue=0, action=Action.NOTIFY_SUPERVISOR)
    boss = supervisor(neighborhoods=[neighborhood])
    older = overdue_issue(category, neighborhood, hours_to_due=10)  # the most overdue, listed first
    issues = [older, overdue_issue(category, neighborhood), overdue_issue(category, neighborhood, hours_to_due=50)]
    clock(73)
    result = escalation_sweep_run()
    assert result.notifications == 2
    email = OutboxMessage.objects.get(recipient=boss, channel="email")
    in_app = OutboxMessage.objects.get(recipient=boss, channel="in_app")
    assert (email.subject, email.body, email.url, email.items) == (in_app.subject, in_app.body, in_app.url, 3)
    assert email.subject == f"Escalated: 3 issues in {neighborhood.name}"
    assert email.url == "/issues/?status=open&escalation=1" and email.issue_id is None
    lines = email.body.splitlines()
    assert lines[0] == "3 issues you oversee have escalated, most overdue first."
    assert [line.split(" — ")[0] for line in lines[2:]] == [
        issues[0].tracking_code,
        issues[2].tracking_code,
        issues[1].tracking_code,
    ]
    assert lines[2].endswith(
        f"{category.name_en}, {neighborhood.name}: level 1, 63 hours past its due time, priority normal"
    )
    # Nothing more next sweep: each escalation is told once.
    clock(74)
    assert escalation_sweep_run().notifications == 0
    assert OutboxMessage.objects.count() == 2


def test_a_spanish_speaking_supervisor_gets_the_digest_in_spanish(clock, category, neighborhood):
    """The digest is written in each recipient's language (their profile's), the category in it too."""
    from partners.models import StaffProfile

    no_hotspots(category)
    EscalationRuleFactory(category=category, level=1, hours_overdue=0, action=Action.NOTIFY_SUPERVISOR)
    jefa, boss = supervisor(neighborhoods=[neighborhood]), supervisor(neighborhoods=[neighborhood])
    StaffProfile.objects.filter(user=jefa).update(language="es")
    one = overdue_issue(category, neighborhood, hours_to_due=10)
    clock(73)
    escalation_sweep_run()
    spanish = OutboxMessage.objects.get(recipient=jefa, channel="email")
    english = OutboxMessage.objects.get(recipient=boss, channel="email")
    assert spanish.subject == f"Escalado, nivel 1: {one.tracking_code} — {category.name_es} en {neighborhood.name}"
    assert spanish.body.splitlines()[0] == "Un caso que usted supervisa ha escalado."
    assert spanish.body.splitlines()[2].endswith(
        f"{category.name_es}, {neighborhood.name}: nivel 1, 63 horas después de su plazo, prioridad normal"
    )
    assert OutboxMessage.objects.get(recipient=jefa, channel="in_app").subject == spanish.subject
    assert english.subject == f"Escalated, level 1: {one.tracking_code} — {category.name_en} in {neighborhood.name}"


def test_digest_lists_the_first_lines_and_counts_the_rest(clock, category, neighborhood, monkeypatch):
    monkeypatch.setattr("cases.escalation.sweep.DIGEST_LINES", 2)
    no_hotspots(category)
    EscalationRuleFactory(category=category, level=1, hours_overdue=0, action=Action.NOTIFY_SUPERVISOR)
    boss = supervisor(neighborhoods=[neighborhood])
    for hours in (10, 20, 30, 40, 50):
        overdue_issue(category, neighborhood, hours_to_due=hours)
    clock(73)
    escalation_sweep_run()
    message = OutboxMessage.objects.get(recipient=boss, channel="in_app")
    assert message.items == 5
    lines = message.body.splitlines()
    assert len(lines) == 2 + 2 + 1 and lines[-1] == "… and 3 more."


def test_each_batch_tells_of_its_own_escalations_once(clock, category, neighborhood):
    """A digest is written in its batch's transaction: batches of 2 over 5 issues → digests of 2, 2 and 1."""
    no_hotspots(category)
    EscalationRuleFactory(category=category, level=1, hours_overdue=0, action=Action.NOTIFY_SUPERVISOR)
    boss = supervisor(neighborhoods=[neighborhood], email="")
    issues = [overdue_issue(category, neighborhood) for _ in range(5)]
    clock(73)
    escalation_sweep_run(batch_size=2)
    digests = list(OutboxMessage.objects.filter(recipient=boss).order_by("id"))
    assert [(m.channel, m.items) for m in digests] == [("in_app", 2), ("in_app", 2), ("in_app", 1)]
    told = [line.split(" — ")[0] for m in digests for line in m.body.splitlines()[2:]]
    assert sorted(told) == sorted(i.tracking_code for i in issues)
    single = digests[-1]
    assert single.issue_id is not None and single.url == f"/issues/{single.issue_id}/"
    assert single.subject.startswith("Escalated, level 1: ")


def test_a_commander_named_by_both_notify_levels_gets_one_line_per_issue(clock, category, neighborhood):
    EscalationRuleFactory(category=category, level=1, hours_overdue=0, action=Action.NOTIFY_SUPERVISOR)
    EscalationRuleFactory(category=category, level=2, hours_overdue=24, action=Action.NOTIFY_COMMANDER)
    commander = supervisor(districts=[neighborhood.district], email="")
    issue = overdue_issue(category, neighborhood)
    clock(72 + 30)
    escalation_sweep_run()
    assert levels(issue) == [1, 2]
    message = OutboxMessage.objects.get(recipient=commander)
    assert message.items == 1 and message.issue_id == issue.pk
    assert message.body.splitlines()[2].endswith(": level 2, 30 hours past its due time, priority normal")


def test_notify_commander_reaches_only_whole_district_supervisors(clock, category, neighborhood):
    EscalationRuleFactory(category=category, level=1, hours_overdue=0, action=Action.NOTIFY_COMMANDER)
    supervisor(neighborhoods=[neighborhood])  # the neighborhood's supervisor is not the commander
    commander = supervisor(districts=[neighborhood.district])
    supervisor(districts=["North"])
    overdue_issue(category, neighborhood)
    clock(73)
    escalation_sweep_run()
    assert set(OutboxMessage.objects.values_list("recipient_id", "channel")) == {
        (commander.pk, "email"),
        (commander.pk, "in_app"),
    }


def test_inactive_supervisors_and_officers_are_not_notified(clock, category, neighborhood):
    EscalationRuleFactory(category=category, level=1, hours_overdue=0, action=Action.NOTIFY_SUPERVISOR)
    gone = supervisor(neighborhoods=[neighborhood])
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    officer(districts=[neighborhood.district])
    overdue_issue(category, neighborhood)
    clock(73)
    escalation_sweep_run()
    assert not OutboxMessage.objects.exists()


def test_needs_decision_puts_the_issue_on_the_list(clock, category, neighborhood):
    EscalationRuleFactory(category=category, level=1, hours_overdue=0, action=Action.NEEDS_DECISION)
    issue = overdue_issue(category, neighborhood)
    other = overdue_issue(category, neighborhood, hours_to_due=500)
    clock(73)
    escalation_sweep_run()
    assert list(Issue.objects.filter(needs_decision=True)) == [issue]
    waiting = Escalation.objects.filter(decided_at__isnull=True, action=Action.NEEDS_DECISION)
    assert list(waiting.values_list("issue_id", flat=True)) == [issue.pk]
    other.refresh_from_db()
    assert other.needs_decision is False


def test_open_problem_opens_then_joins_and_notifies_once(clock, category, neighborhood):
    EscalationRuleFactory(category=category, level=1, hours_overdue=0, action=Action.OPEN_PROBLEM)
    boss = supervisor(neighborhoods=[neighborhood])
    first = overdue_issue(category, neighborhood)
    clock(73)
    result = escalation_sweep_run()
    problem = Problem.objects.get()
    assert (problem.stage, problem.source, problem.category, problem.neighborhood) == (
        Problem.Stage.SCANNING,
        Problem.Source.ESCALATION,
        category,
        neighborhood,
    )
    assert result.problems_opened == 1
    first.refresh_from_db()
    assert first.problem == problem
    assert first.events.filter(kind=Event.Kind.PROBLEM, data__problem=problem.pk).exists()
    second = overdue_issue(category, neighborhood, created=T0 + 10 * H)
    elsewhere = overdue_issue(category, NeighborhoodFactory(), created=T0 + 10 * H)
    clock(83)
    escalation_sweep_run()
    second.refresh_from_db()
    elsewhere.refresh_from_db()
    assert second.problem == problem
    assert elsewhere.problem is not None and elsewhere.problem != problem
    assert Problem.objects.count() == 2
    kinds = list(problem.events.order_by("id").values_list("kind", flat=True))
    assert kinds == [ProblemEvent.Kind.OPENED, ProblemEvent.Kind.ISSUE_ADDED, ProblemEvent.Kind.ISSUE_ADDED]
    assert OutboxMessage.objects.filter(recipient=boss, dedupe_key__startswith=f"problem:{problem.pk}:").count() == 2


def test_open_problem_joins_an_open_manual_problem_not_a_closed_one(clock, category, neighborhood):
    EscalationRuleFactory(category=category, level=1, hours_overdue=0, action=Action.OPEN_PROBLEM)
    ProblemFactory(category=category, neighborhood=neighborhood, stage=Problem.Stage.CLOSED, closed_at=T0)
    manual = ProblemFactory(category=category, neighborhood=neighborhood, stage=Problem.Stage.ANALYSIS)
    issue = overdue_issue(category, neighborhood)
    clock(73)
    escalation_sweep_run()
    issue.refresh_from_db()
    assert issue.problem == manual
    assert Problem.objects.count() == 2


# --- hot spots --------------------------------------------------------------------------


def hot_issue(category, neighborhood, hours, **kwargs):
    return overdue_issue(category, neighborhood, created=T0 + hours * H, hours_to_due=1000, **kwargs)


def test_a_hot_spot_is_told_in_each_supervisors_language(clock, category, neighborhood):
    from partners.models import StaffProfile

    jefa, boss = supervisor(neighborhoods=[neighborhood]), supervisor(neighborhoods=[neighborhood])
    StaffProfile.objects.filter(user=jefa).update(language="es")
    category.hotspot_threshold, category.hotspot_window_hours = 3, 14 * 24
    category.save()
    for hour in (0, 100, 200):
        hot_issue(category, neighborhood, hour)
    clock(201)
    escalation_sweep_run()
    problem = Problem.objects.get()
    spanish = OutboxMessage.objects.get(recipient=jefa, channel="email")
    english = OutboxMessage.objects.get(recipient=boss, channel="email")
    assert spanish.subject == f"Punto crítico: {problem.title}"
    assert spanish.body.startswith("Punto crítico. Proyecto de resolución de problemas (etapa SARA: Exploración)")
    assert english.subject == f"Hot spot: {problem.title}"
    assert english.body.startswith("Hot spot. Problem-solving project (SARA stage: Scanning)")


def test_hotspot_groups_like_issues_under_a_problem_and_notifies_once(clock, category, neighborhood):
    boss = supervisor(neighborhoods=[neighborhood])
    category.hotspot_threshold, category.hotspot_window_hours = 3, 14 * 24
    category.save()
    a = hot_issue(category, neighborhood, 0)
    b = hot_issue(category, neighborhood, 100)
    clock(150)
    assert hotspots_due(T0 + 150 * H) == []
    escalation_sweep_run()
    assert not Problem.objects.exists()
    c = hot_issue(category, neighborhood, 200)
    clock(201)
    [spot] = hotspots_due(T0 + 201 * H)
    assert (spot.count, spot.loose, spot.problem_id) == (3, 3, None)
    result = escalation_sweep_run()
    assert result.hotspots == 1
    problem = Problem.objects.get()
    assert (problem.stage, problem.source) == (Problem.Stage.SCANNING, Problem.Source.HOTSPOT)
    assert set(problem.issues.all()) == {a, b, c}
    notices = OutboxMessage.objects.filter(recipient=boss)
    assert set(notices.values_list("channel", flat=True)) == {"email", "in_app"}
    assert "Hot spot" in notices.first().subject
    # Nothing new: nothing happens, nobody is notified again.
    clock(202)
    assert escalation_sweep_run().hotspots == 0
    # A fourth like issue joins the same Problem; still one notice per channel.
    d = hot_issue(category, neighborhood, 203)
    clock(204)
    assert escalation_sweep_run().hotspots == 1
    d.refresh_from_db()
    assert d.problem == problem and Problem.objects.count() == 1
    assert notices.count() == 2
    assert escalation_sweep_run().hotspots == 0


def test_hotspot_counts_only_open_like_issues_in_one_neighborhood_within_the_window(clock, category, neighborhood):
    category.hotspot_threshold, category.hotspot_window_hours = 3, 48
    category.save()
    other_category = CategoryFactory()
    other_place = NeighborhoodFactory()
    hot_issue(category, neighborhood, 0)  # outside the 48-hour window by then
    hot_issue(category, neighborhood, 60)
    hot_issue(category, neighborhood, 61, status=Status.RESOLVED)
    hot_issue(other_category, neighborhood, 62)
    hot_issue(category, other_place, 63)
    hot_issue(category, neighborhood, 64)
    clock(70)
    assert hotspots_due(T0 + 70 * H) == []
    escalation_sweep_run()
    assert not Problem.objects.exists()
    on_hold = hot_issue(category, neighborhood, 65)  # open issues on hold still count
    services.issue_hold(issue=on_hold, actor=supervisor(), reason="Owner contacted")
    [spot] = hotspots_due(T0 + 70 * H)
    assert spot.count == 3


def test_hotspot_joins_the_open_problem_of_that_category_and_place(clock, category, neighborhood):
    category.hotspot_threshold = 2
    category.save()
    manual = ProblemFactory(category=category, neighborhood=neighborhood, stage=Problem.Stage.RESPONSE)
    hot_issue(category, neighborhood, 0)
    hot_issue(category, neighborhood, 1)
    clock(2)
    escalation_sweep_run()
    assert Problem.objects.get() == manual
    assert manual.issues.count() == 2


# --- admin and defaults ---------------------------------------------------------------


def test_ladder_service_refuses_a_higher_level_that_fires_sooner(category):
    with pytest.raises(ValidationError):
        ladders.escalation_ladder_set(
            category=category, ladder=[(1, 48, "notify_supervisor"), (2, 24, "raise_priority")]
        )
    assert not EscalationRule.objects.exists()


def test_default_ladder_is_idempotent(category):
    first = ladders.escalation_ladder_ensure_default(category=category)
    again = ladders.escalation_ladder_ensure_default(category=category)
    assert [r.pk for r in first] == [r.pk for r in again]
    assert [(r.level, r.hours_overdue) for r in again] == [(1, 0), (2, 24), (3, 72), (4, 168)]


def test_admin_edits_the_ladder_in_hours_on_the_category_page(client, django_user_model, category):
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "pw-Secret-123")
    client.force_login(admin)
    url = f"/admin/cases/category/{category.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert b"escalation_rules-0-hours_overdue" in page.content or b"escalation_rules-__prefix__-hours_overdue" in (
        page.content
    )
    form = {
        "name_en": category.name_en,
        "name_es": category.name_es,
        "hint_en": category.hint_en,
        "hint_es": category.hint_es,
        "group_en": category.group_en,
        "group_es": category.group_es,
        "sort_order": 0,
        "service_code": category.service_code,
        "keywords": "",
        "is_public": "on",
        "is_active": "on",
        "target_hours_urgent": 4,
        "target_hours_high": 24,
        "target_hours_normal": 72,
        "target_hours_low": 168,
        "hotspot_threshold": 3,
        "hotspot_window_hours": 336,
        "fixed_check_days": 7,
        "escalation_rules-TOTAL_FORMS": 2,
        "escalation_rules-INITIAL_FORMS": 0,
        "escalation_rules-0-level": 1,
        "escalation_rules-0-hours_overdue": 48,
        "escalation_rules-0-action": "notify_supervisor",
        "escalation_rules-1-level": 2,
        "escalation_rules-1-hours_overdue": 24,
        "escalation_rules-1-action": "needs_decision",
        "attributes-TOTAL_FORMS": 0,
        "attributes-INITIAL_FORMS": 0,
    }
    refused = client.post(url, form)
    assert refused.status_code == 200
    assert b"sooner than level 1" in refused.content
    assert not EscalationRule.objects.exists()
    form["escalation_rules-1-hours_overdue"] = 72
    saved = client.post(url, form)
    assert saved.status_code == 302
    assert list(category.escalation_rules.values_list("level", "hours_overdue", "action")) == [
        (1, 48, "notify_supervisor"),
        (2, 72, "needs_decision"),
    ]


def test_open_issues_of_a_retired_category_still_escalate(clock, ladder, neighborhood):
    issue = overdue_issue(ladder, neighborhood)
    ladder.is_active = False  # no longer takes reports
    ladder.save(update_fields=["is_active"])
    clock(73)
    escalation_sweep_run()
    assert levels(issue) == [1]


def test_the_sweep_logs_counts_never_contact_details(clock, ladder, neighborhood, supervisor, caplog):
    overdue_issue(ladder, neighborhood)
    clock(200)
    with caplog.at_level("DEBUG", logger="cases.escalation"):
        escalation_sweep_run()
        escalation_sweep_run()
    infos = [r for r in caplog.records if r.levelname == "INFO"]
    assert [r.getMessage() for r in infos] == [
        "escalation sweep: 3 escalations on 1 issues, 0 hot spots, 2 notifications queued (1 batches)"
    ]
    assert supervisor.email not in caplog.text


# --- the sweep's own record (issue 12) ----------------------------------------------


def sweep_run_row(run):
    run.refresh_from_db()
    return {
        "batches": run.batches,
        "escalations": run.escalations,
        "issues_escalated": run.issues_escalated,
        "notifications": run.notifications,
        "hotspots": run.hotspots,
        "problems_opened": run.problems_opened,
    }


def in_database():
    """What the database really holds, under the names of SweepRun's counts (one sweep so far)."""
    return {
        "escalations": Escalation.objects.count(),
        "issues_escalated": Escalation.objects.values("issue_id").distinct().count(),
        "notifications": OutboxMessage.objects.count(),
        "problems_opened": Problem.objects.count(),
    }


def stale():
    return timedelta(seconds=settings.SWEEP_STALE_SECONDS)


def test_each_batch_adds_what_it_committed_to_its_sweep_run(clock, ladder, neighborhood, supervisor, monkeypatch):
    """After every batch the row already says what is in the database, and when the batch committed."""
    no_hotspots(ladder)
    for _ in range(7):
        overdue_issue(ladder, neighborhood)
    start = clock(72 + 100)
    seen = []

    def checked_after_batch(result):
        run = SweepRun.objects.get(pk=result.sweep_run_id)
        row = sweep_run_row(run)
        seen.append((row["batches"], run.progress_at, run.finished_at))
        assert {key: row[key] for key in ("escalations", "issues_escalated", "notifications")} == {
            key: value for key, value in in_database().items() if key != "problems_opened"
        }
        clock(start + timedelta(minutes=len(seen)))  # the next batch commits a minute later

    monkeypatch.setattr(engine, "_after_batch", checked_after_batch)
    with CaptureQueriesContext(connection) as queries:
        result = escalation_sweep_run(batch_size=3)
    # The record costs one single-row UPDATE per batch (and one to finish), nothing per issue.
    updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "cases_sweeprun"')]
    assert len(updates) == 3 + 1
    minute = timedelta(minutes=1)
    assert seen == [(1, start, None), (2, start + minute, None), (3, start + 2 * minute, None)]
    run = SweepRun.objects.get()
    assert sweep_run_row(run) == {
        "batches": 3,
        "escalations": 21,
        "issues_escalated": 7,
        "notifications": OutboxMessage.objects.count(),
        "hotspots": 0,
        "problems_opened": 0,
    }
    assert run.notifications == result.notifications > 0
    assert run.finished_at == start + 3 * minute and run.state == SweepRun.State.FINISHED


def test_a_batch_that_rolls_back_takes_its_counts_with_it(clock, ladder, neighborhood, supervisor, monkeypatch):
    """The count is written in the batch's transaction: a batch that fails after writing it adds nothing."""
    no_hotspots(ladder)
    for _ in range(7):
        overdue_issue(ladder, neighborhood)
    clock(72 + 100)
    real = engine._sweep_run_add
    calls = []

    def add_then_fail(run_id, committed, *, now):
        real(run_id, committed, now=now)
        calls.append(committed)
        if len(calls) == 2:
            raise RuntimeError("connection lost before commit")

    monkeypatch.setattr(engine, "_sweep_run_add", add_then_fail)
    with pytest.raises(RuntimeError, match="before commit"):
        escalation_sweep_run(batch_size=3)
    run = SweepRun.objects.get()
    assert sweep_run_row(run) == {
        "batches": 1,
        "escalations": 9,
        "issues_escalated": 3,
        "notifications": OutboxMessage.objects.count(),
        "hotspots": 0,
        "problems_opened": 0,
    }
    assert Escalation.objects.count() == 9 and run.finished_at is None


def test_a_sweep_that_died_shows_as_interrupted_and_the_next_records_its_own(
    clock, ladder, neighborhood, supervisor, monkeypatch, client, admin_client
):
    for _ in range(7):  # also a hot spot: seven like issues in one place this week
        overdue_issue(ladder, neighborhood)
    start = clock(72 + 100)

    def die_after_two(result):
        if result.batches == 2:
            raise RuntimeError("worker lost")

    monkeypatch.setattr(engine, "_after_batch", die_after_two)
    with pytest.raises(RuntimeError, match="worker lost"):
        escalation_sweep_run(batch_size=3)
    monkeypatch.undo()
    died = SweepRun.objects.get()
    committed = {**in_database(), "batches": 2, "hotspots": 0}
    assert committed["escalations"] == 18 and committed["issues_escalated"] == 6
    assert sweep_run_row(died) == committed
    assert (died.progress_at, died.finished_at) == (start, None)

    # Unfinished but recent: running, not yet suspect.
    body = client.get("/healthz").json()
    assert body["sweep"]["state"] == "running" and body["last_interrupted_sweep"] is None
    clock(start + stale())
    assert SweepRun.objects.get().state == SweepRun.State.RUNNING
    later = clock(start + stale() + timedelta(seconds=1))
    assert SweepRun.objects.get().state == SweepRun.State.INTERRUPTED

    response = client.get("/healthz")
    assert response.status_code == 200  # web and database are fine; the dead sweep is shown, not fatal
    body = response.json()
    shown = {
        "state": "interrupted",
        "started_at": start.isoformat(),
        "progress_at": start.isoformat(),
        "finished_at": None,
        **committed,
    }
    assert body["status"] == "ok" and body["last_sweep"] is None
    assert body["sweep"] == body["last_interrupted_sweep"] == shown

    page = admin_client.get("/admin/cases/sweeprun/").content.decode()
    assert '<td class="field-state_label">interrupted</td>' in page
    assert '<td class="field-escalations">18</td>' in page and '<td class="field-batches">2</td>' in page
    assert admin_client.get("/admin/cases/sweeprun/?state=interrupted").context["cl"].result_count == 1
    assert admin_client.get("/admin/cases/sweeprun/?state=running").context["cl"].result_count == 0
    # Read-only: the record can be looked at, not edited, added or deleted.
    change = f"/admin/cases/sweeprun/{died.pk}/change/"
    assert admin_client.get(change).status_code == 200
    assert admin_client.post(change, {"escalations": 0}).status_code == 403
    assert admin_client.post(f"/admin/cases/sweeprun/{died.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.get("/admin/cases/sweeprun/add/").status_code == 403

    # The next sweep does the rest, and its row says only what it did.
    before = in_database()
    result = escalation_sweep_run(batch_size=3)
    after = in_database()
    rerun = SweepRun.objects.get(pk=result.sweep_run_id)
    assert sweep_run_row(rerun) == {
        "batches": 1,
        "escalations": after["escalations"] - before["escalations"],
        "issues_escalated": 1,
        "notifications": after["notifications"] - before["notifications"],
        "hotspots": 1,
        "problems_opened": 1,
    }
    assert (rerun.escalations, rerun.state, rerun.finished_at) == (3, SweepRun.State.FINISHED, later)
    assert sum(SweepRun.objects.values_list("escalations", flat=True)) == Escalation.objects.count() == 21
    assert escalations_due(later) == []
    assert sweep_run_row(died) == committed and died.state == SweepRun.State.INTERRUPTED

    body = client.get("/healthz").json()
    assert body["last_sweep"] == later.isoformat()
    assert (body["sweep"]["state"], body["sweep"]["escalations"]) == ("finished", 3)
    assert body["last_interrupted_sweep"] == shown
    page = admin_client.get("/admin/cases/sweeprun/").content.decode()
    assert page.count('<td class="field-state_label">finished</td>') == 1
    assert page.count('<td class="field-state_label">interrupted</td>') == 1


def test_hot_spot_chunks_count_what_they_committed(clock, category, monkeypatch):
    category.hotspot_threshold, category.hotspot_window_hours = 3, 48
    category.save()
    places = [NeighborhoodFactory(), NeighborhoodFactory()]
    for place in places:
        supervisor(neighborhoods=[place])
        for hours in (0, 1, 2):
            hot_issue(category, place, hours)
    clock(3)
    real_group = engine._group_into_problems
    groups = []

    def die_on_second(*args, **kwargs):
        groups.append(1)
        if len(groups) == 2:
            raise RuntimeError("worker lost")
        return real_group(*args, **kwargs)

    monkeypatch.setattr(engine, "_run_hotspots", functools.partial(engine._run_hotspots, chunk=1))
    monkeypatch.setattr(engine, "_group_into_problems", die_on_second)
    with pytest.raises(RuntimeError, match="worker lost"):
        escalation_sweep_run()
    run = SweepRun.objects.get()
    assert sweep_run_row(run) == {
        "batches": 0,
        "escalations": 0,
        "issues_escalated": 0,
        "notifications": OutboxMessage.objects.count(),
        "hotspots": 1,
        "problems_opened": 1,
    }
    assert Problem.objects.count() == 1 and OutboxMessage.objects.count() == 2
    assert run.progress_at == T0 + 3 * H and run.finished_at is None
    monkeypatch.undo()
    result = escalation_sweep_run()
    assert (result.hotspots, result.problems_opened) == (1, 1)
    assert SweepRun.objects.get(pk=result.sweep_run_id).problems_opened == 1 and Problem.objects.count() == 2


def test_a_sweep_that_never_committed_is_interrupted_from_its_start(clock):
    run = SweepRun.objects.create(started_at=T0)  # died before its first batch
    assert run.state == SweepRun.State.RUNNING
    clock(T0 + stale() + timedelta(seconds=1))
    assert run.state == SweepRun.State.INTERRUPTED
    assert list(SweepRun.objects.filter(SweepRun.state_q(SweepRun.State.INTERRUPTED))) == [run]
    assert not SweepRun.objects.filter(SweepRun.state_q(SweepRun.State.RUNNING)).exists()
    # A run still committing stays running however long ago it started.
    SweepRun.objects.filter(pk=run.pk).update(progress_at=T0 + stale())
    run.refresh_from_db()
    assert run.state == SweepRun.State.RUNNING
    assert list(SweepRun.objects.filter(SweepRun.state_q(SweepRun.State.RUNNING))) == [run]
