"""Every filter of every API list endpoint answers the same on SQLite (the embedded mode of
``make run``) as on PostgreSQL.

The calls are read from the OpenAPI schema, so a filter added to a FilterSet is called here
without touching this file: every query parameter of every list endpoint (and of the
statistics endpoint) with valid values — each choice of an enum, both booleans, the id of
every object of the model an id names, dates around the data. A parameter this file has no
values for fails the test with its name, rather than going untested.

``scenario()`` builds one data set and makes every call; the PostgreSQL test runs it in the
suite's database, the SQLite test in a subprocess on a fresh SQLite file (tests.sqlite).
Database ids differ between the two, so answers are compared by label: a row's rank among
its model's rows in creation order.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest

from tests.sqlite import checked_run_on_sqlite

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
PAGE_SIZE = 200  # the API's maximum: every row on one page, so sets compare whole

# Not filters: how the rows are paged. Every call asks for one page of PAGE_SIZE.
PAGING = {"page_size", "after", "before"}
DATETIMES = [NOW - timedelta(days=20), NOW - timedelta(days=2), NOW + timedelta(days=1)]
DATES = {"start": [NOW.date() - timedelta(days=30)], "end": [NOW.date() - timedelta(days=3), NOW.date()]}
NUMBERS = {"level": [1, 2], "escalation_level_min": [0, 1, 3]}
TEXT = {
    "district": ["East", "Central"],
    "q": ["corn", "Tags"],
    "group": ["Property", "Safety"],
    "service_code": ["graffiti", "dumping"],
    "slug": ["corner-hill", "riverside"],
    "beat": ["E-1", "C-2"],
}


# Filters that find nothing in a list by the list's own definition (and what keeps them empty).
NEVER_FINDS = {("/api/v1/issues/queue/", "outcome"): "the queue holds open issues; only finished ones have an outcome"}


def _id_models():
    from django.contrib.auth import get_user_model

    from cases.models import Category, Issue, Problem
    from partners.models import Neighborhood, Partner

    user = get_user_model()
    return {
        "neighborhood": Neighborhood,
        "category": Category,
        "assignee": user,
        "owner": user,
        "officer": user,
        "issue": Issue,
        "problem": Problem,
        "partner": Partner,
        "issue_id": Issue,
        "problem_id": Problem,
    }


# --- the data -------------------------------------------------------------------------


def build_world():
    """One data set where each filter value matches some rows and not others. Explicit names
    throughout: factory sequences differ between the suite's process and a fresh one."""
    from django.contrib.auth import get_user_model

    from cases import services
    from cases.models import Escalation, EscalationRule, Event, Issue, Notification, Problem
    from outreach.models import Activity
    from partners.models import PartnerContact
    from tests import factories as f

    now = NOW
    east = f.NeighborhoodFactory(
        name="Corner Hill", slug="corner-hill", beat="E-1", district="East", origin=(39.0, -94.7)
    )
    east2 = f.NeighborhoodFactory(
        name="Eastgate", slug="eastgate", beat="E-2", district="East", origin=(39.02, -94.7), languages=["en", "so"]
    )
    central = f.NeighborhoodFactory(
        name="Riverside", slug="riverside", beat="C-2", district="Central", origin=(39.04, -94.7), languages=["en"]
    )
    graffiti = f.CategoryFactory(service_code="graffiti", name_en="Graffiti", name_es="Grafiti", group_en="Property")
    dumping = f.CategoryFactory(
        service_code="dumping", name_en="Illegal dumping", name_es="Basura", group_en="Property", sort_order=2
    )
    drugs = f.CategoryFactory(
        service_code="drugs", name_en="Drug activity", name_es="Drogas", group_en="Safety", is_public=False
    )
    f.CategoryFactory(service_code="old", name_en="Old", name_es="Viejo", group_en="Safety", is_active=False)

    admin = f.supervisor(username="chief", last_name="Cornell", districts=["East"])
    admin.is_superuser = admin.is_staff = True
    admin.save(update_fields=["is_superuser", "is_staff"])
    ana = f.officer(username="ana", last_name="Garcia", neighborhoods=[east], districts=["East"])
    ben = f.officer(username="ben", last_name="Okafor", neighborhoods=[central], districts=["Central", "East"])
    f.officer(username="cy", last_name="Nguyen", neighborhoods=[east2])
    f.supervisor(username="dee", last_name="Ramos", districts=["Central"])
    gone = f.officer(username="gone", last_name="Gone", districts=["East"])
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    get_user_model().objects.create_user(username="visitor", last_name="Corn")  # no role: not in the directory

    def issue(category, place, days_ago, **fields):
        created = now - timedelta(days=days_ago)
        fields.setdefault("due_at", created + timedelta(hours=category.target_hours(fields.get("priority", "normal"))))
        return f.IssueFactory(category=category, neighborhood=place, created_at=created, **fields)

    busy = issue(graffiti, east, 10, assignee=admin, approach="deter", escalation_level=2, needs_decision=True)
    done = issue(
        graffiti, east, 15, status="resolved", outcome="resolved", resolved_at=now - timedelta(days=12), assignee=ana
    )
    issue(dumping, east2, 1, priority="high", description="Mattresses by the corner store", assignee=ana)
    issue(dumping, central, 30, status="on_hold", hold_started_at=now - timedelta(days=5), approach="problem_solve")
    issue(
        drugs,
        central,
        5,
        priority="urgent",
        status="closed",
        outcome="crime_report",
        crime_report_number="KC-1",
        resolved_at=now - timedelta(days=1),
        closed_at=now - timedelta(days=1),
        approach="enforce",
        assignee=ben,
    )
    issue(graffiti, east, 9, status="duplicate", outcome="duplicate", duplicate_of=busy)
    issue(dumping, central, 3, status="referred", outcome="referred", referred_to="Public Works", priority="low")
    late = issue(graffiti, east2, 8, status="in_progress", escalation_level=1, due_at=now - timedelta(days=4))

    for i, (channel, anonymous) in enumerate([("web", False), ("phone", True), ("open311", False), ("officer", True)]):
        f.ReportFactory(issue=busy if i < 2 else late, channel=channel, is_anonymous=anonymous)
    f.ReportFactory(issue=done, channel="web", reporter_email="rosa@example.org", contact_consent=True)
    for days, kind, public in [
        (9, "created", True),
        (6, "note", False),
        (3, "assigned", True),
        (1, "escalated", False),
    ]:
        f.EventFactory(issue=busy, kind=kind, is_public=public, actor=admin, created_at=now - timedelta(days=days))
    f.EventFactory(issue=done, kind=Event.Kind.RESOLVED, is_public=True, created_at=now - timedelta(days=12))

    for level, action, issue_, days, decided in [
        (1, EscalationRule.Action.RAISE_PRIORITY, busy, 8, True),
        (2, EscalationRule.Action.NEEDS_DECISION, busy, 3, False),
        (1, EscalationRule.Action.NOTIFY_SUPERVISOR, late, 2, False),
    ]:
        Escalation.objects.create(
            issue=issue_,
            level=level,
            action=action,
            created_at=now - timedelta(days=days),
            decided_at=now - timedelta(days=1) if decided else None,
            decided_by=admin if decided else None,
        )
    Notification.objects.create(user=admin, subject="Assigned", issue=busy, created_at=now - timedelta(days=3))
    Notification.objects.create(
        user=admin, subject="Escalated", issue=late, created_at=now - timedelta(days=2), read_at=now - timedelta(days=1)
    )
    Notification.objects.create(user=admin, subject="Digest", created_at=now - timedelta(days=1))

    corner = services.problem_open(title="Corner tagging", actor=admin, issues=[busy], owner=admin, now=now)
    services.problem_add_note(problem=corner, actor=admin, text="Walked the block", now=now)
    services.problem_open(title="River dumping", actor=ben, issues=[Issue.objects.get(status="on_hold")], now=now)
    Problem.objects.filter(title="River dumping").update(stage=Problem.Stage.ANALYSIS, source=Problem.Source.HOTSPOT)

    youth = f.PartnerFactory(name="Corner Youth League", kind="youth_league", languages=["en", "es"])
    youth.neighborhoods.set([east, east2])
    mosque = f.PartnerFactory(name="Masjid Al-Noor", kind="faith", languages=["en", "ar", "so"], address="1 Corner Rd")
    mosque.neighborhoods.set([east2])
    works = f.PartnerFactory(name="Public Works", kind="city_agency", languages=["en"])
    works.neighborhoods.set([central])
    f.PartnerFactory(name="Old Paper", kind="media", languages=["vi"], is_active=False)
    PartnerContact.objects.create(partner=mosque, name="Imam", languages=["ar"], is_primary=True)

    def activity(title, neighborhood, days_ago, **fields):
        officers, partners, issues = fields.pop("officers"), fields.pop("partners", []), fields.pop("issues", [])
        starts = now - timedelta(days=days_ago)
        made = f.ActivityFactory(title=title, neighborhood=neighborhood, starts_at=starts, **fields)
        made.officers.set(officers)
        made.partners.set(partners)
        made.issues.set(issues)
        return made

    activity("Corner clean-up", east, 7, kind=Activity.Kind.CLEAN_UP, created_by=admin, officers=[ana], issues=[busy])
    activity("Iftar with neighbors", east2, 3, kind="cultural", created_by=ana, officers=[ana, ben], partners=[mosque])
    activity(
        "Little league opener",
        central,
        25,
        kind="youth_sports",
        created_by=ben,
        officers=[ben],
        partners=[youth, works],
        problem=corner,
        follow_up_needed=True,
        attendance=80,
    )
    activity(
        "Block meeting", east, 0.5, kind="community_meeting", created_by=ben, officers=[admin], place="Corner hall"
    )
    return admin


