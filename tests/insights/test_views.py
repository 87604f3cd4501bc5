"""/dashboard/: who may see it, what it shows, filters, the query budget, CSV exports, decisions."""

import csv
import io
import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages

from cases.models import Escalation, EscalationRule, Event, Issue, Problem, ProblemEvent
from insights.rollups import rollups_apply_all
from tests import factories
from tests.insights.conftest import at

pytestmark = pytest.mark.django_db

PERIOD = "start=2024-05-01&end=2024-06-15"
# 25, and the community trust card's three (insights.pulse_results.pulse_board).
QUERY_BUDGET = 28


@pytest.fixture
def boss(db):
    return factories.supervisor(username="boss", first_name="Dana", last_name="Boss")


def kpis(response) -> dict:
    html = response.content.decode()
    found = re.findall(r'data-kpi="(\w+)">\s*<div class="value" data-value>(?:<a [^>]*>)?([^<]*)', html)
    return dict(found)


def embedded(response, element_id):
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', response.content.decode())
    return json.loads(match.group(1))


def checked_csv_rows(response):
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


# --- access ------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client):
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/dashboard/")


def test_officers_get_403(client, officer):
    client.force_login(officer)
    assert client.get("/dashboard/").status_code == 403
    assert client.get("/dashboard/export/neighborhoods.csv").status_code == 403
    issue = factories.IssueFactory(needs_decision=True)
    assert client.post(f"/dashboard/decisions/{issue.pk}/acknowledge/").status_code == 403
    issue.refresh_from_db()
    assert issue.needs_decision is True


def test_supervisor_sees_the_dashboard(client, boss):
    client.force_login(boss)
    response = client.get("/dashboard/")
    assert response.status_code == 200
    assert "Program dashboard" in response.content.decode()


def test_export_needs_the_export_permission(client, boss):
    from django.contrib.auth.models import Permission

    boss.groups.first().permissions.remove(Permission.objects.get(codename="export_data"))
    client.force_login(boss)
    assert client.get("/dashboard/export/neighborhoods.csv").status_code == 403
    assert "/dashboard/export/" not in client.get("/dashboard/").content.decode()


# --- figures -------------------------------------------------------------------------------


def test_page_shows_the_hand_computed_figures(client, boss, known):
    client.force_login(boss)
    response = client.get(f"/dashboard/?{PERIOD}")
    assert kpis(response) == {
        "open": "4",
        "overdue": "2",
        "waiting": "2",
        "median_days": "3.0",
        "sla_share": "40%",
        "crime": "1",
        "activities": "3",
        "hours": "7.75",
        "partners": "3",
        "satisfaction": "3.7 / 5",
        "reopen_rate": "33%",
    }
    html = response.content.decode()
    assert "20% of 5 closed" in html  # crime-conversion share
    assert "1 of 3 answers" in html  # "not fixed" answers


def test_filters_change_every_figure(client, boss, known):
    client.force_login(boss)
    east = kpis(client.get(f"/dashboard/?{PERIOD}&district=East"))
    assert east["open"] == "1" and east["overdue"] == "1" and east["median_days"] == "34.0"
    assert east["sla_share"] == "0%" and east["activities"] == "1" and east["hours"] == "1.25"
    assert east["satisfaction"] == "—"
    central = kpis(client.get(f"/dashboard/?{PERIOD}&district=Central"))  # answers matched per issue id
    assert central["satisfaction"] == "3.7 / 5" and central["reopen_rate"] == "33%" and central["open"] == "3"
    alpha = kpis(client.get(f"/dashboard/?{PERIOD}&neighborhood={known.a.pk}"))
    assert alpha["open"] == "2" and alpha["median_days"] == "2.0" and alpha["hours"] == "6.5"
    assert alpha["satisfaction"] == "3.7 / 5"
    drugs = kpis(client.get(f"/dashboard/?{PERIOD}&category={known.drugs.pk}"))
    assert drugs["open"] == "2" and drugs["sla_share"] == "100%" and drugs["activities"] == "1"
    assert drugs["satisfaction"] == "—"
    graffiti = kpis(client.get(f"/dashboard/?{PERIOD}&category={known.graffiti.pk}"))
    assert graffiti["satisfaction"] == "3.7 / 5" and graffiti["open"] == "2"
    late = kpis(client.get("/dashboard/?start=2024-06-10&end=2024-06-15"))
    assert late["open"] == "3" and late["crime"] == "1"


