"""The invariants the database itself holds: each write below bypasses the services
(straight ``create``/``update``), and PostgreSQL refuses it."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.models import (
    Category,
    Escalation,
    EscalationRule,
    Feedback,
    Issue,
    OutboxMessage,
    Problem,
    Report,
)
from outreach.models import Activity
from partners.models import Neighborhood, PartnerContact, StaffProfile
from tests import factories

pytestmark = pytest.mark.django_db


def refused(write):
    """The write raises IntegrityError and leaves the transaction usable."""
    with pytest.raises(IntegrityError), transaction.atomic():
        write()


@pytest.fixture
def issue(db):
    return factories.IssueFactory()


def escalate(issue, level, cycle=0):
    return Escalation.objects.create(
        issue=issue,
        level=level,
        cycle=cycle,
        action=EscalationRule.Action.NOTIFY_SUPERVISOR,
        created_at=timezone.now(),
    )


def test_second_escalation_of_the_same_level_is_refused(issue):
    escalate(issue, 1)
    refused(lambda: escalate(issue, 1))
    assert Escalation.objects.filter(issue=issue).count() == 1


def test_same_level_on_a_new_climb_after_reopening_is_allowed(issue):
    escalate(issue, 1, cycle=0)
    escalate(issue, 1, cycle=1)
    escalate(issue, 2, cycle=0)
    assert sorted(Escalation.objects.filter(issue=issue).values_list("cycle", "level")) == [(0, 1), (0, 2), (1, 1)]


def test_escalation_level_starts_at_one(issue):
    refused(lambda: escalate(issue, 0))


def test_due_at_must_follow_created_at(issue):
    refused(lambda: Issue.objects.filter(pk=issue.pk).update(due_at=issue.created_at))
    refused(lambda: Issue.objects.filter(pk=issue.pk).update(due_at=issue.created_at - timedelta(hours=1)))


def test_hold_started_at_if_and_only_if_on_hold(issue):
    refused(lambda: Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.ON_HOLD))
    refused(lambda: Issue.objects.filter(pk=issue.pk).update(hold_started_at=timezone.now()))
    Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.ON_HOLD, hold_started_at=timezone.now())


def test_duplicate_of_if_and_only_if_duplicate(issue):
    other = factories.IssueFactory(category=issue.category, neighborhood=issue.neighborhood)
    finished = {"outcome": Issue.Outcome.DUPLICATE, "resolved_at": timezone.now()}
    refused(lambda: Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.DUPLICATE, **finished))
    refused(lambda: Issue.objects.filter(pk=issue.pk).update(duplicate_of=other))
    refused(
        lambda: Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.DUPLICATE, duplicate_of=issue, **finished)
    )
    Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.DUPLICATE, duplicate_of=other, **finished)


@pytest.mark.parametrize("status", list(Issue.OPEN_STATUSES))
def test_an_open_issue_has_no_outcome(issue, status):
    extra = {"hold_started_at": timezone.now()} if status == Issue.Status.ON_HOLD else {}
    refused(lambda: Issue.objects.filter(pk=issue.pk).update(status=status, outcome=Issue.Outcome.RESOLVED, **extra))


def test_crime_report_outcome_and_number_come_together(issue):
    closed = {"status": Issue.Status.CLOSED, "resolved_at": timezone.now(), "closed_at": timezone.now()}
    refused(lambda: Issue.objects.filter(pk=issue.pk).update(outcome=Issue.Outcome.CRIME_REPORT, **closed))
    refused(
        lambda: Issue.objects.filter(pk=issue.pk).update(
            outcome=Issue.Outcome.RESOLVED, crime_report_number="KC-25-001234", **closed
        )
    )
    Issue.objects.filter(pk=issue.pk).update(
        outcome=Issue.Outcome.CRIME_REPORT, crime_report_number="KC-25-001234", **closed
    )
    assert Issue.objects.get(pk=issue.pk).crime_report_number == "KC-25-001234"


@pytest.mark.parametrize("lat,lng", [(91, 0), (-91, 0), (0, 181), (0, -181)])
def test_coordinates_stay_on_earth(issue, lat, lng):
    refused(lambda: Issue.objects.filter(pk=issue.pk).update(lat=lat, lng=lng))


def test_tracking_codes_are_unique(issue):
    refused(lambda: factories.IssueFactory(tracking_code=issue.tracking_code))


def test_anonymous_report_keeps_no_contact(issue):
    base = {"issue": issue, "text": "x", "created_at": timezone.now(), "is_anonymous": True}
    refused(lambda: Report.objects.create(reporter_name="Ana", **base))
    refused(lambda: Report.objects.create(reporter_email="ana@example.com", **base))
    refused(lambda: Report.objects.create(reporter_phone="(816) 555-0100", **base))
    refused(lambda: Report.objects.create(contact_consent=True, **base))
    Report.objects.create(**base)


@pytest.mark.parametrize(
    "hours",
    [
        {"target_hours_urgent": 0},
        {"target_hours_urgent": 50, "target_hours_high": 24},
        {"target_hours_high": 100, "target_hours_normal": 72},
        {"target_hours_normal": 200, "target_hours_low": 168},
    ],
)
def test_category_sla_hours_are_ordered(hours):
    category = factories.CategoryFactory()
    refused(lambda: Category.objects.filter(pk=category.pk).update(**hours))


def test_category_hotspot_settings(db):
    category = factories.CategoryFactory()
    refused(lambda: Category.objects.filter(pk=category.pk).update(hotspot_threshold=1))
    refused(lambda: Category.objects.filter(pk=category.pk).update(hotspot_window_hours=0))


def test_escalation_rule_one_per_level_from_one(db):
    rule = factories.EscalationRuleFactory(level=1)
    refused(lambda: factories.EscalationRuleFactory(category=rule.category, level=1, hours_overdue=5))
    refused(lambda: factories.EscalationRuleFactory(category=rule.category, level=0))
    factories.EscalationRuleFactory(category=rule.category, level=2, hours_overdue=24)


def test_problem_closed_at_if_and_only_if_closed(db):
    problem = factories.ProblemFactory()
    refused(lambda: Problem.objects.filter(pk=problem.pk).update(stage=Problem.Stage.CLOSED))
    refused(lambda: Problem.objects.filter(pk=problem.pk).update(closed_at=timezone.now()))
    Problem.objects.filter(pk=problem.pk).update(stage=Problem.Stage.CLOSED, closed_at=timezone.now())


@pytest.mark.parametrize("satisfaction", [0, 6])
def test_feedback_satisfaction_is_one_to_five(issue, satisfaction):
    refused(
        lambda: Feedback.objects.create(issue=issue, fixed=True, satisfaction=satisfaction, created_at=timezone.now())
    )


def test_outbox_message_needs_a_recipient_and_dedupes(db):
    now = timezone.now()
    base = {
        "channel": OutboxMessage.Channel.EMAIL,
        "subject": "s",
        "body": "b",
        "next_attempt_at": now,
        "created_at": now,
    }
    refused(lambda: OutboxMessage.objects.create(**base))
    OutboxMessage.objects.create(recipient_email="a@example.org", dedupe_key="k1", **base)
    refused(lambda: OutboxMessage.objects.create(recipient_email="b@example.org", dedupe_key="k1", **base))


def test_activity_cannot_end_before_it_starts_or_log_negative_hours(db):
    activity = factories.ActivityFactory()
    refused(lambda: Activity.objects.filter(pk=activity.pk).update(ends_at=activity.starts_at - timedelta(minutes=1)))
    refused(lambda: Activity.objects.filter(pk=activity.pk).update(hours=-1))
    Activity.objects.filter(pk=activity.pk).update(ends_at=activity.starts_at)  # a zero-length activity is fine


def test_one_primary_contact_per_partner(db):
    partner = factories.PartnerFactory()
    PartnerContact.objects.create(partner=partner, name="A", is_primary=True)
    PartnerContact.objects.create(partner=partner, name="B", is_primary=False)
    refused(lambda: PartnerContact.objects.create(partner=partner, name="C", is_primary=True))


def test_badge_numbers_are_unique_but_may_be_blank(db):
    first, second, third = (factories.UserFactory() for _ in range(3))
    StaffProfile.objects.create(user=first, badge_number="4127")
    StaffProfile.objects.create(user=second)
    StaffProfile.objects.create(user=third)  # two blank badges are fine
    refused(lambda: StaffProfile.objects.filter(user=second).update(badge_number="4127"))


def test_neighborhood_bounding_box_is_ordered(db):
    hood = factories.NeighborhoodFactory()
    refused(lambda: Neighborhood.objects.filter(pk=hood.pk).update(min_lat=hood.max_lat + 1))
    refused(lambda: Neighborhood.objects.filter(pk=hood.pk).update(min_lng=hood.max_lng + 1))
    refused(lambda: factories.NeighborhoodFactory(name=hood.name))
