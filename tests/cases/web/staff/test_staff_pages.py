"""/queue/, /issues/ (filters, search, pagination), /issues/search/ JSON, and fixed query counts."""

import html
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from cases import services
from cases.models import Report, ResponseTemplate
from tests import factories


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness is not under test here; users are created in every test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _codes(response):
    return [issue.tracking_code for issue in response.context["page"].object_list]


def _issue(neighborhood, category, **kwargs):
    return factories.IssueFactory(neighborhood=neighborhood, category=category, **kwargs)


# --- my queue -----------------------------------------------------------------------------


def test_queue_holds_mine_and_unassigned_here_by_due_time(client, officer, other_officer, neighborhood, category):
    elsewhere = factories.NeighborhoodFactory()
    now = timezone.now()
    later = _issue(neighborhood, category, due_at=now + timedelta(hours=50))
    sooner = _issue(neighborhood, category, due_at=now + timedelta(hours=5))
    mine_elsewhere = _issue(elsewhere, category, assignee=officer, due_at=now + timedelta(hours=20))
    colleagues = _issue(neighborhood, category, assignee=other_officer)
    unassigned_elsewhere = _issue(elsewhere, category)
    finished = _issue(neighborhood, category, assignee=officer)
    services.issue_resolve(issue=finished, actor=officer, note="Done")

    client.force_login(officer)
    response = client.get("/queue/")

    assert response.status_code == 200
    assert _codes(response) == [sooner.tracking_code, mine_elsewhere.tracking_code, later.tracking_code]
    body = response.content.decode()
    for absent in (colleagues, unassigned_elsewhere, finished):
        assert absent.tracking_code not in body
    assert _checked_summary(response) == {"total": 3, "overdue": 0, "escalated": 0, "mine": 1}


def test_queue_marks_overdue_and_escalated(client, officer, neighborhood, category):
    created = timezone.now() - timedelta(hours=100)
    overdue = _issue(neighborhood, category, created_at=created, due_at=created + timedelta(hours=72))
    escalated = _issue(neighborhood, category, escalation_level=2)
    calm = _issue(neighborhood, category)
    held = _issue(neighborhood, category, created_at=created, due_at=created + timedelta(hours=72))
    services.issue_hold(issue=held, actor=officer, reason="Waiting")  # clock stopped: not overdue

    client.force_login(officer)
    response = client.get("/queue/")
    cards = {issue.tracking_code: issue for issue in response.context["page"].object_list}
    assert cards[overdue.tracking_code].is_overdue
    assert not cards[held.tracking_code].is_overdue
    assert not cards[calm.tracking_code].is_overdue
    body = response.content.decode()
    body = body[body.index('<ul class="issue-cards">') :]

    def card(code):
        start = body.index(code)
        return body[start : body.index("</li>", start)]

    assert "Overdue" in card(overdue.tracking_code)
    assert "Escalated L2" in card(escalated.tracking_code)
    assert "Overdue" not in card(calm.tracking_code) and "Escalated" not in card(calm.tracking_code)
    assert "Overdue" not in card(held.tracking_code)
    assert _checked_summary(response)["overdue"] == 1
    assert _checked_summary(response)["escalated"] == 1
    points = {point["code"]: point for point in response.context["map_points"]}
    assert points[overdue.tracking_code]["overdue"] is True
    assert points[calm.tracking_code] == {
        "lat": calm.lat,
        "lng": calm.lng,
        "code": calm.tracking_code,
        "label": f"{calm.tracking_code} · {calm.category.name}",
        "url": f"/issues/{calm.pk}/",
        "overdue": False,
    }


def _checked_summary(response) -> dict:
    """The queue's figures as numbers (each is counted up to a cap; these tests stay below it)."""
    summary = response.context["summary"]
    assert all(figure["exact"] for figure in summary.values())
    return {name: figure["n"] for name, figure in summary.items()}


def _link(response, rel: str) -> str | None:
    """The href of the page's rel="next" / rel="prev" link (unescaped), or None."""
    match = re.search(rf'rel="{rel}" href="([^"]+)"', response.content.decode())
    return html.unescape(match.group(1)) if match else None