def test_charts_and_map_follow_the_filters(client, boss, known):
    client.force_login(boss)
    response = client.get(f"/dashboard/?{PERIOD}")
    charts = embedded(response, "dashboard-charts")
    assert charts["weeks"][0] == "2024-04-29" and charts["weeks"][-1] == "2024-06-10"
    assert sum(charts["new"]) == 8 and sum(charts["finished"]) == 5
    assert charts["sla"][charts["weeks"].index("2024-06-03")] == 50.0  # f2 late, f4 within
    assert dict(zip(charts["open_by_category"]["labels"], charts["open_by_category"]["values"], strict=True)) == {
        "Graffiti": 2,
        "Open-air drug activity": 2,
    }
    assert sum(charts["hours_by_kind"]["values"]) == pytest.approx(7.75)
    assert charts["hours_by_neighborhood"]["labels"] == ["Alpha", "Charlie"]
    shown = embedded(response, "dashboard-map-data")
    assert {n["name"]: n["open"] for n in shown["neighborhoods"]} == {"Alpha": 2, "Bravo": 1, "Charlie": 1}
    assert all(n["boundary"]["type"] == "Polygon" for n in shown["neighborhoods"])
    assert len(shown["markers"]) == 4
    east = embedded(client.get(f"/dashboard/?{PERIOD}&district=East"), "dashboard-map-data")
    assert [n["name"] for n in east["neighborhoods"]] == ["Charlie"]
    assert [m["id"] for m in east["markers"]] == [known.o11.pk]


def _chart_table(html: str, canvas_id: str) -> list[list[str]]:
    """The rows of the table shown beside a chart (the <details> after its canvas), cells as text."""
    after = html[html.index(f'<canvas id="{canvas_id}"') :]
    table = after[after.index('<details class="chart-data">') : after.index("</details>")]
    body = table[table.index("<tbody>") : table.index("</tbody>")]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body)
    ]


def test_every_chart_has_its_figures_as_a_table_beside_it(client, boss, known):
    """WCAG 1.1.1: what a chart draws is readable without seeing it, the same figures the chart has."""
    client.force_login(boss)
    response = client.get(f"/dashboard/?{PERIOD}")
    html = response.content.decode()
    charts = embedded(response, "dashboard-charts")
    weekly = _chart_table(html, "chart-new-resolved")
    assert len(weekly) == len(charts["weeks"])
    assert [(int(new), int(done)) for _, new, done in weekly] == list(
        zip(charts["new"], charts["finished"], strict=True)
    )
    sla = _chart_table(html, "chart-sla")
    assert [value for _, value in sla] == ["—" if v is None else f"{v:g}" for v in charts["sla"]]
    assert _chart_table(html, "chart-open-category") == [["Graffiti", "2"], ["Open-air drug activity", "2"]]
    kinds = _chart_table(html, "chart-hours-kind")
    assert [(label, Decimal(value)) for label, value in kinds] == [
        (label, Decimal(str(value)))
        for label, value in zip(charts["hours_by_kind"]["labels"], charts["hours_by_kind"]["values"], strict=True)
    ]
    assert sum(Decimal(value) for _, value in kinds) == Decimal("7.75")
    assert [label for label, _ in _chart_table(html, "chart-hours-neighborhood")] == ["Alpha", "Charlie"]


def test_neighborhood_with_most_open_and_least_outreach_stands_out(client, boss, known):
    client.force_login(boss)
    html = client.get(f"/dashboard/?{PERIOD}").content.decode()
    # Alpha: 2 open, 6.5 h; Bravo: 1 open, 0 h; Charlie: 1 open, 1.25 h. Median open 1, median hours 1.25:
    # nobody is above on open *and* below on hours — add open issues to Bravo and it stands out.
    assert 'class="attention"' not in html
    for _ in range(3):
        factories.IssueFactory(neighborhood=known.b, category=known.graffiti, created_at=at(6, 12), due_at=at(6, 20))
    rollups_apply_all()  # open issues are summary rows too: the worker folds the new ones in
    html = client.get(f"/dashboard/?{PERIOD}").content.decode()
    row = re.search(r'<tr data-neighborhood="(\d+)" class="attention">', html)
    assert row and int(row.group(1)) == known.b.pk


