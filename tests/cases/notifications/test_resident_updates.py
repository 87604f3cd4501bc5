"""Residents hear about their issue: the reporter who left an email and agreed to be contacted
gets an email, in the language they reported in, when it is acknowledged, resolved (with the
public note), reopened or merged; through the outbox; plain text and HTML; absolute links; a
one-click unsubscribe (RFC 8058) that stops the next one."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from cases import services
from cases.models import Follower, OutboxMessage
from cases.notifications.drain import outbox_drain
from cases.services.retention import contact_details_erase
from core.site import DEVELOPMENT_ADDRESS
from tests.factories import CategoryFactory, NeighborhoodFactory, officer

pytestmark = pytest.mark.django_db

SITE = "https://cg.example.org"


@pytest.fixture
def city(settings):
    settings.SITE_URL = SITE
    place = NeighborhoodFactory()
    return place, CategoryFactory(is_public=True, name_en="Graffiti", name_es="Grafiti"), officer(neighborhoods=[place])


def report(city, *, language="en", email="maria.lopez@example.org", consent=True):
    place, category, _ = city
    return services.issue_submit(
        category=category,
        text="Paint on the library wall",
        language=language,
        neighborhood=place,
        reporter_name="María López" if consent else "",
        reporter_email=email if consent else "",
        contact_consent=consent,
    ).issue


def delivered() -> list:
    """Every email the drain sends now (the receipts included), oldest first."""
    mail.outbox.clear()
    outbox_drain()
    return list(mail.outbox)


def updates(emails) -> list:
    return [e for e in emails if "List-Unsubscribe" in e.extra_headers]


def links(text: str) -> list[str]:
    return re.findall(r"https?://[^\s\"<>]+", text)


def test_the_reporter_hears_of_each_step_in_their_language_with_the_public_note(city):
    _, _, actor = city
    issue = report(city, language="es")
    assert Follower.objects.get(issue=issue).language == "es"
    services.issue_acknowledge(issue=issue, actor=actor)
    services.issue_resolve(issue=issue, actor=actor, note="Pintamos la pared el martes.")
    sent = updates(delivered())
    assert [e.subject for e in sent] == [
        f"Novedad en el informe {issue.tracking_code}: Recibido",
        f"Novedad en el informe {issue.tracking_code}: Resuelto",
    ]
    resolved = sent[1]
    assert resolved.to == ["maria.lopez@example.org"]
    assert "Nota del departamento: Pintamos la pared el martes." in resolved.body
    html, kind = resolved.alternatives[0]
    assert kind == "text/html" and '<html lang="es">' in html and "Pintamos la pared el martes." in html
    # Every link absolute, on the site's address, the status page in Spanish.
    assert links(resolved.body) and all(link.startswith(f"{SITE}/es/") for link in links(resolved.body))
    assert f"{SITE}/es/report/{issue.tracking_code}/" in resolved.body
    assert resolved.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = resolved.extra_headers["List-Unsubscribe"].strip("<>")
    assert unsubscribe.startswith(f"{SITE}/es/updates/stop/") and unsubscribe in resolved.body


def test_reopened_and_merged_are_told_and_the_followers_follow_the_issue_it_was_merged_into(city):
    _, _, actor = city
    issue = report(city)
    services.issue_resolve(issue=issue, actor=actor, note="Cleaned")
    services.issue_reopen(issue=issue, actor=actor, reason="The paint is back")
    first = report(city, email="neighbour@example.org")
    services.issue_mark_duplicate(issue=issue, of=first, actor=actor)
    sent = updates(delivered())
    assert [e.subject.split(": ")[1] for e in sent] == ["Resolved", "Reopened", "Marked as duplicate"]
    assert f"it is followed as {first.tracking_code} from now on" in sent[2].body
    assert sorted(Follower.objects.filter(issue=first).values_list("email", flat=True)) == [
        "maria.lopez@example.org",
        "neighbour@example.org",
    ]
    services.issue_acknowledge(issue=first, actor=actor)
    assert sorted(e.to[0] for e in updates(delivered())) == ["maria.lopez@example.org", "neighbour@example.org"]


def test_no_consent_no_address_no_updates(city):
    _, _, actor = city
    issue = report(city, consent=False)
    services.issue_acknowledge(issue=issue, actor=actor)
    assert not Follower.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_one_click_unsubscribe_stops_the_next_update_and_a_forged_link_changes_nothing(city):
    _, _, actor = city
    issue = report(city)
    services.issue_acknowledge(issue=issue, actor=actor)
    (email,) = updates(delivered())
    path = email.extra_headers["List-Unsubscribe"].strip("<>").removeprefix(SITE)
    client = Client(enforce_csrf_checks=True)
    # Opening the link (a mail scanner does) asks; it stops nothing.
    page = client.get(path)
    assert page.status_code == 200 and issue.tracking_code in page.content.decode()
    assert Follower.objects.get().unsubscribed_at is None
    assert client.get(path[:-3] + "abc/").status_code == 404
    assert client.post(path[:-3] + "abc/", {"List-Unsubscribe": "One-Click"}).status_code == 404
    # The mail client's one-click POST: no cookie, no form token.
    stopped = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert stopped.status_code == 200 and "no more emails" in stopped.content.decode().lower()
    assert Follower.objects.get().unsubscribed_at is not None
    services.issue_resolve(issue=issue, actor=actor, note="Done")
    assert updates(delivered()) == []


def test_links_are_absolute_without_site_url_in_development(city, settings):
    """Development: the address of the request that queued the email; the worker's own: the
    development server's."""
    settings.SITE_URL = ""
    settings.ALLOWED_HOSTS = ["cg.internal"]
    place, category, actor = city
    client = Client()
    response = client.post(
        "/report/",
        {
            "category": category.pk,
            "neighborhood": place.pk,
            "description": "Paint on the library wall again",
            "reporter_name": "María López",
            "reporter_email": "maria.lopez@example.org",
            "contact_consent": "on",
            "same_issue": "new",
        },
        HTTP_HOST="cg.internal:8000",
    )
    assert response.status_code in (200, 302), response.content[:2000]
    receipt = OutboxMessage.objects.get()
    issue = receipt.issue
    assert receipt.url == f"http://cg.internal:8000/report/{issue.tracking_code}/"
    assert receipt.url in receipt.body
    services.issue_acknowledge(issue=issue, actor=actor)  # no request: the worker, a shell
    update = OutboxMessage.objects.exclude(pk=receipt.pk).get()
    assert all(link.startswith(f"{DEVELOPMENT_ADDRESS}/") for link in links(update.body))


