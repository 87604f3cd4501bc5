"""List endpoints: filters, ordering, pagination with a maximum page size, and a
fixed number of queries whatever the page size (measured at two sizes)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import services
from cases.models import CategoryAttribute, Escalation, EscalationRule, Event, Issue, Notification
from partners.models import PartnerContact
from tests import factories
from tests.api.conftest import token_client

# --- query counts ------------------------------------------------------------------------


def _grow(kind, n, w):
    """Add ``n`` rows of everything a list of ``kind`` shows (with their relations)."""
    nb, cat, officer, sup = w["neighborhood"], w["category"], w["officer"], w["supervisor"]
    for i in range(n):
        if kind in ("issues", "reports", "escalations", "queue", "events"):
            issue = factories.IssueFactory(neighborhood=nb, category=cat, assignee=officer)
            factories.ReportFactory(issue=issue, reporter_email=f"r{i}@example.org")
            Escalation.objects.create(issue=issue, level=1, action="raise_priority", created_at=timezone.now())
            Escalation.objects.filter(issue=issue).update(decided_by=sup)
            factories.EventFactory(issue=w["issue"], actor=officer)
        elif kind == "categories":
            extra = factories.CategoryFactory()
            CategoryAttribute.objects.create(category=extra, code=f"q{i}", description_en="Which floor?")
        elif kind in ("neighborhoods", "geojson"):
            factories.NeighborhoodFactory()
        elif kind == "notifications":
            Notification.objects.create(user=officer, subject=f"N{i}", issue=w["issue"], created_at=timezone.now())
        elif kind == "partners":
            partner = factories.PartnerFactory()
            partner.neighborhoods.set([nb])
            PartnerContact.objects.create(partner=partner, name=f"Contact {i}", is_primary=True)
        elif kind == "staff":
            factories.officer(neighborhoods=[nb])
        elif kind == "activities":
            activity = factories.ActivityFactory(neighborhood=nb, created_by=officer)
            activity.officers.set([officer, sup])
            activity.partners.set([w["partner"]])
            activity.issues.set([w["issue"]])
        elif kind in ("problems", "problem_events"):
            issue = factories.IssueFactory(neighborhood=nb, category=cat)
            problem = services.problem_open(title=f"P{i}", actor=sup, issues=[issue])
            problem.partners.set([w["partner"]])
            services.problem_add_note(problem=w["problem"], actor=sup, text=f"Note {i}")


# Endpoint → its queries (token, permissions, count, rows, each prefetch), the same for 2 rows or 27.
LISTS = {
    "issues": ("/api/v1/issues/", 5),
    "queue": ("/api/v1/issues/queue/", 7),
    "events": ("/api/v1/issues/{issue}/events/", 6),
    "reports": ("/api/v1/reports/", 5),
    "escalations": ("/api/v1/escalations/", 5),
    "categories": ("/api/v1/categories/", 6),
    "neighborhoods": ("/api/v1/neighborhoods/", 3),
    "geojson": ("/api/v1/neighborhoods.geojson", 2),
    "notifications": ("/api/v1/notifications/", 5),
    "partners": ("/api/v1/partners/", 7),
    "staff": ("/api/v1/staff/", 7),
    "activities": ("/api/v1/activities/", 8),
    "problems": ("/api/v1/problems/", 6),
    "problem_events": ("/api/v1/problems/{problem}/events/", 7),
}


def _checked_queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(captured), response


@pytest.mark.parametrize("kind", list(LISTS))
def test_list_runs_a_fixed_number_of_queries(world, supervisor, django_assert_max_num_queries, kind):
    path, limit = LISTS[kind]
    url = path.format(**{k: getattr(v, "pk", v) for k, v in world.items()})
    url += ("&" if "?" in url else "?") + "page_size=200" if kind != "geojson" else ""
    client = token_client(supervisor if kind not in ("queue", "notifications") else world["officer"])
    _grow(kind, 2, world)
    small, first = _checked_queries(client, url)
    _grow(kind, 25, world)
    with django_assert_max_num_queries(limit):
        large, second = _checked_queries(client, url)
    rows = second.json()["features" if kind == "geojson" else "results"]
    assert len(rows) > len(first.json()["features" if kind == "geojson" else "results"]) + 20
    assert large == small, f"{kind}: {small} queries for a few rows, {large} for many"


# --- pagination ----------------------------------------------------------------------


def _walk(client, url: str, link: str = "next") -> list[list[int]]:
    """Every page's ids, following the answers' own links from ``url``."""
    pages = []
    while url:
        body = client.get(url).json()
        pages.append([row["id"] for row in body["results"]])
        url = body[link]
    return pages


def test_pagination_follows_cursors_both_ways(supervisor, neighborhood, category):
    # Seven issues reported at the same instant in pairs: the cursor's id breaks the ties.
    moment = timezone.now() - timedelta(hours=1)
    issues = [
        factories.IssueFactory(
            neighborhood=neighborhood, category=category, created_at=moment + timedelta(seconds=i // 2)
        )
        for i in range(7)
    ]
    newest_first = [issue.pk for issue in sorted(issues, key=lambda i: (i.created_at, i.pk), reverse=True)]
    client = token_client(supervisor)
    body = client.get("/api/v1/issues/?page_size=3").json()
    assert (body["count"], body["count_is_exact"], len(body["results"])) == (7, True, 3)
    assert body["previous"] is None and "after=" in body["next"] and "page_size=3" in body["next"]
    pages = _walk(client, "/api/v1/issues/?page_size=3")
    assert pages == [newest_first[0:3], newest_first[3:6], newest_first[6:]]
    # Back from the last page: the same pages in reverse.
    last = client.get("/api/v1/issues/?page_size=3").json()["next"]
    last = client.get(last).json()["next"]
    last_body = client.get(last).json()
    assert last_body["next"] is None
    assert _walk(client, last_body["previous"], "previous") == [newest_first[3:6], newest_first[0:3]]
    # Another order: the cursor follows it.
    by_due = _walk(client, "/api/v1/issues/?page_size=2&ordering=due_at")
    flat = [pk for page in by_due for pk in page]
    assert flat == [i.pk for i in sorted(issues, key=lambda i: (i.due_at, i.pk))]


def test_count_is_capped(supervisor, neighborhood, category, monkeypatch):
    for _ in range(6):
        factories.IssueFactory(neighborhood=neighborhood, category=category)
    monkeypatch.setattr("core.pagination.COUNT_CAP", 5)
    body = token_client(supervisor).get("/api/v1/issues/?page_size=2").json()
    assert (body["count"], body["count_is_exact"]) == (5, False)


def test_a_nullable_order_is_paged_by_position(supervisor):
    for i in range(5):
        factories.PartnerFactory(name=f"Partner {i}", active_since=None if i % 2 else timezone.localdate())
    pages = _walk(token_client(supervisor), "/api/v1/partners/?page_size=2&ordering=active_since")
    assert [len(page) for page in pages] == [2, 2, 1]
    assert len({pk for page in pages for pk in page}) == 5


def test_page_size_is_capped(supervisor, neighborhood, category, settings):
    from core.api.common import StandardPagination

    Issue.objects.bulk_create(
        [
            Issue(
                category=category,
                neighborhood=neighborhood,
                description=f"Bulk {i}",
                created_at=timezone.now(),
                due_at=timezone.now() + timedelta(hours=72),
            )
            for i in range(StandardPagination.max_page_size + 5)
        ]
    )
    client = token_client(supervisor)
    body = client.get("/api/v1/issues/?page_size=100000").json()
    assert len(body["results"]) == StandardPagination.max_page_size == 200
    assert body["count"] == 205
    assert len(client.get("/api/v1/issues/").json()["results"]) == settings.REST_FRAMEWORK["PAGE_SIZE"] == 50
    # Nonsense sizes fall back to the default rather than failing.
    assert len(client.get("/api/v1/issues/?page_size=-4").json()["results"]) == 50


# --- filters and ordering ---------------------------------------------------------------


@pytest.fixture
def spread(world):
    """Issues that differ in every filtered attribute."""
    w = world
    now = timezone.now()
    other_category = factories.CategoryFactory(service_code="illegal-dumping")
    east = w["elsewhere"].neighborhood
    rows = {
        "urgent_mine": factories.IssueFactory(
            neighborhood=w["neighborhood"], category=w["category"], priority="urgent", assignee=w["officer"]
        ),
        "dumping_east": factories.IssueFactory(
            neighborhood=east, category=other_category, address="3100 Prospect Ave", description="Mattresses"
        ),
        "overdue": factories.IssueFactory(
            neighborhood=w["neighborhood"],
            category=w["category"],
            created_at=now - timedelta(days=9),
            due_at=now - timedelta(days=6),
        ),
        "old_resolved": factories.IssueFactory(
            neighborhood=w["neighborhood"], category=w["category"], created_at=now - timedelta(days=40)
        ),
    }
    services.issue_resolve(issue=rows["old_resolved"], actor=w["supervisor"], note="Done")
    services.issue_set_approach(issue=rows["urgent_mine"], approach="enforce", actor=w["officer"])
    Issue.objects.filter(pk=rows["overdue"].pk).update(needs_decision=True, escalation_level=2)
    return rows


def _checked_ids(client, query):
    response = client.get(f"/api/v1/issues/?{query}&page_size=200")
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


def test_issue_filters(officer, supervisor, world, spread):
    client = token_client(officer)
    s, w = spread, world
    assert _checked_ids(client, "priority=urgent") == {s["urgent_mine"].pk}
    assert _checked_ids(client, "mine=true") == {s["urgent_mine"].pk}
    assert _checked_ids(client, f"assignee={officer.pk}") == {s["urgent_mine"].pk}
    assert _checked_ids(client, "approach=enforce") == {s["urgent_mine"].pk}
    assert _checked_ids(client, "service_code=illegal-dumping") == {s["dumping_east"].pk}
    assert _checked_ids(client, "district=East") == {s["dumping_east"].pk, w["elsewhere"].pk}
    assert _checked_ids(client, f"neighborhood={w['elsewhere'].neighborhood_id}") == {
        s["dumping_east"].pk,
        w["elsewhere"].pk,
    }
    assert _checked_ids(client, "q=prospect") == {s["dumping_east"].pk}
    assert _checked_ids(client, f"q={s['dumping_east'].tracking_code.lower()}") == {s["dumping_east"].pk}
    spaced = s["dumping_east"].tracking_code.replace("-", " ")[3:]  # "ABCD 2345", as read over the phone
    assert _checked_ids(client, f"q={spaced}") == {s["dumping_east"].pk}
    assert _checked_ids(client, "overdue=true") == {s["overdue"].pk}
    assert _checked_ids(client, "needs_decision=true&escalation_level_min=2") == {s["overdue"].pk}
    assert _checked_ids(client, "status=resolved") == {s["old_resolved"].pk}
    assert _checked_ids(client, "outcome=resolved&is_open=false") == {s["old_resolved"].pk}
    assert s["old_resolved"].pk not in _checked_ids(client, "is_open=true")
    both = set(Issue.objects.filter(status__in=["resolved", "new"]).values_list("pk", flat=True))
    assert _checked_ids(client, "status=resolved&status=new") == both and len(both) > 2
    cutoff = (timezone.now() - timedelta(days=20)).isoformat().replace("+", "%2B")
    assert _checked_ids(client, f"created_before={cutoff}") == {s["old_resolved"].pk}
    assert _checked_ids(client, f"problem={w['problem'].pk}") == {w["second"].pk}
    assert _checked_ids(client, "unassigned=false") == {s["urgent_mine"].pk}


def test_issue_ordering(supervisor, spread):
    client = token_client(supervisor)
    due = client.get("/api/v1/issues/?ordering=due_at&page_size=200").json()["results"]
    assert [r["due_at"] for r in due] == sorted(r["due_at"] for r in due)
    assert [r["id"] for r in due[:2]] == [spread["old_resolved"].pk, spread["overdue"].pk]
    newest = client.get("/api/v1/issues/?page_size=200").json()["results"]
    assert [r["created_at"] for r in newest] == sorted((r["created_at"] for r in newest), reverse=True)
    # An unknown field is ignored, not an error.
    assert client.get("/api/v1/issues/?ordering=reporter_email").status_code == 200


def test_other_list_filters(world, officer, supervisor):
    w = world
    client = token_client(supervisor)
    Escalation.objects.filter(pk=w["escalation"].pk).update(decided_at=timezone.now(), decided_by=supervisor)
    Escalation.objects.create(
        issue=w["second"], level=2, action=EscalationRule.Action.RAISE_PRIORITY, created_at=timezone.now()
    )

    def checked_ids(path):
        response = client.get(path)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert checked_ids("/api/v1/escalations/?decided=false") == [Escalation.objects.get(issue=w["second"]).pk]
    assert checked_ids("/api/v1/escalations/?decided=true") == [w["escalation"].pk]
    assert checked_ids(f"/api/v1/reports/?issue={w['second'].pk}") == []
    assert checked_ids(f"/api/v1/reports/?issue={w['issue'].pk}") == [w["report"].pk]
    kinds = [e["kind"] for e in client.get(f"/api/v1/issues/{w['issue'].pk}/events/?kind=note").json()["results"]]
    assert kinds == []
    services.issue_add_note(issue=w["issue"], actor=officer, text="Internal", public=False)
    notes = client.get(f"/api/v1/issues/{w['issue'].pk}/events/?kind=note&is_public=false").json()["results"]
    assert [(n["kind"], n["message"], n["actor"]["id"]) for n in notes] == [(Event.Kind.NOTE, "Internal", officer.pk)]
    assert checked_ids(f"/api/v1/partners/?neighborhood={w['neighborhood'].pk}") == [w["partner"].pk]
    assert checked_ids("/api/v1/partners/?cops_type=nonprofit") == [w["partner"].pk]
    assert checked_ids("/api/v1/partners/?cops_type=media") == []
    assert checked_ids(f"/api/v1/activities/?officer={officer.pk}") == [w["activity"].pk]
    assert checked_ids(f"/api/v1/activities/?neighborhood={w['elsewhere'].neighborhood_id}") == []
    assert checked_ids("/api/v1/problems/?stage=scanning") == [w["problem"].pk]
    assert checked_ids("/api/v1/problems/?active=false") == []
    assert checked_ids(f"/api/v1/staff/?neighborhood={w['neighborhood'].pk}") == [officer.pk]
    officer_client = token_client(officer)
    unread = officer_client.get("/api/v1/notifications/?unread=true").json()["results"]
    assert [n["id"] for n in unread] == [w["notification"].pk]
    assert officer_client.post("/api/v1/notifications/read-all/").json() == {"marked": 1}
    assert officer_client.get("/api/v1/notifications/?unread=true").json()["count"] == 0