def test_bad_filter_input_shows_a_message_not_a_500(client, boss, known):
    client.force_login(boss)
    response = client.get("/dashboard/?start=2024-06-15&end=2024-05-01&neighborhood=abc")
    assert response.status_code == 200
    html = response.content.decode()
    assert "The end date is before the start date." in html
    assert "Select a valid choice" in html
    response = client.get("/dashboard/?start=2019-01-01&end=2024-06-15")
    assert "at most three years" in response.content.decode()
    for edge in ("start=9999-12-30&end=9999-12-31", "start=0001-01-01&end=0001-01-02", "end=0001-01-05"):
        response = client.get(f"/dashboard/?{edge}")
        assert response.status_code == 200
        assert "Use a date between the years 1900 and 2200." in response.content.decode()
        export = client.get(f"/dashboard/export/neighborhoods.csv?{edge}")
        assert export.status_code == 400 and "1900 and 2200" in export.content.decode()


def test_the_map_has_its_markers_as_a_list_beside_it(client, boss, known, settings):
    """WCAG 1.1.1: every issue and hot spot the map draws is also a link in a list, with its age."""
    settings.DASHBOARD_MARKER_LIMIT = 2
    client.force_login(boss)
    response = client.get(f"/dashboard/?{PERIOD}")
    html = response.content.decode()
    shown = embedded(response, "dashboard-map-data")
    listed = html[html.index('<details class="map-data"') :]
    listed = listed[: listed.index("</details>")]
    items = re.findall(r'<li><a href="([^"]+)">([^<]+)</a> · ([^<]+?) · open (\d+) days?', listed)
    assert [item[:3] for item in items] == [(m["url"], m["code"], m["category"]) for m in shown["markers"]]
    assert all(abs(int(item[3]) - m["age_days"]) <= 0.5 for item, m in zip(items, shown["markers"], strict=True))
    assert len(items) == 2
    for problem in shown["problems"]:
        assert f'<a href="{problem["url"]}">{problem["title"]}</a>' in listed
    # The map names its legend and the note on what it shows.
    assert 'aria-describedby="dashboard-map-key dashboard-map-note"' in html
    assert 'id="dashboard-map-key"' in html and 'id="dashboard-map-note"' in html


def test_marker_cap_is_said_on_the_page(client, boss, known, settings):
    settings.DASHBOARD_MARKER_LIMIT = 2
    client.force_login(boss)
    response = client.get(f"/dashboard/?{PERIOD}")
    assert "Showing the 2 oldest of 4 open issues." in response.content.decode()
    assert [m["id"] for m in embedded(response, "dashboard-map-data")["markers"]] == [known.o9.pk, known.o7.pk]


# --- query budget ----------------------------------------------------------------------------


def _grow(known, n):
    """Add n of everything the dashboard counts, spread over the neighborhoods."""
    officer = factories.officer()
    places = [known.a, known.b, known.c] + [factories.NeighborhoodFactory(district="West") for _ in range(3)]
    for i in range(n):
        place = places[i % len(places)]
        issue = factories.IssueFactory(
            neighborhood=place,
            category=known.graffiti if i % 2 else known.drugs,
            created_at=at(5, 2) + timedelta(days=i % 40),
            due_at=at(5, 5) + timedelta(days=i % 40),
            assignee=officer if i % 3 else None,
            escalation_level=1,
            needs_decision=bool(i % 4 == 0),
        )
        Escalation.objects.create(
            issue=issue, level=1, action=EscalationRule.Action.NEEDS_DECISION, created_at=at(6, 1)
        )
        problem = factories.ProblemFactory(neighborhood=place, category=known.graffiti, stage="analysis")
        issue.problem = problem
        issue.save(update_fields=["problem"])
        activity = factories.ActivityFactory(
            neighborhood=place, starts_at=at(5, 3) + timedelta(days=i % 40), hours=Decimal("1.5")
        )
        activity.partners.set([factories.PartnerFactory()])
        activity.issues.set([issue])
    rollups_apply_all()  # the worker folds them into the summary tables


