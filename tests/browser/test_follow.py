"""A neighbour in real Chromium, in Spanish: follows an issue from its status page, confirms with
the emailed link, and later answers "is it fixed?" with one click on the email's link; the page
then offers the trust survey, which she answers."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from cases import services
from cases.models import FixedCheck, Follower, OutboxMessage
from cases.services.fixed_checks import fixed_checks_send
from insights.models import PulseAnswer, PulseResponse
from insights.pulse import pulse_statements_default
from tests.cases.web.public.public_helpers import center_neighborhood, graffiti
from tests.factories import officer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def link_in(message: OutboxMessage, kind: str) -> str:
    return re.search(rf"https?://\S+/es/updates/{kind}/[^/\s]+/", message.body).group(0)


def test_a_neighbour_follows_confirms_answers_is_it_fixed_in_one_click_then_the_survey(
    live_server, phone_page, settings
):
    settings.SITE_URL = live_server.url  # the worker's emails link to the site's public address
    pulse_statements_default()  # the migration's statements, gone if a test before emptied the tables
    place, category = center_neighborhood(), graffiti()
    actor = officer(neighborhoods=[place])
    issue = services.issue_submit(
        category=category,
        text="Pintura en la pared de la biblioteca",
        language="es",
        neighborhood=place,
        reporter_name="Marisol Quintanilla",
        reporter_email="marisol.q@example.org",
        contact_consent=True,
    ).issue
    page = phone_page
    page.goto(f"{live_server.url}/es/report/{issue.tracking_code}/")
    page.get_by_label("Su correo electrónico").fill("vecino@example.org")
    page.get_by_role("button", name="Envíenme el enlace").click()
    page.wait_for_selector("text=Revise su bandeja de entrada")
    confirmation = OutboxMessage.objects.get(recipient_email="vecino@example.org")
    page.goto(link_in(confirmation, "confirm"))
    page.get_by_role("button", name="Empezar a recibir los correos").click()
    page.wait_for_selector("text=Usted sigue este informe")
    assert Follower.objects.get(email="vecino@example.org").active

    services.issue_resolve(issue=issue, actor=actor, note="Pintamos la pared")
    assert OutboxMessage.objects.filter(recipient_email="vecino@example.org", subject__contains="Resuelto").exists()
    # A week later the reporter is asked; one click on "no" in the email answers and reopens it.
    fixed_checks_send(now=timezone.now() + timedelta(days=7, minutes=1))
    question = OutboxMessage.objects.get(recipient_email="marisol.q@example.org", subject__startswith="¿Está")
    no = re.findall(r"https?://\S+/es/updates/fixed/[^/\s]+/", question.body)[1]
    page.goto(no)
    page.wait_for_selector("text=Nos dijo que no está arreglado")
    check = FixedCheck.objects.get()
    assert check.fixed is False and check.answered_at is not None
    issue.refresh_from_db()
    assert issue.is_open

    # The thanks offer the trust survey for the issue's neighborhood: answered with the keyboard.
    page.get_by_role("link", name="Responder la encuesta de confianza").click()
    page.wait_for_selector("#pulse-form")
    assert page.locator("#id_neighborhood").input_value() == place.slug
    legends = page.locator("#pulse-form fieldset legend").all_inner_texts()
    assert legends[0] == "La policía de mi barrio trata a las personas con respeto."
    for number, fieldset in enumerate(page.locator("#pulse-form fieldset").all()):
        fieldset.get_by_label("De acuerdo" if number % 2 else "Muy de acuerdo", exact=True).check()
    page.get_by_label("El problema número uno de su barrio (opcional)").select_option(label=category.name_es)
    page.get_by_role("button", name="Enviar mis respuestas").press("Enter")
    page.wait_for_selector("text=Su respuesta está contada")
    response = PulseResponse.objects.get()
    assert (response.neighborhood_id, response.language, response.top_problem_id) == (place.pk, "es", category.pk)
    assert response.score == pytest.approx((100 + 75 + 100 + 75) / 4)
    assert sorted(PulseAnswer.objects.values_list("value", flat=True)) == [4, 4, 5, 5]
    # Once a quarter from this phone: the survey says so instead of asking again.
    page.goto(f"{live_server.url}/es/pulse/")
    page.wait_for_selector("text=Este dispositivo ya respondió este trimestre")
