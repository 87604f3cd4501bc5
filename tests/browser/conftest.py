"""Real Chromium through Playwright, against pytest-django's live server.

Debian's chromium is used (``shutil.which("chromium")``); Playwright's own
browser download does not work here. Screenshots go to test-artifacts/.
"""

import os
import shutil
from pathlib import Path

import pytest

ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", "test-artifacts"))
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1366, "height": 900}

# Playwright's sync API runs an event loop in this thread; Django must allow ORM use from it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if not executable:
        pytest.fail("Chromium is not installed: apt-get install -y chromium (browser tests need it).")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield browser
        browser.close()


def _context(browser, viewport, **kwargs):
    context = browser.new_context(viewport=viewport, **kwargs)
    context.set_default_timeout(15000)
    return context


@pytest.fixture
def phone_page(browser):
    context = _context(browser, PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def desktop_page(browser):
    context = _context(browser, DESKTOP)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot(request):
    """screenshot(page, "name") saves test-artifacts/<test>-<name>.png and returns the path."""

    def take(page, name):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def login(page, live_server, username, password="pw-Secret-123"):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state("networkidle")


def force_login(context, live_server, user):
    """Log a user in without the login page (for tests that are not about login)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}])


def wait_until_true(page, expression: str, *, timeout: float = 15.0) -> None:
    """Poll a JavaScript expression from the test until it is true. ``page.wait_for_function``
    polls with an ``eval`` inside the page, which the CSP (no 'unsafe-eval') refuses whenever the
    first check is false; ``page.evaluate`` runs outside the page's CSP."""
    import time

    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        page.wait_for_timeout(100)


# A request from the page that fails: the network is off for the page and its service worker.
REQUEST_FAILS = "fetch('/healthz', {cache: 'no-store'}).then(() => false, () => true)"


def go_offline(page, *, timeout: float = 15.0) -> None:
    """``set_offline(True)``, then wait until a request from the page really fails. Once, on a
    loaded machine, a note submitted right after ``set_offline`` reached the server (and an offline
    test found it written): the emulation reaches the page's requests through its service worker
    a moment after the call returns."""
    page.context.set_offline(True)
    wait_until_true(page, REQUEST_FAILS, timeout=timeout)


CONTROLLED = "Boolean(navigator.serviceWorker && navigator.serviceWorker.controller)"
WORKER_STATE = """navigator.serviceWorker.getRegistrations().then((registrations) => registrations.map((r) => ({
    installing: r.installing && r.installing.state, waiting: r.waiting && r.waiting.state,
    active: r.active && r.active.state})))"""


def wait_for_the_worker(page, *, timeout: float = 15.0) -> None:
    """Until the service worker controls the page (static/js/offline.js registers it on every staff
    page; it claims the open pages when it activates, normally within 0.1 s of the page's load).

    Twice in about twenty full runs on a loaded machine it never took control of the page within
    15 s, with nothing wrong with the app that a test could see. The page is then loaded once
    more (a new page asks for the worker again, and is controlled from its first request once the
    worker is active) and must be controlled within the same time; what the registrations were
    in is in the failure's message."""
    import time

    deadline = time.monotonic() + timeout
    while not page.evaluate(CONTROLLED):
        if time.monotonic() > deadline:
            first = page.evaluate(WORKER_STATE)
            page.reload()
            try:
                wait_until_true(page, CONTROLLED, timeout=timeout)
            except AssertionError:
                raise AssertionError(
                    f"the service worker never controlled the page: {first}, then {page.evaluate(WORKER_STATE)}"
                ) from None
            return
        page.wait_for_timeout(100)
