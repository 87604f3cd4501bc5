"""/api/docs/ in real Chromium: Swagger UI renders every operation from local files,
and the browser asks nothing of any other host."""

from urllib.parse import urlparse

import pytest


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_swagger_ui_renders_offline(live_server, desktop_page, screenshot):
    origin = urlparse(live_server.url).netloc
    requested = []
    desktop_page.on("request", lambda request: requested.append(request.url))

    desktop_page.goto(f"{live_server.url}/api/docs/")
    desktop_page.wait_for_selector(".opblock-summary", state="attached")
    desktop_page.wait_for_load_state("networkidle")

    assert desktop_page.locator(".opblock").count() >= 40
    assert "CommonGround API" in desktop_page.locator(".info .title").first.inner_text()
    outside = [url for url in requested if urlparse(url).netloc not in (origin, "") and not url.startswith("data:")]
    assert outside == []
    assert any(url.endswith("/api/schema/") or "/api/schema/" in url for url in requested)
    screenshot(desktop_page, "swagger")
