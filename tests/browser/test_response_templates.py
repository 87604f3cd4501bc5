"""An officer on a phone picks a response template: the script fills the note in the resident's
language and turns it public; the note saved is that text, on the resident's status page."""

import pytest

from cases import services
from cases.models import Event, Issue, ResponseTemplate
from tests import factories
from tests.browser.conftest import force_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_choosing_a_template_fills_the_note_in_spanish(live_server, phone_page, screenshot):
    neighborhood = factories.NeighborhoodFactory(name="Westside")
    category = factories.CategoryFactory(name_en="Graffiti", name_es="Grafiti")
    officer = factories.officer(neighborhoods=[neighborhood])
    lat = (neighborhood.min_lat + neighborhood.max_lat) / 2
    lng = (neighborhood.min_lng + neighborhood.max_lng) / 2
    issue = services.issue_submit(category=category, text="Pintura en la pared", lat=lat, lng=lng, language="es").issue
    template = ResponseTemplate.objects.create(
        name="Graffiti: we are on it",
        category=category,
        status=Issue.Status.NEW,
        text_en="We are on the {category} in {neighborhood}.",
        text_es="Ya estamos con el {category} en {neighborhood}.",
    )
    page = phone_page
    force_login(page.context, live_server, officer)
    page.goto(f"{live_server.url}/issues/{issue.pk}/")

    select = page.locator("#id_note_template")
    assert page.locator("label[for=id_note_template]").inner_text() == "Use a response template"
    assert "Spanish" in page.locator("form.action-note [data-testid=template-language]").inner_text()
    assert page.locator("#id_note_visibility_0").is_checked()  # internal by default
    select.select_option(str(template.pk))
    assert page.locator("#id_note_text").input_value() == "Ya estamos con el Grafiti en Westside."
    assert page.locator("#id_note_visibility_1").is_checked()  # turned public
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    screenshot(page, "filled")

    page.fill("#id_note_text", "Ya estamos con el Grafiti en Westside. Pasamos el lunes.")
    page.click("form.action-note button[type=submit]")
    page.wait_for_selector("#issue-main .event-note.public")

    note = Event.objects.get(issue=issue, kind=Event.Kind.NOTE)
    assert note.is_public and note.message == "Ya estamos con el Grafiti en Westside. Pasamos el lunes."
    page.goto(f"{live_server.url}/es/report/{issue.tracking_code}/")
    assert "Pasamos el lunes." in page.content()