def test_query_count_is_fixed_whatever_the_data_size(client, boss, known, django_assert_max_num_queries):
    client.force_login(boss)
    with django_assert_max_num_queries(QUERY_BUDGET) as small:
        response = client.get(f"/dashboard/?{PERIOD}")
    assert response.status_code == 200
    _grow(known, 60)
    with django_assert_max_num_queries(QUERY_BUDGET) as large:
        response = client.get(f"/dashboard/?{PERIOD}")
    assert response.status_code == 200
    assert int(kpis(response)["open"]) == 64
    assert len(large.captured_queries) == len(small.captured_queries)
    with django_assert_max_num_queries(QUERY_BUDGET):
        client.get(f"/dashboard/?{PERIOD}&category={known.graffiti.pk}&district=Central")


# --- CSV exports ---------------------------------------------------------------------------


def test_neighborhood_export_matches_the_table(client, boss, known):
    client.force_login(boss)
    response = client.get(f"/dashboard/export/neighborhoods.csv?{PERIOD}")
    assert response.status_code == 200
    assert 'filename="commonground-neighborhoods-2024-05-01-2024-06-15.csv"' in response["Content-Disposition"]
    rows = checked_csv_rows(response)
    header = rows[0]
    assert header[:4] == ["neighborhood", "district", "reported", "open"]
    by_name = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert set(by_name) == {"Alpha", "Bravo", "Charlie"}
    assert by_name["Alpha"]["open"] == "2" and by_name["Alpha"]["outreach_hours"] == "6.50"
    assert by_name["Bravo"]["crime_reports"] == "1"
    assert by_name["Charlie"]["waiting_for_decision"] == "1"
    east = checked_csv_rows(client.get(f"/dashboard/export/neighborhoods.csv?{PERIOD}&district=East"))
    assert [r[0] for r in east[1:]] == ["Charlie"]


def test_officer_decision_and_problem_exports(client, boss, known):
    problem = factories.ProblemFactory(title="=HYPERLINK(evil)", neighborhood=known.a, category=known.graffiti)
    known.o7.problem = problem
    known.o7.save(update_fields=["problem"])
    client.force_login(boss)
    officers = checked_csv_rows(client.get(f"/dashboard/export/officers.csv?{PERIOD}"))
    assert officers[0][0] == "officer"
    assert officers[1][:5] == [known.officer.get_full_name(), "1", "1", "1", "1"]
    decisions = checked_csv_rows(client.get(f"/dashboard/export/decisions.csv?{PERIOD}"))
    assert {r[0] for r in decisions[1:]} == {known.o7.tracking_code, known.o11.tracking_code}
    problems = checked_csv_rows(client.get(f"/dashboard/export/problems.csv?{PERIOD}"))
    assert problems[1][1] == "'=HYPERLINK(evil)"  # a formula is never run by a spreadsheet
    assert problems[1][6:8] == ["1", "1"]
    assert client.get("/dashboard/export/secrets.csv").status_code == 404


# --- decisions -------------------------------------------------------------------------------


def test_assign_decision_records_who_decided(client, boss, known, frozen):
    client.force_login(boss)
    officer = factories.officer(first_name="Ana", last_name="Ruiz")
    response = client.post(
        f"/dashboard/decisions/{known.o11.pk}/assign/", {"officer": officer.pk, "next": f"/dashboard/?{PERIOD}"}
    )
    assert response.status_code == 302 and response["Location"] == f"/dashboard/?{PERIOD}"
    escalation = Escalation.objects.get(issue=known.o11)
    assert escalation.decided_by == boss and escalation.decided_at == frozen
    assert "Ana Ruiz" in escalation.decision
    known.o11.refresh_from_db()
    assert known.o11.assignee == officer
    assert Event.objects.filter(issue=known.o11, kind=Event.Kind.ASSIGNED).exists()
    assert kpis(client.get(f"/dashboard/?{PERIOD}"))["waiting"] == "1"


