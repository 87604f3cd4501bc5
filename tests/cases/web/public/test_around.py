"""/around/: recent public reports in a neighborhood or near a place — public categories only, no
duplicates, the masked public text, points coarsened; both languages; usable without scripts;
bad input answered with a message; a fixed number of queries whatever the number of reports."""

import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.cases.web.public.public_helpers import CENTER_LAT, CENTER_LNG, center_neighborhood
from tests.factories import CategoryFactory, IssueFactory, NeighborhoodFactory, square

pytestmark = pytest.mark.django_db


@pytest.fixture
def city():
    west = center_neighborhood()  # a square of 0.02° around the map centre
    # East of it, sharing its edge.
    east = NeighborhoodFactory(name="Eastside", slug="eastside", boundary=square(CENTER_LAT - 0.01, CENTER_LNG + 0.01))
    public = CategoryFactory(name_en="Graffiti", name_es="Grafiti", is_public=True)
    sensitive = CategoryFactory(name_en="Drug activity", name_es="Drogas", is_public=False)
    return west, east, public, sensitive


def issue(place, category, *, lat, lng, days_ago=1, **kwargs):
    return IssueFactory(
        neighborhood=place,
        category=category,
        lat=lat,
        lng=lng,
        created_at=timezone.now() - timedelta(days=days_ago),
        **kwargs,
    )


def codes(response) -> list[str]:
    return re.findall(r'class="code">(CG-[A-Z0-9-]+)<', response.content.decode())


def test_a_neighborhood_lists_its_recent_public_reports_newest_first(city):
    west, east, public, sensitive = city
    old = issue(west, public, lat=CENTER_LAT, lng=CENTER_LNG, days_ago=90)
    hidden = issue(west, sensitive, lat=CENTER_LAT, lng=CENTER_LNG)
    first = issue(west, public, lat=CENTER_LAT, lng=CENTER_LNG, days_ago=3)
    second = issue(
        west,
        public,
        lat=CENTER_LAT + 0.001234,
        lng=CENTER_LNG,
        days_ago=2,
        description="Call me at 816-555-0199, maria@example.org",
    )
    duplicate = issue(west, public, lat=CENTER_LAT, lng=CENTER_LNG, status="duplicate", duplicate_of=first)
    elsewhere = issue(east, public, lat=CENTER_LAT, lng=CENTER_LNG + 0.015)
    page = Client().get("/around/", {"neighborhood": "westside"})
    assert page.status_code == 200
    assert codes(page) == [second.tracking_code, first.tracking_code]
    html = page.content.decode()
    for absent in (old, hidden, duplicate, elsewhere):
        assert absent.tracking_code not in html
    assert "816-555-0199" not in html and "maria@example.org" not in html
    points = json.loads(re.search(r'id="map-data"[^>]*>(.*?)</script>', html).group(1))["points"]
    # Coarsened as on the status page (PUBLIC_LOCATION_DECIMALS, 3).
    assert {(p["lat"], p["lng"]) for p in points} == {
        (round(CENTER_LAT + 0.001234, 3), round(CENTER_LNG, 3)),
        (round(CENTER_LAT, 3), round(CENTER_LNG, 3)),
    }


def test_near_a_place_crosses_neighborhood_lines_and_leaves_out_what_is_far(city):
    west, east, public, _ = city
    near_west = issue(west, public, lat=CENTER_LAT, lng=CENTER_LNG + 0.008)
    near_east = issue(east, public, lat=CENTER_LAT, lng=CENTER_LNG + 0.011)
    far = issue(east, public, lat=CENTER_LAT, lng=CENTER_LNG + 0.029)
    page = Client().get("/es/around/", {"lat": CENTER_LAT, "lng": CENTER_LNG + 0.0095})
    assert page.status_code == 200
    html = page.content.decode()
    assert set(codes(page)) == {near_west.tracking_code, near_east.tracking_code}
    assert far.tracking_code not in html
    assert "<h1>Informes cerca de usted</h1>" in html
    assert re.search(r"a unos \d+ m", html)  # the distance, from the coarsened point, in Spanish


def test_bad_input_gets_a_message_and_no_list(city):
    for params in ({"neighborhood": "nowhere"}, {"lat": "north", "lng": "-94.5"}, {"lat": "91", "lng": "0"}):
        page = Client().get("/around/", params)
        assert page.status_code == 400
        assert 'role="alert"' in page.content.decode()


def test_the_page_costs_the_same_queries_for_two_reports_or_forty(city):
    west, _, public, _ = city
    counts = []
    for n in (2, 40):
        for _ in range(n):
            issue(west, public, lat=CENTER_LAT, lng=CENTER_LNG)
        with CaptureQueriesContext(connection) as queries:
            assert Client().get("/around/", {"neighborhood": "westside"}).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_without_a_choice_the_page_offers_the_neighborhoods(city):
    page = Client().get("/around/")
    assert page.status_code == 200 and 'value="westside"' in page.content.decode() and not codes(page)
