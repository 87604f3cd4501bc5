"""A supervisor on a phone moderates: the queue and the issue page at 360 px, by keyboard.

Real Chromium. A resident's report arrives with a photo and an email typed into the text;
the photo is nowhere public. The supervisor approves it from /moderation/ using only the
keyboard, edits the public description on the issue page, and the resident's status page
then shows the approved copy (loaded under the CSP) and never the original.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import services
from cases.models import Event, Report
from cases.photos import photo_clean
from tests import factories
from tests.browser.conftest import force_login
from tests.cases.web.public.public_helpers import jpeg_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _no_horizontal_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_supervisor_moderates_on_a_phone_by_keyboard(live_server, phone_page, screenshot):
    neighborhood = factories.NeighborhoodFactory(name="Westport")
    category = factories.CategoryFactory(name_en="Graffiti", name_es="Grafiti")
    boss = factories.supervisor(districts=[neighborhood.district], username="sgt.okafor")
    photo = photo_clean(SimpleUploadedFile("IMG_1.jpg", jpeg_bytes((320, 240)), content_type="image/jpeg"))
    report = services.issue_submit(
        category=category,
        text="Tags on the laundromat wall, write me at ana.ruiz@example.org",
        lat=(neighborhood.min_lat + neighborhood.max_lat) / 2,
        lng=(neighborhood.min_lng + neighborhood.max_lng) / 2,
        photo=photo,
    )
    issue = report.issue
    page = phone_page
    errors = []
    # The CSP refusing anything (an inline script or style, an image source) is a console error.
    page.on("console", lambda message: "Content Security Policy" in message.text and errors.append(message.text))

    page.goto(f"{live_server.url}/report/{issue.tracking_code}/")
    assert "/photos/" not in page.content()

    force_login(page.context, live_server, boss)
    page.goto(f"{live_server.url}/moderation/")
    assert page.locator("nav.main-nav a[href='/moderation/']").count() == 1
    assert _no_horizontal_scroll(page)
    screenshot(page, "queue")
    # The thumbnail is the original, through the staff view.
    thumb = page.locator("img.report-photo-thumb").first
    # Lazy-loaded: the browser fetches it as it nears the screen, maybe after the page's load event.
    thumb.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle(), timeout=10_000)

    # Keyboard only: focus the approve form's reason, type it, submit with Enter.
    reason = page.locator("input[id^=approve-reason-]").first
    reason.focus()
    page.keyboard.type("Shows only the wall")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=The photo is approved")
    report.refresh_from_db()
    assert report.photo_state == Report.PhotoState.APPROVED

    page.goto(f"{live_server.url}/issues/{issue.pk}/#moderation")
    assert _no_horizontal_scroll(page)
    text = page.locator("#id_mod_issue_public-text_text")
    assert page.locator("label[for=id_mod_issue_public-text_text]").count() == 1
    text.fill("Tags on the laundromat wall")
    page.locator("#id_mod_issue_public-text_reason").fill("Email left in the text")
    page.locator("#id_mod_issue_public-text_reason").press("Enter")
    page.wait_for_selector("text=The public description was changed")
    screenshot(page, "issue")
    assert Event.objects.filter(issue=issue, kind=Event.Kind.MODERATED).count() == 2

    page.context.clear_cookies()
    page.goto(f"{live_server.url}/report/{issue.tracking_code}/")
    image = page.locator(".public-photos img").first
    image.wait_for()
    assert image.evaluate("img => img.complete && img.naturalWidth === 320")
    assert report.photo.name.rsplit("/", 1)[-1] not in page.content()
    assert not errors, errors
