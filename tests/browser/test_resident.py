"""Residents on a phone, in real Chromium: report in Spanish with map, photo and contact; join an existing issue."""

import re

import pytest

from cases.models import Issue, Report
from tests.cases.web.public.public_helpers import CENTER_LAT, CENTER_LNG, center_neighborhood, graffiti, jpeg_bytes
from tests.factories import CategoryFactory, IssueFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAME, EMAIL, PHONE = "Marisol Quintanilla", "marisol.q@example.org", "816-555-0177"


def click_map_centre(page):
    """Click the middle of the map once the neighborhood outlines are drawn (the map is fitted to them)."""
    page.wait_for_selector("#report-map path.leaflet-interactive")
    page.locator("#report-map").scroll_into_view_if_needed()
    box = page.locator("#report-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_resident_reports_in_spanish_with_map_photo_and_contact(live_server, phone_page, screenshot):
    center_neighborhood()
    graffiti()
    CategoryFactory(name_en="Broken streetlight", name_es="Farola rota", group_en="Streets", group_es="Calles")
    page = phone_page
    page.goto(f"{live_server.url}/report/")
    assert page.locator("h1").inner_text() == "Report a concern"

    page.get_by_role("button", name="Español").click()
    page.wait_for_url(f"{live_server.url}/es/report/")
    assert page.locator("h1").inner_text() == "Informar de un problema"
    assert page.locator("html").get_attribute("lang") == "es"

    page.get_by_label("Grafiti").check()
    click_map_centre(page)
    status = page.locator("#map-status")
    page.wait_for_function("document.querySelector('#map-status').classList.contains('ok')")
    assert status.inner_text() == "Punto elegido en Westside."
    assert page.locator("#id_lat").input_value() != ""
    # The neighborhood list follows the point, for anyone checking it.
    assert page.locator("#id_neighborhood option:checked").inner_text() == "Westside"

    page.fill("#id_description", "Pintaron grafiti en la pared de la lavandería anoche.")
    page.set_input_files(
        "#id_photo", files=[{"name": "IMG_4410.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes()}]
    )
    page.fill("#id_reporter_name", NAME)
    page.fill("#id_reporter_email", EMAIL)
    page.fill("#id_reporter_phone", PHONE)
    page.get_by_label("Pueden comunicarse conmigo sobre este informe").check()
    # Nothing sticks out of a 360 px screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "form-filled")

    page.click("#submit-report")
    page.wait_for_url(re.compile(r".*/es/report/CG-[A-Z0-9]{4}-[A-Z0-9]{4}/$"))
    issue = Issue.objects.get()
    report = Report.objects.get()
    assert page.url == f"{live_server.url}/es/report/{issue.tracking_code}/"
    assert page.locator("#tracking-code").inner_text() == issue.tracking_code
    assert "Gracias: recibimos su informe" in page.locator(".confirmation").inner_text()
    html = page.content()
    for secret in (NAME, EMAIL, PHONE, "Marisol", "marisol", "555-0177", "lavandería"):
        assert secret not in html, secret
    screenshot(page, "status")

    assert issue.neighborhood.name == "Westside"
    assert abs(issue.lat - CENTER_LAT) < 0.002 and abs(issue.lng - CENTER_LNG) < 0.002
    assert report.language == "es"
    assert (report.reporter_name, report.reporter_email, report.reporter_phone) == (NAME, EMAIL, PHONE)
    assert report.photo and "IMG_4410" not in report.photo.name


def test_resident_joins_an_existing_issue_through_same_problem(live_server, phone_page, screenshot):
    place = center_neighborhood()
    category = graffiti()
    existing = IssueFactory(category=category, neighborhood=place, lat=CENTER_LAT + 0.0003, lng=CENTER_LNG)
    page = phone_page
    page.goto(f"{live_server.url}/report/")
    # Keyboard: focus the category and choose it with the space bar.
    page.focus(f"#category-{category.pk}")
    page.keyboard.press("Space")
    assert page.locator(f"#category-{category.pk}").is_checked()
    click_map_centre(page)

    choice = page.locator(f"#same-problem-slot input[value='{existing.tracking_code}']")
    choice.wait_for()
    assert "Is this the same problem?" in page.locator("#same-problem-slot").inner_text()
    screenshot(page, "same-problem")
    choice.check()
    # Forget the description: the error summary takes the focus, the answer above is kept.
    page.click("#submit-report")
    page.wait_for_selector("#error-summary")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert "Tell us what the problem is." in page.locator("#description-error").inner_text()
    assert page.locator(f"#same-problem-step input[value='{existing.tracking_code}']").is_checked()
    screenshot(page, "error")
    assert Report.objects.count() == 0
    page.fill("#id_description", "Still there this morning, more tags added.")
    page.get_by_label("Report anonymously").check()
    assert page.locator("#contact-fields").is_hidden()
    page.click("#submit-report")

    page.wait_for_url(f"{live_server.url}/report/{existing.tracking_code}/")
    assert "your report was added" in page.locator(".confirmation").inner_text()
    assert page.locator("#tracking-code").inner_text() == existing.tracking_code
    screenshot(page, "joined")
    assert Issue.objects.count() == 1
    existing.refresh_from_db()
    assert existing.report_count == 2
    report = Report.objects.get()
    assert report.issue_id == existing.pk and report.is_anonymous
