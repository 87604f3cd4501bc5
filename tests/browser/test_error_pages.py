"""The error pages on a phone, in real Chromium: readable at 360 px in both languages, the
right language declared, a way back reachable by keyboard, text with enough contrast."""

import pytest

from tests.browser.conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.urls("tests.config.error_urls")]

PAGES = [
    ("/no-such-page/", 404, "en"),
    ("/es/no-such-page/", 404, "es"),
    ("/test-errors/boom/", 500, "en"),
    ("/es/test-errors/boom/", 500, "es"),
    ("/test-errors/forbidden/", 403, "en"),
    ("/es/test-errors/suspicious/", 400, "es"),
]

# WCAG 2.1 relative luminance and contrast, computed in the page from the computed colours.
CONTRAST = """(el) => {
  const rgb = (s) => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  let bg = el, color = getComputedStyle(el).backgroundColor;
  while (bg && (color === "rgba(0, 0, 0, 0)" || color === "transparent")) {
    bg = bg.parentElement; color = bg ? getComputedStyle(bg).backgroundColor : "rgb(255, 255, 255)";
  }
  const a = lum(rgb(getComputedStyle(el).color)), b = lum(rgb(color));
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("path", "status", "language"), PAGES)
def test_error_page_on_a_phone(browser, live_server, screenshot, path, status, language):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        response = page.goto(live_server.url + path)
        assert response.status == status
        assert page.get_attribute("html", "lang") == language
        heading = page.locator("main h1")
        assert heading.is_visible() and heading.inner_text().strip()
        # Nothing wider than the phone: no sideways scrolling to read the page.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        for selector in ("main h1", "main p"):
            ratio = page.locator(selector).first.evaluate(CONTRAST)
            assert ratio >= 4.5, (selector, ratio)
        # The keyboard reaches the skip link first, then a way back home.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip-link"
        for _ in range(10):
            page.keyboard.press("Tab")
            href = page.evaluate("document.activeElement.getAttribute('href')") or ""
            if href in ("/", "/es/") and page.evaluate("document.activeElement.closest('main') !== null"):
                break
        else:
            raise AssertionError("no way back home reachable by keyboard in the page's content")
        screenshot(page, f"{status}-{language}")
    finally:
        context.close()
