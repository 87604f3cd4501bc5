"""Neighborhood alerts: subscribe at /alerts/ (double opt-in, both languages), one digest a day
per subscriber with what happened in their neighborhoods, none when nothing did, one-click stop."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from cases.models import AreaSubscription, OutboxMessage
from cases.notifications.alerts import alert_digests_send
from cases.notifications.drain import outbox_drain
from tests.factories import CategoryFactory, IssueFactory, NeighborhoodFactory

pytestmark = pytest.mark.django_db
SITE = "https://cg.example.org"


@pytest.fixture
def places(settings, time_machine):
    settings.SITE_URL = SITE
    time_machine.move_to(timezone.now(), tick=False)
    west = NeighborhoodFactory(name="Westport", slug="westport")
    east = NeighborhoodFactory(name="Eastside", slug="eastside")
    north = NeighborhoodFactory(name="Northland", slug="northland")
    return west, east, north, time_machine


def sent() -> list:
    mail.outbox.clear()
    outbox_drain()
    return list(mail.outbox)


def subscribe(client, prefix, email, *places):
    answer = client.post(f"{prefix}/alerts/", {"email": email, "neighborhoods": [p.pk for p in places]})
    assert answer.status_code == 200
    (confirmation,) = [e for e in sent() if e.to == [email.lower()]]
    path = re.search(r"https?://\S+?(/(?:es/)?alerts/confirm/[^/\s]+/)", confirmation.body).group(1)
    assert client.get(path).status_code == 200 and not AreaSubscription.objects.get(email=email.lower()).active
    assert client.post(path).status_code == 200
    return confirmation


def test_one_digest_a_day_of_the_chosen_neighborhoods_in_spanish_then_one_click_stop(places):
    west, east, north, clock = places
    client = Client()
    confirmation = subscribe(client, "/es", "Vecina@Example.org", west, east)
    assert confirmation.subject == "Confirme sus alertas del barrio"
    assert AreaSubscription.objects.get().active
    graffiti = CategoryFactory(name_en="Graffiti", name_es="Grafiti", is_public=True)
    drugs = CategoryFactory(name_en="Drug activity", is_public=False)
    clock.move_to(timezone.now() + timedelta(hours=2), tick=False)
    new_west = IssueFactory(neighborhood=west, category=graffiti)
    new_east = IssueFactory(neighborhood=east, category=graffiti)
    IssueFactory(neighborhood=west, category=drugs)  # not public: never in a digest
    far = IssueFactory(neighborhood=north, category=graffiti)  # not chosen
    clock.move_to(timezone.now() + timedelta(hours=1), tick=False)
    assert alert_digests_send() == 1
    assert alert_digests_send() == 0  # one a day
    (digest,) = sent()
    assert digest.subject == "Sus barrios hoy: 2 novedades"
    assert new_west.tracking_code in digest.body and new_east.tracking_code in digest.body
    assert far.tracking_code not in digest.body and "Drug" not in digest.body
    assert f"{SITE}/es/report/{new_west.tracking_code}/" in digest.body
    assert digest.alternatives[0][1] == "text/html"
    assert digest.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The next day: nothing new, no email.
    clock.move_to(timezone.now() + timedelta(days=1), tick=False)
    assert alert_digests_send() == 0
    stop = digest.extra_headers["List-Unsubscribe"].strip("<>").removeprefix(SITE)
    assert Client(enforce_csrf_checks=True).post(stop, {"List-Unsubscribe": "One-Click"}).status_code == 200
    assert not AreaSubscription.objects.exists()  # the address is gone
    assert Client().get(stop).status_code == 200  # the link still says it is stopped
    IssueFactory(neighborhood=west, category=graffiti)
    clock.move_to(timezone.now() + timedelta(days=1), tick=False)
    assert alert_digests_send() == 0


def test_bad_input_and_forged_links_change_nothing(places):
    west, _, _, _ = places
    client = Client()
    for data in ({"email": "no", "neighborhoods": [west.pk]}, {"email": "a@example.org"}):
        answer = client.post("/alerts/", data)
        assert answer.status_code == 400 and 'role="alert"' in answer.content.decode()
    assert not AreaSubscription.objects.exists() and not OutboxMessage.objects.exists()
    assert client.post("/alerts/confirm/abc/").status_code == 404
    assert client.post("/alerts/stop/abc/").status_code == 404


def test_an_unconfirmed_address_is_forgotten_once_its_link_expired(places):
    west, _, _, clock = places
    Client().post("/alerts/", {"email": "maybe@example.org", "neighborhoods": [west.pk]})
    assert AreaSubscription.objects.filter(confirmed_at__isnull=True).count() == 1
    clock.move_to(timezone.now() + timedelta(days=8), tick=False)
    alert_digests_send()
    assert not AreaSubscription.objects.exists()