def test_erasing_contact_details_forgets_the_followers(city, settings):
    _, _, actor = city
    issue = report(city)
    anonymous = report(city, consent=False)  # followed by a neighbour only
    Client().post(f"/report/{anonymous.tracking_code}/follow/", {"email": "neighbour@example.org"})
    still_open = report(city, email="open@example.org")
    for finished in (issue, anonymous):
        services.issue_resolve(issue=finished, actor=actor, note="Done")
    settings.CONTACT_RETENTION_DAYS = 0
    contact_details_erase()
    assert list(Follower.objects.values_list("issue_id", "email")) == [(still_open.pk, "open@example.org")]


# --- anyone may follow an issue from its status page (double opt-in) ---------------------------


def confirm_link(email) -> str:
    (link,) = [link for link in links(email.body) if "/updates/confirm/" in link]
    return link.removeprefix(SITE)


def test_a_neighbour_follows_from_the_status_page_confirms_and_hears_in_spanish(city):
    _, _, actor = city
    issue = report(city)
    client = Client()
    page = client.get(f"/es/report/{issue.tracking_code}/")
    assert f'action="/es/report/{issue.tracking_code}/follow/"' in page.content.decode()
    answer = client.post(f"/es/report/{issue.tracking_code}/follow/", {"email": "Vecina@Example.org"})
    assert answer.status_code == 200 and "Revise su bandeja" in answer.content.decode()
    follower = Follower.objects.get(email="vecina@example.org")
    assert follower.confirmed_at is None and follower.language == "es"
    # Not confirmed yet: no update.
    services.issue_acknowledge(issue=issue, actor=actor)
    sent = delivered()
    (confirmation,) = [e for e in sent if e.to == ["vecina@example.org"]]
    assert confirmation.subject == f"Confirme: seguir el informe {issue.tracking_code}"
    assert confirmation.alternatives[0][1] == "text/html"
    path = confirm_link(confirmation)
    assert path.startswith("/es/updates/confirm/")
    # Opening the link asks; the button confirms.
    assert client.get(path).status_code == 200
    assert Follower.objects.get(pk=follower.pk).confirmed_at is None
    assert client.post(path).status_code == 200
    assert Follower.objects.get(pk=follower.pk).active
    services.issue_resolve(issue=issue, actor=actor, note="Limpio")
    (update,) = [e for e in updates(delivered()) if e.to == ["vecina@example.org"]]
    assert update.subject == f"Novedad en el informe {issue.tracking_code}: Resuelto"
    assert "Recibe estos correos porque sigue este informe." in update.body


def test_following_again_sends_no_second_link_and_the_page_says_the_same(city):
    issue = report(city)
    client = Client()
    url = f"/report/{issue.tracking_code}/follow/"
    first = client.post(url, {"email": "neighbour@example.org"})
    client.post(confirm_link(delivered()[-1]))
    again = client.post(url, {"email": "neighbour@example.org"})
    assert again.status_code == first.status_code == 200
    assert again.content.decode().count("Check your inbox") == first.content.decode().count("Check your inbox")
    assert delivered() == []  # no new link: the address already follows it


def test_bad_addresses_forged_and_expired_links_change_nothing(city, time_machine):
    issue = report(city)
    client = Client()
    url = f"/report/{issue.tracking_code}/follow/"
    bad = client.post(url, {"email": "not an address"})
    assert bad.status_code == 400 and "Enter an email address like name@example.org." in bad.content.decode()
    assert client.post("/report/CG-AAAA-AAAA/follow/", {"email": "a@example.org"}).status_code == 404
    # Opened rather than sent (the language switcher on its answer): the status page's form.
    assert client.get(f"/es{url}")["Location"] == f"/es/report/{issue.tracking_code}/#follow"
    assert not Follower.objects.exclude(source=Follower.Source.REPORTER).exists()
    client.post(url, {"email": "late@example.org"})
    path = confirm_link(delivered()[-1])
    assert client.post(path[:-4] + "abcd/").status_code == 404
    time_machine.move_to(timezone.now() + timedelta(days=8))
    expired = client.post(path)
    assert expired.status_code == 410 and "expired" in expired.content.decode()
    assert Follower.objects.get(email="late@example.org").confirmed_at is None


def test_following_is_rate_limited_per_client(city, settings):
    settings.REPORT_RATE_LIMIT = "2/h"
    issue = report(city)
    client = Client()
    url = f"/report/{issue.tracking_code}/follow/"
    assert [client.post(url, {"email": f"n{i}@example.org"}).status_code for i in range(3)] == [200, 200, 429]
    assert Follower.objects.filter(source=Follower.Source.FOLLOWER).count() == 2
