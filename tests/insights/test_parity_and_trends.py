"""Language parity and the year-over-year comparison, read from the summary tables: a hand-computed
city, the dashboard's tables, and the pieces (a period's rows, the histogram median)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db.models import Sum

from cases.models import Issue
from insights.figures.summaries import period_q, weighted_median
from insights.models import Grain, IssueRollup
from insights.rollups import rollups_apply_all
from tests import factories

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 15, 17, 0, tzinfo=UTC)
PERIOD = {"start": "2026-05-01", "end": "2026-06-15"}


def finished(place, category, *, language, created, hours, late=False, outcome="resolved"):
    """An issue finished ``hours`` after it was reported, by its due time unless ``late``."""
    resolved = created + timedelta(hours=hours)
    due = resolved + timedelta(hours=-1 if late else 1)
    status = {"resolved": "resolved", "crime_report": "closed", "referred": "referred"}[outcome]
    return factories.IssueFactory(
        neighborhood=place,
        category=category,
        language=language,
        created_at=created,
        due_at=max(due, created + timedelta(minutes=1)),
        resolved_at=resolved,
        status=status,
        outcome=outcome,
        crime_report_number="KC-26-0001" if outcome == "crime_report" else "",
    )


@pytest.fixture
def city():
    """North: Alder (10 English reports finished in 24 h, on time; 10 Spanish ones in 72 h, 5 late)
    and Birch (nothing). South: Cedar (2 and 2: too few to compare).
    A year earlier in Alder: 4 reported, 2 of them crime reports."""
    alder = factories.NeighborhoodFactory(name="Alder", district="North")
    birch = factories.NeighborhoodFactory(name="Birch", district="North")
    cedar = factories.NeighborhoodFactory(name="Cedar", district="South")
    graffiti = factories.CategoryFactory()
    with time_machine.travel(NOW, tick=False):
        start = datetime(2026, 5, 4, 15, 0, tzinfo=UTC)
        for i in range(10):
            finished(alder, graffiti, language="en", created=start + timedelta(days=i), hours=24)
            finished(alder, graffiti, language="es", created=start + timedelta(days=i), hours=72, late=i % 2 == 0)
        for i in range(2):
            finished(cedar, graffiti, language="en", created=start + timedelta(days=i), hours=10)
            finished(cedar, graffiti, language="es", created=start + timedelta(days=i), hours=500)
        last_year = datetime(2025, 5, 20, 15, 0, tzinfo=UTC)
        for i in range(4):
            finished(
                alder,
                graffiti,
                language="en",
                created=last_year + timedelta(days=i),
                hours=5,
                outcome="crime_report" if i < 2 else "resolved",
            )
    rollups_apply_all()  # as the worker does every few seconds
    return {"alder": alder, "birch": birch, "cedar": cedar}


def rows_of(html: str, attribute: str) -> dict[str, list[str]]:
    rows = {}
    for name, body in re.findall(rf'<tr {attribute}="([^"]*)"[^>]*>(.*?)</tr>', html, re.S):
        rows[name] = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)]
    return rows


def test_the_language_page_compares_languages_and_flags_where_spanish_fares_worse(client, city):
    client.force_login(factories.supervisor())
    with time_machine.travel(NOW, tick=False):
        html = client.get("/dashboard/languages/", PERIOD).content.decode()
        assert 'href="/dashboard/languages/?' in client.get("/dashboard/", PERIOD).content.decode()
    districts = rows_of(html, "data-district")
    # finished, median days, within SLA — English, then Spanish
    assert districts["North"] == ["10", "1.0", "100%", "10", "3.0", "50%"]
    assert districts["South"] == ["2", "0.4", "100%", "2", "20.8", "100%"]
    places = rows_of(html, "data-parity-neighborhood")
    assert set(places) == {"Alder", "Cedar"}
    flagged = re.findall(r'<tr data-(?:parity-neighborhood|district)="([^"]*)" class="attention"', html)
    assert flagged == ["North", "Alder"]  # Cedar waits longer, but 2 answers are too few to say
    assert "By neighborhood (1 flagged)" in html


def test_the_dashboard_sets_the_period_beside_the_same_dates_a_year_earlier(client, city):
    client.force_login(factories.supervisor())
    with time_machine.travel(NOW, tick=False):
        html = client.get("/dashboard/", PERIOD).content.decode()
    trends = rows_of(html, "data-trend-district")
    # reported: now, before, change; finished: now, before; SLA: now, before; crime: now, before, change
    assert trends["North"] == ["20", "4", "+400%", "20", "4", "75%", "100%", "0", "2", "-100%"]
    assert trends["South"] == ["4", "0", "—", "4", "0", "100%", "—", "0", "0", "—"]


def test_the_filters_narrow_parity_and_trends(client, city):
    client.force_login(factories.supervisor())
    with time_machine.travel(NOW, tick=False):
        html = client.get("/dashboard/", {**PERIOD, "district": "South"}).content.decode()
        languages = client.get("/dashboard/languages/", {**PERIOD, "district": "South"}).content.decode()
    assert set(rows_of(languages, "data-district")) == {"South"}
    assert set(rows_of(html, "data-trend-district")) == {"South"}


def test_a_change_shows_once_the_worker_has_folded_it_in(client, city):
    client.force_login(factories.supervisor())
    issue = Issue.objects.filter(neighborhood=city["cedar"], language="es").first()
    with time_machine.travel(NOW, tick=False):
        issue.outcome, issue.status, issue.crime_report_number = "crime_report", "closed", "KC-26-0002"
        issue.save()
        before = client.get("/dashboard/", PERIOD).content.decode()
        rollups_apply_all()
        after = client.get("/dashboard/", PERIOD).content.decode()
    assert rows_of(before, "data-trend-district")["South"][-3:] == ["0", "0", "—"]
    assert rows_of(after, "data-trend-district")["South"][-3:] == ["1", "0", "—"]


@pytest.mark.parametrize(
    "first, last, months, rows_read",
    [
        (date(2026, 1, 20), date(2026, 4, 3), True, 12 + 2 + 3),  # 12 days of January (no whole week), Feb, Mar, 3 days
        (date(2026, 1, 3), date(2026, 1, 30), True, 2 + 3 + 5),  # no whole month: Sat–Sun, three weeks, Mon–Fri
        (date(2026, 1, 1), date(2026, 1, 31), True, 1),  # one whole month
        (date(2026, 2, 1), date(2026, 4, 30), True, 3),
        (date(2026, 1, 3), date(2026, 3, 31), False, 2 + 12 + 2),  # weeks only (the weekly series)
        (date(2026, 3, 2), date(2026, 6, 14), True, 4 + 2 + 2 + 2),  # 4 weeks + 2 days of March, Apr, May, 2 weeks
    ],
)
def test_a_period_reads_its_whole_months_weeks_and_the_days_left(first, last, months, rows_read):
    """Every day of 2026 counts 1 at day grain, each week and month its days: a period's rows must
    add up to its days, reading month rows, then week rows, where it can."""
    key = {"neighborhood": factories.NeighborhoodFactory(), "category": factories.CategoryFactory(), "language": "en"}
    day, rows = date(2026, 1, 1), []
    while day.year == 2026:
        rows.append(IssueRollup(grain=Grain.DAY, period=day, reported=1, **key))
        if day.weekday() == 0:
            rows.append(IssueRollup(grain=Grain.WEEK, period=day, reported=7, **key))
        if day.day == 1:
            days = ((day.replace(day=28) + timedelta(days=4)).replace(day=1) - day).days
            rows.append(IssueRollup(grain=Grain.MONTH, period=day, reported=days, **key))
        day += timedelta(days=1)
    IssueRollup.objects.bulk_create(rows)
    read = IssueRollup.objects.filter(period_q(first, last, months=months))
    assert read.aggregate(total=Sum("reported"))["total"] == (last - first).days + 1
    assert read.count() == rows_read


@pytest.mark.parametrize(
    "histogram, median",
    [({}, None), ({5: 1}, 5), ({1: 1, 9: 1}, 5), ({1: 2, 3: 1}, 1), ({1: 1, 2: 1, 10: 2}, 6), ({0: 3, 7: 3}, 3.5)],
)
def test_the_median_of_an_hour_histogram(histogram, median):
    assert weighted_median(histogram) == median


def test_the_stats_api_gives_parity_and_the_year_over_year_comparison(client, city):
    client.force_login(factories.supervisor())
    with time_machine.travel(NOW, tick=False):
        body = client.get("/api/v1/stats/", PERIOD).json()
        parity = client.get("/api/v1/stats/languages/", PERIOD).json()
        assert client.get("/api/v1/stats/languages/", {"start": "soon"}).status_code == 400
    north = next(row for row in parity["rows"] if row["district"] == "North" and row["neighborhood"] is None)
    assert north["spanish_fares_worse"] is True
    assert north["languages"] == [
        {"language": "en", "finished": 10, "within_sla": 10, "sla_share": 1.0, "median_days_to_resolve": 1.0},
        {"language": "es", "finished": 10, "within_sla": 5, "sla_share": 0.5, "median_days_to_resolve": 3.0},
    ]
    alder = next(row for row in parity["rows"] if row["neighborhood"] == city["alder"].pk)
    assert alder["district"] == "North" and alder["spanish_fares_worse"] is True
    assert parity["period"] == {"start": "2026-05-01", "end": "2026-06-15"}
    trends = {row["district"]: row for row in body["year_over_year"]}
    assert trends["North"]["period"] == {"reported": 20, "finished": 20, "within_sla": 15, "crime_reports": 0}
    assert trends["North"]["a_year_earlier"] == {"reported": 4, "finished": 4, "within_sla": 4, "crime_reports": 2}


def test_officers_may_not_read_the_language_page_or_its_api(client, city):
    client.force_login(factories.officer())
    assert client.get("/dashboard/languages/").status_code in (302, 403)
    assert client.get("/api/v1/stats/languages/").status_code == 403


def test_transparency_compares_the_languages_of_public_categories_only(client, city):
    secret = factories.CategoryFactory(is_public=False)
    with time_machine.travel(NOW, tick=False):
        for i in range(12):  # sensitive: left out, however slow
            finished(city["cedar"], secret, language="es", created=datetime(2026, 5, 5, tzinfo=UTC), hours=900 + i)
        rollups_apply_all()
        assert 'href="/transparency/languages/"' in client.get("/transparency/").content.decode()
        english = client.get("/transparency/languages/").content.decode()
        spanish = client.get("/es/transparency/languages/").content.decode()
    rows = rows_of(english, "data-parity-neighborhood")
    assert rows["Alder"] == ["10", "1.0", "100%", "10", "3.0", "50%"]
    assert rows["Cedar"] == ["2", "0.4", "100%", "2", "20.8", "100%"]
    assert re.findall(r'data-parity-neighborhood="([^"]*)" class="attention"', english) == ["Alder"]
    assert "Spanish reports waited longer" in english
    assert "Los informados en español esperaron más" in spanish
    # Spanish as written in the United States keeps the decimal point (core/formats/es).
    assert rows_of(spanish, "data-parity-neighborhood")["Alder"][:3] == ["10", "1.0", "100%"]
