"""The supervisor dashboard in real Chromium: figures, charts that draw, the map's polygons, a filter."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cases.models import Issue
from insights.rollups import rollups_apply_all
from tests import factories
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CANVAS_HAS_PIXELS = """(id) => {
  const canvas = document.getElementById(id);
  if (!canvas || !canvas.width || !canvas.height) return false;
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] !== 0) return true; }
  return false;
}"""


@pytest.fixture
def city(db):
    now = timezone.now()
    north = factories.NeighborhoodFactory(name="Northside", district="North", origin=(39.10, -94.60))
    south = factories.NeighborhoodFactory(name="Southside", district="South", origin=(39.08, -94.60))
    graffiti = factories.CategoryFactory(name_en="Graffiti")
    dumping = factories.CategoryFactory(name_en="Illegal dumping")
    for i in range(5):
        created = now - timedelta(days=3 + 6 * i)
        factories.IssueFactory(neighborhood=north, category=graffiti, created_at=created)
    for i in range(2):
        created = now - timedelta(days=2 + 9 * i)
        factories.IssueFactory(neighborhood=south, category=dumping, created_at=created)
    for i in range(6):
        created = now - timedelta(days=30 + 5 * i)
        factories.IssueFactory(
            neighborhood=north if i % 2 else south,
            category=graffiti,
            created_at=created,
            status=Issue.Status.RESOLVED,
            outcome=Issue.Outcome.RESOLVED,
            resolved_at=created + timedelta(days=1 + i),
        )
    for i, kind in enumerate(["community_meeting", "youth_sports", "clean_up"]):
        activity = factories.ActivityFactory(
            neighborhood=south if i else north,
            kind=kind,
            starts_at=now - timedelta(days=4 + 7 * i),
            hours=Decimal(2 + i),
        )
        activity.partners.set([factories.PartnerFactory()])
    rollups_apply_all()  # as the worker does within seconds
    return {"north": north, "south": south}


def test_supervisor_sees_figures_charts_and_map_and_filters_them(live_server, desktop_page, screenshot, city):
    factories.supervisor(username="chief", first_name="Pat", last_name="Chief")
    page = desktop_page
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    login(page, live_server, "chief")
    page.goto(f"{live_server.url}/dashboard/")
    page.wait_for_selector("#chart-new-resolved[data-chart-ready]")
    page.wait_for_selector("#dashboard-map[data-map-ready]")
    assert errors == []

    assert page.inner_text('[data-kpi="open"] [data-value]').strip() == "7"
    assert page.inner_text('[data-kpi="activities"] [data-value]').strip() == "3"
    for chart in (
        "chart-new-resolved",
        "chart-sla",
        "chart-open-category",
        "chart-hours-kind",
        "chart-hours-neighborhood",
    ):
        assert page.evaluate(CANVAS_HAS_PIXELS, chart), f"{chart} drew nothing"
    polygons = page.locator("#dashboard-map .leaflet-overlay-pane path")
    # Two neighborhood polygons plus one circle per open issue (markers are paths too).
    assert polygons.count() >= 2 + 7
    shaded = page.eval_on_selector_all(
        "#dashboard-map .leaflet-overlay-pane path",
        "paths => paths.filter(p => (p.getAttribute('fill-opacity') || '') === '0.55').length",
    )
    assert shaded == 2
    screenshot(page, "dashboard")

    page.select_option("#id_neighborhood", label="Southside")
    page.click("#dashboard-filters button[type=submit]")
    page.wait_for_selector("#dashboard-map[data-map-ready]")
    assert page.inner_text('[data-kpi="open"] [data-value]').strip() == "2"
    assert page.inner_text('[data-kpi="activities"] [data-value]').strip() == "2"
    assert "neighborhood=" in page.url
    assert page.evaluate(CANVAS_HAS_PIXELS, "chart-open-category")
    screenshot(page, "dashboard-filtered")


# Every bar's name shown whole (none skipped, none wider than the axis has room for, so none cut at
# the canvas edge), and the doughnut's legend as text that wraps inside its card.
CHART_LABELS_FIT = """(id) => {
  const chart = Chart.getChart(document.getElementById(id));
  const axis = chart.scales.y;
  return {labels: chart.data.labels.length, ticks: axis.ticks.length,
          widest: Math.ceil(axis._labelSizes.widest.width), room: Math.floor(axis.width)};
}"""
LEGEND_FITS = """(id) => {
  const items = [...document.querySelectorAll(`[data-legend-for="${id}"] li`)];
  const card = document.getElementById(id).closest(".card").getBoundingClientRect();
  return {items: items.map(li => li.textContent.trim()),
          outside: items.filter(li => li.getBoundingClientRect().right > card.right + 0.5).length};
}"""


def test_chart_labels_and_legends_are_whole_on_a_phone(live_server, phone_page, city):
    long_names = [
        "Loitering or groups blocking a place",
        "Junk piled on private property",
        "Day laborers without services",
    ]
    for name in long_names:
        factories.IssueFactory(neighborhood=city["north"], category=factories.CategoryFactory(name_en=name))
    factories.ActivityFactory(neighborhood=city["north"], kind="cultural", hours=Decimal(1))
    rollups_apply_all()
    factories.supervisor(username="chief")
    page = phone_page
    login(page, live_server, "chief")
    page.goto(f"{live_server.url}/dashboard/")
    page.wait_for_selector("#chart-hours-neighborhood[data-chart-ready]")
    for chart in ("chart-open-category", "chart-hours-neighborhood"):
        fit = page.evaluate(CHART_LABELS_FIT, chart)
        assert fit["ticks"] == fit["labels"] and fit["widest"] <= fit["room"], (chart, fit)
    assert page.evaluate(CHART_LABELS_FIT, "chart-open-category")["labels"] == 2 + len(long_names)
    legend = page.evaluate(LEGEND_FITS, "chart-hours-kind")
    assert legend["outside"] == 0
    assert "Cultural or language-access event" in legend["items"] and len(legend["items"]) == 4


def test_problem_and_transparency_maps_draw(live_server, desktop_page, city):
    """The two other maps the dashboard script draws: a Problem's issues, and the public neighborhood shapes."""
    factories.supervisor(username="chief")
    problem = factories.ProblemFactory(neighborhood=city["north"], title="Graffiti on Main")
    grouped = Issue.objects.filter(neighborhood=city["north"], status=Issue.Status.NEW, lat__isnull=False)
    assert grouped.update(problem=problem) == 5
    page = desktop_page
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    login(page, live_server, "chief")
    page.goto(f"{live_server.url}/problems/{problem.pk}/")
    page.wait_for_selector("#problem-map[data-map-ready]")
    # The neighborhood outline and one circle per grouped issue.
    assert page.locator("#problem-map .leaflet-overlay-pane path").count() == 1 + 5

    page.goto(f"{live_server.url}/transparency/")
    page.wait_for_selector("#transparency-map[data-map-ready]")
    shaded = page.eval_on_selector_all(
        "#transparency-map .leaflet-overlay-pane path",
        "paths => paths.filter(p => (p.getAttribute('fill-opacity') || '') === '0.55').length",
    )
    assert shaded == 2
    assert errors == []