def test_queue_paginates(client, officer, neighborhood, category):
    now = timezone.now()
    issues = [_issue(neighborhood, category, due_at=now + timedelta(hours=i + 1)) for i in range(27)]
    client.force_login(officer)
    first = client.get("/queue/")
    assert _codes(first) == [issue.tracking_code for issue in issues[:25]]
    assert _link(first, "prev") is None
    second = client.get("/queue/" + _link(first, "next"))
    assert _codes(second) == [issue.tracking_code for issue in issues[25:]]
    assert _link(second, "next") is None
    assert second.context["page"].start_index == 26 and "26–27" in second.content.decode()
    back = client.get("/queue/" + _link(second, "prev"))
    assert _codes(back) == _codes(first)
    # An edited cursor shows the first page, not an error.
    assert _codes(client.get("/queue/?after=not-a-cursor")) == _codes(first)


def test_queue_figures_are_counted_up_to_a_cap(client, officer, neighborhood, category, monkeypatch):
    for _ in range(4):
        _issue(neighborhood, category)
    monkeypatch.setattr("cases.selectors.staff.COUNT_CAP", 3)
    client.force_login(officer)
    response = client.get("/queue/")
    assert response.context["summary"]["total"] == {"n": 3, "exact": False}
    assert response.context["summary"]["mine"] == {"n": 0, "exact": True}
    assert ">3+</div>" in response.content.decode()


# --- the list and its filters -------------------------------------------------------------


@pytest.fixture
def varied(officer, other_officer, neighborhood, category):
    """A spread of issues over every filter dimension."""
    other_category = factories.CategoryFactory(name_en="Abandoned vehicle")
    other_place = factories.NeighborhoodFactory(name="Westside")
    created = timezone.now() - timedelta(hours=200)
    issues = {
        "plain": _issue(neighborhood, category, description="Tags on the laundromat wall"),
        "mine": _issue(neighborhood, category, assignee=officer, description="Broken glass at the bus stop"),
        "colleague": _issue(other_place, other_category, assignee=other_officer, description="Old sedan, no plates"),
        "urgent": _issue(neighborhood, category, priority="urgent", description="Needles in the park"),
        "overdue": _issue(
            other_place, category, created_at=created, due_at=created + timedelta(hours=72), description="Old mural"
        ),
        "escalated": _issue(neighborhood, other_category, escalation_level=2, description="Van on blocks"),
        "resolved": _issue(neighborhood, category, address="1200 Grand Blvd", description="Graffiti on mailbox"),
    }
    services.issue_resolve(issue=issues["resolved"], actor=officer, note="Cleaned")
    issues["other_category"] = other_category
    issues["other_place"] = other_place
    return issues


def _checked_filtered(client, query):
    # The filters over the whole city: the list opens on the officer's own area (test_area.py).
    response = client.get(f"/issues/?area=city&{query}")
    assert response.status_code == 200
    return set(_codes(response))


def _set(varied, *names):
    return {varied[name].tracking_code for name in names}


ALL = ("plain", "mine", "colleague", "urgent", "overdue", "escalated", "resolved")


def test_list_filters(client, officer, other_officer, neighborhood, category, varied):
    client.force_login(officer)
    assert _checked_filtered(client, "") == _set(varied, *ALL)
    assert _checked_filtered(client, "status=resolved") == _set(varied, "resolved")
    assert _checked_filtered(client, "status=finished") == _set(varied, "resolved")
    assert _checked_filtered(client, "status=open") == _set(varied, *[n for n in ALL if n != "resolved"])
    assert _checked_filtered(client, f"category={varied['other_category'].pk}") == _set(
        varied, "colleague", "escalated"
    )
    assert _checked_filtered(client, f"neighborhood={varied['other_place'].pk}") == _set(varied, "colleague", "overdue")
    assert _checked_filtered(client, "priority=urgent") == _set(varied, "urgent")
    assert _checked_filtered(client, "overdue=yes") == _set(varied, "overdue")
    assert _checked_filtered(client, "overdue=no") == _set(varied, *[n for n in ALL if n != "overdue"])
    assert _checked_filtered(client, "escalation=1") == _set(varied, "escalated")
    assert _checked_filtered(client, "escalation=3") == set()
    assert _checked_filtered(client, "escalation=0") == _set(varied, *[n for n in ALL if n != "escalated"])
    assert _checked_filtered(client, "assignee=me") == _set(varied, "mine")
    assert _checked_filtered(client, f"assignee={other_officer.pk}") == _set(varied, "colleague")
    assert _checked_filtered(client, "assignee=unassigned") == _set(
        varied, "plain", "urgent", "overdue", "escalated", "resolved"
    )
    # Filters combine.
    assert _checked_filtered(client, f"status=open&neighborhood={neighborhood.pk}&category={category.pk}") == _set(
        varied, "plain", "mine", "urgent"
    )