def test_acknowledge_decision_clears_the_flag(client, boss, known):
    client.force_login(boss)
    client.post(f"/dashboard/decisions/{known.o7.pk}/acknowledge/")
    known.o7.refresh_from_db()
    assert known.o7.needs_decision is False
    assert known.o7.status == Issue.Status.ACKNOWLEDGED
    note = Event.objects.get(issue=known.o7, kind=Event.Kind.NOTE)
    assert note.actor == boss and "Acknowledged" in note.message
    # Deciding again finds nothing to decide: a message, nothing written.
    response = client.post(f"/dashboard/decisions/{known.o7.pk}/acknowledge/")
    assert "is not waiting for a decision" in " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert Event.objects.filter(issue=known.o7, kind=Event.Kind.NOTE).count() == 1


def test_open_problem_decision(client, boss, known):
    client.force_login(boss)
    response = client.post(f"/dashboard/decisions/{known.o11.pk}/problem/")
    problem = Problem.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/problems/{problem.pk}/"
    assert problem.source == Problem.Source.ESCALATION and problem.owner == boss
    assert (problem.category, problem.neighborhood) == (known.drugs, known.c)
    known.o11.refresh_from_db()
    assert known.o11.problem == problem
    assert Escalation.objects.get(issue=known.o11).decided_at is not None
    assert ProblemEvent.objects.filter(problem=problem, kind=ProblemEvent.Kind.ISSUE_ADDED).exists()


def test_assign_without_an_officer_changes_nothing(client, boss, known):
    client.force_login(boss)
    response = client.post(f"/dashboard/decisions/{known.o11.pk}/assign/", {"officer": "not-a-number"})
    assert response.status_code == 302
    assert "Choose an officer" in " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert client.post(f"/dashboard/decisions/{known.o11.pk}/assign/", {"officer": "²"}).status_code == 302
    assert Escalation.objects.get(issue=known.o11).decided_at is None
    assert client.post(f"/dashboard/decisions/{known.o11.pk}/promote/").status_code == 404
    assert client.get(f"/dashboard/decisions/{known.o11.pk}/acknowledge/").status_code == 405


def test_next_is_never_an_open_redirect(client, boss, known):
    client.force_login(boss)
    response = client.post(f"/dashboard/decisions/{known.o7.pk}/acknowledge/", {"next": "https://evil.example/"})
    assert response["Location"] == "/dashboard/"


def test_decision_table_lists_waiting_issues_with_actions(client, boss, known):
    client.force_login(boss)
    html = client.get(f"/dashboard/?{PERIOD}").content.decode()
    table = html[html.index('class="decisions-table"') :]
    table = table[: table.index("</table>")]
    assert known.o7.tracking_code in table and known.o11.tracking_code in table
    assert known.o8.tracking_code not in table
    for action in ("problem", "acknowledge"):
        assert f"/dashboard/decisions/{known.o7.pk}/{action}/" in table
    # Assigning is one form for the table: each row's box is ticked into it, the officer chosen once.
    assert f'name="issue" value="{known.o7.pk}" form="bulk-assign"' in table
    bulk = html[html.index('id="bulk-assign"') :]
    bulk = bulk[: bulk.index("</form>")]
    assert 'action="/dashboard/decisions/assign/"' in html and 'name="officer"' in bulk
    option = f'<option value="{known.officer.pk}">{known.officer.get_full_name() or known.officer.username}</option>'
    assert option in bulk
    assert html.count(option) == 1  # the list is sent once (not once per row)


def test_default_period_is_twelve_weeks(client, boss, known, frozen):
    client.force_login(boss)
    response = client.get("/dashboard/")
    charts = embedded(response, "dashboard-charts")
    assert len(charts["weeks"]) == 12
    assert charts["weeks"][-1] == (frozen.date() - timedelta(days=frozen.weekday())).isoformat()
    html = response.content.decode()
    assert f'name="end" value="{frozen.date().isoformat()}"' in html  # the inputs show the period used
    assert f'name="start" value="{charts["weeks"][0]}"' in html


