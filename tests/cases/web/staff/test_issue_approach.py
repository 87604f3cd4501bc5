"""The issue page says which approach was chosen — deter, problem-solve or enforce — and what it
means, in the reader's language; "not chosen yet" when none is (issue 19, item 7)."""

import re

import pytest

from cases.models import Approach
from partners.models import StaffProfile
from tests import factories

pytestmark = pytest.mark.django_db

MEANINGS = {
    "en": {
        Approach.DETER: ("Deter", "Prevent it by being seen"),
        Approach.PROBLEM_SOLVE: ("Problem-solve", "Fix the cause with partners and residents"),
        Approach.ENFORCE: ("Enforce", "Use the law: citations, tows"),
    },
    "es": {
        Approach.DETER: ("Disuadir", "Prevenirlo con presencia"),
        Approach.PROBLEM_SOLVE: ("Resolver el problema", "Atacar la causa con socios y vecinos"),
        Approach.ENFORCE: ("Hacer cumplir la ley", "Aplicar la ley: multas, grúas"),
    },
}
NOT_CHOSEN = {
    "en": ("not chosen yet", "Deter, problem-solve or enforce: choose one under Actions."),
    "es": ("aún sin elegir", "Disuadir, resolver el problema o hacer cumplir la ley: elija uno en Acciones."),
}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _fact(client, issue) -> str:
    """The approach's entry in the issue's facts, tags removed and spaces folded."""
    html = client.get(f"/issues/{issue.pk}/").content.decode()
    found = re.search(r'<dd class="approach-fact" data-testid="issue-approach"[^>]*>(.*?)</dd>', html, re.S)
    assert found, "the facts hold the approach"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def _speaks(user, language):
    StaffProfile.objects.filter(user=user).update(language=language)


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("approach", Approach.values)
def test_the_chosen_approach_and_what_it_means(client, officer, neighborhood, category, language, approach):
    _speaks(officer, language)
    issue = factories.IssueFactory(neighborhood=neighborhood, category=category, approach=approach)
    client.force_login(officer)
    fact = _fact(client, issue)
    name, meaning = MEANINGS[language][approach]
    assert fact.startswith(name + " ") and meaning in fact
    others = [n for code, (n, _) in MEANINGS[language].items() if code != approach]
    assert not any(other in fact for other in others)
    assert NOT_CHOSEN[language][0] not in fact


@pytest.mark.parametrize("language", ["en", "es"])
def test_no_approach_yet_says_so_and_where_to_choose_it(client, officer, neighborhood, category, language):
    _speaks(officer, language)
    issue = factories.IssueFactory(neighborhood=neighborhood, category=category, approach="")
    client.force_login(officer)
    assert _fact(client, issue) == " ".join(NOT_CHOSEN[language])
    # The form that changes it is still there and still works.
    response = client.post(f"/issues/{issue.pk}/approach/", {"approach": Approach.ENFORCE})
    assert response.status_code == 302
    assert _fact(client, issue).startswith(MEANINGS[language][Approach.ENFORCE][0] + " ")


def test_no_hint_to_choose_where_it_cannot_be_chosen(client, officer, other_officer, neighborhood, category):
    """A finished issue, or a reader who may not act on it: "not chosen yet", without pointing at a form."""
    resolved = factories.IssueFactory(neighborhood=neighborhood, category=category, approach="", status="resolved")
    client.force_login(officer)
    assert _fact(client, resolved) == "not chosen yet"
    open_issue = factories.IssueFactory(neighborhood=neighborhood, category=category, approach="")
    client.force_login(other_officer)
    assert _fact(client, open_issue) == "not chosen yet"  # staff elsewhere read it, without acting on it
