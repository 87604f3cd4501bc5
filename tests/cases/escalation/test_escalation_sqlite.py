"""The same sweep runs on SQLite, the embedded database of ``make run``.

The suite's database is PostgreSQL, so this runs a scenario in a subprocess
whose DATABASE_URL is a fresh SQLite file: every action of the ladder, a hot
spot, a repeated sweep, the outbox drain and ``escalate --dry-run``.
"""

import pytest

from tests.sqlite import checked_run_on_sqlite

SCENARIO = r"""
import json, sys
import django
django.setup()
from datetime import timedelta
from io import StringIO
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
call_command("migrate", verbosity=0)
from tests import factories as f
from cases import services
from cases.escalation import ladders
from cases.models import Escalation, Event, Issue, Notification, OutboxMessage, Problem
from cases.escalation.sweep import escalation_sweep_run, escalations_due
from cases.notifications.drain import outbox_drain

place, other = f.NeighborhoodFactory(), f.NeighborhoodFactory()
boss = f.supervisor(neighborhoods=[place])
commander = f.supervisor(districts=[place.district])
category = f.CategoryFactory()
ladders.escalation_ladder_set(category=category, ladder=[
    (1, 0, "raise_priority"), (2, 24, "notify_supervisor"), (3, 72, "needs_decision"),
    (4, 100, "open_problem"), (5, 120, "notify_commander")])
now = timezone.now()
old = [f.IssueFactory(category=category, neighborhood=place if i % 2 else other,
                      created_at=now - timedelta(hours=400), due_at=now - timedelta(hours=130 + i)) for i in range(5)]
fresh = [f.IssueFactory(category=category, neighborhood=other, created_at=now - timedelta(hours=2),
                        due_at=now + timedelta(hours=70)) for _ in range(3)]
due = len(escalations_due(now))
first = escalation_sweep_run(batch_size=2)
second = escalation_sweep_run()
issue = Issue.objects.get(pk=old[1].pk)
drained = outbox_drain()
out = StringIO()
call_command("escalate", "--dry-run", stdout=out)
print(json.dumps({
    "due": due,
    "first": [first.escalations, first.issues_escalated, first.batches, first.hotspots],
    "second": [second.escalations, second.notifications, second.hotspots],
    "issue": [issue.escalation_level, issue.priority, issue.needs_decision, issue.problem_id is not None],
    "events": [e.data["level"] for e in Event.objects.filter(issue=issue, kind="escalated").order_by("id")],
    "unique": Escalation.objects.values("issue_id", "cycle", "level").distinct().count() == Escalation.objects.count(),
    "problems": sorted(Problem.objects.values_list("source", flat=True)),
    "fresh_grouped": Issue.objects.filter(pk__in=[i.pk for i in fresh], problem__isnull=False).count(),
    "drained": drained, "outbox": OutboxMessage.objects.count(), "emails": len(mail.outbox),
    "notifications": Notification.objects.count(),
    "dry_run_clean": "Would escalate 0 issue(s)" in out.getvalue(),
}))
"""


@pytest.mark.slow
def test_the_sweep_and_the_drain_work_on_sqlite(tmp_path):
    result = checked_run_on_sqlite(SCENARIO, tmp_path, EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
    assert result["due"] == 25  # 5 issues × 5 levels
    assert result["first"] == [25, 5, 3, 1]  # 3 batches of ≤ 2 issues; the 3 fresh issues make a hot spot
    assert result["second"] == [0, 0, 0]
    assert result["issue"] == [5, "high", True, True]
    assert result["events"] == [1, 2, 3, 4, 5]
    assert result["unique"] is True
    # One Problem per place, opened by level 4; the hot spot joins the open one.
    assert result["problems"] == ["escalation", "escalation"]
    assert result["fresh_grouped"] == 3
    assert result["drained"]["sent"] == result["outbox"] > 0 and result["drained"]["failed"] == 0
    assert result["emails"] + result["notifications"] == result["outbox"]
    assert result["dry_run_clean"] is True
