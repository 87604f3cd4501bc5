"""Every action through the API leaves the same trail as through the pages.

Two issues in the same state: one is acted on through the API (token), the
other through the staff page's POST form (session). Their new timeline events
must match — kind, public or internal, actor, message — and so must the
resulting issue. The same for the dashboard's decisions, the problem pages and
the outreach log (whose page and API call the same service).
"""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from cases import services
from cases.models import Escalation, EscalationRule, Event, Issue, ProblemEvent
from outreach.models import Activity, ActivityRevision
from tests import factories
from tests.api.conftest import token_client


def _trail(issue, since_id, *, codes=()):
    """The issue's events after ``since_id``, comparable across two issues (tracking codes masked)."""
    rows = []
    for event in Event.objects.filter(issue=issue, pk__gt=since_id).order_by("created_at", "id"):
        message = event.message
        for code in codes:
            message = message.replace(code, "<code>")
        rows.append((event.kind, event.is_public, event.actor_id, message, sorted(event.data)))
    return rows


def _state(issue):
    issue.refresh_from_db()
    return {
        name: getattr(issue, name)
        for name in (
            "status",
            "outcome",
            "approach",
            "priority",
            "assignee_id",
            "hold_reason",
            "referred_to",
            "resolution_note",
            "crime_report_number",
            "reopen_count",
            "escalation_level",
            "needs_decision",
        )
    }


def _held(issue, actor):
    services.issue_hold(issue=issue, actor=actor, reason="Waiting for the property owner")


def _resolved(issue, actor):
    services.issue_resolve(issue=issue, actor=actor, note="Painted over")


# slug, API body, page form, setup
ISSUE_ACTIONS = [
    ("acknowledge", {}, {}, None),
    ("assign", "officer", "officer", None),
    ("approach", {"approach": "problem_solve"}, {"approach": "problem_solve"}, None),
    (
        "priority",
        {"priority": "urgent", "reason": "School zone"},
        {"priority": "urgent", "reason": "School zone"},
        None,
    ),
    (
        "note",
        {"text": "Crew comes Tuesday", "public": True},
        {"text": "Crew comes Tuesday", "visibility": "public"},
        None,
    ),
    ("note", {"text": "Owner is difficult"}, {"text": "Owner is difficult", "visibility": "internal"}, None),
    ("hold", {"reason": "Owner asked for a week"}, {"reason": "Owner asked for a week"}, None),
    ("resume", {}, {}, _held),
    ("duplicate", "duplicate", "duplicate", None),
    ("refer", {"agency": "Public Works", "note": "Their pole"}, {"agency": "Public Works", "note": "Their pole"}, None),
    ("resolve", {"note": "Painted over"}, {"note": "Painted over"}, None),
    ("crime-report", {"report_number": "KC-26-0042"}, {"report_number": "KC-26-0042", "note": ""}, None),
    ("reopen", {"reason": "Tags are back"}, {"reason": "Tags are back"}, _resolved),
    ("close", {}, {}, _resolved),
]


@pytest.mark.parametrize(
    ("slug", "api_body", "form", "setup"),
    [pytest.param(*row, id=f"{row[0]}-{i}") for i, row in enumerate(ISSUE_ACTIONS)],
)
def test_issue_action_through_the_api_leaves_the_same_events_as_the_page(
    neighborhood, category, officer, supervisor, slug, api_body, form, setup
):
    via_api, via_page = (factories.IssueFactory(neighborhood=neighborhood, category=category) for _ in range(2))
    targets = {}
    if slug == "duplicate":
        targets = {
            issue.pk: factories.IssueFactory(neighborhood=neighborhood, category=category)
            for issue in (via_api, via_page)
        }
        api_body = {"duplicate_of": targets[via_api.pk].pk}
        form = {"tracking_code": targets[via_page.pk].tracking_code}
    if api_body == "officer":
        api_body, form = {"officer": officer.pk}, {"officer": officer.pk}
    for issue in (via_api, via_page):
        if setup is not None:
            setup(issue, supervisor)
    since = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0

    response = token_client(officer).post(f"/api/v1/issues/{via_api.pk}/{slug}/", api_body, format="json")
    assert response.status_code in (200, 201), response.json()

    page = Client()
    page.force_login(officer)
    page_response = page.post(f"/issues/{via_page.pk}/{slug}/", form)
    assert page_response.status_code == 302, page_response.content[:300]

    codes = [t.tracking_code for t in targets.values()]
    api_trail = _trail(via_api, since, codes=codes)
    assert api_trail, "the action recorded nothing"
    assert api_trail == _trail(via_page, since, codes=codes)
    assert all(actor == officer.pk for _, _, actor, _, _ in api_trail)
    assert _state(via_api) == _state(via_page)
    if targets:
        api_target, page_target = targets[via_api.pk], targets[via_page.pk]
        assert _trail(api_target, since) == _trail(page_target, since) != []
        assert _state(api_target) == _state(page_target)


