"""Atom feeds of a neighborhood's and the city's new public reports and resolutions."""

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import CategoryFactory, IssueFactory, NeighborhoodFactory

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


def entries(response):
    assert response.status_code == 200 and response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)  # noqa: S314 (our own answer, in a test)
    return [(e.find(f"{ATOM}title").text, e.find(f"{ATOM}link").get("href")) for e in root.iter(f"{ATOM}entry")]


@pytest.fixture
def city():
    west = NeighborhoodFactory(name="Westport", slug="westport")
    east = NeighborhoodFactory(name="Eastside", slug="eastside")
    public = CategoryFactory(name_en="Graffiti", name_es="Grafiti", is_public=True)
    sensitive = CategoryFactory(name_en="Drug activity", is_public=False)
    now = timezone.now()
    new = IssueFactory(neighborhood=west, category=public, created_at=now - timedelta(days=1))
    fixed = IssueFactory(
        neighborhood=west,
        category=public,
        created_at=now - timedelta(days=40),
        status="resolved",
        outcome="resolved",
        resolved_at=now - timedelta(hours=3),
    )
    IssueFactory(neighborhood=west, category=sensitive, created_at=now - timedelta(days=1))
    IssueFactory(neighborhood=west, category=public, created_at=now - timedelta(days=45))  # too old
    other = IssueFactory(neighborhood=east, category=public, created_at=now - timedelta(days=2))
    return new, fixed, other


def test_a_neighborhood_feed_has_its_new_and_resolved_public_reports_newest_first(city):
    new, fixed, other = city
    assert entries(Client().get("/feeds/westport.atom")) == [
        (f"Resolved: Graffiti in Westport ({fixed.tracking_code})", f"http://testserver/report/{fixed.tracking_code}/"),
        (f"Reported: Graffiti in Westport ({new.tracking_code})", f"http://testserver/report/{new.tracking_code}/"),
    ]
    city_feed = entries(Client().get("/feeds/city.atom"))
    assert [title.rsplit("(", 1)[1][:-1] for title, _ in city_feed] == [
        fixed.tracking_code,
        new.tracking_code,
        other.tracking_code,
    ]


def test_a_neighborhood_slugged_city_has_its_own_feed_beside_the_citys(city):
    new, fixed, other = city
    named_city = NeighborhoodFactory(name="City", slug="city")
    public = new.category
    own = IssueFactory(neighborhood=named_city, category=public, created_at=timezone.now() - timedelta(hours=5))
    assert entries(Client().get("/feeds/neighborhoods/city.atom")) == [
        (f"Reported: Graffiti in City ({own.tracking_code})", f"http://testserver/report/{own.tracking_code}/"),
    ]
    assert len(entries(Client().get("/feeds/city.atom"))) == 4  # the whole city, that neighborhood included
    # The neighborhood's page links to its own feed, and the older address of other feeds still answers.
    around = Client().get("/around/?neighborhood=city").content.decode()
    assert 'href="/feeds/neighborhoods/city.atom"' in around
    assert entries(Client().get("/feeds/neighborhoods/westport.atom")) == entries(Client().get("/feeds/westport.atom"))


def test_in_spanish_and_an_unknown_neighborhood_is_not_found(city):
    new, _, _ = city
    spanish = entries(Client().get("/es/feeds/westport.atom"))
    assert (
        f"Informado: Grafiti en Westport ({new.tracking_code})",
        f"http://testserver/es/report/{new.tracking_code}/",
    ) in spanish
    assert Client().get("/feeds/nowhere.atom").status_code == 404
    assert Client().get("/feeds/neighborhoods/nowhere.atom").status_code == 404


def test_a_feed_costs_the_same_queries_however_many_reports(city):
    place = NeighborhoodFactory(slug="busy")
    category = CategoryFactory(is_public=True)
    counts = []
    for n in (1, 30):
        for _ in range(n):
            IssueFactory(neighborhood=place, category=category)
        with CaptureQueriesContext(connection) as queries:
            entries(Client().get("/feeds/busy.atom"))
        counts.append(len(queries))
    assert counts[0] == counts[1]