# --- assigning ticked issues -----------------------------------------------------------------


def test_assign_ticked_decides_each_issue(client, boss, known, frozen):
    client.force_login(boss)
    officer = factories.officer(first_name="Ana", last_name="Ruiz")
    response = client.post(
        "/dashboard/decisions/assign/",
        {"issue": [known.o7.pk, known.o11.pk], "officer": officer.pk, "next": f"/dashboard/?{PERIOD}"},
    )
    assert response.status_code == 302 and response["Location"] == f"/dashboard/?{PERIOD}"
    text = " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert "2 issues assigned to Ana Ruiz" in text and known.o7.tracking_code in text
    for issue in (known.o7, known.o11):
        issue.refresh_from_db()
        assert issue.assignee == officer and issue.needs_decision is False
        assert Event.objects.filter(issue=issue, kind=Event.Kind.ASSIGNED, actor=boss).exists()
        decision = Event.objects.get(issue=issue, kind=Event.Kind.NOTE)
        assert decision.actor == boss and "Ana Ruiz" in decision.message
    escalation = Escalation.objects.get(issue=known.o11)
    assert escalation.decided_by == boss and escalation.decided_at == frozen
    assert kpis(client.get(f"/dashboard/?{PERIOD}"))["waiting"] == "0"


def test_assign_ticked_leaves_an_issue_no_longer_waiting_and_assigns_the_rest(client, boss, known):
    client.force_login(boss)
    officer = factories.officer(first_name="Ana", last_name="Ruiz")
    client.post(f"/dashboard/decisions/{known.o7.pk}/acknowledge/")  # decided meanwhile
    response = client.post(
        "/dashboard/decisions/assign/", {"issue": [known.o7.pk, known.o11.pk], "officer": officer.pk}
    )
    text = " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert "1 issue assigned to Ana Ruiz" in text
    assert f"{known.o7.tracking_code} is not waiting for a decision" in text
    known.o7.refresh_from_db()
    known.o11.refresh_from_db()
    assert known.o7.assignee is None  # its assignment was rolled back with the refused decision
    assert known.o11.assignee == officer


@pytest.mark.parametrize(
    "form, message",
    [
        ({"officer": "OFFICER"}, "Tick the issues to assign"),
        ({"issue": ["x", "", "1" * 40], "officer": "OFFICER"}, "Tick the issues to assign"),
        ({"issue": ["O7"]}, "Choose an officer to assign"),
        ({"issue": ["O7"], "officer": "9" * 40}, "Choose an officer to assign"),
        ({"issue": ["O7"], "officer": "not-a-number"}, "Choose an officer to assign"),
        ({"issue": ["O7"], "officer": "²"}, "Choose an officer to assign"),  # a digit int() refuses
        ({"issue": ["³"], "officer": "OFFICER"}, "Tick the issues to assign"),
    ],
)
def test_assign_ticked_with_bad_input_says_so_and_changes_nothing(client, boss, known, form, message):
    client.force_login(boss)
    officer = factories.officer()
    data = {
        key: [known.o7.pk if v == "O7" else v for v in value]
        if isinstance(value, list)
        else (officer.pk if value == "OFFICER" else value)
        for key, value in form.items()
    }
    decided = Escalation.objects.filter(decided_at__isnull=False).count()
    response = client.post("/dashboard/decisions/assign/", data)
    assert response.status_code == 302
    assert message in " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert Escalation.objects.filter(decided_at__isnull=False).count() == decided
    assert not Event.objects.filter(actor=boss).exists()
    known.o7.refresh_from_db()
    assert known.o7.needs_decision is True and known.o7.assignee is None


def test_assign_ticked_is_for_supervisors_and_posts_only(client, known):
    client.force_login(known.officer)
    assert client.post("/dashboard/decisions/assign/", {"issue": [known.o7.pk]}).status_code == 403
    known.o7.refresh_from_db()
    assert known.o7.needs_decision is True
    client.force_login(factories.supervisor())
    assert client.get("/dashboard/decisions/assign/").status_code == 405