def test_supervisor_ticks_escalated_issues_and_assigns_them_at_once(live_server, desktop_page, screenshot, city):
    """The decisions table in Chromium: "tick every issue", untick one, choose the officer once, assign."""
    factories.supervisor(username="chief")
    officer = factories.officer(first_name="Ana", last_name="Ruiz")
    waiting = list(Issue.objects.filter(status=Issue.Status.NEW).order_by("pk")[:3])
    Issue.objects.filter(pk__in=[i.pk for i in waiting]).update(needs_decision=True, escalation_level=3)
    page = desktop_page
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    login(page, live_server, "chief")
    page.goto(f"{live_server.url}/dashboard/")
    page.check("[data-tick-all=bulk-assign]")
    assert page.locator("input[name=issue][form=bulk-assign]:checked").count() == 3
    page.uncheck(f"input[name=issue][value='{waiting[2].pk}']")
    page.select_option("#bulk-officer", label="Ana Ruiz")
    screenshot(page, "dashboard-assign-ticked")
    page.click("#bulk-assign button[type=submit]")
    page.wait_for_selector("text=2 issues assigned to Ana Ruiz")
    assert errors == []
    assert page.locator(".decisions-table tbody tr").count() == 1
    for issue in waiting:
        issue.refresh_from_db()
    assert [i.assignee_id for i in waiting] == [officer.pk, officer.pk, None]
    assert [i.needs_decision for i in waiting] == [False, False, True]
