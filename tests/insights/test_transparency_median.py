"""The transparency page's median per neighborhood, read from the summary tables in two steps
(the bands say where the middle lies, then only that band's hours are read): the median of every
finished issue's whole hours to resolve, exactly, wherever the middle falls — inside a band, on
the edge between two, among the week-wide bands past four weeks."""

import json
import statistics
from datetime import UTC, date, datetime, timedelta

import pytest

from cases.models import Issue
from insights.figures.issues import transparency_issue_figures
from insights.rollups import band_hours, band_of, rollups_apply_all
from tests.factories import CategoryFactory, IssueFactory, NeighborhoodFactory

pytestmark = pytest.mark.django_db

FIRST, LAST = date(2024, 1, 1), date(2024, 6, 30)


def _finished(neighborhood, category, created, seconds, outcome=Issue.Outcome.RESOLVED):
    extra = {"crime_report_number": "CR-1"} if outcome == Issue.Outcome.CRIME_REPORT else {}
    return IssueFactory(
        neighborhood=neighborhood,
        category=category,
        created_at=created,
        status=Issue.Status.RESOLVED,
        outcome=outcome,
        resolved_at=created + timedelta(seconds=seconds),
        **extra,
    )


def test_bands_cover_every_hour_once():
    previous_last = -1
    for band in range(60):
        first, last = band_hours(band)
        assert first == previous_last + 1
        assert band_of(first) == band_of(last) == band
        previous_last = last


@pytest.mark.parametrize(
    "hours",
    [
        [5],
        [5, 30],  # two bands: the middle is the mean of one hour in each
        [1, 2, 3, 4, 7, 10, 11],
        [23, 24, 24, 47, 48],  # on the edges of day bands
        [100, 700, 701, 900, 2000, 5000],  # week-wide bands past four weeks
        [0, 0, 0, 9000],
        [26, 26, 27, 29, 50, 51, 52, 670, 672, 840],
    ],
)
def test_median_is_the_middle_of_the_whole_hours(hours):
    category = CategoryFactory(is_public=True)
    place = NeighborhoodFactory()
    created = datetime(2024, 2, 1, 9, 0, 0, 123457, tzinfo=UTC)
    for i, whole in enumerate(hours):
        # Odd minutes and microseconds: only whole hours count (rounded down).
        _finished(place, category, created + timedelta(hours=i), whole * 3600 + (i * 797) % 3599 + 0.000003)
    rollups_apply_all()
    figures = transparency_issue_figures(FIRST, date(2025, 6, 30))  # 9 000 hours is more than a year
    assert figures[place.pk]["finished"] == len(hours)
    assert figures[place.pk]["median_days"] == statistics.median(hours) / 24


def test_each_neighborhood_gets_its_own_median():
    category = CategoryFactory(is_public=True)
    quick, slow = NeighborhoodFactory(), NeighborhoodFactory()
    created = datetime(2024, 3, 1, tzinfo=UTC)
    for whole in (2, 3, 4):
        _finished(quick, category, created, whole * 3600)
    for whole in (800, 1000, 1300, 1301):
        _finished(slow, category, created, whole * 3600)
    rollups_apply_all()
    figures = transparency_issue_figures(FIRST, LAST)
    assert figures[quick.pk]["median_days"] == 3 / 24
    assert figures[slow.pk]["median_days"] == 1150 / 24


def test_neighborhoods_whose_middle_lies_in_one_band_keep_their_own_medians():
    category = CategoryFactory(is_public=True)
    first, second, other = NeighborhoodFactory(), NeighborhoodFactory(), NeighborhoodFactory()
    created = datetime(2024, 3, 1, tzinfo=UTC)
    for place, hours in ((first, (49, 50, 51)), (second, (55, 60, 70, 71)), (other, (5, 900, 901))):
        for whole in hours:
            _finished(place, category, created, whole * 3600)
    # Hours of the same band outside a neighborhood's own count only for it.
    _finished(first, category, created + timedelta(days=40), 1 * 3600)
    _finished(first, category, created + timedelta(days=40), 1000 * 3600)
    rollups_apply_all()
    figures = transparency_issue_figures(FIRST, LAST)
    assert band_of(50) == band_of(60) == band_of(70)
    assert figures[first.pk]["median_days"] == 50 / 24
    assert figures[second.pk]["median_days"] == 65 / 24
    assert figures[other.pk]["median_days"] == 900 / 24


def test_counts_and_median_leave_out_what_the_page_must_not_show():
    public, sensitive = CategoryFactory(is_public=True), CategoryFactory(is_public=False)
    place, empty = NeighborhoodFactory(), NeighborhoodFactory()
    created = datetime(2024, 3, 1, tzinfo=UTC)
    original = _finished(place, public, created, 86400)
    _finished(place, public, created, 3 * 86400, outcome=Issue.Outcome.CRIME_REPORT)
    _finished(place, sensitive, created, 50 * 86400)  # sensitive category: not counted
    IssueFactory(neighborhood=place, category=public, created_at=created)  # open: reported only
    IssueFactory(
        neighborhood=place,
        category=public,
        created_at=created,
        status=Issue.Status.DUPLICATE,
        duplicate_of=original,
        outcome=Issue.Outcome.DUPLICATE,
        resolved_at=created + timedelta(days=9),
    )  # a duplicate is neither reported nor finished
    _finished(place, public, datetime(2023, 12, 1, tzinfo=UTC), 40 * 86400)  # finished in period
    rollups_apply_all()
    figures = transparency_issue_figures(FIRST, LAST)
    assert figures[place.pk] == {"reported": 3, "finished": 3, "median_days": 3.0}
    assert empty.pk not in figures


def test_the_reads_of_neighborhood_rows_name_every_column_of_the_key():
    """A neighborhood's own rows in the place tables have a blank district (``CityRows``). Saying
    so lets the key's later columns (public, hours) bound each index range: left out, the database
    read every hour of every neighborhood in each period (43 against 18 ms for a year at
    1 000 000 issues). Every index scan of the band and hour reads is bounded by the district."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.perf.plans import nodes

    category = CategoryFactory(is_public=True)
    place = NeighborhoodFactory()
    # Months, weeks and days: the period of the reads has arms of every grain.
    for i, whole in enumerate((3, 40, 41, 700)):
        _finished(place, category, datetime(2024, 1 + i, 3, tzinfo=UTC), whole * 3600)
    first, last = date(2023, 12, 20), date(2024, 6, 5)
    rollups_apply_all()
    with CaptureQueriesContext(connection) as captured:
        figures = transparency_issue_figures(first, last)
    assert figures[place.pk]["median_days"] == 40.5 / 24
    keys = {
        "insights_placebandrollup": "place_band_rollup_key",
        "insights_placeresolutionrollup": "place_resolution_rollup_key",
    }
    reads = [q["sql"] for q in captured.captured_queries if any(f'FROM "{table}"' in q["sql"] for table in keys)]
    assert len(reads) == 2
    scans = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the test's few rows would be read whole
        for sql in reads:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            scans += [node for node in nodes(plan[0]["Plan"]) if node.get("Index Name") in keys.values()]
    assert len(scans) >= 2, scans
    assert all("district" in scan["Index Cond"] and "public" in scan["Index Cond"] for scan in scans), scans
