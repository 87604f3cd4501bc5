"""The issue page's "Use a response template": the list, picking one without a script, refusals,
and who may edit templates in the admin."""

import json
import re

import pytest
from django.contrib.auth.models import Group

from cases.models import Event, Issue, ResponseTemplate
from tests import factories

Status = Issue.Status
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _template(**kwargs):
    fields = {
        "name": "We are on it",
        "status": Status.NEW,
        "text_en": "We are looking at the {category} in {neighborhood}.",
        "text_es": "Estamos revisando {category} en {neighborhood}.",
        **kwargs,
    }
    return ResponseTemplate.objects.create(**fields)


@pytest.fixture
def issue(neighborhood, category):
    return factories.IssueFactory(neighborhood=neighborhood, category=category)


def _texts(body, slug):
    found = re.search(rf'<script id="id_{slug}_template_texts" type="application/json">(.*?)</script>', body, re.S)
    return json.loads(found.group(1)) if found else None


def test_the_page_offers_the_templates_of_each_form_with_their_rendered_text(client, officer, issue, category):
    mine = _template(name="Graffiti: on it", category=category)
    anyone = _template(name="Any: on it")
    resolved = _template(name="Graffiti removed", category=category, status=Status.RESOLVED, text_en="Removed.")
    _template(name="Other category", category=factories.CategoryFactory())
    _template(name="Switched off", is_active=False)
    client.force_login(officer)
    body = client.get(f"/issues/{issue.pk}/").content.decode()

    assert '<label for="id_note_template">Use a response template</label>' in body
    assert _texts(body, "note") == {
        str(mine.pk): f"We are looking at the {category.name_en} in {issue.neighborhood.name}.",
        str(anyone.pk): f"We are looking at the {category.name_en} in {issue.neighborhood.name}.",
    }
    assert _texts(body, "resolve") == {str(resolved.pk): "Removed."}
    assert 'data-template-fill="id_note_text"' in body and 'data-template-fill="id_resolve_note"' in body
    assert "Other category" not in body and "Switched off" not in body
    assert "Fills the text in English, the language the issue was reported in" in body
    assert _texts(body, "hold") is None  # no on-hold template: no select


def test_an_issue_reported_in_spanish_gets_the_spanish_text_and_says_so(client, officer, issue, category):
    issue.language = "es"
    issue.save(update_fields=["language"])
    template = _template()
    client.force_login(officer)
    body = client.get(f"/issues/{issue.pk}/").content.decode()
    assert _texts(body, "note") == {
        str(template.pk): f"Estamos revisando {category.name_es} en {issue.neighborhood.name}."
    }
    assert "Fills the text in Spanish" in body


def test_no_template_no_select(client, officer, issue):
    client.force_login(officer)
    body = client.get(f"/issues/{issue.pk}/").content.decode()
    assert "Use a response template" not in body


def test_without_a_script_a_chosen_template_makes_a_public_note(client, officer, issue, category):
    template = _template(category=category)
    client.force_login(officer)
    response = client.post(f"/issues/{issue.pk}/note/", {"template": template.pk, "text": "", "visibility": "internal"})
    assert response.status_code == 302
    note = Event.objects.get(issue=issue, kind=Event.Kind.NOTE)
    assert note.is_public and note.message == f"We are looking at the {category.name_en} in {issue.neighborhood.name}."


def test_the_officers_typed_text_wins_over_the_chosen_template(client, officer, issue):
    template = _template()
    client.force_login(officer)
    client.post(f"/issues/{issue.pk}/note/", {"template": template.pk, "text": "My words", "visibility": "internal"})
    note = Event.objects.get(issue=issue, kind=Event.Kind.NOTE)
    assert note.message == "My words" and not note.is_public


def test_resolving_with_a_chosen_template(client, officer, issue, category):
    template = _template(category=category, status=Status.RESOLVED, text_en="Fixed in {neighborhood}.")
    client.force_login(officer)
    response = client.post(f"/issues/{issue.pk}/resolve/", {"template": template.pk, "note": ""})
    assert response.status_code == 302
    issue.refresh_from_db()
    assert issue.status == Status.RESOLVED and issue.resolution_note == f"Fixed in {issue.neighborhood.name}."


