"""/transparency/: public, English and Spanish, aggregated — no personal data, sensitive categories or locations."""

import re
import time

import pytest
import time_machine
from django.core.cache import cache
from django.utils import translation

from cases.models import Report
from insights.rollups import rollups_apply_all
from tests import factories
from tests.insights.conftest import NOW, at, build_known

pytestmark = pytest.mark.django_db


@pytest.fixture
def known(db):
    """The dashboard's hand-computed data set (tests/insights/conftest.py), time frozen at its NOW."""
    with time_machine.travel(NOW, tick=False):
        yield build_known()


def row(html, neighborhood):
    match = re.search(rf'<tr data-neighborhood="{neighborhood.pk}">(.*?)</tr>', html, re.S)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", match.group(1), re.S)]


def test_public_page_shows_per_neighborhood_figures(client, known):
    response = client.get("/transparency/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "How your neighborhood is doing" in html
    # Period: the twelve months to 2024-06-15. Public categories only (graffiti; drug activity is sensitive).
    assert row(html, known.a) == ["Alpha", "4", "2", "2.0", "2", "0"]
    assert row(html, known.b) == ["Bravo", "1", "1", "21.0", "1", "0"]  # the April activity is in the 12 months
    # Charlie: f5 (04-01 → 05-05, 34 d), the older one (03-01 → 04-10, 40 d less the DST hour), o10 still open.
    assert row(html, known.c) == ["Charlie", "3", "2", "37.0", "1", "0"]
    assert re.search(r'data-total="reported"><div class="value">8<', html)


def test_spanish_page(client, known):
    response = client.get("/es/transparency/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="es">' in html
    with translation.override("es"):
        for english in (
            "How your neighborhood is doing",
            "Median days to resolve",
            "Partner organizations",
            "About these figures",
        ):
            spanish = translation.gettext(english)
            assert spanish != english, f"no Spanish for {english!r}"
            assert spanish in html and english not in html
    assert row(html, known.a)[1:4] == ["4", "2", "2.0"]  # US Spanish: a decimal point (core/formats/es)


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/transparency/", ["Shading: concerns reported in each neighborhood.", "none", "from fewer to more"]),
        (
            "/es/transparency/",
            ["Sombreado: preocupaciones reportadas en cada vecindario.", "ninguna", "de menos a más"],
        ),
    ],
)
def test_the_shaded_map_has_a_legend_it_names_and_a_table_of_its_figures(client, known, path, words):
    """WCAG 1.1.1 / 1.4.1: what the shading means is said in words, and every figure is in the table."""
    html = client.get(path).content.decode()
    assert re.search(r'<div id="transparency-map"[^>]* aria-describedby="map-legend"', html)
    legend = re.search(r'<p class="map-legend" id="map-legend">(.*?)</p>', html, re.S).group(1)
    text = " ".join(re.sub(r"<[^>]+>", " ", legend).split())
    for word in words:
        assert word in text
    assert legend.count('class="swatch square shade-') == 4
    assert html.count("<tr data-neighborhood=") == 3


def test_no_personal_data_no_sensitive_categories_no_locations(client, known):
    for issue in (known.o7, known.o11):
        Report.objects.create(
            issue=issue,
            text="My neighbor at 1234 Elm St is dealing",
            reporter_name="Rosa Delgado",
            reporter_email="rosa@example.org",
            reporter_phone="816-555-0199",
            created_at=at(6, 12),
        )
    known.o7.address = "1234 Elm St"
    known.o7.save(update_fields=["address"])
    partner = known.partners[0]
    partner.neighborhoods.add(known.a)
    cache.clear()
    for url in ("/transparency/", "/es/transparency/"):
        html = client.get(url).content.decode()
        for secret in ("Rosa", "rosa@example.org", "816-555-0199", "1234 Elm", "dealing"):
            assert secret not in html
        assert "Open-air drug activity" not in html and known.drugs.name_es not in html
        for issue in (known.o7, known.o8, known.o11, known.f3):
            assert issue.tracking_code not in html
            assert f"{issue.lat:.4f}" not in html and f"{issue.lng:.4f}" not in html
        assert "Graffiti" not in html  # not even public category names: counts per neighborhood only
        assert row(html, known.a)[-1] == "1"  # one partner serves Alpha


# The figures' statements; the last two read the summary tables for the language comparison.
UNCACHED_QUERIES = 10


def test_figures_are_cached_briefly_and_query_count_is_fixed(client, known, django_assert_max_num_queries):
    with django_assert_max_num_queries(UNCACHED_QUERIES) as first:
        client.get("/transparency/")
    with django_assert_max_num_queries(3):
        html = client.get("/transparency/").content.decode()  # figures from the cache
    factories.IssueFactory(neighborhood=known.a, category=known.graffiti, created_at=at(6, 14), due_at=at(6, 20))
    assert row(html, known.a)[1] == "4"
    cache.clear()
    for _ in range(20):
        factories.NeighborhoodFactory()
        factories.ActivityFactory(neighborhood=known.b, starts_at=at(6, 1))
    rollups_apply_all()  # the worker folds the new rows into the summary tables
    with django_assert_max_num_queries(UNCACHED_QUERIES) as again:
        html = client.get("/transparency/").content.decode()
    assert len(again.captured_queries) == len(first.captured_queries)
    assert row(html, known.a)[1] == "5" and row(html, known.b)[4] == "21"


@pytest.mark.django_db(transaction=True)
def test_concurrent_visitors_of_an_expired_page_compute_its_figures_once(monkeypatch):
    """No stampede: eight visitors at the moment the figures go stale, one recomputation."""
    import threading

    from django.db import connection
    from django.test import Client

    from insights import views as dashboard

    factories.IssueFactory()
    computed = []
    real = dashboard.transparency_compose

    def counting(start, end):
        computed.append(1)
        time.sleep(0.3)  # long enough for the other visitors to arrive while it runs
        return real(start, end)

    monkeypatch.setattr(dashboard, "transparency_compose", counting)
    cache.clear()
    barrier = threading.Barrier(8)
    statuses = []

    def visit():
        try:
            barrier.wait()
            statuses.append(Client().get("/transparency/").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=visit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert statuses == [200] * 8
    assert len(computed) == 1
