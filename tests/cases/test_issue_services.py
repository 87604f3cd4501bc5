"""The issue lifecycle services: each transition, its Event, and what it refuses."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from cases import services
from cases.models import Event, Feedback, Issue, OutboxMessage, Report
from tests.factories import CategoryFactory, IssueFactory, NeighborhoodFactory, ReportFactory, square

pytestmark = pytest.mark.django_db

Status = Issue.Status


def kinds(issue):
    return list(issue.events.order_by("created_at", "id").values_list("kind", flat=True))


@pytest.fixture
def place():
    return NeighborhoodFactory(boundary=square(39.0, -94.6, 0.01))


def submit(category, place, **kwargs):
    defaults = {"category": category, "text": "Couch dumped in the alley", "lat": 39.005, "lng": -94.595}
    defaults.update(kwargs)
    return services.issue_submit(**defaults)


def test_submit_opens_issue_with_sla_due_and_public_created_event(category, place):
    now = timezone.now()
    report = submit(category, place, priority="high", now=now)
    issue = report.issue
    assert issue.neighborhood == place
    assert issue.status == Status.NEW
    assert issue.due_at == now + timedelta(hours=category.target_hours_high)
    assert kinds(issue) == [Event.Kind.CREATED]
    assert issue.events.get().is_public


def test_submit_outside_every_neighborhood_saves_nothing(category, place):
    with pytest.raises(ValidationError) as exc:
        submit(category, place, lat=10.0, lng=10.0)
    assert "location" in exc.value.message_dict
    assert not Issue.objects.exists() and not Report.objects.exists()


def test_submit_by_neighborhood_alone(category, place):
    report = submit(category, place, lat=None, lng=None, neighborhood=place, address="12th and Main")
    assert report.issue.neighborhood == place
    assert report.issue.lat is None


def test_anonymous_report_stores_no_contact_and_queues_no_email(category, place):
    report = submit(
        category,
        place,
        anonymous=True,
        reporter_name="Ana",
        reporter_email="ana@example.org",
        reporter_phone="555-0100",
        contact_consent=True,
    )
    report.refresh_from_db()
    assert (report.reporter_name, report.reporter_email, report.reporter_phone) == ("", "", "")
    assert not report.contact_consent
    assert not OutboxMessage.objects.exists()


def test_email_confirmation_goes_to_outbox_not_sent_inline(category, place, mailoutbox):
    report = submit(category, place, reporter_email="ana@example.org", contact_consent=True)
    message = OutboxMessage.objects.get()
    assert message.recipient_email == "ana@example.org"
    assert report.issue.tracking_code in message.subject
    assert mailoutbox == []


def test_me_too_joins_open_issue_of_same_category(category, place):
    first = submit(category, place)
    second = submit(category, place, join_issue=first.issue, text="Still there")
    assert second.issue == first.issue
    assert Issue.objects.count() == 1
    first.issue.refresh_from_db()
    assert first.issue.report_count == 2
    assert kinds(first.issue) == [Event.Kind.CREATED, Event.Kind.REPORT_ADDED]


def test_me_too_refuses_other_category_or_closed_issue(category, place):
    first = submit(category, place)
    other = CategoryFactory()
    with pytest.raises(ValidationError):
        submit(other, place, join_issue=first.issue)
    services.issue_resolve(issue=first.issue, actor=None, note="Hauled away")
    with pytest.raises(ValidationError):
        submit(category, place, join_issue=first.issue)
    assert Report.objects.count() == 1


def test_full_officer_flow_records_each_step(officer):
    issue = IssueFactory(neighborhood=officer.staff_profile.neighborhoods.get())
    issue = services.issue_acknowledge(issue=issue, actor=officer)
    assert issue.status == Status.ACKNOWLEDGED and issue.acknowledged_at
    issue = services.issue_assign(issue=issue, officer=officer, actor=officer)
    assert issue.status == Status.IN_PROGRESS and issue.assignee == officer
    issue = services.issue_set_approach(issue=issue, approach="problem_solve", actor=officer)
    services.issue_add_note(issue=issue, actor=officer, text="Talked to the owner", public=True)
    services.issue_add_note(issue=issue, actor=officer, text="Owner is cooperative", public=False)
    issue = services.issue_resolve(issue=issue, actor=officer, note="Wall repainted")
    assert issue.status == Status.RESOLVED and issue.outcome == Issue.Outcome.RESOLVED and issue.resolved_at
    assert kinds(issue) == ["acknowledged", "assigned", "approach", "note", "note", "resolved"]
    assert all(e.actor == officer for e in issue.events.all())
    assert list(issue.events.filter(kind="note").values_list("is_public", flat=True)) == [True, False]


def test_acknowledge_twice_is_refused():
    issue = IssueFactory()
    services.issue_acknowledge(issue=issue, actor=None)
    with pytest.raises(ValidationError):
        services.issue_acknowledge(issue=issue, actor=None)
    assert issue.events.count() == 1


def test_hold_stops_the_sla_clock():
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        issue = IssueFactory()
        due = issue.due_at
        services.issue_hold(issue=issue, actor=None, reason="Waiting for the property owner")
    with time_machine.travel(start + timedelta(hours=30), tick=False):
        issue = services.issue_resume(issue=issue, actor=None)
    assert issue.status == Status.NEW
    assert issue.due_at == due + timedelta(hours=30)
    assert issue.hold_started_at is None


def test_hold_needs_a_reason():
    issue = IssueFactory()
    with pytest.raises(ValidationError):
        services.issue_hold(issue=issue, actor=None, reason="  ")
    issue.refresh_from_db()
    assert issue.status == Status.NEW


def test_priority_change_moves_due_at_by_sla_difference():
    issue = IssueFactory(priority="normal")
    created = issue.created_at
    issue = services.issue_set_priority(issue=issue, priority="urgent", actor=None)
    assert issue.due_at == created + timedelta(hours=issue.category.target_hours_urgent)
    assert issue.events.get().data["from"] == "normal"


def test_duplicate_moves_reports_to_the_surviving_issue():
    category = CategoryFactory()
    keep = IssueFactory(category=category)
    dupe = IssueFactory(category=category, neighborhood=keep.neighborhood)
    ReportFactory(issue=keep)
    ReportFactory(issue=dupe)
    ReportFactory(issue=dupe)
    services.issue_mark_duplicate(issue=dupe, of=keep, actor=None)
    dupe.refresh_from_db()
    keep.refresh_from_db()
    assert dupe.status == Status.DUPLICATE and dupe.duplicate_of == keep
    assert keep.reports.count() == 3 and dupe.reports.count() == 0
    with pytest.raises(ValidationError):
        services.issue_mark_duplicate(issue=keep, of=keep, actor=None)


def test_crime_report_is_counted_with_its_number():
    issue = IssueFactory()
    with pytest.raises(ValidationError):
        services.issue_record_crime_report(issue=issue, actor=None, report_number="")
    issue = services.issue_record_crime_report(issue=issue, actor=None, report_number="KC-26-004512")
    assert issue.outcome == Issue.Outcome.CRIME_REPORT and issue.crime_report_number == "KC-26-004512"
    assert issue.status == Status.CLOSED
    with pytest.raises(ValidationError):
        services.issue_reopen(issue=issue, actor=None, reason="again")


def test_refer_and_reopen_gives_fresh_due_and_level_zero():
    issue = IssueFactory(escalation_level=2)
    services.issue_refer(issue=issue, agency="KC Water Services", actor=None)
    later = timezone.now() + timedelta(days=3)
    with time_machine.travel(later, tick=False):
        issue = services.issue_reopen(issue=issue, actor=None, reason="Agency did not come")
    assert issue.status == Status.NEW
    assert issue.escalation_level == 0 and issue.reopen_count == 1
    assert issue.due_at == later + timedelta(hours=issue.category.target_hours(issue.priority))
    assert issue.outcome == "" and issue.referred_to == ""


def test_feedback_not_fixed_reopens_and_is_recorded():
    issue = IssueFactory()
    services.issue_resolve(issue=issue, actor=None, note="Done")
    feedback = services.feedback_submit(issue=issue, fixed=False, satisfaction=2, comment="Still broken")
    issue.refresh_from_db()
    assert isinstance(feedback, Feedback)
    # The answer carries the issue's place and category (the dashboard filters answers by them).
    assert (feedback.neighborhood_id, feedback.category_id) == (issue.neighborhood_id, issue.category_id)
    assert issue.status == Status.NEW
    assert kinds(issue)[-2:] == ["feedback", "reopened"]
    assert issue.events.get(kind="reopened").data["by_resident"] is True


def test_feedback_refused_before_resolution_and_out_of_range():
    issue = IssueFactory()
    with pytest.raises(ValidationError):
        services.feedback_submit(issue=issue, fixed=True, satisfaction=5)
    services.issue_resolve(issue=issue, actor=None, note="Done")
    with pytest.raises(ValidationError):
        services.feedback_submit(issue=issue, fixed=True, satisfaction=6)
    assert not Feedback.objects.exists()


def test_assign_refuses_someone_who_cannot_work_issues():
    from tests.factories import UserFactory

    issue = IssueFactory()
    civilian = UserFactory()
    with pytest.raises(ValidationError):
        services.issue_assign(issue=issue, officer=civilian, actor=None)
    issue.refresh_from_db()
    assert issue.assignee is None


def test_the_assignment_notice_is_in_the_officers_language_not_the_assigners():
    from django.utils import translation

    from partners.models import StaffProfile
    from tests.factories import officer, supervisor

    issue = IssueFactory()
    oficial, boss = officer(neighborhoods=[issue.neighborhood]), supervisor(districts=[issue.neighborhood.district])
    StaffProfile.objects.filter(user=oficial).update(language="es")
    with translation.override("en"):  # the supervisor's page is in English
        services.issue_assign(issue=issue, officer=oficial, actor=boss)
    notice = OutboxMessage.objects.get(recipient=oficial, channel=OutboxMessage.Channel.IN_APP)
    assert notice.subject == f"Se le asignó el caso {issue.tracking_code}"
