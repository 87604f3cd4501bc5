"""Assignment rules (issue 19, item 4): an officer or a pool per category and place, applied when an
issue is filed, reopened unassigned or moved to another category, recorded in the timeline; and
acting on an unassigned issue takes it by default."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group

from cases import services
from cases.models import AssignmentRule, Event, Issue, OutboxMessage
from partners.models import StaffProfile
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def place(db):
    return factories.NeighborhoodFactory(district="Central")


@pytest.fixture
def graffiti(db):
    return factories.CategoryFactory(service_code="graffiti-r", name_en="Graffiti", name_es="Grafiti")


@pytest.fixture
def dumping(db):
    return factories.CategoryFactory(service_code="dumping-r", name_en="Dumping", name_es="Basura")


def rule(name, **fields):
    pool = fields.pop("pool", ())
    made = AssignmentRule.objects.create(name=name, **fields)
    made.pool.set(pool)
    return made


def file(category, place, **kwargs):
    return services.issue_submit(category=category, text="Tags on the wall", neighborhood=place, **kwargs).issue


def test_a_rule_gives_a_new_issue_to_its_officer_recorded_and_told(place, graffiti):
    oficial = factories.officer(neighborhoods=[place], first_name="Ana", last_name="Ruiz")
    StaffProfile.objects.filter(user=oficial).update(language="es")
    made = rule("Graffiti in Central", category=graffiti, district="Central", officer=oficial)
    issue = Issue.objects.get(pk=file(graffiti, place).pk)
    assert issue.assignee == oficial and issue.status == Issue.Status.NEW
    event = issue.events.get(kind=Event.Kind.ASSIGNED)
    assert (event.actor, event.is_public, event.message) == (None, False, "Ana Ruiz")
    assert (event.data["rule"], event.data["rule_name"]) == (made.pk, "Graffiti in Central")
    notice = OutboxMessage.objects.get(recipient=oficial)
    assert notice.subject == f"Se le asignó el caso {issue.tracking_code}" and notice.url == f"/issues/{issue.pk}/"


def test_no_rule_no_assignment_and_an_inactive_rule_counts_for_nothing(place, graffiti):
    rule("Off", category=graffiti, officer=factories.officer(), active=False)
    issue = file(graffiti, place)
    assert Issue.objects.get(pk=issue.pk).assignee is None
    assert not OutboxMessage.objects.filter(recipient__isnull=False).exists()


def test_the_most_specific_rule_wins_then_the_lowest_position(place, graffiti, dumping):
    people = {name: factories.officer(username=name) for name in "abcdef"}
    rule("anything", officer=people["a"])
    rule("this district", district="Central", officer=people["b"])
    rule("this neighborhood", neighborhood=place, officer=people["c"])
    rule("graffiti", category=graffiti, officer=people["d"])
    rule("graffiti in the district", category=graffiti, district="Central", officer=people["e"])
    assert Issue.objects.get(pk=file(graffiti, place).pk).assignee == people["e"]
    rule("graffiti here", category=graffiti, neighborhood=place, officer=people["f"], position=5)
    rule("graffiti here too", category=graffiti, neighborhood=place, officer=people["a"], position=9)
    assert Issue.objects.get(pk=file(graffiti, place).pk).assignee == people["f"]
    assert Issue.objects.get(pk=file(dumping, place).pk).assignee == people["c"]  # the neighborhood's
    elsewhere = factories.NeighborhoodFactory(district="North")
    assert Issue.objects.get(pk=file(dumping, elsewhere).pk).assignee == people["a"]


def test_a_pool_takes_issues_in_turn_passing_over_who_left(place, graffiti):
    a, b, c = (factories.officer(username=name) for name in ("pa", "pb", "pc"))
    rule("turns", category=graffiti, mode=AssignmentRule.Mode.TURNS, pool=[a, b, c])
    got = [Issue.objects.get(pk=file(graffiti, place).pk).assignee for _ in range(4)]
    assert got == [a, b, c, a]
    b.is_active = False
    b.save()
    got = [Issue.objects.get(pk=file(graffiti, place).pk).assignee for _ in range(2)]
    assert set(got) == {a, c}


def test_a_pool_by_least_open_work(place, graffiti):
    busy, free = factories.officer(username="busy"), factories.officer(username="free")
    for _ in range(3):
        factories.IssueFactory(neighborhood=place, assignee=busy)
    factories.IssueFactory(neighborhood=place, assignee=free)
    factories.IssueFactory(neighborhood=place, assignee=free, status=Issue.Status.RESOLVED)  # not open work
    rule("least", category=graffiti, mode=AssignmentRule.Mode.LEAST_OPEN, pool=[busy, free])
    assert Issue.objects.get(pk=file(graffiti, place).pk).assignee == free
    assert Issue.objects.get(pk=file(graffiti, place).pk).assignee == free
    assert Issue.objects.get(pk=file(graffiti, place).pk).assignee in (busy, free)  # 3 each now


def test_reopened_unassigned_goes_by_the_rule_assigned_stays(place, graffiti):
    owner, ruled = factories.officer(username="owner"), factories.officer(username="ruled")
    issue = file(graffiti, place)
    services.issue_resolve(issue=issue, actor=None, note="Painted")
    rule("graffiti", category=graffiti, officer=ruled)
    services.issue_reopen(issue=issue, actor=None, reason="Back again")
    assert Issue.objects.get(pk=issue.pk).assignee == ruled
    kept = file(graffiti, place)
    services.issue_assign(issue=kept, officer=owner, actor=None)
    services.issue_resolve(issue=kept, actor=None, note="Painted")
    services.issue_reopen(issue=kept, actor=None, reason="Back again")
    assert Issue.objects.get(pk=kept.pk).assignee == owner


def test_recategorising_moves_the_due_time_records_it_and_applies_the_new_categorys_rule(place, graffiti, dumping):
    dumping.target_hours_high, dumping.target_hours_urgent = 24, 8
    dumping.target_hours_normal = 24
    dumping.save()
    graffiti.target_hours_normal = 72
    graffiti.save()
    ruled = factories.officer(username="dumps")
    issue = Issue.objects.get(pk=file(graffiti, place).pk)
    rule("dumping", category=dumping, officer=ruled)
    services.issue_recategorize(issue=issue, category=dumping, actor=None)
    moved = Issue.objects.get(pk=issue.pk)
    assert moved.category == dumping and moved.assignee == ruled
    assert issue.due_at - moved.due_at == timedelta(hours=72 - 24)
    event = moved.events.get(kind=Event.Kind.RECATEGORIZED)
    assert event.data["from"] == graffiti.pk and event.data["to"] == dumping.pk and not event.is_public
    with pytest.raises(Exception, match="already in that category"):
        services.issue_recategorize(issue=moved, category=dumping, actor=None)


# --- the issue page -----------------------------------------------------------------------------


@pytest.fixture
def cop(place):
    return factories.officer(neighborhoods=[place], username="cop")


def test_the_page_changes_the_category_and_refuses_a_bad_one(client, cop, place, graffiti, dumping):
    issue = file(graffiti, place)
    client.force_login(cop)
    page = client.get(f"/issues/{issue.pk}/").content.decode()
    url = _action_url(issue, "recategorize")
    assert f'action="{url}"' in page and 'id="id_recategorize_category"' in page
    refused = client.post(url, {"category": "999999"})
    assert refused.status_code == 400 and Issue.objects.get(pk=issue.pk).category == graffiti
    assert client.post(url, {"category": str(dumping.pk)}).status_code == 302
    assert Issue.objects.get(pk=issue.pk).category == dumping


def _action_url(issue, action):
    from django.urls import reverse

    return reverse("issue_action", args=[issue.pk, action])


@pytest.mark.parametrize(
    "action, data",
    [
        ("acknowledge", {}),
        ("note", {"text": "Visited", "visibility": "internal"}),
        ("resolve", {"note": "Painted over"}),
    ],
)
def test_acting_on_an_unassigned_issue_takes_it_by_default(client, cop, place, graffiti, action, data):
    issue = file(graffiti, place)
    client.force_login(cop)
    page = client.get(f"/issues/{issue.pk}/").content.decode()
    assert re.search(rf'<input type="checkbox" name="take" id="id_{action}_take"[^>]* checked', page)
    response = client.post(_action_url(issue, action), {**data, "take": "on"})
    assert response.status_code == 302
    taken = Issue.objects.get(pk=issue.pk)
    assert taken.assignee == cop
    # Unticked: the issue stays unassigned.
    other = file(graffiti, place)
    client.post(_action_url(other, action), data)
    assert Issue.objects.get(pk=other.pk).assignee is None


def test_an_assigned_issue_offers_no_taking(client, cop, place, graffiti):
    issue = file(graffiti, place)
    services.issue_assign(issue=issue, officer=cop, actor=None)
    client.force_login(cop)
    assert 'name="take"' not in client.get(f"/issues/{issue.pk}/").content.decode()


# --- the admin -----------------------------------------------------------------------------------


@pytest.fixture
def administrator(db):
    user = factories.UserFactory(username="admin3", is_staff=True)
    user.groups.add(Group.objects.get(name="Administrator"))
    return user


def test_the_admin_checks_a_rule_before_saving_it(client, administrator, place, graffiti):
    client.force_login(administrator)
    civilian = factories.UserFactory(username="civ")
    base = {"name": "r", "category": graffiti.pk, "position": 0, "active": "on"}
    cases = [
        ({"mode": "officer"}, "Choose the officer who gets these issues."),
        ({"mode": "turns"}, "Choose at least one officer for the pool."),
        ({"mode": "officer", "officer": civilian.pk}, "Cannot work issues: civ."),
        (
            {"mode": "officer", "officer": factories.officer().pk, "neighborhood": place.pk, "district": "Central"},
            "Name a neighborhood or a district, not both.",
        ),
    ]
    for extra, message in cases:
        response = client.post("/admin/cases/assignmentrule/add/", {**base, **extra})
        assert response.status_code == 200 and message in response.content.decode(), message
    assert not AssignmentRule.objects.exists()
    good = client.post(
        "/admin/cases/assignmentrule/add/",
        {**base, "mode": "officer", "officer": factories.officer().pk, "district": "Central"},
    )
    assert good.status_code == 302 and AssignmentRule.objects.get().district == "Central"
