"""The audit trail on a phone, by keyboard: an officer says why before seeing a resident's
contact details, and a supervisor reads that in /audit/ at 360 px.

Real Chromium. The reveal form is reached and sent with the keyboard only (a select and
Enter); the details appear on that answer. The audit page fits the phone: the table scrolls
inside its own captioned, focusable region, never the page; filters work by keyboard.
"""

import pytest

from cases.models import Event
from tests import factories
from tests.browser.conftest import force_login, wait_until_true

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _no_horizontal_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_reveal_with_a_reason_then_read_the_audit_log_on_a_phone(live_server, phone_page, screenshot):
    neighborhood = factories.NeighborhoodFactory(name="Westport")
    category = factories.CategoryFactory(name_en="Graffiti", name_es="Grafiti")
    officer = factories.officer(
        neighborhoods=[neighborhood], username="ofc.rivera", first_name="Luz", last_name="Rivera"
    )
    boss = factories.supervisor(districts=[neighborhood.district], username="sgt.okafor")
    issue = factories.IssueFactory(neighborhood=neighborhood, category=category)
    factories.ReportFactory(issue=issue, reporter_name="Ana Ruiz", reporter_email="ana@example.org")
    page = phone_page
    errors = []
    page.on("console", lambda message: "Content Security Policy" in message.text and errors.append(message.text))

    force_login(page.context, live_server, officer)
    page.goto(f"{live_server.url}/issues/{issue.pk}/")
    assert "ana@example.org" not in page.content()
    assert page.locator("label[for=id_reveal_reason_code]").count() == 1
    # Sending without a reason: the browser itself asks for one (the server refuses it too).
    page.locator(".reveal-contacts button[type=submit]").focus()
    page.keyboard.press("Enter")
    assert page.locator("#id_reveal_reason_code").evaluate("select => select.validity.valueMissing")
    assert "ana@example.org" not in page.content()
    assert not Event.objects.filter(kind=Event.Kind.CONTACT_VIEWED).exists()
    # With a reason chosen by keyboard.
    page.locator("#id_reveal_reason_code").focus()
    # Each key waits for the select to move: under load, a second key pressed at once was lost
    # (the first reason was sent).
    for index in (1, 2):  # the second reason: "Follow-up visit"
        page.keyboard.press("ArrowDown")
        wait_until_true(page, f"document.getElementById('id_reveal_reason_code').selectedIndex === {index}")
    page.locator(".reveal-contacts button[type=submit]").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=contact]")
    assert "ana@example.org" in page.content()
    assert _no_horizontal_scroll(page)
    viewed = Event.objects.get(kind=Event.Kind.CONTACT_VIEWED)
    assert (viewed.actor_id, viewed.message) == (officer.pk, "Follow-up visit")

    page.context.clear_cookies()
    force_login(page.context, live_server, boss)
    page.goto(f"{live_server.url}/audit/")
    assert page.locator("nav.main-nav a[href='/audit/']").count() == 1
    assert _no_horizontal_scroll(page)
    region = page.locator(".audit-table[role=region]")
    assert region.get_attribute("tabindex") == "0"
    assert page.locator("table.audit caption").inner_text().strip() == "Audit entries, newest first"
    assert page.locator("table.audit th[scope=col]").count() == 5
    row = page.locator("table.audit tbody tr").first
    assert "Luz Rivera" in row.inner_text() and "Follow-up visit" in row.inner_text()
    # The table may be wider than the phone: it scrolls inside its region, which takes focus.
    region.focus()
    assert page.evaluate("document.activeElement.classList.contains('audit-table')")
    screenshot(page, "audit")

    # Filter by keyboard: a tracking code that matches nothing, then a bad one.
    page.locator("#id_audit_issue").fill("CG-ABCD-2345")
    page.locator("#id_audit_issue").press("Enter")
    page.wait_for_selector("text=No audit entries match these filters.")
    page.locator("#id_audit_issue").fill("nonsense")
    page.locator("#id_audit_issue").press("Enter")
    page.wait_for_selector("text=Enter a tracking code like CG-ABCD-2345.")
    assert _no_horizontal_scroll(page)
    assert errors == []
