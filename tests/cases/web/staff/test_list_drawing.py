"""What the staff lists draw from cheaper sources: the filter form's options, the issue cards,
the choice labels. Each must show what the slower way showed, and follow changes at once."""

from __future__ import annotations

import html
import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.models import Model
from django.template.defaultfilters import date as date_filter
from django.test.html import parse_html
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.timezone import localtime

from cases.models import Event, Issue, Problem
from cases.selectors.public import category_choices
from cases.selectors.staff import assignable_officer_choices, assignable_officers
from cases.web.staff.cards import issue_cards
from outreach.models import Activity
from partners.models import Partner
from tests import factories


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _options(body: str, name: str) -> list[tuple[str, str]]:
    select = re.search(rf'<select name="{name}".*?</select>', body, re.S).group(0)
    return [
        (value, html.unescape(label)) for value, label in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)<', select)
    ]


# --- the officers a list can be filtered by ------------------------------------------------


def test_officer_choices_are_the_assignable_officers(db):
    work = Permission.objects.get(codename="work_issue", content_type__app_label="cases")
    officer = factories.officer(first_name="Ana", last_name="Ruiz")
    supervisor = factories.supervisor(first_name="", last_name="", username="sarge")
    direct = factories.UserFactory(first_name="Dee", last_name="Rect")
    direct.user_permissions.add(work)
    root = factories.UserFactory(first_name="Root", last_name="Admin", is_superuser=True)
    # Not assignable: gone, in a group without the permission, or nobody.
    factories.officer(first_name="Gone", is_active=False)
    clerks = Group.objects.create(name="Clerks")
    clerks.permissions.add(Permission.objects.get(codename="view_issue", content_type__app_label="cases"))
    clerk = factories.UserFactory(first_name="Cle", last_name="Rk")
    clerk.groups.add(clerks)
    factories.UserFactory(first_name="Res", last_name="Ident")

    choices = assignable_officer_choices()

    assert choices == [(str(u.pk), u.get_full_name() or u.get_username()) for u in assignable_officers()]
    assert {pk for pk, _ in choices} == {str(u.pk) for u in (officer, supervisor, direct, root)}
    assert (str(supervisor.pk), "sarge") in choices  # no name: the username
    # A group that gains the permission brings its members in.
    clerks.permissions.add(work)
    assert (str(clerk.pk), "Cle Rk") in assignable_officer_choices()


def test_filter_form_options_follow_renames_and_additions(client, supervisor, category, neighborhood):
    client.force_login(supervisor)
    first = client.get("/issues/").content.decode()
    assert (str(category.pk), category.name_en) in _options(first, "category")
    assert (str(neighborhood.pk), neighborhood.name) in _options(first, "neighborhood")

    category.name_en, category.name_es = "Needles & glass", "Agujas y vidrio"
    category.save()
    added = factories.NeighborhoodFactory(name="Zeta <Heights>")
    newcomer = factories.officer(first_name="New", last_name="Comer")

    body = client.get("/issues/").content.decode()
    assert (str(category.pk), "Needles & glass") in _options(body, "category")
    assert (str(added.pk), "Zeta <Heights>") in _options(body, "neighborhood")
    assert "Zeta &lt;Heights&gt;" in body
    assert (str(newcomer.pk), "New Comer") in _options(body, "assignee")
    with translation.override("es"):
        assert (str(category.pk), "Agujas y vidrio") in category_choices()


def test_filter_form_keeps_the_chosen_options_and_rejects_unknown_ids(client, supervisor, category, neighborhood):
    client.force_login(supervisor)
    chosen = client.get(f"/issues/?category={category.pk}&neighborhood={neighborhood.pk}&assignee=unassigned")
    body = chosen.content.decode()
    assert f'<option value="{category.pk}" selected>' in body
    assert f'<option value="{neighborhood.pk}" selected>' in body
    assert '<option value="unassigned" selected>' in body

    unknown = client.get("/issues/?category=999999&assignee=424242")
    assert unknown.status_code == 200
    errors = unknown.context["form"].errors
    assert set(errors) == {"category", "assignee"}
    assert unknown.context["form"].selector_kwargs() == {}


# --- the issue cards ---------------------------------------------------------------------------


