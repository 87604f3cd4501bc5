"""Every page with scripts, in real Chromium under the real Content-Security-Policy: no
violation, no console error, and the maps and charts still draw.

A listener added before any page script records each ``securitypolicyviolation`` on
``window``; Chromium also logs each one as a console error. Map tiles come from an outside
host (``https://{s}.tile.example.test``) served by Playwright, so the policy's tile source is
exercised too. The last test shows the listener does catch a violation.
"""

from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from cases import services
from cases.models import Issue, Problem
from config.security import tile_source
from tests import factories
from tests.browser.conftest import force_login
from tests.browser.test_dashboard import CANVAS_HAS_PIXELS
from tests.cases.web.public.public_helpers import CENTER_LAT, CENTER_LNG, center_neighborhood, graffiti

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TILE_URL = "https://{s}.tile.example.test/{z}/{x}/{y}.png"
# A 1×1 PNG: what every tile request gets.
TILE_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a7e1d6a50000000049454e44ae426082"
)

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
    " at " + e.sourceFile + ":" + e.lineNumber + " " + (e.sample || ""));
});
"""

MAP_DRAWN = """(selector) => {
  const map = document.querySelector(selector);
  if (!map || !map.classList.contains("leaflet-container")) return false;
  return map.querySelectorAll("img.leaflet-tile-loaded").length > 0
      && map.querySelectorAll(".leaflet-overlay-pane path").length > 0;
}"""


@pytest.fixture
def tiles(settings):
    """Leaflet asks an outside tile host; the policy names it as production settings would."""
    settings.MAP_TILE_URL = TILE_URL
    settings.MAP_TILE_ATTRIBUTION = "Test tiles"
    directives = dict(django_settings.CONTENT_SECURITY_POLICY["DIRECTIVES"])
    directives["img-src"] = [*directives["img-src"], tile_source(TILE_URL)]
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": directives}
    return directives


class Watcher:
    """Records CSP violations, console errors, uncaught exceptions and failed requests of one page."""

    def __init__(self, page, live_server):
        self.page = page
        self.base = live_server.url
        self.problems = []
        self.tile_requests = 0
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.problems.append(f"pageerror: {e}"))
        page.on("requestfailed", lambda r: self.problems.append(f"request failed: {r.url} {r.failure}"))
        page.route("https://*.tile.example.test/**", self._tile)

    def _console(self, message):
        # Chromium warns (not errs) about a Permissions-Policy feature it does not know.
        if message.type == "error" or "Permissions-Policy" in message.text:
            self.problems.append(f"console {message.type}: {message.text}")

    def _tile(self, route):
        self.tile_requests += 1
        route.fulfill(status=200, content_type="image/png", body=TILE_PNG)

    def checked_visit(self, path, *, ready=None):
        response = self.page.goto(f"{self.base}{path}")
        assert response.status < 400, (path, response.status)
        policy = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, (path, policy)
        if ready:
            self.page.wait_for_selector(ready, state="attached")
        self.page.wait_for_load_state("networkidle")
        self.check(path)

    def check(self, where):
        violations = self.page.evaluate("window.__cspViolations")
        assert violations == [], (where, violations)
        assert self.problems == [], (where, self.problems)


@pytest.fixture
def city(db):
    now = timezone.now()
    westside = center_neighborhood(district="Central")
    eastside = factories.NeighborhoodFactory(
        name="Eastside", district="Central", origin=(CENTER_LAT, CENTER_LNG + 0.02)
    )
    category = graffiti()
    for i in range(4):
        factories.IssueFactory(
            neighborhood=westside if i % 2 else eastside, category=category, created_at=now - timedelta(days=2 + i)
        )
    report = services.issue_submit(
        category=category, text="Tags on the laundromat wall", lat=CENTER_LAT, lng=CENTER_LNG
    )
    factories.IssueFactory(
        neighborhood=westside,
        category=category,
        created_at=now - timedelta(days=20),
        status=Issue.Status.RESOLVED,
        outcome=Issue.Outcome.RESOLVED,
        resolved_at=now - timedelta(days=18),
    )
    factories.ActivityFactory(neighborhood=westside, starts_at=now - timedelta(days=3))
    factories.PartnerFactory(name="Guadalupe Centers")
    problem = factories.ProblemFactory(
        neighborhood=westside,
        category=category,
        title="Tags on 12th St",
        stage=Problem.Stage.RESPONSE,
        response_started_at=now - timedelta(days=3),  # the assessment chart draws from then on
    )
    Issue.objects.filter(neighborhood=westside, status=Issue.Status.NEW).update(problem=problem)
    chief = factories.supervisor(username="chief", districts=["Central"], neighborhoods=[westside, eastside])
    admin = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    return {"westside": westside, "issue": report.issue, "problem": problem, "chief": chief, "admin": admin}


def test_public_pages_run_under_the_policy(live_server, desktop_page, tiles, city):
    watch = Watcher(desktop_page, live_server)
    page = desktop_page
    code = city["issue"].tracking_code

    watch.checked_visit("/")
    for path in ("/report/", "/es/report/"):
        watch.checked_visit(path, ready="#report-map.leaflet-container")
        page.wait_for_function(MAP_DRAWN, arg="#report-map")
        # The form's own scripts: choosing a category asks whether it is the same problem (htmx-free fetch).
        page.get_by_label("Graffiti" if path == "/report/" else "Grafiti").check()
        page.wait_for_load_state("networkidle")
        watch.check(f"{path} after choosing a category")
    watch.checked_visit(f"/report/{code}/", ready="#status-map.leaflet-container")
    page.wait_for_function(MAP_DRAWN, arg="#status-map")
    watch.checked_visit("/transparency/", ready="#transparency-map[data-map-ready]")
    page.wait_for_function(MAP_DRAWN, arg="#transparency-map")
    watch.checked_visit("/api/docs/", ready=".opblock-summary")
    assert page.locator(".opblock").count() >= 40
    assert watch.tile_requests > 0


def test_staff_pages_run_under_the_policy(live_server, desktop_page, tiles, city):
    force_login(desktop_page.context, live_server, city["chief"])
    watch = Watcher(desktop_page, live_server)
    page = desktop_page

    watch.checked_visit("/issues/")
    page.click("#issues-map-toggle summary")
    page.wait_for_function(MAP_DRAWN, arg="#issues-map")
    watch.check("/issues/ map")

    watch.checked_visit(f"/issues/{city['issue'].pk}/", ready="#issue-map.leaflet-container")
    page.wait_for_function(MAP_DRAWN, arg="#issue-map")
    # An htmx action swaps part of the page in place: still nothing the policy refuses.
    page.click("form.action-acknowledge button")
    page.wait_for_selector("form.action-acknowledge", state="detached")
    page.wait_for_load_state("networkidle")
    watch.check("issue action")

    watch.checked_visit("/outreach/new/")
    watch.checked_visit("/partners/")
    watch.checked_visit("/neighborhoods/", ready="#neighborhood-map[data-map-ready]")
    page.wait_for_function(MAP_DRAWN, arg="#neighborhood-map")
    watch.checked_visit(f"/neighborhoods/{city['westside'].slug}/", ready="#neighborhood-map[data-map-ready]")
    page.wait_for_function(MAP_DRAWN, arg="#neighborhood-map")
    assert page.locator("#neighborhood-issues li").count() >= 1

    watch.checked_visit("/dashboard/", ready="#dashboard-map[data-map-ready]")
    page.wait_for_selector("#chart-new-resolved[data-chart-ready]", state="attached")
    page.wait_for_function(MAP_DRAWN, arg="#dashboard-map")
    for chart in ("chart-new-resolved", "chart-open-category"):
        assert page.evaluate(CANVAS_HAS_PIXELS, chart), f"{chart} drew nothing"

    watch.checked_visit(f"/problems/{city['problem'].pk}/", ready="#problem-map[data-map-ready]")
    page.wait_for_function(MAP_DRAWN, arg="#problem-map")
    page.wait_for_selector("#chart-assessment[data-chart-ready]", state="attached")
    assert page.evaluate(CANVAS_HAS_PIXELS, "chart-assessment")
    watch.checked_visit("/notifications/")


def test_admin_runs_under_the_policy(live_server, desktop_page, city):
    force_login(desktop_page.context, live_server, city["admin"])
    watch = Watcher(desktop_page, live_server)
    watch.checked_visit("/admin/")
    watch.checked_visit("/admin/cases/issue/", ready="#changelist")
    watch.checked_visit(f"/admin/cases/issue/{city['issue'].pk}/change/", ready="#issue_form")
    watch.checked_visit("/admin/partners/neighborhood/add/")


def test_the_watcher_catches_a_violation(live_server, desktop_page, settings, city):
    """Without the tile host in img-src, Chromium refuses the tiles and the watcher sees it."""
    settings.MAP_TILE_URL = TILE_URL
    watch = Watcher(desktop_page, live_server)
    desktop_page.goto(f"{live_server.url}/transparency/")
    desktop_page.wait_for_selector("#transparency-map[data-map-ready]", state="attached")
    desktop_page.wait_for_load_state("networkidle")
    violations = desktop_page.evaluate("window.__cspViolations")
    assert violations and all(v.startswith("img-src blocked https://") for v in violations)
    assert urlparse(TILE_URL.replace("{s}", "a")).hostname.endswith("tile.example.test")
    assert watch.tile_requests == 0
