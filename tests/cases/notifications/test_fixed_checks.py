""" "Is it fixed?": the reporter is asked by email some days after the issue was resolved (the
category's setting), with two links that answer in one click, once each, for a while; "no"
reopens the issue as the status page does."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from cases import services
from cases.models import Event, FixedCheck, Issue, OutboxMessage
from cases.notifications.drain import outbox_drain
from cases.services.fixed_checks import fixed_checks_send
from tests.factories import CategoryFactory, NeighborhoodFactory, officer

pytestmark = pytest.mark.django_db

SITE = "https://cg.example.org"


@pytest.fixture
def resolved(settings, time_machine):
    settings.SITE_URL = SITE
    time_machine.move_to(timezone.now(), tick=False)
    place = NeighborhoodFactory()
    category = CategoryFactory(is_public=True, name_en="Graffiti", name_es="Grafiti", fixed_check_days=7)
    actor = officer(neighborhoods=[place])
    issue = services.issue_submit(
        category=category,
        text="Paint on the library wall",
        language="es",
        neighborhood=place,
        reporter_name="María López",
        reporter_email="maria.lopez@example.org",
        contact_consent=True,
    ).issue
    services.issue_resolve(issue=issue, actor=actor, note="Pintado")
    return issue, actor, time_machine


def asked() -> list:
    mail.outbox.clear()
    outbox_drain()
    return [e for e in mail.outbox if "/updates/fixed/" in e.body]


def answer_links(email) -> tuple[str, str]:
    yes, no = re.findall(r"https?://\S+/updates/fixed/[^/\s]+/", email.body)
    return yes.removeprefix(SITE), no.removeprefix(SITE)


def test_asked_once_after_the_categorys_days_in_the_reporters_language(resolved):
    issue, _, clock = resolved
    assert fixed_checks_send() == 0 and asked() == []
    clock.move_to(timezone.now() + timedelta(days=7, minutes=1), tick=False)
    assert fixed_checks_send() == 1
    assert fixed_checks_send() == 0  # once per resolution, however often the worker runs
    (email,) = asked()
    assert email.subject == f"¿Está arreglado? Informe {issue.tracking_code}"
    yes, no = answer_links(email)
    assert yes.startswith("/es/updates/fixed/") and no.startswith("/es/updates/fixed/") and yes != no
    assert email.alternatives[0][1] == "text/html"


def test_never_asked_when_the_category_says_0_or_the_issue_was_reopened(resolved):
    issue, actor, clock = resolved
    issue.category.fixed_check_days = 0
    issue.category.save()
    clock.move_to(timezone.now() + timedelta(days=8), tick=False)
    assert fixed_checks_send() == 0
    issue.category.fixed_check_days = 7
    issue.category.save()
    services.issue_reopen(issue=issue, actor=actor, reason="Back again")
    assert fixed_checks_send() == 0


def test_yes_in_one_click_records_it_once_and_a_scanner_that_only_opens_the_link_records_nothing(resolved):
    issue, _, clock = resolved
    clock.move_to(timezone.now() + timedelta(days=7, minutes=1), tick=False)
    fixed_checks_send()
    yes, no = answer_links(asked()[0])
    client = Client()
    opened = client.get(yes)  # what a mail scanner does: the page, which sends the answer by script
    assert opened.status_code == 200 and 'data-send="now"' in opened.content.decode()
    assert FixedCheck.objects.get().answered_at is None
    assert client.post(yes).status_code == 200
    check = FixedCheck.objects.get()
    assert check.fixed is True and check.answered_at is not None
    # The other link, or the same again: the first answer stays; nothing reopens.
    later = client.post(no)
    assert later.status_code == 200 and "primera respuesta" in later.content.decode()
    issue.refresh_from_db()
    assert issue.status == Issue.Status.RESOLVED
    assert Event.objects.filter(issue=issue, kind=Event.Kind.FEEDBACK, data__via="email").count() == 1


def test_no_reopens_as_the_status_page_does(resolved):
    issue, _, clock = resolved
    clock.move_to(timezone.now() + timedelta(days=7, minutes=1), tick=False)
    fixed_checks_send()
    _, no = answer_links(asked()[0])
    answered = Client().post(no)
    assert answered.status_code == 200 and "reabierto" in answered.content.decode()
    issue.refresh_from_db()
    assert issue.is_open
    reopened = Event.objects.get(issue=issue, kind=Event.Kind.REOPENED)
    assert reopened.data["by_resident"] is True
    # In the language of the page answered, as the status page writes it.
    assert reopened.message == "El residente dice que no está arreglado."


def test_forged_expired_and_stale_links_change_nothing(resolved):
    issue, actor, clock = resolved
    clock.move_to(timezone.now() + timedelta(days=7, minutes=1), tick=False)
    fixed_checks_send()
    yes, no = answer_links(asked()[0])
    client = Client()
    assert client.post(no[:-4] + "abcd/").status_code == 404
    clock.move_to(timezone.now() + timedelta(days=31), tick=False)
    assert client.post(no).status_code == 410
    issue.refresh_from_db()
    assert issue.status == Issue.Status.RESOLVED and FixedCheck.objects.get().answered_at is None
    # Reopened and resolved again since: the old question is closed (a new one will be asked).
    clock.move_to(timezone.now() - timedelta(days=30), tick=False)
    services.issue_reopen(issue=issue, actor=actor, reason="Back")
    services.issue_resolve(issue=issue, actor=actor, note="Again")
    stale = client.post(no)
    assert stale.status_code == 200 and FixedCheck.objects.get().answered_at is None
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.RESOLVED
    assert not OutboxMessage.objects.filter(subject__startswith="¿Está arreglado?", state="pending").exists()
