"""Problems and outreach link both ways: an issue page opens a Problem, a Problem page logs outreach for it."""

import pytest

from tests.factories import IssueFactory, ProblemFactory

pytestmark = pytest.mark.django_db


def test_supervisor_sees_open_problem_link_on_an_issue(client, supervisor, neighborhood):
    issue = IssueFactory(neighborhood=neighborhood)
    client.force_login(supervisor)
    body = client.get(f"/issues/{issue.pk}/").content.decode()
    assert f'href="/problems/new/?issue={issue.pk}"' in body


def test_officer_does_not_get_the_open_problem_link(client, officer, neighborhood):
    issue = IssueFactory(neighborhood=neighborhood)
    client.force_login(officer)
    body = client.get(f"/issues/{issue.pk}/").content.decode()
    assert "/problems/new/" not in body


def test_outreach_form_opened_from_a_problem_is_tied_to_it(client, officer, neighborhood):
    problem = ProblemFactory(neighborhood=neighborhood)
    client.force_login(officer)
    response = client.get(f"/outreach/new/?problem={problem.pk}")
    form = response.context["form"]
    assert form.initial["problem"] == problem.pk
    assert form.initial["neighborhood"] == neighborhood.pk


@pytest.mark.parametrize("junk", ["abc", "-1", "999999", "1%00"])
def test_outreach_form_ignores_a_bad_problem_id(client, officer, junk):
    client.force_login(officer)
    response = client.get("/outreach/new/", {"problem": junk})
    assert response.status_code == 200
    assert "problem" not in response.context["form"].initial
