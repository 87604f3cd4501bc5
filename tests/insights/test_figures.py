"""Dashboard figures against values hand-computed from the known data set (see conftest)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from cases.figure_changes import local_day
from cases.models import Problem
from insights.figures.issues import (
    DashboardScope,
    active_problems,
    feedback_figures,
    issue_figures,
    open_issue_markers,
    transparency_issue_figures,
)
from insights.figures.outreach import outreach_figures
from tests.insights.conftest import NOW, at

pytestmark = pytest.mark.django_db


def scope(period, **kw):
    return DashboardScope(start=period["start"], end=period["end"], now=NOW, **kw)


def test_issue_figures_match_hand_computed_values(known, period):
    f = issue_figures(scope(period))
    assert f.reported == 8  # the duplicate is not a new issue
    assert (f.open, f.overdue, f.escalated, f.waiting) == (4, 2, 2, 2)
    assert (f.finished, f.within_sla, f.crime) == (5, 2, 1)
    assert f.sla_share == pytest.approx(0.4)
    assert f.crime_share == pytest.approx(0.2)
    assert f.median_days == pytest.approx(3.0)


def test_issue_figures_by_neighborhood_category_officer_and_week(known, period):
    f = issue_figures(scope(period))
    a, b, c = f.by_neighborhood[known.a.pk], f.by_neighborhood[known.b.pk], f.by_neighborhood[known.c.pk]
    assert (a["reported"], a["open"], a["overdue"], a["escalated"], a["finished"], a["crime"]) == (4, 2, 1, 1, 2, 0)
    assert (b["reported"], b["open"], b["overdue"], b["finished"], b["crime"]) == (3, 1, 0, 2, 1)
    assert (c["reported"], c["open"], c["overdue"], c["waiting"], c["finished"]) == (1, 1, 1, 1, 1)
    assert f.by_category[known.graffiti.pk]["open"] == 2
    assert f.by_category[known.drugs.pk]["open"] == 2
    assert f.by_officer[known.officer.pk]["open"] == 1
    assert f.by_officer[known.officer.pk]["finished"] == 1
    assert list(f.by_officer) == [known.officer.pk]  # unassigned issues are nobody's workload
    # Weeks start on Monday (local time); the duplicate of 06-03 is not a new issue.
    assert f.new_by_week[date(2024, 6, 3)] == 1  # f4
    assert f.new_by_week[date(2024, 5, 27)] == 3  # f1, f2, o9 on 06-01
    assert f.finished_by_week[date(2024, 6, 10)]["finished"] == 1  # f3 on Monday 06-10
    assert f.finished_by_week[date(2024, 6, 3)]["finished"] == 2  # f2 (06-04), f4 (06-07)
    assert f.finished_by_week[date(2024, 6, 3)]["within_sla"] == 1
    assert sum(w["finished"] for w in f.finished_by_week.values()) == 5


def test_median_of_an_even_count_averages_the_middle_two(known, period):
    f = issue_figures(scope(period, neighborhood_id=known.a.pk))
    assert f.finished == 2
    assert f.median_days == pytest.approx(2.0)  # 1 and 3 days


def test_filters_change_the_figures(known, period):
    east = issue_figures(scope(period, district="East"))
    assert (east.reported, east.open, east.overdue, east.finished, east.within_sla) == (1, 1, 1, 1, 0)
    assert east.median_days == pytest.approx(34.0)
    drugs = issue_figures(scope(period, category_id=known.drugs.pk))
    assert (drugs.open, drugs.overdue, drugs.finished, drugs.within_sla, drugs.crime) == (2, 1, 1, 1, 0)
    assert drugs.sla_share == 1
    narrow = issue_figures(scope({"start": at(6, 10), "end": at(6, 16)}))
    assert (narrow.reported, narrow.open, narrow.finished) == (3, 3, 1)  # o7 o8 o11; f3 finished 06-10


def test_empty_scope_has_no_shares(known, period):
    f = issue_figures(scope({"start": at(1, 1), "end": at(1, 8)}))
    assert (f.reported, f.finished) == (0, 0)
    assert f.sla_share is None and f.crime_share is None and f.median_days is None


def test_feedback_satisfaction_and_reopen_rate(known, period):
    fb = feedback_figures(scope(period))
    assert fb["responses"] == 3
    assert fb["satisfaction"] == pytest.approx(11 / 3)
    assert fb["reopen_rate"] == pytest.approx(1 / 3)
    only_a = feedback_figures(scope(period, neighborhood_id=known.a.pk))
    assert only_a["responses"] == 3
    assert feedback_figures(scope(period, district="East"))["responses"] == 0


def test_outreach_activities_hours_and_partners(known, period):
    o = outreach_figures(scope(period))
    assert (o.activities, o.hours, o.partners_engaged) == (3, Decimal("7.75"), 3)
    assert o.by_neighborhood[known.a.pk] == {
        "activities": 2,
        "hours": Decimal("6.50"),
        "attendance": 40,
        "partners": 2,
    }
    assert o.by_neighborhood[known.c.pk]["hours"] == Decimal("1.25")
    assert known.b.pk not in o.by_neighborhood
    assert o.by_kind["community_meeting"] == {"activities": 2, "hours": Decimal("3.75")}
    assert o.by_kind["clean_up"]["hours"] == Decimal("4.00")
    drugs = outreach_figures(scope(period, category_id=known.drugs.pk))
    assert (drugs.activities, drugs.hours, drugs.partners_engaged) == (1, Decimal("1.25"), 1)


def test_markers_are_the_oldest_open_cohort_issues(known, period):
    markers = open_issue_markers(scope(period))
    assert [m["id"] for m in markers] == [known.o9.pk, known.o7.pk, known.o11.pk, known.o8.pk]
    assert markers[1]["overdue"] is True and markers[0]["overdue"] is False  # on hold is not overdue
    assert [m["id"] for m in open_issue_markers(scope(period), limit=2)] == [known.o9.pk, known.o7.pk]


def test_transparency_figures_leave_out_sensitive_categories(known, period):
    t = transparency_issue_figures(local_day(period["start"]), local_day(period["end"] - timedelta(microseconds=1)))
    assert t[known.a.pk] == {"reported": 4, "finished": 2, "median_days": pytest.approx(2.0)}
    # Bravo: only f3 (graffiti) counts; f4, o9 are drug activity (not public).
    assert t[known.b.pk] == {"reported": 1, "finished": 1, "median_days": pytest.approx(21.0)}
    assert t[known.c.pk] == {"reported": 0, "finished": 1, "median_days": pytest.approx(34.0)}


def test_portable_median_survives_the_drivers_placeholder_formatting():
    """The SQLite median (``make run``) uses a modulo; the statement carries parameters, so the
    drivers (and Django's debug query log) format it with ``%``: it must be escaped."""
    from core.dialect import Dialect

    sql = Dialect(vendor="sqlite").median("days", "f")
    formatted = sql % ()
    assert "% 2" in formatted and "LIMIT 2 -" in formatted
    assert "percentile_cont" in Dialect(vendor="postgresql").median("days", "f")


def test_active_problems_count_and_centre_their_issues(known, period):
    from tests import factories

    problem = factories.ProblemFactory(neighborhood=known.a, category=known.graffiti, stage=Problem.Stage.ANALYSIS)
    empty = factories.ProblemFactory(neighborhood=known.b, stage=Problem.Stage.SCANNING)
    factories.ProblemFactory(neighborhood=known.a, stage=Problem.Stage.CLOSED, closed_at=NOW)
    grouped = [known.f3, known.o7, known.o8, known.o9]
    located = [(39.10, -94.50), (39.20, -94.60), (39.30, -94.70), (None, None)]
    for issue, (lat, lng) in zip(grouped, located, strict=True):
        issue.problem, issue.lat, issue.lng = problem, lat, lng
        issue.save(update_fields=["problem", "lat", "lng"])
    shown = active_problems(scope(period))
    assert [p.pk for p in shown] == [empty.pk, problem.pk]  # SARA order; the closed one is left out
    assert (shown[1].issue_count, shown[1].open_issue_count) == (4, 3)  # f3 finished; o7, o8, o9 open
    # The centre of the three located issues; the unlocated one does not pull it anywhere.
    assert (shown[1].center_lat, shown[1].center_lng) == (pytest.approx(39.2), pytest.approx(-94.6))
    assert (shown[0].issue_count, shown[0].open_issue_count, shown[0].center_lat) == (0, 0, None)
    assert [p.pk for p in active_problems(scope(period), limit=1)] == [empty.pk]


def test_active_problems_shown_are_the_newest_of_each_stage_in_sara_order(known, period):
    from tests import factories

    def problem(stage, days_ago):
        closed = {"closed_at": NOW} if stage == Problem.Stage.CLOSED else {}
        made = factories.ProblemFactory(neighborhood=known.a, stage=stage, **closed)
        Problem.objects.filter(pk=made.pk).update(created_at=NOW - timedelta(days=days_ago))
        return made.pk

    S = Problem.Stage
    scanning = [problem(S.SCANNING, days) for days in (5, 1, 3)]
    analysis = [problem(S.ANALYSIS, days) for days in (2, 9, 4)]
    assessment = problem(S.ASSESSMENT, 0)
    problem(S.CLOSED, 0)
    shown = [p.pk for p in active_problems(scope(period), limit=5)]
    # Scanning first, newest first; then analysis; a stage's older ones give way to the limit.
    assert shown == [scanning[1], scanning[2], scanning[0], analysis[0], analysis[2]]
    everything = [p.pk for p in active_problems(scope(period), limit=100)]
    assert everything == [scanning[1], scanning[2], scanning[0], analysis[0], analysis[2], analysis[1], assessment]
