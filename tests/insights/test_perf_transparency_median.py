"""The transparency statement's median (two middle durations picked with ``percentile_disc``, then
turned into days) is the same number, to the last bit, as ``percentile_cont`` over every issue's days."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from cases.models import Issue
from insights.figures.issues import transparency_issue_figures
from tests.factories import CategoryFactory, IssueFactory, NeighborhoodFactory

pytestmark = pytest.mark.django_db

START = datetime(2024, 1, 1, tzinfo=UTC)
END = datetime(2024, 7, 1, tzinfo=UTC)


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


def _percentile_cont(neighborhood_id):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY "
            "CAST(EXTRACT(EPOCH FROM (resolved_at - created_at)) AS double precision) / 86400.0) "
            "FROM cases_issue WHERE neighborhood_id = %s AND outcome IN ('resolved', 'referred', 'crime_report') "
            "AND resolved_at >= %s AND resolved_at < %s",
            [neighborhood_id, START, END],
        )
        return cursor.fetchone()[0]


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7, 10])
def test_median_is_bit_for_bit_percentile_cont(count):
    category = CategoryFactory(is_public=True)
    place = NeighborhoodFactory()
    created = datetime(2024, 2, 1, 9, 0, 0, 123457, tzinfo=UTC)
    # Durations with odd microseconds and whole-day parts, in no order, so the interpolation and
    # the interval-to-days conversion both matter.
    for i in range(count):
        seconds = (i * 7919) % 11 * 86400 + 3601.000003 * (i + 1) + (i % 3) * 0.000001
        _finished(place, category, created + timedelta(hours=i), seconds)
    figures = transparency_issue_figures(start=START, end=END)
    assert figures[place.pk]["finished"] == count
    expected = _percentile_cont(place.pk)
    assert figures[place.pk]["median_days"] == expected  # exact, not approx


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
    figures = transparency_issue_figures(start=START, end=END)
    assert figures[place.pk] == {"reported": 3, "finished": 3, "median_days": 3.0}
    assert empty.pk not in figures