@pytest.mark.parametrize(
    "template_value",
    ["999999", "abc", "inactive", "other-category", "other-status"],
)
def test_a_template_not_offered_is_refused_and_nothing_changes(client, officer, issue, category, template_value):
    others = {
        "inactive": _template(is_active=False),
        "other-category": _template(category=factories.CategoryFactory()),
        "other-status": _template(status=Status.CLOSED),
    }
    _template(category=category)  # so the select is there
    value = others[template_value].pk if template_value in others else template_value
    client.force_login(officer)
    response = client.post(f"/issues/{issue.pk}/note/", {"template": value, "text": "", "visibility": "public"})
    assert response.status_code == 400
    assert "That response template is not offered for this issue any more." in response.content.decode()
    assert not Event.objects.filter(issue=issue, kind=Event.Kind.NOTE).exists()


def test_neither_text_nor_template_is_refused(client, officer, issue):
    _template()
    client.force_login(officer)
    response = client.post(f"/issues/{issue.pk}/note/", {"template": "", "text": " ", "visibility": "public"})
    assert response.status_code == 400
    assert "Write the text, or choose a response template." in response.content.decode()
    assert not Event.objects.filter(issue=issue, kind=Event.Kind.NOTE).exists()


def test_a_template_too_long_for_a_hold_reason_is_refused(client, officer, issue):
    template = _template(status=Status.ON_HOLD, text_en="x" * 301)
    client.force_login(officer)
    response = client.post(f"/issues/{issue.pk}/hold/", {"template": template.pk, "reason": ""})
    assert response.status_code == 400
    assert "longer than 300 characters" in response.content.decode()
    issue.refresh_from_db()
    assert issue.status == Status.NEW


def test_an_officer_outside_the_neighborhood_cannot_use_one(client, other_officer, issue):
    template = _template()
    client.force_login(other_officer)
    response = client.post(f"/issues/{issue.pk}/note/", {"template": template.pk, "visibility": "public"})
    assert response.status_code in (403, 404)
    assert not Event.objects.filter(issue=issue, kind=Event.Kind.NOTE).exists()


# --- the admin: administrators only ---------------------------------------------------------------


def _administrator():
    user = factories.UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name="Administrator"))
    return user


@pytest.mark.parametrize(
    ("who", "status"),
    [("officer", 403), ("supervisor", 403), ("administrator", 200)],
)
def test_only_administrators_edit_templates_in_the_admin(client, who, status, neighborhood):
    user = {
        "officer": lambda: factories.officer(is_staff=True),
        "supervisor": lambda: factories.supervisor(is_staff=True),
        "administrator": _administrator,
    }[who]()
    client.force_login(user)
    for path in ("/admin/cases/responsetemplate/", "/admin/cases/responsetemplate/add/"):
        assert client.get(path).status_code == status


def test_the_admin_names_a_bad_placeholder_and_a_second_automatic_template(client, category):
    _template(category=category, status=Status.ACKNOWLEDGED, auto=True)
    client.force_login(_administrator())
    form = {
        "name": "Thanks",
        "category": category.pk,
        "status": Status.ACKNOWLEDGED,
        "text_en": "Thanks {resident}",
        "text_es": "Gracias {due",
        "auto": "on",
        "is_active": "on",
    }
    response = client.post("/admin/cases/responsetemplate/add/", form)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Unknown placeholder {resident}" in body and "A brace is not closed or not opened" in body
    form.update(text_en="Thanks", text_es="Gracias")
    body = client.post("/admin/cases/responsetemplate/add/", form).content.decode()
    assert "Another active automatic template already answers this category and status." in body
    assert ResponseTemplate.objects.count() == 1
    form["auto"] = ""
    assert client.post("/admin/cases/responsetemplate/add/", form).status_code == 302
    assert ResponseTemplate.objects.count() == 2
