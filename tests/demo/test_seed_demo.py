"""``manage.py seed_demo``: the numbers the issue asks for, data that obeys the app's own
rules (the escalation engine finds nothing left to do), determinism, idempotency."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.apps import apps
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from cases.escalation.sweep import escalations_due, hotspots_due
from cases.models import (
    ApiClient,
    Category,
    Escalation,
    EscalationRule,
    Event,
    Feedback,
    Issue,
    Problem,
    Report,
)
from outreach.models import Activity
from partners import geo
from partners.models import Neighborhood, Partner

pytestmark = pytest.mark.django_db
User = get_user_model()
NOW = timezone.now().replace(microsecond=0)


def seed(at=NOW):
    out = StringIO()
    with time_machine.travel(at, tick=False):
        call_command("seed_demo", stdout=out, stderr=StringIO(), verbosity=0)
    return out.getvalue()


def table_counts():
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def fingerprint():
    return sorted(
        Issue.objects.values_list(
            "tracking_code", "status", "priority", "category__service_code", "neighborhood__slug", "escalation_level"
        )
    )


def test_numbers_the_issue_asks_for():
    output = seed()
    assert "Demo data loaded" in output and "officer, officer2, supervisor, admin" in output

    hoods = list(Neighborhood.objects.all())
    assert len(hoods) >= 12
    assert len({h.district for h in hoods}) >= 3
    assert all(h.boundary and h.beat and h.languages and h.center_lat for h in hoods)

    categories = Category.objects.annotate(rules=Count("escalation_rules"), questions=Count("attributes"))
    assert categories.count() >= 15
    assert all(c.name_es and c.hint_en and c.hint_es and c.group_es and c.rules >= 3 for c in categories)
    assert categories.filter(is_public=False).exists() and categories.filter(questions__gt=0).count() >= 2
    assert len({c.group_en for c in categories}) >= 4

    kinds = set(Partner.objects.values_list("kind", flat=True))
    assert kinds == set(Partner.Kind.values)
    assert not Partner.objects.filter(contacts__isnull=True).exists()
    assert not Partner.objects.filter(neighborhoods__isnull=True).exists()

    issues = Issue.objects.all()
    assert issues.count() >= 300
    by_status = dict(issues.values_list("status").annotate(n=Count("id")).order_by())
    assert set(by_status) == set(Issue.Status.values)
    assert min(by_status.values()) >= 10, by_status
    assert not issues.filter(created_at__lt=NOW - timedelta(days=90)).exists()
    assert not issues.filter(created_at__gt=NOW).exists()
    overdue = issues.filter(status__in=Issue.ESCALATING_STATUSES, due_at__lt=NOW)
    assert 10 <= overdue.count() < issues.filter(status__in=Issue.ESCALATING_STATUSES).count()
    assert issues.filter(escalation_level__gt=0).count() >= 30
    assert issues.filter(needs_decision=True).count() >= 5
    crime = issues.filter(outcome=Issue.Outcome.CRIME_REPORT)
    assert crime.count() >= 5
    assert not crime.exclude(status=Issue.Status.CLOSED).exists() and not crime.filter(crime_report_number="").exists()

    reports = Report.objects.all()
    assert reports.count() > issues.count()
    assert reports.filter(language="es").count() >= 50 and reports.filter(is_anonymous=True).exists()
    assert reports.exclude(reporter_email="").exists() and reports.exclude(reporter_phone="").exists()
    assert set(reports.values_list("channel", flat=True)) == set(Report.Channel.values)
    assert reports.filter(channel=Report.Channel.OPEN311, open311_client__key="demo-open311-key").exists()
    assert Feedback.objects.count() >= 20

    assert len(set(Problem.objects.values_list("stage", flat=True))) >= 4
    assert set(Problem.objects.values_list("source", flat=True)) == set(Problem.Source.values)

    activities = Activity.objects.annotate(n_officers=Count("officers", distinct=True))
    assert activities.count() >= 100
    assert len(set(activities.values_list("kind", flat=True))) >= 8
    assert not activities.filter(n_officers=0).exists() and not activities.filter(hours__lte=0).exists()
    assert activities.filter(partners__isnull=False).distinct().count() >= 50
    assert activities.filter(issues__isnull=False).distinct().count() >= 10
    assert activities.filter(languages__contains=["es"]).count() >= 20
    # Logged after they ended (not stamped with the seeding time).
    assert not Activity.objects.filter(Q(created_at__gt=NOW) | Q(created_at__lt=F("ends_at"))).exists()

    client = ApiClient.objects.get(key="demo-open311-key")
    assert client.is_active


def test_data_follows_the_apps_rules():
    seed()
    # The escalation engine, asked at the same moment, finds nothing left to escalate or group.
    assert escalations_due(NOW) == []
    assert [h for h in hotspots_due(NOW) if h.loose] == []

    # Escalation rows: levels 1..escalation_level of the current climb, each once, per the ladder.
    climbs = Issue.objects.annotate(
        n=Count("escalations", filter=Q(escalations__cycle=0)), top=Max("escalations__level")
    ).filter(reopen_count=0)
    assert not climbs.filter(escalation_level__gt=0).exclude(n=F("escalation_level")).exists()
    assert not climbs.filter(escalation_level__gt=0).exclude(top=F("escalation_level")).exists()
    assert not climbs.filter(escalation_level=0, n__gt=0).exists()
    rules = {(r.category_id, r.level): r for r in EscalationRule.objects.all()}
    for escalation in Escalation.objects.select_related("issue"):
        rule = rules[(escalation.issue.category_id, escalation.level)]
        assert escalation.action == rule.action and escalation.hours_overdue == rule.hours_overdue
        assert escalation.created_at >= escalation.issue.due_at + timedelta(hours=rule.hours_overdue)
        assert escalation.rule_id == rule.pk

    # Waiting for a decision exactly when an open issue has an undecided needs_decision escalation.
    undecided = Escalation.objects.filter(action=EscalationRule.Action.NEEDS_DECISION, decided_at__isnull=True)
    waiting = set(Issue.objects.filter(needs_decision=True).values_list("pk", flat=True))
    open_undecided = set(
        undecided.filter(issue__status__in=Issue.OPEN_STATUSES).values_list("issue_id", flat=True).distinct()
    )
    assert waiting == open_undecided and waiting

    # Timelines: created first, nothing before the report or after now; report counts add up.
    firsts = Event.objects.order_by("issue_id", "created_at", "id").distinct("issue_id")
    assert set(firsts.values_list("kind", flat=True)) == {Event.Kind.CREATED}
    assert not Event.objects.filter(created_at__lt=F("issue__created_at")).exists()
    assert not Event.objects.filter(created_at__gt=NOW).exists()
    counted = Issue.objects.annotate(n=Count("reports"))
    assert not counted.exclude(n=F("report_count")).exists()
    duplicates = Issue.objects.filter(status=Issue.Status.DUPLICATE).select_related("duplicate_of")
    for issue in duplicates:
        assert issue.report_count == 0
        assert issue.duplicate_of.status != Issue.Status.DUPLICATE
        assert issue.duplicate_of.created_at < issue.created_at
    assert not Feedback.objects.exclude(issue__outcome=Issue.Outcome.RESOLVED).exists()

    # Every mapped issue lies inside its own neighborhood.
    for issue in Issue.objects.exclude(lat=None).select_related("neighborhood"):
        assert geo.contains(issue.neighborhood.boundary, issue.lat, issue.lng), issue.tracking_code

    # Contact details never sit on an anonymous report (also a database constraint).
    assert not Report.objects.filter(is_anonymous=True).exclude(reporter_name="", reporter_email="").exists()


def test_demo_logins():
    seed()
    for username in ("officer", "officer2", "supervisor", "admin"):
        assert authenticate(username=username, password=settings.DEMO_PASSWORD) is not None, username
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.groups.filter(name="Administrator").exists()
    officer, officer2 = User.objects.get(username="officer"), User.objects.get(username="officer2")
    assert officer.has_perm("cases.work_issue") and not officer.has_perm("cases.view_dashboard")
    assert User.objects.get(username="supervisor").has_perm("cases.view_dashboard")
    districts = {
        user.username: set(user.staff_profile.neighborhoods.values_list("district", flat=True))
        for user in (officer, officer2)
    }
    assert districts["officer"] and districts["officer2"] and not districts["officer"] & districts["officer2"]
    assert User.objects.filter(groups__name="Officer").count() >= 5
    assert Issue.objects.filter(assignee=officer).exists() and Issue.objects.filter(assignee=officer2).exists()


def test_second_run_changes_nothing():
    seed()
    counts, codes = table_counts(), fingerprint()
    User.objects.filter(username="officer").update(password="!")  # someone changed it
    output = seed(NOW + timedelta(hours=1))
    assert "already loaded" in output and "officer" in output
    assert table_counts() == counts
    assert fingerprint() == codes
    assert authenticate(username="officer", password=settings.DEMO_PASSWORD) is not None
    assert "Reset the password" not in seed(NOW + timedelta(hours=2))


def test_same_seed_same_data():
    with transaction.atomic():
        seed()
        first = fingerprint()
        transaction.set_rollback(True)
    assert not Issue.objects.exists()
    seed()
    assert fingerprint() == first


def test_refuses_a_production_database(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="ENVIRONMENT=production"):
        call_command("seed_demo", stdout=StringIO(), stderr=StringIO(), verbosity=0)
    assert not Issue.objects.exists()