def test_list_search_by_text_address_and_tracking_code(client, officer, varied):
    client.force_login(officer)
    assert _checked_filtered(client, "q=laundromat") == _set(varied, "plain")
    assert _checked_filtered(client, "q=grand+blvd") == _set(varied, "resolved")
    code = varied["urgent"].tracking_code  # CG-ABCD-2345
    assert _checked_filtered(client, f"q={code}") == _set(varied, "urgent")
    assert _checked_filtered(client, f"q={code.lower()}") == _set(varied, "urgent")
    assert _checked_filtered(client, f"q={code[3:].replace('-', '')}") == _set(
        varied, "urgent"
    )  # typed without CG- or dash
    assert _checked_filtered(client, "q=nothing-like-this") == set()


def test_a_search_with_a_house_number_needs_every_word_as_any_search_does(client, officer, neighborhood, category):
    """The number is looked up in the index and the street checked on the rows it finds
    (cases.search.indexed_words): the answer is what a search of every word gives."""
    wanted = {
        _issue(neighborhood, category, address="4711 Main St").tracking_code,
        _issue(neighborhood, category, address="14711 Main St").tracking_code,  # a word is found inside another
        _issue(neighborhood, category, address="Oak St", description="Tags on 4711 main door").tracking_code,
    }
    _issue(neighborhood, category, address="4711 Oak St")
    _issue(neighborhood, category, address="12 Main St")
    client.force_login(officer)
    assert set(_codes(client.get("/issues/?q=4711+main"))) == wanted
    assert set(_codes(client.get("/issues/?q=MAIN+4711"))) == wanted


def test_list_bad_filter_values_are_reported_and_ignored(client, officer, varied):
    client.force_login(officer)
    response = client.get("/issues/?status=bogus&category=999999&priority=urgent")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Select a valid choice" in body
    # The valid filter still applies; the invalid ones are ignored, not a 500.
    assert set(_codes(response)) == _set(varied, "urgent")


def test_list_paginates_and_keeps_filters(client, officer, neighborhood, category):
    for _ in range(30):
        _issue(neighborhood, category, priority="high")
    _issue(neighborhood, category, priority="low")
    client.force_login(officer)
    first = client.get("/issues/?priority=high")
    assert first.context["page"].count == 30 and first.context["page"].count_is_exact
    assert "30 issues" in first.content.decode()
    next_link = _link(first, "next")
    assert next_link.startswith("?priority=high&after=")
    second = client.get("/issues/" + next_link)
    assert len(second.context["page"].object_list) == 5
    assert not set(_codes(first)) & set(_codes(second))
    assert {i.priority for i in second.context["page"].object_list} == {"high"}


def test_list_count_is_capped(client, officer, neighborhood, category, monkeypatch):
    for _ in range(5):
        _issue(neighborhood, category)
    monkeypatch.setattr("core.pagination.COUNT_CAP", 4)
    monkeypatch.setattr("cases.web.staff.views.PAGE_SIZE", 2)
    client.force_login(officer)
    response = client.get("/issues/")
    assert (response.context["page"].count, response.context["page"].count_is_exact) == (4, False)
    body = response.content.decode()
    assert "More than 4 issues" in body and "1–2 of more than 4" in body


# --- search-as-you-type JSON ----------------------------------------------------------------


