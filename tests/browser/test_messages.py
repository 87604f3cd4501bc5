"""Anonymous messages in real Chromium: a resident writes with the private key, an officer replies.

The resident files a report from the Spanish form on a 360 px phone, copies the private key from
the confirmation, opens the status page again (the key is no longer shown), unlocks the
conversation with it and writes. An officer signs in, opens the issue, sees the new message and
that the resident reads Spanish, and replies. The resident reloads the conversation and reads the
reply, signed by the department and not by the officer's name, in Spanish.
"""

import re

import pytest

from cases.models import Report, ResidentMessage
from tests import factories
from tests.browser.conftest import DESKTOP, PHONE, login
from tests.browser.test_resident import click_map_centre
from tests.cases.web.public.public_helpers import center_neighborhood, graffiti

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OFFICER_FIRST, OFFICER_LAST = "Dana", "Rivera"


def _fits_phone(page):
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_resident_writes_with_the_key_and_reads_the_officers_reply(live_server, browser, screenshot):
    place = center_neighborhood()
    graffiti()
    officer = factories.officer(
        neighborhoods=[place], username="ofc.rivera", first_name=OFFICER_FIRST, last_name=OFFICER_LAST
    )
    resident_context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    resident_context.set_default_timeout(15000)
    page = resident_context.new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    # --- the resident files a report in Spanish and is shown the key once
    page.goto(f"{live_server.url}/es/report/")
    page.get_by_label("Grafiti").check()
    click_map_centre(page)
    page.wait_for_function("document.querySelector('#map-status').classList.contains('ok')")
    page.fill("#id_description", "Pintaron grafiti en la pared de la lavandería anoche.")
    page.get_by_label("Informar de forma anónima").check()
    page.click("#submit-report")
    page.wait_for_url(re.compile(r".*/es/report/CG-[A-Z0-9]{4}-[A-Z0-9]{4}/$"))
    report = Report.objects.get()
    code = report.issue.tracking_code
    key = page.locator("#message-key").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", key)
    assert "No podemos volver a mostrarla" in page.locator(".confirmation").inner_text()
    assert _fits_phone(page)
    screenshot(page, "key-shown")

    # --- shown once: the status page again has the key form, not the key
    page.reload()
    assert page.locator("#message-key").count() == 0
    assert key not in page.content()

    # --- a wrong key first: the error summary takes the focus, with the field linked
    page.fill("#id_message_key", "AAAA-BBBB-CCCC")
    page.get_by_role("button", name="Abrir los mensajes").click()
    page.wait_for_url(f"{live_server.url}/es/report/{code}/?key=wrong#error-summary")
    page.wait_for_selector("#error-summary:focus")
    assert "Esa clave no coincide" in page.locator("#error-summary").inner_text()
    assert page.locator("#id_message_key").get_attribute("aria-invalid") == "true"
    screenshot(page, "wrong-key")

    # --- the right key, typed in lower case with spaces, opens the conversation
    page.fill("#id_message_key", key.lower().replace("-", " "))
    page.get_by_role("button", name="Abrir los mensajes").click()
    page.wait_for_url(f"{live_server.url}/es/report/{code}/messages/")
    assert page.locator("html").get_attribute("lang") == "es"
    assert "Todavía no hay mensajes" in page.locator("#message-thread").inner_text()
    page.get_by_label("Su mensaje").fill("Hoy hay más pintadas, también en la puerta.")
    page.click("#send-message")
    page.wait_for_url(f"{live_server.url}/es/report/{code}/messages/")
    assert "Su mensaje se envió" in page.locator(".messages").inner_text()
    assert "Hoy hay más pintadas" in page.locator("#message-thread").inner_text()
    assert _fits_phone(page)
    screenshot(page, "sent")

    # --- the officer signs in, opens the issue, and replies
    officer_context = browser.new_context(viewport=DESKTOP)
    officer_context.set_default_timeout(15000)
    staff = officer_context.new_page()
    login(staff, live_server, officer.username)
    staff.goto(f"{live_server.url}/issues/{report.issue.pk}/")
    section = staff.locator("#messages")
    assert "Messages with residents" in section.inner_text()
    assert staff.locator('[data-testid="unread-messages"]').count() == 1
    assert "The resident reads Spanish." in section.inner_text()
    assert "Hoy hay más pintadas" in section.inner_text()
    staff.get_by_label("Reply to the resident").fill("Gracias. Mañana pasamos a limpiar la pared y la puerta.")
    staff.get_by_role("button", name="Send reply").click()
    staff.wait_for_url(re.compile(rf".*/issues/{report.issue.pk}/#messages-{report.pk}$"))
    assert "Your reply was sent" in staff.locator(".messages").inner_text()
    screenshot(staff, "officer-replied")
    reply = ResidentMessage.objects.get(direction="out")
    assert reply.language == "es" and reply.author == officer

    # --- the resident reloads the conversation and reads the reply
    page.reload()
    thread = page.locator("#message-thread").inner_text()
    assert "Mañana pasamos a limpiar" in thread
    assert "Agente de policía comunitaria" in thread
    assert OFFICER_FIRST not in page.content() and OFFICER_LAST not in page.content()
    assert _fits_phone(page)
    screenshot(page, "reply-read")
    reply.refresh_from_db()
    assert reply.read_at is not None

    # --- the public status page shows none of it
    page.goto(f"{live_server.url}/es/report/{code}/")
    assert "Mañana pasamos" not in page.content() and "Hoy hay más pintadas" not in page.content()

    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
    officer_context.close()
    resident_context.close()
