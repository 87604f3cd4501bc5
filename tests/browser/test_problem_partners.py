"""A Problem's partners picked with the keyboard alone, on a phone, with the outreach form's
search widget (issue 19, item 7; real Chromium)."""

import pytest
from playwright.sync_api import expect

from cases.models import Problem
from cases.services import problem_open
from tests import factories
from tests.browser.conftest import force_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_partners_picked_and_removed_with_the_keyboard(live_server, phone_page, screenshot):
    page = phone_page
    westside = factories.NeighborhoodFactory(name="Westside", slug="westside")
    officer = factories.officer(username="ofc.ramirez", neighborhoods=[westside])
    factories.PartnerFactory(name="Guadalupe Centers")
    factories.PartnerFactory(name="Westside Youth League", kind="youth_league")
    factories.PartnerFactory(name="Garfield Elementary", kind="school")
    issue = factories.IssueFactory(neighborhood=westside)
    problem = problem_open(title="Dumping behind the rec center", actor=officer, issues=[issue])
    force_login(page.context, live_server, officer)
    page.goto(f"{live_server.url}/problems/{problem.pk}/")

    # The label now names the search box the widget adds; the list it stands on is hidden from everyone.
    search = page.get_by_role("searchbox", name="Partners involved")
    expect(search).to_have_attribute("id", "id_partners_search")
    expect(page.locator("#id_partners")).to_have_attribute("aria-hidden", "true")
    search.focus()
    page.keyboard.type("guada")
    expect(page.locator("#id_partners_results button")).to_have_count(1)
    page.keyboard.press("Enter")  # Enter picks the first result, it does not submit the form
    expect(page.locator("#id_partners_chips .chip")).to_have_text(["Guadalupe Centers×"])
    expect(search).to_be_focused()
    page.keyboard.type("e")
    expect(page.locator("#id_partners_results button").first).to_be_visible()
    page.keyboard.press("ArrowDown")
    expect(page.locator("#id_partners_results button").first).to_be_focused()
    page.keyboard.press("ArrowDown")
    focused = page.evaluate("document.activeElement.querySelector('.picker-result-label').textContent")
    page.keyboard.press("Enter")
    expect(page.locator("#id_partners_chips .chip")).to_have_count(2)
    assert focused != "Guadalupe Centers"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "picked")

    # A chip is a button: Enter on it takes the partner off again.
    page.locator("#id_partners_chips .chip").first.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#id_partners_chips .chip")).to_have_count(1)

    page.locator("#id_plan").focus()
    page.keyboard.type("Clean-up day with the league")
    page.get_by_role("button", name="Save the response plan").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".messages")).to_contain_text("Response plan saved.")
    problem = Problem.objects.get(pk=problem.pk)
    assert [p.name for p in problem.partners.all()] == [focused]
    assert problem.response_plan == "Clean-up day with the league"
    # Shown again as a chip, from the selected option the page comes back with.
    expect(page.locator("#id_partners_chips .chip")).to_have_text([f"{focused}×"])