@pytest.mark.parametrize("decision", ["acknowledge", "assign", "problem"])
def test_decision_through_the_api_matches_the_dashboard(neighborhood, category, officer, supervisor, decision):
    issues = [factories.IssueFactory(neighborhood=neighborhood, category=category) for _ in range(2)]
    for issue in issues:
        Escalation.objects.create(
            issue=issue, level=1, action=EscalationRule.Action.NEEDS_DECISION, created_at=timezone.now()
        )
    since = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    body = {"decision": decision}
    if decision == "assign":
        body["officer"] = officer.pk
    response = token_client(supervisor).post(f"/api/v1/issues/{issues[0].pk}/decision/", body, format="json")
    assert response.status_code == 200, response.json()
    page = Client()
    page.force_login(supervisor)
    form = {"officer": officer.pk} if decision == "assign" else {}
    action = "problem" if decision == "problem" else decision
    assert page.post(f"/dashboard/decisions/{issues[1].pk}/{action}/", form).status_code == 302

    for issue in issues:
        issue.refresh_from_db()
    # A problem's number differs between the two runs; everything else must not.
    opened = [f"#{issue.problem_id}" for issue in issues if issue.problem_id]
    assert _trail(issues[0], since, codes=opened) == _trail(issues[1], since, codes=opened) != []
    assert _state(issues[0]) == _state(issues[1])
    for issue in issues:
        assert not Escalation.objects.filter(issue=issue, decided_at__isnull=True).exists()
        assert Escalation.objects.get(issue=issue).decided_by == supervisor
    if decision == "problem":
        assert response.json()["problem"]["id"] == issues[0].problem_id
        assert issues[1].problem_id and issues[0].problem_id != issues[1].problem_id


