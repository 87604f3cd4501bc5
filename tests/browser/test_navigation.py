"""The staff navigation on a phone: folded behind a menu button, opened and closed by keyboard.

WCAG 1.4.10 (reflow): at 360 px the staff links took a third of the screen before
any content. They now fold behind a "Menu" button (static/js/nav.js) that says
whether it is open (aria-expanded); on a desktop, and without JavaScript, the
links are shown as before.
"""

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import DESKTOP, PHONE, force_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _officer_page(browser, live_server, viewport, **options):
    officer = factories.officer(neighborhoods=[factories.NeighborhoodFactory()], username="ofc.nav")
    context = browser.new_context(viewport=viewport, **options)
    context.set_default_timeout(15000)
    force_login(context, live_server, officer)
    page = context.new_page()
    page.goto(f"{live_server.url}/queue/")
    return context, page


def test_on_a_phone_the_staff_links_fold_behind_a_menu_button_worked_by_keyboard(browser, live_server):
    context, page = _officer_page(browser, live_server, PHONE, is_mobile=True, has_touch=True)
    menu = page.get_by_role("button", name="Menu")
    issues_link = page.locator("#main-nav a[href='/issues/']")
    assert menu.is_visible()
    assert menu.get_attribute("aria-expanded") == "false"
    assert not issues_link.is_visible()
    # Folded, the header is a small part of the screen.
    header_height = page.evaluate("document.querySelector('.site-header').getBoundingClientRect().height")
    assert header_height < PHONE["height"] * 0.2, header_height

    # From the skip link, Tab reaches the button; Enter opens the menu and its links follow.
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "nav-toggle"
    page.keyboard.press("Enter")
    assert menu.get_attribute("aria-expanded") == "true"
    assert issues_link.is_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "/queue/"

    # Escape closes it and puts the focus back on the button.
    page.keyboard.press("Escape")
    assert menu.get_attribute("aria-expanded") == "false"
    assert not issues_link.is_visible()
    assert page.evaluate("document.activeElement.className") == "nav-toggle"

    # Opened by a tap, a link takes the officer there.
    menu.click()
    issues_link.click()
    page.wait_for_url(f"{live_server.url}/issues/")
    assert page.get_by_role("button", name="Menu").get_attribute("aria-expanded") == "false"
    context.close()


def test_on_a_desktop_the_links_show_and_the_button_does_not(browser, live_server):
    context, page = _officer_page(browser, live_server, DESKTOP)
    assert not page.locator(".nav-toggle").is_visible()
    assert page.locator("#main-nav a[href='/issues/']").is_visible()
    # Narrowed to a phone's width, the same page folds its links: the media query's change event
    # reaches nav.js after the resize, so the check waits for it (up to Playwright's 5 s).
    page.set_viewport_size(PHONE)
    assert page.locator(".nav-toggle").is_visible()
    expect(page.locator("#main-nav a[href='/issues/']")).to_be_hidden()
    context.close()


def test_without_javascript_the_links_stay_shown(browser, live_server):
    context, page = _officer_page(browser, live_server, PHONE, java_script_enabled=False)
    assert not page.locator(".nav-toggle").is_visible()
    assert page.locator("#main-nav a[href='/issues/']").is_visible()
    context.close()


def test_residents_have_no_menu_button(browser, live_server):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    assert page.locator(".nav-toggle").count() == 0
    context.close()
