"""An officer on a phone works an issue from new to resolved; the resident's status page follows.

Real Chromium, 360 px wide. The officer signs in through the login page, opens
the issue from the queue, and acknowledges it (taking it, as the page offers), chooses an
approach, adds a public note and resolves it — each step an htmx update in
place (no page reload). The public status page then shows the note and
"Resolved", and none of the reporter's contact details.
"""

import pytest

from cases import services
from cases.models import Event, Issue
from tests import factories
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _no_horizontal_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_officer_works_an_issue_to_resolved_on_a_phone(live_server, phone_page, screenshot):
    neighborhood = factories.NeighborhoodFactory(name="Westport")
    category = factories.CategoryFactory(name_en="Graffiti", name_es="Grafiti")
    officer = factories.officer(
        neighborhoods=[neighborhood], username="ofc.rivera", first_name="Dana", last_name="Rivera"
    )
    lat = (neighborhood.min_lat + neighborhood.max_lat) / 2
    lng = (neighborhood.min_lng + neighborhood.max_lng) / 2
    report = services.issue_submit(
        category=category,
        text="Tags sprayed across the laundromat wall",
        lat=lat,
        lng=lng,
        reporter_name="Ana Ruiz",
        reporter_email="ana@example.org",
        reporter_phone="816-555-0100",
    )
    issue = report.issue
    page = phone_page

    login(page, live_server, officer.username)
    assert page.url == f"{live_server.url}/queue/"
    page.click("#issues-map-toggle summary")  # the queue's map, drawn when opened
    page.wait_for_selector("#issues-map.leaflet-container path.leaflet-interactive")
    assert _no_horizontal_scroll(page)
    screenshot(page, "queue")
    page.click(f"text={issue.tracking_code}")
    page.wait_for_url(f"{live_server.url}/issues/{issue.pk}/")
    page.wait_for_selector("#issue-map.leaflet-container path.leaflet-interactive")  # the point on the map
    assert "Contact details hidden" in page.content()
    screenshot(page, "issue-new")

    # From here on every action updates the page in place: a full reload would drop this marker.
    page.evaluate("window.__stillSamePage = true")
    status = page.locator("[data-testid=issue-status]")

    # Nobody has it yet: acknowledging takes it too, ticked by default (assignment rules, issue 19).
    assert page.is_checked("form.action-acknowledge input[name=take]")
    page.click("form.action-acknowledge button")
    page.wait_for_selector("text=Issue acknowledged. It is assigned to you.")
    assert status.inner_text() == "In progress"
    assert "(me)" in page.locator("[data-testid=issue-assignee]").inner_text()
    assert page.locator("form.action-assign:has(input[type=hidden][name=officer])").count() == 0

    page.check("form.action-approach input[value=problem_solve]")
    page.click("form.action-approach button")
    page.wait_for_selector("text=Approach set: Problem-solve.")

    page.fill("form.action-note textarea[name=text]", "Paint crew booked with the neighborhood association.")
    page.check("form.action-note input[value=public]")
    page.click("form.action-note button")
    page.wait_for_selector("text=Public note added.")

    page.click("details.action-block summary:has-text('Resolve')")
    page.fill("form.action-resolve textarea[name=note]", "Wall repainted by volunteers on Saturday.")
    page.click("form.action-resolve button")
    page.wait_for_selector("text=Issue resolved.")
    assert status.inner_text() == "Resolved"
    assert page.evaluate("window.__stillSamePage === true")
    assert _no_horizontal_scroll(page)
    screenshot(page, "issue-resolved")

    issue.refresh_from_db()
    assert issue.status == Issue.Status.RESOLVED
    assert issue.assignee == officer
    assert issue.approach == "problem_solve"
    kinds = list(issue.events.filter(actor=officer).values_list("kind", flat=True))
    assert kinds == [
        Event.Kind.ACKNOWLEDGED,
        Event.Kind.ASSIGNED,
        Event.Kind.APPROACH,
        Event.Kind.NOTE,
        Event.Kind.RESOLVED,
    ]

    # The resident's status page (public, no sign-in needed).
    resident = page.context.browser.new_context(viewport={"width": 360, "height": 740})
    try:
        status_page = resident.new_page()
        status_page.goto(f"{live_server.url}/report/{issue.tracking_code}/")
        text = status_page.inner_text("main")
        assert "Paint crew booked with the neighborhood association." in text
        assert "Wall repainted by volunteers on Saturday." in text
        assert "Resolved" in text
        html = status_page.content()
        for private in ("Ana Ruiz", "ana@example.org", "816-555-0100", "ofc.rivera"):
            assert private not in html
        screenshot(status_page, "resident-status")
    finally:
        resident.close()


def test_actions_work_without_javascript(live_server, browser, screenshot):
    """The same forms with JavaScript off: full-page POST, redirect, message."""
    neighborhood = factories.NeighborhoodFactory()
    officer = factories.officer(neighborhoods=[neighborhood], username="ofc.nojs")
    issue = factories.IssueFactory(neighborhood=neighborhood)
    context = browser.new_context(viewport={"width": 360, "height": 740}, java_script_enabled=False)
    try:
        page = context.new_page()
        login(page, live_server, officer.username)
        page.goto(f"{live_server.url}/issues/{issue.pk}/")
        page.click("form.action-acknowledge button")
        page.wait_for_url(f"{live_server.url}/issues/{issue.pk}/")
        assert "Issue acknowledged. It is assigned to you." in page.inner_text(".messages")
        # A refused action: the message sits beside the form, nothing changes.
        page.click("details.action-block summary:has-text('Resolve')")
        page.fill("form.action-resolve textarea[name=note]", "   ")  # passes the browser's check, not ours
        page.click("form.action-resolve button")
        assert "This field is required." in page.inner_text("form.action-resolve")
        screenshot(page, "nojs-refused")
    finally:
        context.close()
    issue.refresh_from_db()
    assert issue.status == Issue.Status.IN_PROGRESS and issue.assignee == officer
