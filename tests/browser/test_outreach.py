"""An officer on a phone logs an outreach activity and finds it in the log (real Chromium)."""

import re

import pytest
from playwright.sync_api import expect

from cases.models import Event
from outreach.models import Activity
from tests import factories
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_officer_logs_outreach_on_a_phone(live_server, phone_page, screenshot):
    page = phone_page
    westside = factories.NeighborhoodFactory(name="Westside", slug="westside")
    officer = factories.officer(username="ofc.ramirez", first_name="Ana", last_name="Ramírez", neighborhoods=[westside])
    factories.PartnerFactory(name="Guadalupe Centers")
    factories.PartnerFactory(name="Westside Youth League", kind="youth_league")
    factories.PartnerFactory(name="Garfield Elementary", kind="school")
    category = factories.CategoryFactory(name_en="Illegal dumping", name_es="Basura ilegal")
    issue = factories.IssueFactory(
        neighborhood=westside, category=category, description="Mattresses dumped behind the rec center"
    )

    login(page, live_server, officer.username)
    page.goto(f"{live_server.url}/outreach/new/")
    expect(page.locator("h1")).to_have_text("Log an outreach activity")

    # One column that fits 360 px: nothing scrolls sideways, and the submit button is in reach
    # (sticky at the bottom of the screen) before the officer has scrolled at all.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    submit = page.get_by_role("button", name="Log activity")
    box = submit.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 740 and box["height"] >= 44

    page.select_option("#id_kind", "youth_sports")
    page.fill("#id_title", "Summer league opener")
    expect(page.locator("#id_neighborhood")).to_have_value(str(westside.pk))  # the officer's own neighborhood
    expect(page.locator("#id_officers_chips")).to_contain_text("Ana Ramírez")  # the officer by default

    # Partners: search as you type, pick two.
    page.fill("#id_partners_search", "guada")
    page.locator("#id_partners_results button", has_text="Guadalupe Centers").click()
    page.fill("#id_partners_search", "youth")
    page.locator("#id_partners_results button", has_text="Westside Youth League").click()
    expect(page.locator("#id_partners_chips .chip")).to_have_count(2)

    # The issue it addressed: search by words of the description.
    page.fill("#id_issues_search", "mattress")
    page.locator("#id_issues_results button", has_text=issue.tracking_code).click()
    expect(page.locator("#id_issues_chips")).to_contain_text(issue.tracking_code)

    page.fill("#id_attendance", "64")
    page.get_by_label("Spanish").check()
    page.get_by_label("English").check()
    page.fill("#id_notes", "Sign-up sheets in Spanish and English.")
    screenshot(page, "form-filled")

    submit.click()
    page.wait_for_url(re.compile(r"/outreach/\d+/$"))
    expect(page.locator(".messages")).to_contain_text("Outreach activity logged.")
    expect(page.locator("#activity-partners")).to_contain_text("Guadalupe Centers")
    expect(page.locator("#activity-partners")).to_contain_text("Westside Youth League")
    expect(page.locator("#activity-issues")).to_contain_text(issue.tracking_code)

    activity = Activity.objects.get()
    assert activity.created_by == officer
    assert sorted(p.name for p in activity.partners.all()) == ["Guadalupe Centers", "Westside Youth League"]
    assert list(activity.issues.all()) == [issue]
    assert activity.attendance == 64 and sorted(activity.languages) == ["en", "es"]
    assert Event.objects.filter(issue=issue, kind=Event.Kind.OUTREACH, data__activity_id=activity.pk).exists()

    # Find it in the log, filtered to "mine".
    page.goto(f"{live_server.url}/outreach/")
    page.locator(".filter-card summary").click()
    page.get_by_label("Only mine").check()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"mine=on"))
    item = page.locator(f'.activity-item[data-activity-id="{activity.pk}"]')
    expect(item).to_contain_text("Summer league opener")
    expect(item).to_contain_text("Guadalupe Centers")
    expect(item).to_contain_text("1 issue addressed")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "list")

    # The neighborhood's page maps its boundary and the open issue, and lists the new outreach.
    item.get_by_role("link", name="Westside", exact=True).click()
    page.wait_for_url(re.compile(r"/neighborhoods/westside/$"))
    expect(page.locator("#neighborhood-map[data-map-ready]")).to_have_count(1)
    expect(page.locator("#neighborhood-map path")).to_have_count(2)  # boundary polygon + issue marker
    expect(page.locator("table.activities")).to_contain_text("Summer league opener")