# --- the calls ------------------------------------------------------------------------


def _labels(model, ids) -> list[str]:
    """Rows as ``<Model><rank>``, their rank among the model's rows in creation (pk) order; sorted."""
    order = {pk: rank for rank, pk in enumerate(model.objects.order_by("pk").values_list("pk", flat=True))}
    return sorted(f"{model.__name__}{order[pk]}" for pk in ids)


def _label(model, pk) -> str:
    return _labels(model, [pk])[0]


def _model_of(path: str):
    """The model a list endpoint returns, from its view's FilterSet or serializer."""
    from django.urls import resolve

    view = resolve(path).func.cls
    filterset = getattr(view, "filterset_class", None)
    if filterset is not None:
        return filterset._meta.model
    return view.serializer_class.Meta.model


def _values(name: str, schema: dict, model_ids) -> list[str]:
    """Valid values for one query parameter, from its schema; KeyError when this file has none."""
    enum = schema.get("enum") or schema.get("items", {}).get("enum")
    if enum:
        return list(enum)
    kind, form = schema.get("type"), schema.get("format")
    if kind == "boolean":
        return ["true", "false"]
    if form == "date-time":
        return [moment.isoformat() for moment in DATETIMES]
    if form == "date":
        return [day.isoformat() for day in DATES[name]]
    if kind == "integer" and name in NUMBERS:
        return [str(n) for n in NUMBERS[name]]
    if kind == "integer":
        return [str(pk) for pk in model_ids(name)]
    return TEXT[name]