def test_report_entered_through_the_api_is_recorded_like_any_report(neighborhood, category, officer):
    response = token_client(officer).post(
        "/api/v1/issues/",
        {
            "category": category.pk,
            "description": "Streetlight out at the bus stop",
            "lat": (neighborhood.min_lat + neighborhood.max_lat) / 2,
            "lng": (neighborhood.min_lng + neighborhood.max_lng) / 2,
            "channel": "phone",
            "reporter_name": "Ana",
            "reporter_phone": "816-555-0100",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    issue = Issue.objects.get(pk=response.json()["id"])
    assert issue.neighborhood == neighborhood
    assert response.json()["tracking_code"] == issue.tracking_code
    event = issue.events.get()
    assert (event.kind, event.is_public, event.actor) == (Event.Kind.CREATED, True, officer)
    report = issue.reports.get()
    assert (report.channel, report.created_by, report.reporter_phone) == ("phone", officer, "816-555-0100")


def test_joining_an_open_issue_adds_a_report_not_an_issue(neighborhood, category, officer, issue):
    response = token_client(officer).post(
        "/api/v1/issues/",
        {"category": category.pk, "description": "Still there", "join_issue": issue.pk},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["id"] == issue.pk
    assert response.json()["report_count"] == 2
    assert issue.events.filter(kind=Event.Kind.REPORT_ADDED, actor=officer).count() == 1


# --- problems: API against the problem pages ------------------------------------------

PROBLEM_ACTIONS = [
    ("advance", {"note": "Enough to analyse"}, {"note": "Enough to analyse"}),
    ("move", {"to": "analysis", "note": "Enough to analyse"}, {"to": "analysis", "note": "Enough to analyse"}),
    ("close", {"outcome": "reduced", "note": "Half the calls"}, {"outcome": "reduced", "note": "Half the calls"}),
    ("add-issues", "issues", "issues"),
    ("remove-issue", "issue", "issue"),
    ("owner", "owner", "owner"),
    (
        "analysis",
        {"place": "Alley behind 31st", "why": "No lights"},
        {"place": "Alley behind 31st", "why": "No lights"},
    ),
    (
        "response",
        {"approach": "deter", "plan": "Lights and a mural"},
        {"approach": "deter", "plan": "Lights and a mural"},
    ),
    ("note", {"text": "Met the business owners"}, {"text": "Met the business owners"}),
]


def _problem_trail(problem, since_id, *, codes=()):
    masked = []
    for e in ProblemEvent.objects.filter(problem=problem, pk__gt=since_id).order_by("created_at", "id"):
        message = e.message
        for code in codes:
            message = message.replace(code, "<code>")
        masked.append((e.kind, e.actor_id, message, sorted(e.data)))
    return masked


@pytest.mark.parametrize(("slug", "api_body", "form"), PROBLEM_ACTIONS, ids=[row[0] for row in PROBLEM_ACTIONS])
def test_problem_action_through_the_api_matches_the_page(
    neighborhood, category, officer, supervisor, slug, api_body, form
):
    grouped = [factories.IssueFactory(neighborhood=neighborhood, category=category) for _ in range(2)]
    problems = [
        services.problem_open(title="Tagging on the corridor", actor=supervisor, issues=[issue]) for issue in grouped
    ]
    extra = [factories.IssueFactory(neighborhood=neighborhood, category=category) for _ in range(2)]
    if api_body == "issues":
        api_body, form = {"issues": [extra[0].pk]}, {"codes": extra[1].tracking_code}
    elif api_body == "issue":
        api_body, form = (
            {"issue": grouped[0].pk, "reason": "Different cause"},
            {"issue": grouped[1].pk, "reason": "Different cause"},
        )
    elif api_body == "owner":
        api_body, form = {"owner": officer.pk}, {"owner": officer.pk}
    since = ProblemEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    since_event = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    actor = supervisor

    response = token_client(actor).post(f"/api/v1/problems/{problems[0].pk}/{slug}/", api_body, format="json")
    assert response.status_code in (200, 201), response.json()
    page = Client()
    page.force_login(actor)
    assert page.post(f"/problems/{problems[1].pk}/{slug}/", form).status_code == 302

    codes = [issue.tracking_code for issue in grouped + extra]
    api_trail, page_trail = (
        _problem_trail(problems[0], since, codes=codes),
        _problem_trail(problems[1], since, codes=codes),
    )
    assert api_trail == page_trail != []
    issues_api = {"add-issues": extra[0], "remove-issue": grouped[0]}.get(slug)
    issues_page = {"add-issues": extra[1], "remove-issue": grouped[1]}.get(slug)
    if issues_api is not None:
        masked = [
            (k, p, a, m.replace(problems[0].title, "<t>"), d) for k, p, a, m, d in _trail(issues_api, since_event)
        ]
        assert masked == [
            (k, p, a, m.replace(problems[1].title, "<t>"), d) for k, p, a, m, d in _trail(issues_page, since_event)
        ]
        assert masked != []


# --- outreach: the API and the page both call activity_create / activity_update -------


def test_activity_logged_and_edited_through_the_api_leaves_the_services_trail(neighborhood, officer, issue):
    start = timezone.now() - timedelta(hours=5)
    body = {
        "kind": "clean_up",
        "title": "Mural over the tags",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=3)).isoformat(),
        "neighborhood": neighborhood.pk,
        "issues": [issue.pk],
        "languages": ["en", "es"],
        "attendance": 14,
    }
    client = token_client(officer)
    response = client.post("/api/v1/activities/", body, format="json")
    assert response.status_code == 201, response.json()
    activity = Activity.objects.get(pk=response.json()["id"])
    assert list(activity.officers.all()) == [officer]
    assert activity.hours == 3  # three hours × one officer, as the service computes it
    event = issue.events.get(kind=Event.Kind.OUTREACH)
    assert (event.actor, event.is_public, event.data) == (officer, False, {"activity_id": activity.pk})

    response = client.patch(f"/api/v1/activities/{activity.pk}/", {"attendance": 22}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["attendance"] == 22
    revision = ActivityRevision.objects.get(activity=activity)
    assert (revision.actor, revision.changes) == (officer, {"attendance": [14, 22]})
