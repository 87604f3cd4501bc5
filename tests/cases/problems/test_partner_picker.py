"""A Problem's partners are picked with the outreach form's search widget (issue 19, item 7): the
same field (partners.forms.PartnersField), the same script (static/js/picker.js) and the same
search (/partners/search/). Without JavaScript the field is a list that posts the same data."""

import re

import pytest

from cases.models import Problem, ProblemEvent
from cases.services import problem_open
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def problem(supervisor, neighborhood, category):
    issues = [factories.IssueFactory(neighborhood=neighborhood, category=category)]
    problem = problem_open(title="Dumping behind the rec center", actor=supervisor, issues=issues)
    Problem.objects.filter(pk=problem.pk).update(stage=Problem.Stage.RESPONSE)
    return problem


def _select(html, name="partners"):
    found = re.search(rf'<select name="{name}"([^>]*)>(.*?)</select>', html, re.S)
    assert found, f"a <select name={name}>"
    return found.group(1), re.findall(r'<option value="(\d+)"( selected)?>([^<]*)</option>', found.group(2))


def test_the_problem_page_uses_the_outreach_forms_partner_widget(client, officer, problem):
    client.force_login(officer)
    problem_html = client.get(f"/problems/{problem.pk}/").content.decode()
    outreach_html = client.get("/outreach/new/").content.decode()
    problem_attrs, _ = _select(problem_html)
    outreach_attrs, _ = _select(outreach_html)
    for attrs in (problem_attrs, outreach_attrs):
        assert 'data-picker="remote"' in attrs and 'data-search-url="/partners/search/"' in attrs
        assert "multiple" in attrs
    # One script and one set of its words on both pages.
    for html in (problem_html, outreach_html):
        assert html.count("js/picker.js") == 1 and html.count('id="picker-text"') == 1
        assert '"noMatches": "No matches."' in html
    # The label names the field (the script moves it to the search box it adds).
    assert re.search(r'<label for="id_partners">Partners involved</label>', problem_html)
    assert client.get("/partners/search/?q=a").status_code == 200


def test_without_javascript_the_list_posts_the_partners(client, officer, problem):
    league = factories.PartnerFactory(name="Westside Youth League")
    centers = factories.PartnerFactory(name="Guadalupe Centers")
    factories.PartnerFactory(name="Closed bakery", is_active=False)
    client.force_login(officer)
    _, options = _select(client.get(f"/problems/{problem.pk}/").content.decode())
    assert [label for _, _, label in options] == ["Guadalupe Centers", "Westside Youth League"]  # active, by name
    data = {"approach": "problem_solve", "plan": "Mural", "partners": [league.pk, centers.pk]}
    response = client.post(f"/problems/{problem.pk}/response/", data)
    assert response.status_code == 302
    assert set(problem.partners.all()) == {league, centers}
    _, options = _select(client.get(f"/problems/{problem.pk}/").content.decode())
    assert {label for _, selected, label in options if selected} == {"Guadalupe Centers", "Westside Youth League"}
    event = problem.events.filter(kind=ProblemEvent.Kind.UPDATED).latest("id")
    assert sorted(event.data["partners_added"]) == sorted([league.pk, centers.pk])


def test_an_inactive_partner_already_named_stays_and_no_other_can_be_posted(client, officer, problem):
    league = factories.PartnerFactory(name="Westside Youth League")
    problem.partners.add(league)
    league.is_active = False
    league.save()
    closed = factories.PartnerFactory(name="Closed bakery", is_active=False)
    client.force_login(officer)
    _, options = _select(client.get(f"/problems/{problem.pk}/").content.decode())
    assert [(value, bool(selected)) for value, selected, _ in options] == [(str(league.pk), True)]
    # Saving the plan again keeps it.
    response = client.post(f"/problems/{problem.pk}/response/", {"plan": "Mural", "partners": [league.pk]})
    assert response.status_code == 302 and list(problem.partners.all()) == [league]
    # A partner that is inactive and not named here cannot be posted by hand: 400, nothing changed.
    response = client.post(f"/problems/{problem.pk}/response/", {"plan": "Other", "partners": [closed.pk]})
    assert response.status_code == 400
    problem.refresh_from_db()
    assert problem.response_plan == "Mural" and list(problem.partners.all()) == [league]


def test_supervisors_who_only_read_a_closed_problem_get_no_picker(client, supervisor, problem):
    Problem.objects.filter(pk=problem.pk).update(stage=Problem.Stage.CLOSED, closed_at=problem.created_at)
    client.force_login(supervisor)
    html = client.get(f"/problems/{problem.pk}/").content.decode()
    assert 'name="partners"' not in html and "js/picker.js" not in html