def _stats_digest(body: dict) -> dict:
    """The statistics answer with its ids as labels and its floats to a precision both databases reach."""
    from django.contrib.auth import get_user_model

    from cases.models import Issue
    from partners.models import Neighborhood

    def rounded(value):
        if isinstance(value, float):
            return round(value, 6)
        if isinstance(value, dict):
            return {k: rounded(v) for k, v in value.items()}
        return value

    def by_label(rows, model):
        return {_label(model, row["id"]): rounded({k: v for k, v in row.items() if k != "id"}) for row in rows}

    return {
        "period": body["period"],
        "totals": rounded({k: body[k] for k in ("issues", "outreach", "feedback", "problems")}),
        "neighborhoods": by_label(body["neighborhoods"], Neighborhood),
        "officers": by_label(body["officers"], get_user_model()),
        "weeks": body["weeks"],
        "decisions": _labels(Issue, [row["id"] for row in body["decisions_waiting"]]),
    }


def checked_api_calls(client) -> dict[str, dict]:
    """Every query parameter of every filtered GET endpoint, each value on its own."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    id_models = _id_models()

    def model_ids(name):
        return list(id_models[name].objects.order_by("pk").values_list("pk", flat=True))

    results: dict[str, dict] = {}
    for template, operations in schema["paths"].items():
        operation = operations.get("get")
        if operation is None:
            continue
        query = {p["name"]: p["schema"] for p in operation.get("parameters", []) if p["in"] == "query"}
        if not operation["operationId"].endswith("_list") and operation["operationId"] != "stats_retrieve":
            continue  # one object (a report's ``reason`` says why contact is shown; it filters nothing)
        path_params = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
        # A nested list (an issue's events): the first object, which the data set makes the busiest.
        path = template
        for name in path_params:
            path = path.replace(f"{{{name}}}", str(model_ids(name)[0]))
        model = None if operation["operationId"] == "stats_retrieve" else _model_of(path)
        calls = [{}] + [
            {name: value}
            for name, spec in sorted(query.items())
            if name not in PAGING
            for value in _values(name, spec, model_ids)
        ]
        for params in calls:
            response = client.get(path, {**params, **({"page_size": PAGE_SIZE} if model else {})})
            shown = {k: _shown(k, v, id_models) for k, v in params.items()}
            key = f"{template} {urlencode(shown)}"
            if response.status_code != 200:
                results[key] = {"status": response.status_code, "body": response.content.decode()[:300]}
            elif model is None:
                results[key] = {"status": 200, "stats": _stats_digest(response.json())}
            else:
                body = response.json()
                assert body["next"] is None, f"{key}: more than one page"
                results[key] = {
                    "status": 200,
                    "count": body["count"],
                    "ids": _labels(model, [row["id"] for row in body["results"]]),
                }
    return results


def _shown(name, value, id_models):
    """A parameter as the comparison shows it: an id as its label."""
    if name in id_models and name not in NUMBERS:
        return _label(id_models[name], int(value))
    return value


def lookup_cases() -> dict:
    """``has_item`` on documents that are not plain lists, and on items that need escaping."""
    from django.db.models import Q

    from partners.models import Partner, StaffProfile

    odd = {
        "object": {"ar": "ar"},
        "scalar": "ar",
        "upper": ["AR"],
        "numbers": [1, 2.5],
        "quoted": ["d'Ivoire", 'say "hi"', "é"],
        "empty": [],
        "nested": [["ar"]],
    }
    for name, languages in odd.items():
        Partner.objects.create(name=f"Odd {name}", kind="nonprofit", languages=languages)

    def names(**lookup):
        return sorted(Partner.objects.filter(name__startswith="Odd", **lookup).values_list("name", flat=True))

    return {
        "ar": names(languages__has_item="ar"),
        "one": names(languages__has_item=1),
        "two_and_half": names(languages__has_item=2.5),
        "quote": names(languages__has_item="d'Ivoire"),
        "double_quote": names(languages__has_item='say "hi"'),
        "accent": names(languages__has_item="é"),
        "not_ar": sorted(
            Partner.objects.filter(Q(name__startswith="Odd") & ~Q(languages__has_item="ar")).values_list(
                "name", flat=True
            )
        ),
        "east_staff": sorted(
            StaffProfile.objects.filter(districts__has_item="East").values_list("user__username", flat=True)
        ),
    }


def scenario() -> dict:
    """Build the data set, make every call, and return what came back (labels, not ids)."""
    import time_machine
    from rest_framework.test import APIClient

    from partners.models import Neighborhood
    from partners.selectors import staff_assigned_to

    with time_machine.travel(NOW, tick=False):
        admin = build_world()
        client = APIClient()
        client.force_authenticate(admin)
        calls = checked_api_calls(client)
        assigned = {
            n.slug: sorted(p.user.username for p in staff_assigned_to(n)) for n in Neighborhood.objects.order_by("pk")
        }
        return {"calls": calls, "staff_assigned_to": assigned, "lookup": lookup_cases()}


SQLITE_SCENARIO = r"""
import json
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from tests.api.test_filters_sqlite import scenario
print(json.dumps(scenario()))
"""


# --- the tests ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def on_sqlite(tmp_path_factory):
    return checked_run_on_sqlite(SQLITE_SCENARIO, tmp_path_factory.mktemp("filters-sqlite"))


@pytest.fixture
def on_postgresql(db):
    from django.db import connection

    assert connection.vendor == "postgresql"
    return scenario()


def _failures(calls: dict) -> dict:
    return {key: answer for key, answer in calls.items() if answer["status"] != 200}


@pytest.mark.slow
def test_every_filter_answers_200_on_sqlite(on_sqlite):
    assert _failures(on_sqlite["calls"]) == {}


@pytest.mark.slow
def test_every_filter_answers_the_same_rows_on_sqlite_as_on_postgresql(on_sqlite, on_postgresql):
    pg, lite = on_postgresql["calls"], on_sqlite["calls"]
    assert _failures(pg) == {}
    assert sorted(lite) == sorted(pg)  # the same calls: the schema and the data are the same
    differences = {key: {"postgresql": pg[key], "sqlite": lite[key]} for key in pg if pg[key] != lite[key]}
    assert differences == {}
    assert on_sqlite["staff_assigned_to"] == on_postgresql["staff_assigned_to"]
    assert on_sqlite["lookup"] == on_postgresql["lookup"]


@pytest.mark.slow
def test_every_filter_is_called_and_selects_something(on_sqlite):
    """The comparison compares something: each filter of each list has a value that finds rows,
    and a value or a combination that narrows the list (else a filter ignored on one database
    would pass unnoticed)."""
    calls = on_sqlite["calls"]
    unfiltered = {key.split(" ")[0]: answer for key, answer in calls.items() if key.endswith(" ")}
    by_filter: dict[tuple[str, str], list[dict]] = {}
    for key, answer in calls.items():
        path, query = key.split(" ", 1)
        if query:
            by_filter.setdefault((path, query.split("=", 1)[0]), []).append(answer)
    lists = {path for path in unfiltered if "count" in unfiltered[path]}
    assert {"/api/v1/staff/", "/api/v1/partners/", "/api/v1/issues/", "/api/v1/activities/"} <= lists
    empty = [f for f, answers in by_filter.items() if f[0] in lists and not any(a["count"] for a in answers)]
    assert sorted(empty) == sorted(NEVER_FINDS)
    narrowing = [
        f
        for f, answers in by_filter.items()
        if f[0] in lists and f[1] != "ordering" and not any(a["count"] < unfiltered[f[0]]["count"] for a in answers)
    ]
    assert narrowing == []


@pytest.mark.slow
def test_json_list_filters_on_sqlite_find_exactly_the_matching_rows(on_sqlite):
    """The two filters that answered 500 on SQLite: staff by district, partners by language."""
    calls = on_sqlite["calls"]
    staff = calls["/api/v1/staff/ district=East"]
    # chief, ana, ben — not cy (a neighborhood in East, not the district), nor the inactive officer.
    assert staff["status"] == 200 and staff["ids"] == ["User0", "User1", "User2"]
    assert calls["/api/v1/staff/ district=Central"]["ids"] == ["User2", "User4"]
    partners = calls["/api/v1/partners/ language=ar"]
    assert partners["status"] == 200 and partners["ids"] == ["Partner1"]
    assert calls["/api/v1/partners/ language=en"]["ids"] == ["Partner0", "Partner1", "Partner2"]
    assert on_sqlite["staff_assigned_to"] == {
        "corner-hill": ["ana", "ben", "chief"],
        "eastgate": ["ana", "ben", "chief", "cy"],
        "riverside": ["ben", "dee"],
    }


@pytest.mark.slow
def test_has_item_matches_list_items_only(on_sqlite):
    assert on_sqlite["lookup"] == {
        "ar": [],  # an object's key or value, a scalar, another case, a nested list: not an item
        "one": ["Odd numbers"],
        "two_and_half": ["Odd numbers"],
        "quote": ["Odd quoted"],
        "double_quote": ["Odd quoted"],
        "accent": ["Odd quoted"],
        "not_ar": sorted(f"Odd {n}" for n in ("object", "scalar", "upper", "numbers", "quoted", "empty", "nested")),
        "east_staff": ["ana", "ben", "chief", "gone"],
    }


def test_has_item_refuses_what_it_cannot_compare_alike(db):
    from partners.models import Partner

    for value in (["ar"], {"ar": 1}, True, None):
        with pytest.raises(TypeError):
            Partner.objects.filter(languages__has_item=value)