def test_cards_escape_what_people_typed_and_speak_the_language(db, category, neighborhood):
    me = factories.officer(first_name="Me", last_name="Myself")
    colleague = factories.officer(first_name="<i>Ana</i>", last_name="")
    mine = factories.IssueFactory(
        category=category, neighborhood=neighborhood, assignee=me, priority="urgent", escalation_level=2,
        address="12 <Main> & 3rd", description="<script>alert(1)</script> " + "long " * 60,
    )  # fmt: skip
    theirs = factories.IssueFactory(category=category, neighborhood=neighborhood, assignee=colleague, address="")
    nobody = factories.IssueFactory(category=category, neighborhood=neighborhood, status="in_progress")
    issues = list(Issue.objects.select_related("category", "neighborhood", "assignee").order_by("pk"))
    issues[0].is_overdue, issues[0].report_count, issues[0].has_unread_messages = True, 3, True

    cards = str(issue_cards(issues, me))
    with translation.override("es"):
        spanish = str(issue_cards(issues, me))

    assert "<script>" not in cards and "&lt;script&gt;" in cards
    assert "12 &lt;Main&gt; &amp; 3rd" in cards and "&lt;i&gt;Ana&lt;/i&gt;" in cards
    first, second, third = re.findall(r'<li class="issue-card[^"]*">.*?</li>', cards, re.S)
    assert 'class="issue-card is-overdue"' in first and mine.tracking_code in first
    for label in (
        "Overdue",
        "Escalated L2",
        "3 reports",
        "Priority: Urgent",
        "Assignee: me",
        "New message from a resident",
    ):
        assert label in first, label
    assert theirs.tracking_code in second and "is-overdue" not in second and "reports" not in second
    assert nobody.tracking_code in third and "<em>unassigned</em>" in third and "In progress" in third
    assert len(re.search(r'<p class="summary">(.*?)</p>', first, re.S).group(1)) < 200  # cut at 140 characters
    # Labels go through the translations (the staff pages' own strings are still English: issue 15).
    for label in ("Urgente", "Mensaje nuevo de un residente", "En curso"):
        assert label in spanish, label
    # The due time as the date filter writes it ("c" and the language's short format, local time).
    for language in ("en", "es"):
        with translation.override(language):
            due = localtime(issues[0].due_at)
            shown = f'<time datetime="{date_filter(due, "c")}">{date_filter(due, "SHORT_DATETIME_FORMAT")}</time>'
            assert shown in str(issue_cards(issues, me)), shown
    # A description of exactly 140 characters is shown whole, one of 141 cut.
    for length, whole in ((140, True), (141, False)):
        issues[1].description = "x" * length
        summary = re.search(r'<p class="summary">(.*?)</p>', str(issue_cards(issues[1:2], me))).group(1)
        assert (summary == "x" * length) is whole and len(summary) <= 140
    assert parse_html(str(issue_cards([], me))) == parse_html(
        '<ul class="issue-cards"><li class="empty">No issues match.</li></ul>'
    )


# --- choice labels -----------------------------------------------------------------------------


def _choice_fields(model: type[Model]):
    return [field for field in model._meta.concrete_fields if field.choices]


@pytest.mark.parametrize("model", [Issue, Event, Problem, Activity, Partner])
@pytest.mark.parametrize("language", ["en", "es"])
def test_choice_labels_are_djangos(model, language):
    """Every label, in both languages, and a value outside the choices shown as it is."""
    fields = _choice_fields(model)
    assert fields
    for field in fields:
        instance = model()
        display = getattr(instance, f"get_{field.name}_display")
        for value, label in field.flatchoices:
            setattr(instance, field.attname, value)
            with translation.override(language):
                assert display() == str(label) == Model._get_FIELD_display(instance, field)
        setattr(instance, field.attname, "not-a-choice")
        assert display() == "not-a-choice"


def test_assign_form_lists_officers_by_name_and_username(client, supervisor, category, neighborhood):
    issue = factories.IssueFactory(category=category, neighborhood=neighborhood)
    ana = factories.officer(first_name="Ana", last_name="Ruiz", username="aruiz")
    nameless = factories.officer(first_name="", last_name="", username="badge-77")
    resident = factories.UserFactory()
    client.force_login(supervisor)
    body = client.get(f"/issues/{issue.pk}/").content.decode()
    options = _options(body, "officer")
    assert options[0][0] == ""
    assert (str(ana.pk), "Ana Ruiz (aruiz)") in options and (str(nameless.pk), "badge-77") in options
    assert str(resident.pk) not in {value for value, _ in options}


def test_list_rows_leave_the_neighborhoods_boundary_unread(client, supervisor, category, neighborhood):
    """A list row never draws its neighborhood's polygon: /issues/ and /queue/ do not read it,
    while the issue page, which draws it, does."""
    issue = factories.IssueFactory(category=category, neighborhood=neighborhood, assignee=supervisor)
    client.force_login(supervisor)
    for url in ("/issues/", "/queue/"):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200 and issue.tracking_code in response.content.decode()
        issue_rows = [q["sql"] for q in queries.captured_queries if 'FROM "cases_issue"' in q["sql"]]
        assert issue_rows and not any('"partners_neighborhood"."boundary"' in sql for sql in issue_rows), url
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/issues/{issue.pk}/").status_code == 200
    assert any('"partners_neighborhood"."boundary"' in q["sql"] for q in queries.captured_queries)