def test_issue_search_json(client, officer, neighborhood, category):
    wanted = _issue(neighborhood, category, description="Streetlight out on 5th", address="500 5th St")
    done = _issue(neighborhood, category, description="Streetlight flickering")
    services.issue_resolve(issue=done, actor=officer, note="Fixed")
    factories.ReportFactory(issue=wanted, reporter_name="Ana Ruiz", reporter_email="ana@example.org")
    client.force_login(officer)

    data = client.get("/issues/search/?q=streetlight").json()
    assert [r["tracking_code"] for r in data["results"]] == [wanted.tracking_code, done.tracking_code]  # open first
    first = data["results"][0]
    assert first == {
        "id": wanted.pk,
        "tracking_code": wanted.tracking_code,
        "label": f"{wanted.tracking_code} · {category.name} · {neighborhood.name}",
        "category": category.name,
        "neighborhood": neighborhood.name,
        "status": "new",
        "status_display": "New",
        "address": "500 5th St",
        "description": "Streetlight out on 5th",
        "url": f"/issues/{wanted.pk}/",
    }
    raw = client.get("/issues/search/?q=streetlight").content.decode()
    assert "Ana Ruiz" not in raw and "ana@example.org" not in raw

    assert [r["id"] for r in client.get("/issues/search/?q=streetlight&open=1").json()["results"]] == [wanted.pk]
    assert client.get(f"/issues/search/?q={done.tracking_code.lower()}").json()["results"][0]["id"] == done.pk
    assert client.get("/issues/search/?q=").json() == {"results": []}
    assert len(client.get("/issues/search/?q=streetlight&limit=1").json()["results"]) == 1
    assert client.get("/issues/search/?q=streetlight&limit=abc").status_code == 200


# --- fixed query counts -----------------------------------------------------------------------


def _populate(size, officer, neighborhood, category):
    """``size`` issues (half mine), the first with ``size`` reports (with contacts) and notes."""
    colleague = factories.officer(neighborhoods=[neighborhood])
    problem = factories.ProblemFactory()
    issues = []
    for i in range(size):
        issue = _issue(
            neighborhood,
            category,
            assignee=officer if i % 2 else None,
            escalation_level=i % 3,
            problem=problem if i % 4 == 0 else None,
        )
        issues.append(issue)
    first = issues[0]
    for i in range(size):
        factories.ReportFactory(issue=first, reporter_email=f"r{i}@example.org")
        services.issue_add_note(issue=first, actor=officer if i % 2 else colleague, text=f"note {i}")
    for dup in issues[1 : 1 + size // 5]:
        services.issue_mark_duplicate(issue=dup, of=first, actor=officer)
    # Response templates for the page's note, resolve and hold forms (read in one query).
    for i in range(size // 4 + 1):
        for status in ("new", "resolved", "on_hold"):
            ResponseTemplate.objects.create(
                name=f"{status} {i}",
                category=category if i % 2 else None,
                status=status,
                text_en="About {category} in {neighborhood}, due {due}",
                text_es="Sobre {category} en {neighborhood}, para {due}",
            )
    return first


# The pins: the same number of queries whether the page has a few rows or many.
PAGE_QUERIES = {
    "/queue/": 10,
    "/issues/": 10,
    "/issues/?area=city": 10,
    "/issues/?status=open&assignee=me&q=laundromat&overdue=no&escalation=0&priority=normal": 10,
    "/issues/{pk}/": 12,
    "/issues/search/?q=laund": 5,
}


@pytest.mark.parametrize("size", [3, 40])
@pytest.mark.parametrize("path", list(PAGE_QUERIES))
def test_pages_run_a_fixed_number_of_queries(
    client, officer, neighborhood, category, django_assert_max_num_queries, size, path
):
    first = _populate(size, officer, neighborhood, category)
    client.force_login(officer)
    url = path.format(pk=first.pk)
    with django_assert_max_num_queries(PAGE_QUERIES[path]):
        response = client.get(url)
    assert response.status_code == 200
    if "{pk}" in path:
        body = response.content.decode()
        assert body.count('class="report"') == Report.objects.filter(issue=first).count() >= size
        assert body.count('<option value="') >= 3 * (size // 4 + 1)  # every template offered


@pytest.mark.parametrize("size", [3, 40])
def test_revealing_contacts_runs_a_fixed_number_of_queries(
    client, officer, neighborhood, category, django_assert_max_num_queries, size
):
    """The reveal (a POST with a reason since the audit log) answers the page with the details."""
    first = _populate(size, officer, neighborhood, category)
    client.force_login(officer)
    # The page's own, plus the reveal's savepoint, insert and release.
    with django_assert_max_num_queries(PAGE_QUERIES["/issues/{pk}/"] + 3):
        response = client.post(f"/issues/{first.pk}/contacts/", {"reason_code": "follow_up_visit"})
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('data-testid="contact"') == Report.objects.filter(issue=first).count() >= size
