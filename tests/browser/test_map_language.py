"""The map's own controls speak the page's language: Leaflet's zoom buttons said "Zoom in" on /es/ pages."""

from pathlib import Path

import pytest

from tests.browser.conftest import PHONE
from tests.factories import CategoryFactory, NeighborhoodFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@pytest.mark.parametrize(("prefix", "zoom_in", "zoom_out"), [("", "Zoom in", "Zoom out"), ("/es", "Acercar", "Alejar")])
def test_the_report_forms_zoom_buttons_are_in_the_pages_language(browser, live_server, prefix, zoom_in, zoom_out):
    NeighborhoodFactory()
    CategoryFactory()
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}{prefix}/report/")
    page.wait_for_selector(".leaflet-control-zoom-in")
    assert page.locator(".leaflet-control-zoom-in").get_attribute("aria-label") == zoom_in
    assert page.locator(".leaflet-control-zoom-in").get_attribute("title") == zoom_in
    assert page.locator(".leaflet-control-zoom-out").get_attribute("aria-label") == zoom_out
    context.close()


def test_every_page_with_a_map_loads_leaflet_through_the_include_that_translates_it():
    direct = [
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if path.name != "_leaflet.html" and "vendor/leaflet/leaflet.js" in path.read_text()
    ]
    assert direct == []
    assert len([path for path in TEMPLATES.rglob("*.html") if "_leaflet.html" in path.read_text()]) >= 9
