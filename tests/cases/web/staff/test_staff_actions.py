"""Every action of /issues/<id>/ through the page: plain POST (no JavaScript) and htmx.

Each case brings an issue into the state the action needs, posts the page's form,
and checks the issue changed, an Event with the actor was recorded, and the
answer is a redirect + message (no JS) or the #issue-main fragment (htmx).
Invalid actions show a message beside the action and change nothing.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.messages import get_messages

from cases import services
from cases.models import Event, Issue, Report
from tests import factories


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness is not under test here; users are created in every test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def issue(neighborhood, category):
    issue = factories.IssueFactory(neighborhood=neighborhood, category=category, address="1200 Main St")
    factories.ReportFactory(
        issue=issue, reporter_name="Ana Ruiz", reporter_email="ana@example.org", reporter_phone="816-555-0100"
    )
    return issue


def _url(issue, action):
    return f"/issues/{issue.pk}/{action}/"


def _snapshot(issue):
    issue.refresh_from_db()
    return {
        f.attname: getattr(issue, f.attname)
        for f in Issue._meta.concrete_fields
        if f.attname != "updated_at"  # touched by nothing here, but auto_now is not the point
    } | {"events": issue.events.count(), "reports": Report.objects.filter(issue=issue).count()}


# --- the table of actions -------------------------------------------------------------


@dataclass
class Case:
    action: str
    data: dict[str, Any]
    event_kind: str
    message: str
    prepare: Any = None  # callable(issue, actor, ctx) bringing the issue into the right state
    check: Any = None  # callable(issue, actor, ctx) asserting the effect
    extra: dict = field(default_factory=dict)


def _resolved(issue, actor, ctx):
    services.issue_resolve(issue=issue, actor=actor, note="Painted over")


def _on_hold(issue, actor, ctx):
    services.issue_hold(issue=issue, actor=actor, reason="Waiting for the owner")


def _target(issue, actor, ctx):
    ctx["target"] = factories.IssueFactory(neighborhood=issue.neighborhood, category=issue.category)


def _colleague(issue, actor, ctx):
    ctx["colleague"] = factories.officer(neighborhoods=[issue.neighborhood])


def _check_status(status, **attrs):
    def check(issue, actor, ctx):
        assert issue.status == status
        for name, value in attrs.items():
            assert getattr(issue, name) == value, name

    return check


def _check_assigned_to_actor(issue, actor, ctx):
    assert issue.assignee == actor
    assert issue.status == Issue.Status.IN_PROGRESS


def _check_assigned_to_colleague(issue, actor, ctx):
    assert issue.assignee == ctx["colleague"]


def _check_duplicate(issue, actor, ctx):
    target = ctx["target"]
    assert issue.status == Issue.Status.DUPLICATE
    assert issue.duplicate_of == target
    assert issue.reports.count() == 0
    assert target.reports.filter(reporter_name="Ana Ruiz").exists()


def _check_priority(issue, actor, ctx):
    assert issue.priority == "high"
    # The SLA follows the new priority: the category's 24 hours for "high" instead of 72.
    assert issue.due_at == issue.created_at + timedelta(hours=24)


CASES = [
    Case("acknowledge", {}, Event.Kind.ACKNOWLEDGED, "Issue acknowledged.", check=_check_status("acknowledged")),
    Case(
        "assign",
        {"officer": "__actor__"},
        Event.Kind.ASSIGNED,
        "Issue assigned to you.",
        check=_check_assigned_to_actor,
    ),
    Case(
        "assign",
        {"officer": "__colleague__"},
        Event.Kind.ASSIGNED,
        "Issue assigned to",
        prepare=_colleague,
        check=_check_assigned_to_colleague,
    ),
    Case(
        "approach",
        {"approach": "problem_solve"},
        Event.Kind.APPROACH,
        "Approach set: Problem-solve.",
        check=_check_status("new", approach="problem_solve"),
    ),
    Case(
        "priority",
        {"priority": "high", "reason": "Near a school"},
        Event.Kind.PRIORITY,
        "Priority set to High.",
        check=_check_priority,
    ),
    Case(
        "note",
        {"text": "Spoke with the owner", "visibility": "internal"},
        Event.Kind.NOTE,
        "Internal note added.",
        check=lambda issue, actor, ctx: issue.events.get(kind="note", is_public=False),
    ),
    Case(
        "note",
        {"text": "Paint crew booked for Tuesday", "visibility": "public"},
        Event.Kind.NOTE,
        "Public note added.",
        check=lambda issue, actor, ctx: issue.events.get(kind="note", is_public=True),
    ),
    Case(
        "hold",
        {"reason": "Waiting for the owner"},
        Event.Kind.HELD,
        "Issue on hold",
        check=_check_status("on_hold", hold_reason="Waiting for the owner"),
    ),
    Case("resume", {}, Event.Kind.RESUMED, "Issue resumed", prepare=_on_hold, check=_check_status("new")),
    Case(
        "duplicate",
        {"tracking_code": "__target__"},
        Event.Kind.DUPLICATE,
        "Marked as duplicate of",
        prepare=_target,
        check=_check_duplicate,
    ),
    Case(
        "refer",
        {"agency": "Public Works", "note": "Streetlight is theirs"},
        Event.Kind.REFERRED,
        "Referred to Public Works.",
        check=_check_status("referred", referred_to="Public Works", outcome="referred"),
    ),
    Case(
        "resolve",
        {"note": "Wall repainted"},
        Event.Kind.RESOLVED,
        "Issue resolved.",
        check=_check_status("resolved", resolution_note="Wall repainted", outcome="resolved"),
    ),
    Case(
        "crime-report",
        {"report_number": "KC-2026-00042", "note": "Vandalism escalated"},
        Event.Kind.CRIME_REPORT,
        "Crime report KC-2026-00042 recorded",
        check=_check_status("closed", crime_report_number="KC-2026-00042", outcome="crime_report"),
    ),
    Case(
        "reopen",
        {"reason": "Tags are back"},
        Event.Kind.REOPENED,
        "Issue reopened",
        prepare=_resolved,
        check=_check_status("new", reopen_count=1, outcome=""),
    ),
    Case("close", {}, Event.Kind.CLOSED, "Issue closed.", prepare=_resolved, check=_check_status("closed")),
]
CASE_IDS = [f"{c.action}-{i}" for i, c in enumerate(CASES)]


def _post_data(case, actor, ctx):
    data = {}
    for key, value in case.data.items():
        if value == "__actor__":
            value = actor.pk
        elif value == "__colleague__":
            value = ctx["colleague"].pk
        elif value == "__target__":
            value = ctx["target"].tracking_code.lower().replace("-", " ")  # forgiving input
        data[key] = value
    return data


def _prepare(case, issue, actor):
    ctx = {}
    if case.prepare:
        case.prepare(issue, actor, ctx)
    return ctx


def _assert_effect(case, issue, actor, ctx, events_before):
    issue.refresh_from_db()
    case.check(issue, actor, ctx)
    new_events = issue.events.order_by("created_at", "id")[events_before:]
    kinds = [e.kind for e in new_events]
    assert case.event_kind in kinds
    assert all(e.actor == actor for e in new_events if e.kind == case.event_kind)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_action_without_javascript(client, officer, issue, case):
    ctx = _prepare(case, issue, officer)
    events_before = issue.events.count()
    client.force_login(officer)

    response = client.post(_url(issue, case.action), _post_data(case, officer, ctx))

    assert response.status_code == 302
    assert response["Location"] == f"/issues/{issue.pk}/"
    _assert_effect(case, issue, officer, ctx, events_before)
    page = client.get(response["Location"])
    assert case.message in page.content.decode()


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_action_with_htmx(client, supervisor, issue, case):
    ctx = _prepare(case, issue, supervisor)
    events_before = issue.events.count()
    client.force_login(supervisor)

    response = client.post(_url(issue, case.action), _post_data(case, supervisor, ctx), **HTMX)

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="issue-main"')  # the fragment, not a whole page
    assert "<html" not in body
    assert case.message in body
    assert "HX-Request" in response["Vary"]
    _assert_effect(case, issue, supervisor, ctx, events_before)
    issue.refresh_from_db()
    assert issue.get_status_display() in body
    # The message was shown in the fragment: it does not pop up again on the next page.
    assert not list(get_messages(client.get(f"/issues/{issue.pk}/").wsgi_request))


def test_page_offers_the_actions_that_fit_the_status(client, officer, issue):
    client.force_login(officer)
    body = client.get(f"/issues/{issue.pk}/").content.decode()
    for action in ["acknowledge", "assign", "approach", "priority", "note", "hold", "duplicate", "refer", "resolve"]:
        assert f'action="/issues/{issue.pk}/{action}/"' in body, action
        assert f'hx-post="/issues/{issue.pk}/{action}/"' in body, action
    assert f'action="/issues/{issue.pk}/crime-report/"' in body
    for absent in ["resume", "reopen", "close"]:
        assert f'action="/issues/{issue.pk}/{absent}/"' not in body, absent
    assert "Assign to me" in body

    services.issue_resolve(issue=issue, actor=officer, note="Done")
    body = client.get(f"/issues/{issue.pk}/").content.decode()
    for action in ["reopen", "close", "note"]:
        assert f'action="/issues/{issue.pk}/{action}/"' in body, action
    for absent in ["acknowledge", "resolve", "hold", "assign"]:
        assert f'action="/issues/{issue.pk}/{absent}/"' not in body, absent


# --- invalid actions: message beside the action, nothing changed ------------------------


INVALID = [
    pytest.param("resolve", {"note": "   "}, None, "This field is required.", id="resolve-without-note"),
    pytest.param(
        "acknowledge", {}, "acknowledged", "Cannot acknowledge an issue that is acknowledged.", id="ack-twice"
    ),
    pytest.param(
        "duplicate", {"tracking_code": "__self__"}, None, "An issue cannot duplicate itself.", id="dup-itself"
    ),
    pytest.param(
        "duplicate",
        {"tracking_code": "CG-ZZZZ-9999"},
        None,
        "No issue has the tracking code CG-ZZZZ-9999.",
        id="dup-bad",
    ),
    pytest.param("hold", {"reason": ""}, None, "This field is required.", id="hold-without-reason"),
    pytest.param("resume", {}, None, "Cannot resume an issue that is new.", id="resume-not-held"),
    pytest.param("crime-report", {"report_number": ""}, None, "This field is required.", id="crime-without-number"),
    pytest.param("reopen", {"reason": "again"}, None, "Cannot reopen an issue that is new.", id="reopen-open"),
    pytest.param("reopen", {"reason": "again"}, "crime", "stays closed", id="reopen-crime-report"),
    pytest.param("approach", {"approach": "arrest"}, None, "Select a valid choice.", id="approach-unknown"),
    pytest.param("priority", {"priority": "extreme"}, None, "Select a valid choice.", id="priority-unknown"),
    pytest.param(
        "assign", {"officer": "__nobody__"}, None, "Choose an active officer who works issues.", id="assign-civ"
    ),
    pytest.param("note", {"text": "x" * 5001, "visibility": "public"}, None, "at most 5000", id="note-too-long"),
    pytest.param("close", {}, None, "Cannot close an issue that is new.", id="close-open"),
]


def _bring_to(state, issue, actor):
    if state == "acknowledged":
        services.issue_acknowledge(issue=issue, actor=actor)
    elif state == "crime":
        services.issue_record_crime_report(issue=issue, actor=actor, report_number="KC-1")


def _invalid_data(data, issue):
    data = dict(data)
    if data.get("tracking_code") == "__self__":
        data["tracking_code"] = issue.tracking_code
    if data.get("officer") == "__nobody__":
        data["officer"] = factories.UserFactory().pk  # signed-up user without the Officer role
    return data


@pytest.mark.parametrize(("action", "data", "state", "expected"), INVALID)
@pytest.mark.parametrize("htmx", [False, True], ids=["nojs", "htmx"])
def test_invalid_action_shows_message_and_changes_nothing(client, officer, issue, action, data, state, expected, htmx):
    _bring_to(state, issue, officer)
    data = _invalid_data(data, issue)
    before = _snapshot(issue)
    client.force_login(officer)

    response = client.post(_url(issue, action), data, **(HTMX if htmx else {}))

    assert response.status_code == (200 if htmx else 400)
    body = response.content.decode()
    assert expected in body
    assert "nothing was changed" in body
    # The error sits beside the action's form, which is re-shown (open) with the errors.
    assert f'class="action-form action-{action} has-errors"' in body
    assert _snapshot(issue) == before


def test_unknown_action_is_404_and_get_is_405(client, officer, issue):
    client.force_login(officer)
    assert client.post(_url(issue, "delete")).status_code == 404
    assert client.get(_url(issue, "resolve")).status_code == 405
    assert client.post("/issues/999999/resolve/", {"note": "x"}).status_code == 404


def test_failed_note_keeps_what_was_typed(client, officer, issue):
    client.force_login(officer)
    response = client.post(_url(issue, "refer"), {"agency": "", "note": "Their streetlight, call them"})
    assert response.status_code == 400
    assert "Their streetlight, call them" in response.content.decode()


# --- contact details ----------------------------------------------------------------------


REVEAL = {"reason_code": "call_back"}


def _reveal(client, issue, data=REVEAL, **extra):
    """Contact details are revealed by a POST with a reason (tests/cases/web/staff/test_audit.py has the rest)."""
    return client.post(f"/issues/{issue.pk}/contacts/", data, **extra)


def test_contacts_hidden_until_revealed_and_each_view_is_audited(client, officer, issue):
    client.force_login(officer)
    body = client.get(f"/issues/{issue.pk}/").content.decode()
    assert "Ana Ruiz" not in body and "ana@example.org" not in body and "816-555-0100" not in body
    assert "Show contact details" in body
    assert not issue.events.filter(kind=Event.Kind.CONTACT_VIEWED).exists()

    body = _reveal(client, issue).content.decode()
    assert "Ana Ruiz" in body and "ana@example.org" in body and "816-555-0100" in body
    viewed = issue.events.get(kind=Event.Kind.CONTACT_VIEWED)
    assert viewed.actor == officer
    assert viewed.is_public is False
    assert viewed.message == "Call the resident back"

    fragment = _reveal(client, issue, **HTMX).content.decode()
    assert "ana@example.org" in fragment
    assert issue.events.filter(kind=Event.Kind.CONTACT_VIEWED, actor=officer).count() == 2


def test_assignee_from_elsewhere_may_see_contacts(client, other_officer, issue):
    issue.assignee = other_officer
    issue.save(update_fields=["assignee"])
    client.force_login(other_officer)
    body = _reveal(client, issue).content.decode()
    assert "ana@example.org" in body
    assert issue.events.filter(kind=Event.Kind.CONTACT_VIEWED, actor=other_officer).count() == 1


def test_officer_of_another_district_sees_contact_details_hidden(client, other_officer, issue):
    client.force_login(other_officer)
    body = client.get(f"/issues/{issue.pk}/").content.decode()
    assert "Contact details hidden" in body
    assert "Show contact details" not in body
    for response in (client.get(f"/issues/{issue.pk}/?contacts=show"), _reveal(client, issue)):
        body = response.content.decode()
        assert "Ana Ruiz" not in body and "ana@example.org" not in body and "816-555-0100" not in body
    assert not issue.events.filter(kind=Event.Kind.CONTACT_VIEWED).exists()


def test_supervisor_sees_contacts_and_is_audited(client, supervisor, issue):
    client.force_login(supervisor)
    body = _reveal(client, issue).content.decode()
    assert "816-555-0100" in body
    assert issue.events.filter(kind=Event.Kind.CONTACT_VIEWED, actor=supervisor).count() == 1


def test_anonymous_report_records_no_view(client, officer, neighborhood, category):
    issue = factories.IssueFactory(neighborhood=neighborhood, category=category)
    factories.ReportFactory(issue=issue, is_anonymous=True)
    client.force_login(officer)
    assert "Show contact details" not in client.get(f"/issues/{issue.pk}/").content.decode()
    body = _reveal(client, issue).content.decode()
    assert "Anonymous report" in body
    assert not issue.events.filter(kind=Event.Kind.CONTACT_VIEWED).exists()


def test_timeline_shows_actor_and_visibility(client, officer, issue):
    services.issue_add_note(issue=issue, actor=officer, text="Internal thought", public=False)
    services.issue_add_note(issue=issue, actor=officer, text="Crew booked", public=True)
    client.force_login(officer)
    body = client.get(f"/issues/{issue.pk}/").content.decode()
    timeline = body[body.index('id="timeline"') :]
    assert "Internal thought" in timeline and "Crew booked" in timeline
    assert officer.get_full_name() in timeline
    assert timeline.index("Internal thought") < timeline.index("Crew booked")
