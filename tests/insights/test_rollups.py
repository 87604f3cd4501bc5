"""The summary tables (insights.rollups) against a recomputation from the raw rows, written here
in plain Python: random sequences of service calls (hypothesis), the change log applied, and
every day and month row compared; the nightly repair; the change log's exactly-once folding."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases import services
from cases.escalation import decisions, ladders
from cases.escalation.sweep import escalation_sweep_run
from cases.models import FINISHED_OUTCOMES, Category, ChangedDay, Event, Feedback, Issue
from insights.models import (
    Grain,
    IssueRollup,
    OfficerRollup,
    OpenMark,
    OpenOfficerRollup,
    OpenRollup,
    PlaceRollup,
    ResolutionRollup,
    RollupRepair,
)
from insights.rollups import (
    TABLES,
    rollups_advance_open,
    rollups_apply,
    rollups_apply_all,
    rollups_rebuild,
    rollups_repair,
)
from outreach.models import Activity
from outreach.services import activities_delete, activity_create, activity_update
from partners.models import Neighborhood
from tests.factories import CategoryFactory, IssueFactory, NeighborhoodFactory, PartnerFactory, officer

pytestmark = pytest.mark.django_db

START = datetime(2026, 1, 27, 15, 0, tzinfo=UTC)  # late January: sequences cross into February


# --- the oracle: every summary row, from the raw rows, in Python ---------------------------------


def local_day(moment):
    return timezone.localdate(moment, timezone.get_default_timezone())


def oracle() -> dict[str, dict[tuple, dict]]:
    """{table: {(grain, period, neighborhood, *key): {measure: value}}} with zero measures left out."""
    days: dict[str, dict[tuple, dict]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))

    def add(table, day, place, key, **values):
        row = days[table][(day, place, *key)]
        for name, value in values.items():
            row[name] += value

    public = dict(Category.objects.values_list("pk", "is_public"))
    districts = dict(Neighborhood.objects.values_list("pk", "district"))

    def wide(place):
        """Where a figure of a table with city and district rows counts: (neighborhood, district)."""
        yield place, ""
        yield None, ""
        if districts[place]:
            yield None, districts[place]

    def issue_figure(issue, table, day, key, **values):
        """A figure of an issue or an answer: in its own table, and in the place table (its
        neighborhood, summed over categories and languages, split by the category's public flag)."""
        add(table, day, issue.neighborhood_id, key, **values)
        add("place", day, issue.neighborhood_id, (public[issue.category_id],), **values)

    issues = {issue.pk: issue for issue in Issue.objects.all()}
    for issue in issues.values():
        key = (issue.category_id, issue.language)
        if issue.status != Issue.Status.DUPLICATE:
            issue_figure(issue, "issues", local_day(issue.created_at), key, reported=1)
        if issue.acknowledged_at:
            issue_figure(issue, "issues", local_day(issue.acknowledged_at), key, acknowledged=1)
        if issue.resolved_at and issue.outcome in FINISHED_OUTCOMES:
            day = local_day(issue.resolved_at)
            within = int(issue.resolved_at <= issue.due_at)
            issue_figure(
                issue,
                "issues",
                day,
                key,
                finished=1,
                within_sla=within,
                crime=int(issue.outcome == Issue.Outcome.CRIME_REPORT),
            )
            hours = int((issue.resolved_at - issue.created_at).total_seconds() // 3600)
            add("resolution", day, issue.neighborhood_id, (*key, hours), issues=1)
            is_public = public[issue.category_id]
            # Bands: a day wide for four weeks, then a week wide. Per neighborhood and for the city.
            band = hours // 24 if hours < 28 * 24 else 28 + (hours - 28 * 24) // 168
            for place, district in wide(issue.neighborhood_id):
                add("place_resolution", day, place, (district, is_public, hours), issues=1)
                add("place_band", day, place, (district, is_public, band), issues=1)
            if issue.assignee_id:
                for place, district in wide(issue.neighborhood_id):
                    add("officer", day, place, (district, issue.assignee_id), finished=1, within_sla=within)
    # Open now, by report day; overdue as of the open tables' mark (the reader adds what fell due since).
    mark = OpenMark.objects.filter(pk=1).values_list("as_of", flat=True).first()
    for issue in issues.values():
        if issue.status not in Issue.OPEN_STATUSES:
            continue
        assert mark is not None, "an open issue and no open tables built"
        day = local_day(issue.created_at)
        overdue = int(issue.status in Issue.ESCALATING_STATUSES and issue.due_at < mark)
        escalated = int(issue.escalation_level > 0)
        add("open", day, issue.neighborhood_id, (issue.category_id,), open=1, overdue=overdue, escalated=escalated)
        if issue.assignee_id:
            for place, district in wide(issue.neighborhood_id):
                add(
                    "open_officer",
                    day,
                    place,
                    (district, issue.assignee_id),
                    open=1,
                    overdue=overdue,
                    escalated=escalated,
                )
    for event in Event.objects.filter(kind=Event.Kind.REOPENED):
        issue = issues[event.issue_id]
        issue_figure(issue, "issues", local_day(event.created_at), (issue.category_id, issue.language), reopened=1)
    for answer in Feedback.objects.all():
        key = (answer.category_id, issues[answer.issue_id].language)
        issue_figure(
            answer,
            "feedback",
            local_day(answer.created_at),
            key,
            responses=1,
            not_fixed=int(not answer.fixed),
            satisfaction_sum=answer.satisfaction,
        )
    partner_sets: dict[tuple, set] = defaultdict(set)
    for activity in Activity.objects.prefetch_related("issues", "partners").select_related("problem"):
        categories = {issue.category_id for issue in activity.issues.all()}
        if activity.problem and activity.problem.category_id:
            categories.add(activity.problem.category_id)
        day = local_day(activity.starts_at)
        for category in (None, *categories):
            add(
                "outreach",
                day,
                activity.neighborhood_id,
                (activity.kind, category),
                activities=1,
                hours=activity.hours,
                attendance=activity.attendance,
            )
            for partner in activity.partners.all():
                add("engagement", day, activity.neighborhood_id, (partner.pk, category), activities=1)
                partner_sets[(day, activity.neighborhood_id, category)].add(partner.pk)
    rows: dict[str, dict[tuple, dict]] = {table: {} for table in TABLES}
    # Partner sets: a union, not a sum, over a week or month; stored as bits (bit i: partner i).
    by_period: dict[tuple, set] = defaultdict(set)
    for (day, place, category), partners in partner_sets.items():
        for grain, start in (
            (Grain.DAY, day),
            (Grain.WEEK, day - timedelta(days=day.weekday())),
            (Grain.MONTH, day.replace(day=1)),
        ):
            by_period[(grain, start, place, category)] |= partners
    for key, partners in by_period.items():
        number = sum(1 << pk for pk in partners)
        rows["partner_set"][key] = {"partners": number.to_bytes((number.bit_length() + 7) // 8, "little")}
    for table, by_day in days.items():
        if table == "partner_set":
            continue
        for (day, place, *key), values in by_day.items():
            kept = {name: value for name, value in values.items() if value}
            if not kept:
                continue
            rows[table][(Grain.DAY, day, place, *key)] = kept
            for grain, start in ((Grain.WEEK, day - timedelta(days=day.weekday())), (Grain.MONTH, day.replace(day=1))):
                total = rows[table].setdefault((grain, start, place, *key), {})
                for name, value in kept.items():
                    total[name] = total.get(name, 0) + value
    return rows


def stored() -> dict[str, dict[tuple, dict]]:
    rows = {}
    for table, (model, key, measures) in TABLES.items():
        rows[table] = {}
        for row in model.objects.values("grain", "period", "neighborhood_id", *key, *measures):
            values = {name: bytes(row[name]) if name == "partners" else row[name] for name in measures if row[name]}
            rows[table][(row["grain"], row["period"], row["neighborhood_id"], *(row[name] for name in key))] = values
    return rows


def assert_rollups_match_the_raw_rows():
    expected, actual = oracle(), stored()
    for table in TABLES:
        want = {
            k: {n: Decimal(v) if n == "hours" else v for n, v in vals.items()} for k, vals in expected[table].items()
        }
        have = {k: {n: Decimal(v) if n == "hours" else v for n, v in vals.items()} for k, vals in actual[table].items()}
        assert have == want, table


# --- random sequences of service calls ------------------------------------------------------


class City:
    def __init__(self):
        # Two districts, one of two neighborhoods, and a neighborhood in none.
        self.places = [NeighborhoodFactory(district=district) for district in ("Central", "Central", "East", "")]
        self.categories = [CategoryFactory(is_public=True), CategoryFactory(is_public=False)]
        for category in self.categories:  # the sweep escalates what is overdue: levels and decisions
            ladders.escalation_ladder_set(
                category=category, ladder=[(1, 0, "notify_supervisor"), (2, 12, "needs_decision")]
            )
        self.partners = [PartnerFactory(), PartnerFactory(), PartnerFactory()]
        self.actor = officer(neighborhoods=self.places)
        self.officers = [self.actor, officer(neighborhoods=self.places)]
        self.issues: list[Issue] = []
        self.activities: list[Activity] = []


def pick(items, index):
    return items[index % len(items)] if items else None


def step(city: City, op: str, a: int, b: int, c: int) -> None:
    issue = pick(city.issues, a)
    actor = city.actor
    if op == "submit":
        report = services.issue_submit(
            category=pick(city.categories, a),
            text="Trash piled behind the store",
            language=("en", "es")[b % 2],
            neighborhood=pick(city.places, c),
            now=timezone.now(),
        )
        city.issues.append(report.issue)
    elif issue is None:
        return
    elif op == "acknowledge":
        services.issue_acknowledge(issue=issue, actor=actor)
    elif op == "assign":
        services.issue_assign(issue=issue, officer=pick(city.officers + [None], b), actor=actor)
    elif op == "priority":
        services.issue_set_priority(issue=issue, priority=("low", "normal", "high", "urgent")[b % 4], actor=actor)
    elif op == "resolve":
        services.issue_resolve(issue=issue, actor=actor, note="Cleared")
    elif op == "refer":
        services.issue_refer(issue=issue, agency="Public Works", actor=actor)
    elif op == "crime":
        services.issue_record_crime_report(issue=issue, actor=actor, report_number=f"KC-{a}-{b}")
    elif op == "duplicate":
        other = pick(city.issues, b)
        services.issue_mark_duplicate(issue=issue, of=other, actor=actor)
    elif op == "reopen":
        services.issue_reopen(issue=issue, actor=actor, reason="It is back")
    elif op == "close":
        services.issue_close(issue=issue, actor=actor)
    elif op == "feedback":
        services.feedback_submit(issue=issue, fixed=bool(b % 2), satisfaction=1 + c % 5)
    elif op == "log":
        starts = timezone.now() - timedelta(hours=b % 30)
        city.activities.append(
            activity_create(
                actor=actor,
                kind=pick(list(Activity.Kind.values), a),
                title="Block walk",
                starts_at=starts,
                ends_at=starts + timedelta(hours=1 + c % 3),
                neighborhood=pick(city.places, c),
                attendance=b % 40,
                partners=city.partners[: b % 4],
                issues=city.issues[-(c % 3) :] if c % 3 else [],
            )
        )
    elif op == "edit" and city.activities:
        activity = pick(city.activities, a)
        activity_update(
            activity=activity,
            actor=actor,
            starts_at=activity.starts_at - timedelta(days=b % 3),
            ends_at=activity.ends_at - timedelta(days=b % 3),
            neighborhood=pick(city.places, c),
            hours=Decimal(b % 9) + Decimal("0.5"),
            partners=city.partners[c % 3 :],
            issues=city.issues[: a % 3],
        )
    elif op == "sweep":
        escalation_sweep_run(now=timezone.now())
    elif op == "decide":
        decisions.escalation_decide(issue=issue, actor=actor, decision=("acknowledge", "assign")[b % 2])
    elif op == "advance":  # the worker moves the open tables' overdue mark on
        rollups_advance_open()
    elif op == "redistrict":  # an administrator moves a neighborhood to another district
        place = pick(city.places, a)
        place.district = ("Central", "East", "North", "")[b % 4]
        place.save()
    elif op == "delete" and city.activities:
        activity = city.activities.pop(a % len(city.activities))
        activities_delete(activities=Activity.objects.filter(pk=activity.pk))


OPS = st.sampled_from(
    ["submit", "submit", "acknowledge", "assign", "priority", "resolve", "refer", "crime", "duplicate", "reopen"]
    + ["close", "sweep", "sweep", "decide", "advance", "redistrict"]
    + ["feedback", "feedback", "log", "edit", "delete"]
)
SEQUENCES = st.lists(
    st.tuples(OPS, st.integers(0, 50), st.integers(0, 50), st.integers(0, 50), st.integers(1, 100)),
    min_size=1,
    max_size=40,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=SEQUENCES)
def test_random_service_calls_leave_every_summary_row_equal_to_a_recomputation(sequence):
    city = City()
    moment = START
    for op, a, b, c, hours in sequence:
        moment += timedelta(hours=hours)
        # A call the service refuses (not allowed from this status) changes nothing.
        with time_machine.travel(moment, tick=False), contextlib.suppress(ValidationError):
            step(city, op, a, b, c)
        if hours % 3 == 0:  # the worker runs now and then, after one change or several
            with time_machine.travel(moment, tick=False):
                rollups_apply_all()
            assert_rollups_match_the_raw_rows()
    with time_machine.travel(moment, tick=False):
        rollups_apply_all()
    assert not ChangedDay.objects.exists()
    assert_rollups_match_the_raw_rows()


# --- exactly once, repair, rebuild ------------------------------------------------------------


def test_each_change_adds_its_days_once_and_applying_folds_them_in_and_empties_the_log():
    city = City()
    with time_machine.travel(START, tick=False):
        step(city, "submit", 0, 1, 0)
    assert list(ChangedDay.objects.values_list("day", "neighborhood_id")) == [(local_day(START), city.places[0].pk)]
    with time_machine.travel(START + timedelta(days=2), tick=False):
        step(city, "resolve", 0, 0, 0)
    assert ChangedDay.objects.count() == 3  # created day and resolved day, logged by the save
    assert rollups_apply() == 3
    assert not ChangedDay.objects.exists()
    assert_rollups_match_the_raw_rows()
    assert rollups_apply() == 0


@pytest.mark.parametrize(
    "change",
    [
        # Days apart: the reopening counts on its own day, which none of the issue's dates name.
        lambda city: (step(city, "resolve", 0, 0, 0), travel_days(4), step(city, "reopen", 0, 0, 0)),
        # Only the partners of an activity change (no column of its own).
        lambda city: (
            step(city, "log", 0, 5, 0),
            rollups_apply_all(),
            activity_update(activity=city.activities[0], actor=city.actor, partners=city.partners[2:]),
        ),
        # From the partner's side of the link.
        lambda city: (
            step(city, "log", 0, 5, 0),
            rollups_apply_all(),
            city.partners[2].activities.add(city.activities[0]),
        ),
        # Only the issues linked to an activity (its categories) change.
        lambda city: (
            step(city, "log", 0, 0, 0),
            rollups_apply_all(),
            activity_update(activity=city.activities[0], actor=city.actor, issues=city.issues[:1]),
        ),
        # Feedback saying it is not fixed: the answer and the reopening.
        lambda city: (step(city, "resolve", 0, 0, 0), travel_days(2), step(city, "feedback", 0, 0, 3)),
        # An administrator's edit through the ORM, outside the services.
        lambda city: (step(city, "resolve", 0, 0, 0), rollups_apply_all(), edit_resolved_at(city.issues[0], days=-1)),
        lambda city: Issue.objects.get(pk=city.issues[1].pk).delete(),
    ],
)
def test_each_kind_of_change_reaches_the_tables(change):
    city = City()
    with time_machine.travel(START, tick=False) as traveller:
        CLOCK["traveller"], CLOCK["now"] = traveller, START
        step(city, "submit", 0, 1, 0)
        step(city, "submit", 1, 0, 1)
        rollups_apply_all()
        travel_days(1)
        change(city)
        rollups_apply_all()
    assert_rollups_match_the_raw_rows()


CLOCK: dict = {}


def travel_days(days: int) -> None:
    CLOCK["now"] += timedelta(days=days)
    CLOCK["traveller"].move_to(CLOCK["now"])


def edit_resolved_at(issue: Issue, *, days: int) -> None:
    issue = Issue.objects.get(pk=issue.pk)
    issue.resolved_at += timedelta(days=days)
    issue.save()


def test_a_save_that_changes_nothing_the_figures_read_logs_nothing():
    city = City()
    with time_machine.travel(START, tick=False):
        step(city, "submit", 0, 0, 0)
    rollups_apply_all()
    issue = Issue.objects.get(pk=city.issues[0].pk)
    issue.public_address = "Near 12th and Main"
    issue.save()
    assert not ChangedDay.objects.exists()


def test_the_nightly_repair_puts_drifted_rows_right_and_reports_them(caplog):
    city = City()
    for hour in range(4):
        with time_machine.travel(START + timedelta(hours=hour * 20), tick=False):
            step(city, "submit", hour, hour, hour)
    with time_machine.travel(START + timedelta(days=3), tick=False):
        step(city, "resolve", 0, 0, 0)
        rollups_apply_all()
        clean = rollups_repair(days=30)
        assert clean.drift == dict.fromkeys(TABLES, 0) and clean.rows_checked > 0
        IssueRollup.objects.filter(grain=Grain.DAY).update(reported=99)  # drift, as a bug would leave
        IssueRollup.objects.filter(grain=Grain.MONTH).delete()
        with caplog.at_level(logging.WARNING, logger="commonground.rollups"):
            record = rollups_repair(days=30)
    assert record.drift["issues"] > 0 and sum(record.drift.values()) == record.drift["issues"]
    assert "summary rows differed from the raw rows" in caplog.text
    assert RollupRepair.objects.count() == 2
    assert_rollups_match_the_raw_rows()


def test_a_rebuild_counts_everything_from_the_rows_and_clears_the_log(caplog):
    city = City()
    with time_machine.travel(START, tick=False):
        for i in range(3):
            step(city, "submit", i, i, i)
        step(city, "log", 0, 5, 1)
    IssueRollup.objects.all().delete()
    with caplog.at_level(logging.INFO, logger="commonground.rollups"):
        record = rollups_rebuild()
    # Tables filled past the change log (the demo data, the bench) are written, not drift: no warning.
    assert "differed" not in caplog.text and f"rebuilt {sum(record.drift.values())} summary rows" in caplog.text
    assert record.drift["issues"] > 0
    assert not ChangedDay.objects.exists()
    assert_rollups_match_the_raw_rows()


@pytest.mark.django_db(transaction=True)
def test_two_workers_applying_at_once_leave_the_tables_right():
    city = City()
    for hour in range(12):
        with time_machine.travel(START + timedelta(hours=hour * 5), tick=False):
            step(city, "submit", hour, hour, hour)
            if hour % 3 == 0:
                step(city, "resolve", hour, 0, 0)
    barrier, errors = threading.Barrier(2), []

    def apply():
        try:
            barrier.wait()
            while rollups_apply(batch=3):
                pass
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=apply) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert not ChangedDay.objects.exists()
    assert_rollups_match_the_raw_rows()


def test_a_new_issue_logs_its_day_inside_the_one_statement_that_writes_it():
    place, category = NeighborhoodFactory(), CategoryFactory()
    with CaptureQueriesContext(connection) as queries:
        report = services.issue_submit(category=category, text="Broken streetlight", neighborhood=place)
    writes = [q["sql"] for q in queries if "cases_changedday" in q["sql"]]
    assert len(writes) == 1 and writes[0].startswith("WITH ") and '"cases_issue"' in writes[0]
    assert list(ChangedDay.objects.values_list("day", "neighborhood_id")) == [
        (local_day(report.issue.created_at), place.pk)
    ]


# Report to finish: exactly 2 h, a microsecond less, and 47:59:59 — whole hours 2, 1 and 47.
TOOK_SECONDS = (7200, 7200 - 0.000001, 47 * 3600 + 59 * 60 + 59)


def finished_after(seconds, **place):
    created = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    return IssueFactory(
        created_at=created,
        due_at=created + timedelta(days=9),
        resolved_at=created + timedelta(seconds=seconds),
        status="resolved",
        outcome="resolved",
        **place,
    )


HOURS_SCENARIO = """
import json, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from insights.models import ResolutionRollup
from insights.rollups import rollups_rebuild
from tests.factories import CategoryFactory, NeighborhoodFactory
from tests.insights.test_rollups import TOOK_SECONDS, finished_after
place = {"neighborhood": NeighborhoodFactory(), "category": CategoryFactory()}
for seconds in TOOK_SECONDS:
    finished_after(seconds, **place)
rollups_rebuild()
rows = ResolutionRollup.objects.filter(grain="d").order_by("hours").values_list("hours", "issues")
print(json.dumps({"hours": [list(row) for row in rows]}))
"""


def test_whole_hours_are_counted_alike_on_sqlite(tmp_path):
    """The embedded mode's histogram counts whole hours as PostgreSQL does (core.dialect.WholeHours)."""
    from tests.sqlite import checked_run_on_sqlite

    assert checked_run_on_sqlite(HOURS_SCENARIO, tmp_path) == {"hours": [[1, 1], [2, 1], [47, 1]]}


def test_whole_hours_are_counted_alike_on_postgresql():
    place = {"neighborhood": NeighborhoodFactory(), "category": CategoryFactory()}
    for seconds in TOOK_SECONDS:
        finished_after(seconds, **place)
    rollups_rebuild()
    rows = list(ResolutionRollup.objects.filter(grain="d").order_by("hours").values_list("hours", "issues"))
    assert rows == [(1, 1), (2, 1), (47, 1)]


def test_a_category_made_private_moves_its_figures_to_the_private_rows():
    """The place tables split by the category's public flag: flipping it re-logs every day the
    category's issues and answers count on, and the worker moves them."""
    city = City()
    category = city.categories[0]
    with time_machine.travel(START, tick=False):
        issue = services.issue_submit(
            category=category, text="Graffiti on the wall", language="en", neighborhood=city.places[0], now=START
        ).issue
    with time_machine.travel(START + timedelta(days=3), tick=False):
        services.issue_resolve(issue=issue, actor=city.actor, note="Painted over")
        services.feedback_submit(issue=issue, fixed=True, satisfaction=5)
    rollups_apply_all()
    assert_rollups_match_the_raw_rows()
    category.is_public = False
    category.save()
    assert ChangedDay.objects.exists()
    rollups_apply_all()
    assert_rollups_match_the_raw_rows()
    assert not PlaceRollup.objects.filter(public=True).exists()


def officer_figures(district, now):
    from insights.figures.issues import DashboardScope, issue_figures

    scope = DashboardScope(start=START - timedelta(days=1), end=START + timedelta(days=9), now=now, district=district)
    return {
        officer: (counts["finished"], counts["open"])
        for officer, counts in issue_figures(scope).by_officer.items()
        if counts["finished"] or counts["open"]
    }


def test_a_neighborhood_moved_to_another_district_moves_its_figures_between_the_districts():
    """The officer tables and the histograms have a row per district: moving a neighborhood re-logs
    every day its issues count on, and the worker sums both districts again."""
    city = City()
    central = city.places[0]
    with time_machine.travel(START, tick=False):
        for a in (0, 1):  # two issues in Central's first neighborhood, one assigned and finished
            services.issue_submit(
                category=city.categories[a], text="Broken light", language="en", neighborhood=central, now=START
            )
        first, second = Issue.objects.order_by("pk")
        services.issue_assign(issue=first, officer=city.actor, actor=city.actor)
        services.issue_assign(issue=second, officer=city.actor, actor=city.actor)
    with time_machine.travel(START + timedelta(days=2), tick=False):
        services.issue_resolve(issue=first, actor=city.actor, note="Replaced")
        rollups_apply_all()
    now = START + timedelta(days=2)
    assert officer_figures("Central", now) == {city.actor.pk: (1, 1)}
    assert officer_figures("East", now) == {}
    assert OfficerRollup.objects.filter(neighborhood__isnull=True, district="Central").exists()
    assert_rollups_match_the_raw_rows()
    central.district = "East"
    central.save()
    assert ChangedDay.objects.exists()
    rollups_apply_all()
    assert_rollups_match_the_raw_rows()
    assert officer_figures("Central", now) == {}
    assert officer_figures("East", now) == {city.actor.pk: (1, 1)}
    assert officer_figures("", now) == {city.actor.pk: (1, 1)}  # the city's rows did not move


def test_the_migration_sums_the_districts_rows_from_the_neighborhoods_rows():
    """A deployment upgraded to district rows gets them from its neighborhoods' rows of every grain."""
    import importlib

    from django.apps import apps

    city = City()
    for op, a, c in (("submit", 0, 0), ("submit", 1, 2), ("assign", 0, 0), ("assign", 1, 0), ("resolve", 0, 0)):
        with time_machine.travel(START + timedelta(hours=5 * a + c), tick=False):
            step(city, op, a, 0, c)
    rollups_apply_all()
    for table in ("officer", "open_officer", "place_resolution", "place_band"):
        TABLES[table][0].objects.filter(neighborhood__isnull=True).exclude(district="").delete()
    with pytest.raises(AssertionError):
        assert_rollups_match_the_raw_rows()
    migration = importlib.import_module("insights.migrations.0006_district_rows")
    with connection.schema_editor() as editor:
        migration.district_rows(apps, editor)
    assert_rollups_match_the_raw_rows()


def test_the_change_log_switch_stops_and_restarts_the_log(settings):
    """``ROLLUP_CHANGE_LOG`` off (only to measure what the log costs the write paths): a new issue
    and an edit log nothing; on again, the next change logs its days."""
    city = City()
    settings.ROLLUP_CHANGE_LOG = False
    with time_machine.travel(START, tick=False):
        issue = services.issue_submit(
            category=city.categories[0], text="Broken bench", language="en", neighborhood=city.places[0], now=START
        ).issue
        services.issue_acknowledge(issue=issue, actor=city.actor)
    assert not ChangedDay.objects.exists()
    settings.ROLLUP_CHANGE_LOG = True
    with time_machine.travel(START + timedelta(days=2), tick=False):
        services.issue_resolve(issue=issue, actor=city.actor, note="Fixed")
    assert set(ChangedDay.objects.values_list("day", flat=True)) == {
        local_day(START),
        local_day(START + timedelta(days=2)),
    }


# --- the open tables: overdue as time passes, the sweep and decisions --------------------------


def open_figures(now, **scope):
    from insights.figures.issues import DashboardScope, issue_figures

    figures = issue_figures(
        DashboardScope(start=START - timedelta(days=1), end=START + timedelta(days=9), now=now, **scope)
    )
    return figures.open, figures.overdue, figures.escalated, figures.waiting


def stored_open(**where):
    return list(OpenRollup.objects.filter(grain=Grain.DAY, **where).values_list("open", "overdue", "escalated"))


def test_overdue_counts_what_fell_due_since_the_mark_and_the_worker_moves_the_mark_on():
    city = City()
    with time_machine.travel(START, tick=False):
        step(city, "submit", 0, 0, 0)  # public category: due in 72 hours
        rollups_apply_all()
    issue = city.issues[0]
    due = Issue.objects.get(pk=issue.pk).due_at
    assert OpenMark.objects.get().as_of == START
    assert stored_open() == [(1, 0, 0)]
    # The worker has not run since: the reader adds the issue that fell due after the mark.
    assert open_figures(due + timedelta(minutes=5)) == (1, 1, 0, 0)
    assert open_figures(due - timedelta(minutes=5)) == (1, 0, 0, 0)
    # The worker moves the mark past the due time: the stored row counts it, the figures agree.
    assert rollups_advance_open(now=due + timedelta(hours=1)) == 1
    assert OpenMark.objects.get().as_of == due + timedelta(hours=1)
    assert stored_open() == [(1, 1, 0)]
    assert_rollups_match_the_raw_rows()
    assert open_figures(due + timedelta(hours=2)) == (1, 1, 0, 0)
    # A reader whose clock is behind the mark does not count an issue not yet due by its clock.
    assert open_figures(due - timedelta(minutes=5)) == (1, 0, 0, 0)
    # Nothing fell due since: the mark moves, no day is recomputed.
    assert rollups_advance_open(now=due + timedelta(hours=3)) == 0
    # Finished: no longer open anywhere.
    with time_machine.travel(due + timedelta(hours=4), tick=False):
        step(city, "resolve", 0, 0, 0)
        rollups_apply_all()
    assert stored_open() == []
    assert open_figures(due + timedelta(hours=5)) == (0, 0, 0, 0)


def test_the_sweep_and_a_decision_log_the_days_of_the_issues_they_change():
    city = City()
    with time_machine.travel(START, tick=False):
        step(city, "submit", 0, 0, 0)
        step(city, "assign", 0, 0, 0)
        rollups_apply_all()
    due = Issue.objects.get(pk=city.issues[0].pk).due_at
    rollups_advance_open(now=due + timedelta(hours=1))
    assert stored_open() == [(1, 1, 0)]
    # Thirteen hours overdue: level 1 (notify) and level 2 (needs a decision) in one sweep.
    later = due + timedelta(hours=13)
    assert escalation_sweep_run(now=later).escalations == 2
    assert list(ChangedDay.objects.values_list("day", "neighborhood_id")) == [(local_day(START), city.places[0].pk)]
    rollups_apply_all()
    assert stored_open() == [(1, 1, 1)]
    assert list(
        OpenOfficerRollup.objects.filter(grain=Grain.DAY, neighborhood__isnull=True, district="").values_list(
            "assignee_id", "open", "overdue", "escalated"
        )
    ) == [(city.officers[0].pk, 1, 1, 1)]
    assert_rollups_match_the_raw_rows()
    assert open_figures(later) == (1, 1, 1, 1)
    with time_machine.travel(later, tick=False):
        decisions.escalation_decide(issue=city.issues[0], actor=city.actor, decision="Assign a second officer")
    # Waiting for a decision is read live: it drops before the worker runs.
    assert open_figures(later) == (1, 1, 1, 0)


def test_the_open_tables_are_built_for_every_open_issue_when_they_have_no_mark_yet():
    city = City()
    with time_machine.travel(START, tick=False):
        step(city, "submit", 0, 0, 0)
    with time_machine.travel(START + timedelta(days=40), tick=False):
        step(city, "submit", 1, 0, 1)
        rollups_apply_all()
    OpenMark.objects.all().delete()
    OpenRollup.objects.all().delete()
    OpenOfficerRollup.objects.all().delete()
    # A deployment's first run after the migration: the worker builds them, every report day.
    assert rollups_advance_open(now=START + timedelta(days=41)) == 0
    assert sorted(OpenRollup.objects.filter(grain=Grain.DAY).values_list("period", flat=True)) == [
        local_day(START),
        local_day(START + timedelta(days=40)),
    ]
    assert_rollups_match_the_raw_rows()


def test_the_apply_command_folds_the_log_in_and_moves_the_overdue_mark_on():
    from io import StringIO

    from django.core.management import call_command

    city = City()
    with time_machine.travel(START, tick=False):
        step(city, "submit", 0, 0, 0)
        rollups_apply_all()
    due = Issue.objects.get(pk=city.issues[0].pk).due_at
    with time_machine.travel(due + timedelta(hours=1), tick=False):
        step(city, "acknowledge", 0, 0, 0)
        out = StringIO()
        call_command("rollups", "--apply", stdout=out)
    assert out.getvalue().strip() == "2 changes folded in; overdue mark moved on (1 report days recomputed)."
    assert not ChangedDay.objects.exists()
    assert OpenMark.objects.get().as_of == due + timedelta(hours=1)
    assert stored_open() == [(1, 1, 0)]
    assert_rollups_match_the_raw_rows()


@pytest.mark.django_db(transaction=True)
def test_an_applier_taking_its_turn_does_not_hold_up_a_resident_filing_an_issue():
    """Appliers take turns behind the neighborhoods' rows; a new issue's foreign key check shares
    its neighborhood's row. The turn is a lock that does not conflict with that check."""
    from django.db import transaction

    from insights.rollups import _take_turns

    place, category = NeighborhoodFactory(), CategoryFactory()
    holding, release = threading.Event(), threading.Event()

    def applier():
        try:
            with transaction.atomic():
                _take_turns()
                holding.set()
                release.wait(20)
        finally:
            connections.close_all()

    thread = threading.Thread(target=applier)
    thread.start()
    try:
        assert holding.wait(20)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            report = services.issue_submit(category=category, text="Trash piled by the bus stop", neighborhood=place)
    finally:
        release.set()
        thread.join()
    assert Issue.objects.filter(pk=report.issue.pk, neighborhood=place).exists()
