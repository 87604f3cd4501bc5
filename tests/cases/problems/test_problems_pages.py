"""/problems/ pages: the list by stage, opening one (also from an issue), a Problem's page, its actions."""

import re
from datetime import timedelta

import pytest
from django.template.defaultfilters import date as date_filter
from django.utils import timezone

from cases.models import Event, Problem, ProblemEvent
from cases.services import problem_open
from tests import factories

pytestmark = pytest.mark.django_db
Stage = Problem.Stage


@pytest.fixture
def problem(supervisor, neighborhood, category):
    issues = [factories.IssueFactory(neighborhood=neighborhood, category=category) for _ in range(2)]
    return problem_open(title="Tags along Prospect Ave", actor=supervisor, issues=issues)


def test_pages_need_a_staff_login(client, problem):
    for url in ("/problems/", f"/problems/{problem.pk}/", "/problems/new/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_officers_view_and_contribute_supervisors_lead(client, officer, problem):
    client.force_login(officer)
    assert client.get("/problems/").status_code == 200
    page = client.get(f"/problems/{problem.pk}/").content.decode()
    assert "analysis-form" in page and "note-form" in page
    assert "advance-form" not in page and "close-form" not in page
    assert client.get("/problems/new/").status_code == 403
    for action in ("advance", "move", "close", "add-issues", "remove-issue", "owner"):
        assert (
            client.post(f"/problems/{problem.pk}/{action}/", {"outcome": "reduced", "to": "analysis"}).status_code
            == 403
        )
    problem.refresh_from_db()
    assert problem.stage == Stage.SCANNING
    response = client.post(f"/problems/{problem.pk}/note/", {"text": "Talked to the store owner"})
    assert response.status_code == 302
    assert problem.events.get(kind=ProblemEvent.Kind.NOTE).actor == officer
    response = client.post(f"/problems/{problem.pk}/analysis/", {"place": "Back wall of the laundromat"})
    problem.refresh_from_db()
    assert problem.analysis_place == "Back wall of the laundromat"


def test_list_by_stage_with_counts_and_filters(client, supervisor, neighborhood, category, problem):
    elsewhere = factories.NeighborhoodFactory(district="North")
    factories.ProblemFactory(title="Abandoned cars", stage=Stage.ANALYSIS, neighborhood=elsewhere)
    factories.ProblemFactory(title="Old closed one", stage=Stage.CLOSED, closed_at=timezone.now())
    client.force_login(supervisor)
    html = client.get("/problems/?area=city").content.decode()
    assert "Tags along Prospect Ave" in html and "Abandoned cars" in html and "Old closed one" not in html
    assert re.search(r'data-stage-tab="active"[^>]*>Active <span class="badge">2<', html)
    assert re.search(r'data-stage-tab="closed"[^>]*>Closed <span class="badge">1<', html)
    html = client.get("/problems/?area=city&stage=analysis").content.decode()
    assert "Abandoned cars" in html and "Tags along" not in html
    html = client.get("/problems/?stage=closed").content.decode()
    assert "Old closed one" in html
    html = client.get("/problems/?stage=active&district=North").content.decode()
    assert "Abandoned cars" in html and "Tags along" not in html
    html = client.get("/problems/?stage=&q=prospect").content.decode()
    assert "Tags along" in html and "Old closed one" not in html
    # Nonsense filters: a message beside the field, never a 500.
    assert client.get("/problems/?stage=bogus&neighborhood=x").status_code == 200


def test_pages_walk_every_problem_in_stage_order_and_say_how_many(client, supervisor, neighborhood, monkeypatch):
    """A page's rows are read by the ids of its place in the order; its total is the stage tabs' figure."""
    monkeypatch.setattr("cases.problems.views.PAGE_SIZE", 3)
    now = timezone.now()
    made = []
    for i, stage in enumerate([Stage.RESPONSE, Stage.SCANNING, Stage.ANALYSIS, Stage.SCANNING, Stage.ASSESSMENT] * 2):
        made.append(factories.ProblemFactory(title=f"P{i:02d}", stage=stage, neighborhood=neighborhood))
        Problem.objects.filter(pk=made[-1].pk).update(created_at=now - timedelta(hours=i))
    factories.ProblemFactory(title="Closed one", stage=Stage.CLOSED, closed_at=now, neighborhood=neighborhood)
    rank = {stage: i for i, stage in enumerate([Stage.SCANNING, Stage.ANALYSIS, Stage.RESPONSE, Stage.ASSESSMENT])}
    expected = [p.title for p in sorted(made, key=lambda p: (rank[p.stage], int(p.title[1:])))]
    client.force_login(supervisor)
    shown = []
    for number in (1, 2, 3, 4):
        html = client.get(f"/problems/?page={number}").content.decode()
        assert "10 problems" in html and f"Page {number} of 4" in html
        shown += re.findall(r">(P\d\d)</a>", html)
    assert shown == expected
    html = client.get("/problems/?stage=scanning&page=2").content.decode()
    assert "4 problems" in html and re.findall(r">(P\d\d)</a>", html) == expected[3:4]
    html = client.get("/problems/?stage=bogus").content.decode()
    said = int(re.search(r"(\d+) problems?<", html).group(1))
    assert len(re.findall(r">(P\d\d|Closed one)</a>", html)) == min(3, said)


def test_list_query_count_is_fixed(client, supervisor, neighborhood, django_assert_max_num_queries):
    client.force_login(supervisor)
    factories.ProblemFactory(neighborhood=neighborhood)
    with django_assert_max_num_queries(12) as small:
        client.get("/problems/")
    for _ in range(25):
        p = factories.ProblemFactory(neighborhood=neighborhood, owner=supervisor)
        factories.IssueFactory(neighborhood=neighborhood, problem=p)
    with django_assert_max_num_queries(12) as large:
        client.get("/problems/")
    assert len(small.captured_queries) == len(large.captured_queries)
    with django_assert_max_num_queries(12) as city:
        client.get("/problems/?area=city")
    assert len(city.captured_queries) == len(large.captured_queries)


def test_open_from_an_issue(client, supervisor, neighborhood, category):
    issue = factories.IssueFactory(neighborhood=neighborhood, category=category)
    client.force_login(supervisor)
    form = client.get(f"/problems/new/?issue={issue.pk}").content.decode()
    assert issue.tracking_code in form
    assert f"{category.name} in {neighborhood.name}" in form
    response = client.post(
        "/problems/new/",
        {"title": "Repeat tags", "issues": f" {issue.tracking_code.lower()}, ", "note": "Third time"},
    )
    problem = Problem.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/problems/{problem.pk}/"
    assert (problem.category, problem.neighborhood, problem.owner) == (category, neighborhood, supervisor)
    issue.refresh_from_db()
    assert issue.problem == problem
    assert Event.objects.filter(issue=issue, kind=Event.Kind.PROBLEM).exists()


def test_open_with_bad_input_saves_nothing(client, supervisor):
    client.force_login(supervisor)
    response = client.post("/problems/new/", {"title": "", "issues": "CG-ZZZZ-ZZZZ 12-34"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "This field is required." in html
    assert "Not a tracking code: 12-34" in html
    response = client.post("/problems/new/", {"title": "x", "issues": "CG-ZZZZ-ZZZZ"})
    assert "No issue has the code CG-ZZZZ-ZZZZ." in response.content.decode()
    assert not Problem.objects.exists()


def test_detail_shows_issues_map_analysis_response_assessment_timeline(
    client, supervisor, problem, neighborhood, category
):
    partner = factories.PartnerFactory(name="Westside Youth League")
    problem.stage = Stage.RESPONSE
    problem.response_started_at = timezone.now() - timedelta(days=5)
    problem.approach = "problem_solve"
    problem.response_plan = "Mural with the youth league"
    problem.analysis_why = "Blank wall, no lighting"
    problem.save()
    problem.partners.add(partner)
    activity = factories.ActivityFactory(neighborhood=neighborhood, problem=problem, title="Mural day")
    client.force_login(supervisor)
    response = client.get(f"/problems/{problem.pk}/")
    html = response.content.decode()
    for issue in problem.issues.all():
        assert issue.tracking_code in html
    assert 'id="problem-map"' in html and '"points": [{"lat"' in html
    assert "Blank wall, no lighting" in html and "Mural with the youth league" in html
    assert "Westside Youth League" in html and activity.title in html
    assert 'data-assessment="before"' in html and 'aria-current="step">3. Response' in html
    assert "Opened" in html and "Issue added" in html


def test_stage_moves_issue_changes_and_close_go_into_the_timeline(client, supervisor, problem, neighborhood, category):
    client.force_login(supervisor)
    url = f"/problems/{problem.pk}"
    assert client.post(f"{url}/advance/", {"note": "Pattern confirmed"}).status_code == 302
    problem.refresh_from_db()
    assert problem.stage == Stage.ANALYSIS
    # The gate refuses Response without an analysis: message on the page, nothing saved.
    response = client.post(f"{url}/advance/")
    assert response.status_code == 400 and "Write the analysis" in response.content.decode()
    problem.refresh_from_db()
    assert problem.stage == Stage.ANALYSIS

    candidate = factories.IssueFactory(neighborhood=neighborhood, category=category)
    page = client.get(f"{url}/").content.decode()
    assert candidate.tracking_code in page  # suggested: same kind, same place, not grouped yet
    client.post(f"{url}/add-issues/", {"candidates": [candidate.pk]})
    candidate.refresh_from_db()
    assert candidate.problem == problem
    first = problem.issues.order_by("id").first()
    client.post(f"{url}/remove-issue/", {"issue": first.pk, "reason": "Other block"})
    first.refresh_from_db()
    assert first.problem is None
    response = client.post(f"{url}/add-issues/", {"codes": "CG-NOPE-NOPE"})
    assert response.status_code == 400

    response = client.post(f"{url}/close/", {"outcome": "", "note": "?"})
    assert response.status_code == 400
    client.post(f"{url}/close/", {"outcome": "reduced", "note": "Half the reports"})
    problem.refresh_from_db()
    assert problem.stage == Stage.CLOSED and problem.outcome == "reduced"
    assert list(problem.events.order_by("id").values_list("kind", flat=True)) == [
        "opened",
        "issue_added",
        "stage",
        "issue_added",
        "issue_removed",
        "closed",
    ]
    html = client.get(f"{url}/").content.decode()
    assert "Problem reduced" in html and "advance-form" not in html and "analysis-form" not in html
    assert client.post(f"{url}/analysis/", {"place": "late"}).status_code == 400  # closed: no more edits
    assert client.post(f"{url}/note/", {"text": "Still quiet a month on"}).status_code == 302  # follow-up


def test_unknown_action_and_missing_problem(client, supervisor, problem):
    client.force_login(supervisor)
    assert client.post(f"/problems/{problem.pk}/explode/").status_code == 404
    assert client.get("/problems/999999/").status_code == 404


def test_detail_query_count_is_fixed(
    client, supervisor, problem, neighborhood, category, django_assert_max_num_queries
):
    problem.stage = Stage.RESPONSE
    problem.response_started_at = timezone.now() - timedelta(days=3)
    problem.save()
    client.force_login(supervisor)
    with django_assert_max_num_queries(20) as small:
        assert client.get(f"/problems/{problem.pk}/").status_code == 200
    for _ in range(20):
        factories.IssueFactory(neighborhood=neighborhood, category=category, problem=problem)
        factories.IssueFactory(neighborhood=neighborhood, category=category)  # candidates
        factories.ActivityFactory(neighborhood=neighborhood, problem=problem)
        ProblemEvent.objects.create(problem=problem, kind="note", message="n", created_at=timezone.now())
        problem.partners.add(factories.PartnerFactory())
    with django_assert_max_num_queries(20) as large:
        assert client.get(f"/problems/{problem.pk}/").status_code == 200
    assert len(small.captured_queries) == len(large.captured_queries)


def test_list_rows_say_each_problem_escaped(client, supervisor, neighborhood, category):
    """The rows are written in Python (cases/web/staff/cards.py): every value escaped, "—" where one is missing."""
    supervisor.first_name, supervisor.last_name = "Pat", "O'Neil"
    supervisor.save()
    full = factories.ProblemFactory(
        title="Tags <b>&</b> more",
        stage=Stage.CLOSED,
        outcome="reduced",
        closed_at=timezone.now(),
        source="hotspot",
        category=category,
        neighborhood=neighborhood,
        owner=supervisor,
    )
    factories.IssueFactory(neighborhood=neighborhood, category=category, problem=full)
    factories.IssueFactory(neighborhood=neighborhood, category=category, problem=full, status="resolved")
    bare = factories.ProblemFactory(title="Bare", stage=Stage.SCANNING, category=None, neighborhood=None, owner=None)
    client.force_login(supervisor)
    html = client.get("/problems/?stage=").content.decode()
    row = re.search(rf'<tr data-problem="{full.pk}">(.*?)</tr>', html, re.S).group(1)
    cells = [c.strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    badge = '<span class="badge warn">Hot spot detected</span>'
    assert cells[0] == f'<a href="/problems/{full.pk}/">Tags &lt;b&gt;&amp;&lt;/b&gt; more</a> {badge}'
    assert cells[1] == 'Closed<br><span class="muted">Problem reduced</span>'
    assert cells[2:6] == [category.name, neighborhood.name, "Pat O&#x27;Neil", "1 / 2"]
    assert cells[6] == date_filter(timezone.localtime(full.created_at), "DATE_FORMAT")
    bare_row = re.search(rf'<tr data-problem="{bare.pk}">(.*?)</tr>', html, re.S).group(1)
    assert [c.strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", bare_row, re.S)][1:6] == [
        "Scanning",
        "—",
        "—",
        "—",
        "0 / 0",
    ]
    empty = client.get("/problems/?q=nothing-like-this").content.decode()
    assert '<td colspan="7" class="muted">No problems match.</td>' in empty
