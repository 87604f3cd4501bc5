"""The address field's suggestions in real Chromium on a phone: typed, chosen with the keyboard, and
the point, the pin and the neighborhood follow."""

import pytest

from partners.address_import import AddressRow
from partners.services import address_points_import
from tests.browser.conftest import wait_until_true
from tests.cases.web.public.public_helpers import CENTER_LAT, CENTER_LNG, center_neighborhood, graffiti

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_resident_chooses_a_suggested_address_with_the_keyboard(live_server, phone_page, screenshot):
    place = center_neighborhood()
    graffiti()
    address_points_import(
        rows=[
            AddressRow(
                source_id=str(n),
                number=str(n),
                street="E 12th St",
                unit="",
                city="",
                postal_code="",
                label=f"{n} E 12th St",
                search=f"{n} E 12TH ST",
                lat=CENTER_LAT + n * 0.00001,
                lng=CENTER_LNG + 0.001,
            )
            for n in (400, 402, 404)
        ]
    )
    page = phone_page
    page.goto(f"{live_server.url}/report/")
    page.wait_for_selector("#report-map path.leaflet-interactive")
    field = page.locator("#id_address")
    assert field.get_attribute("role") == "combobox" and field.get_attribute("aria-expanded") == "false"
    field.click()
    page.keyboard.type("12th street")
    page.wait_for_selector("#address-suggestions [role=option]")
    assert field.get_attribute("aria-expanded") == "true"
    assert page.locator("#address-suggestions [role=option]").count() == 3
    wait_until_true(page, "document.querySelector('#address-suggest-status').textContent.startsWith('3 ')")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "suggestions")

    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert field.get_attribute("aria-activedescendant") == "address-suggestions-1"
    assert page.locator("#address-suggestions-1").get_attribute("aria-selected") == "true"
    page.keyboard.press("Enter")
    assert field.input_value() == "402 E 12th St"
    assert field.get_attribute("aria-expanded") == "false"
    assert page.locator("#id_lat").input_value() == f"{CENTER_LAT + 402 * 0.00001:.6f}"
    assert page.locator("#id_lng").input_value() == f"{CENTER_LNG + 0.001:.6f}"
    assert page.locator("#id_neighborhood").input_value() == str(place.pk)
    assert page.locator("#report-map .leaflet-marker-icon").count() == 1
    assert "402 E 12th St" in page.locator("#address-suggest-status").inner_text()

    # Escape closes the list without choosing; two letters ask nothing.
    field.fill("")
    page.keyboard.type("404 e")
    page.wait_for_selector("#address-suggestions [role=option]")
    page.keyboard.press("Escape")
    assert field.get_attribute("aria-expanded") == "false" and field.input_value() == "404 e"
