"""Response templates: placeholders and the one-automatic rule (model), the text in the issue's
reporting language, and the automatic public note a status change records."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from cases import services
from cases.models import Event, Issue, OutboxMessage, ResponseTemplate
from cases.response_templates import placeholder_errors, template_render
from cases.selectors.response_templates import response_template_auto_for, response_templates_for
from tests import factories

Status = Issue.Status
pytestmark = pytest.mark.django_db


def _template(**kwargs):
    fields = {
        "name": "We are on it",
        "status": Status.ACKNOWLEDGED,
        "text_en": "We received your report about {category} in {neighborhood}. Target date: {due}.",
        "text_es": "Recibimos su reporte sobre {category} en {neighborhood}. Fecha prevista: {due}.",
        **kwargs,
    }
    return ResponseTemplate.objects.create(**fields)


@pytest.fixture
def issue(neighborhood, category):
    due = datetime(2026, 3, 5, 15, 0, tzinfo=ZoneInfo("UTC"))
    return factories.IssueFactory(
        neighborhood=neighborhood, category=category, created_at=due.replace(day=1), due_at=due
    )


# --- placeholders -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["Plain words", "{category} at {neighborhood} by {due}", "Braces {{like this}} stay", ""],
)
def test_known_placeholders_and_escaped_braces_are_accepted(text):
    assert placeholder_errors(text) == []


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Hello {name}", "{name}"),
        ("{category.pk}", "{category.pk}"),
        ("{due:%Y}", "{due:%Y}"),
        ("{category!r}", "{category!r}"),
        ("{0}", "{0}"),
        ("{}", "{}"),
    ],
)
def test_unknown_placeholders_are_named_in_the_error(text, shown):
    errors = placeholder_errors(text)
    assert len(errors) == 1 and shown in errors[0] and "{category}, {neighborhood}, {due}" in errors[0]


@pytest.mark.parametrize("text", ["Due {due", "Due due}", "{ {category}"])
def test_malformed_braces_are_refused(text):
    assert placeholder_errors(text) and "brace" in placeholder_errors(text)[0]


def test_full_clean_reports_each_language_on_its_field(category):
    template = ResponseTemplate(
        name="Bad", category=category, status=Status.RESOLVED, text_en="Fixed by {officer}", text_es="Arreglado {due"
    )
    with pytest.raises(ValidationError) as caught:
        template.full_clean()
    assert set(caught.value.message_dict) == {"text_en", "text_es"}
    assert "{officer}" in caught.value.message_dict["text_en"][0]


def test_both_languages_are_required(category):
    with pytest.raises(ValidationError) as caught:
        ResponseTemplate(name="x", category=category, status=Status.RESOLVED, text_en="Done", text_es="").full_clean()
    assert "text_es" in caught.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        _template(text_es="")


# --- one automatic template per (category, status) ----------------------------------------------


def test_one_active_automatic_template_per_category_and_status(category):
    _template(category=category, auto=True)
    second = ResponseTemplate(
        name="Another", category=category, status=Status.ACKNOWLEDGED, text_en="a", text_es="b", auto=True
    )
    with pytest.raises(ValidationError) as caught:
        second.full_clean()
    assert "Another active automatic template already answers this category and status." in str(caught.value)
    with pytest.raises(IntegrityError), transaction.atomic():
        second.save()


def test_one_active_automatic_template_for_any_category_per_status(category):
    _template(auto=True)
    with pytest.raises(ValidationError) as caught:
        ResponseTemplate(name="2", status=Status.ACKNOWLEDGED, text_en="a", text_es="b", auto=True).full_clean()
    assert "for any category" in str(caught.value)
    with pytest.raises(IntegrityError), transaction.atomic():
        _template(auto=True)


def test_inactive_or_picked_templates_do_not_count_and_categories_are_apart(category):
    _template(category=category, auto=True)
    _template(category=category, auto=True, is_active=False)  # an old one, switched off
    _template(category=category)  # picked by officers, not automatic
    _template(category=factories.CategoryFactory(), auto=True)
    _template(auto=True)  # any category: its own slot
    assert ResponseTemplate.objects.count() == 5


def test_an_automatic_template_needs_a_status_an_action_moves_into(category):
    with pytest.raises(ValidationError) as caught:
        ResponseTemplate(
            name="x", category=category, status=Status.NEW, text_en="a", text_es="b", auto=True
        ).full_clean()
    assert "cannot be automatic" in str(caught.value)
    with pytest.raises(IntegrityError), transaction.atomic():
        _template(category=category, status=Status.DUPLICATE, auto=True)


# --- rendering ------------------------------------------------------------------------------------


def test_rendered_in_english_with_the_date_format(issue, category, neighborhood):
    template = _template()
    text = template_render(template, issue)
    assert text == (
        f"We received your report about {category.name_en} in {neighborhood.name}. Target date: Mar 5, 2026."
    )


def test_rendered_in_spanish_for_an_issue_reported_in_spanish(issue, category, neighborhood):
    issue.language = "es"
    text = template_render(_template(), issue)
    assert text == (
        f"Recibimos su reporte sobre {category.name_es} en {neighborhood.name}. Fecha prevista: 5 mar 2026."
    )


def test_a_regional_spanish_code_reads_spanish(issue):
    issue.language = "es-MX"
    assert template_render(_template(), issue).startswith("Recibimos")


# --- which templates an issue gets ------------------------------------------------------------------


def test_the_issue_page_list_is_the_category_then_any_active_in_the_status(issue, category):
    mine = _template(name="Z graffiti", category=category)
    anyone = _template(name="A any")
    _template(name="Other category", category=factories.CategoryFactory())
    _template(name="Switched off", category=category, is_active=False)
    _template(name="Other status", category=category, status=Status.RESOLVED)
    assert response_templates_for(issue, [Status.ACKNOWLEDGED]) == [mine, anyone]


def test_most_specific_automatic_template_wins(issue, category):
    _template(name="Any", auto=True)
    specific = _template(name="Graffiti", category=category, auto=True)
    assert response_template_auto_for(issue, Status.ACKNOWLEDGED) == specific
    specific.is_active = False
    specific.save(update_fields=["is_active"])
    assert response_template_auto_for(issue, Status.ACKNOWLEDGED).name == "Any"


# --- automatic notes on a status change ---------------------------------------------------------------


def _notes(issue):
    return list(Event.objects.filter(issue=issue, kind=Event.Kind.NOTE).order_by("created_at", "id"))


def test_acknowledging_records_the_automatic_public_note_in_the_reporters_language(officer, category, neighborhood):
    _template(name="Any", auto=True)
    _template(name="Graffiti", category=category, auto=True, text_es="Grafiti: lo vemos en {neighborhood}.")
    report = services.issue_submit(
        category=category,
        neighborhood=neighborhood,
        text="Pintura en la pared",
        language="es",
        reporter_email="ana@example.org",
        contact_consent=True,
    )
    issue = report.issue
    OutboxMessage.objects.all().delete()  # the receipt

    services.issue_acknowledge(issue=issue, actor=officer)

    (note,) = _notes(issue)
    assert note.is_public and note.actor == officer
    assert note.message == f"Grafiti: lo vemos en {neighborhood.name}."
    assert note.data["automatic"] is True and note.data["response_template_name"] == "Graffiti"
    kinds = list(Event.objects.filter(issue=issue).values_list("kind", flat=True))
    assert kinds[-2:] == [Event.Kind.ACKNOWLEDGED, Event.Kind.NOTE]  # the answer follows its status change
    # The follower hears once, about the status change, with the template's words.
    (email,) = OutboxMessage.objects.filter(issue=issue)
    assert note.message in email.body


def test_no_automatic_template_no_note(officer, issue):
    _template(status=Status.RESOLVED)  # picked only
    _template(auto=True, is_active=False)
    services.issue_acknowledge(issue=issue, actor=officer)
    assert _notes(issue) == []


def test_taking_an_issue_up_answers_in_progress(officer, issue):
    _template(status=Status.IN_PROGRESS, auto=True, text_en="An officer is working on it ({category}).")
    services.issue_assign(issue=issue, officer=officer, actor=officer)
    (note,) = _notes(issue)
    assert note.is_public and note.message.startswith("An officer is working on it")
    services.issue_assign(issue=issue, officer=None, actor=officer)  # no status change, no second note
    assert len(_notes(issue)) == 1


def test_referring_and_closing_answer(officer, issue, category):
    _template(status=Status.REFERRED, auto=True, text_en="Passed on.")
    services.issue_refer(issue=issue, agency="Public Works", actor=officer, note="internal")
    assert [n.message for n in _notes(issue)] == ["Passed on."]
    other = factories.IssueFactory(category=category, neighborhood=issue.neighborhood)
    _template(status=Status.CLOSED, category=category, auto=True, text_en="Closed, thank you.")
    services.issue_resolve(issue=other, actor=officer, note="Painted over")
    services.issue_close(issue=other, actor=officer)
    assert [n.message for n in _notes(other)] == ["Closed, thank you."]


@pytest.mark.parametrize("status", [Status.RESOLVED, Status.ON_HOLD])
def test_no_automatic_template_for_a_status_the_officers_own_words_answer(status):
    """Resolving carries the officer's resolution note and putting on hold the reason: an automatic
    template there would never post, so it cannot be made (the database refuses it too)."""
    template = ResponseTemplate(name="x", status=status, auto=True, text_en="Done.", text_es="Hecho.")
    with pytest.raises(ValidationError, match="cannot be automatic"):
        template.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        template.save()


def test_a_crime_report_does_not_post_the_closed_template(officer, issue):
    _template(status=Status.CLOSED, auto=True, text_en="Closed, thank you.")
    services.issue_record_crime_report(issue=issue, actor=officer, report_number="KC-1")
    assert _notes(issue) == []


def test_a_failed_status_change_records_no_note(officer, issue):
    _template(auto=True)
    services.issue_acknowledge(issue=issue, actor=officer)
    with pytest.raises(ValidationError):
        services.issue_acknowledge(issue=issue, actor=officer)  # already acknowledged
    assert len(_notes(issue)) == 1


def test_the_automatic_note_is_masked_like_an_officers(officer, category, neighborhood):
    _template(auto=True, text_en="Call 816-555-0100 about {category}.")
    issue = services.issue_submit(category=category, neighborhood=neighborhood, text="Tags").issue
    services.issue_acknowledge(issue=issue, actor=officer)
    (note,) = _notes(issue)
    assert "816-555-0100" not in note.message and note.data["original_message"].startswith("Call 816-555-0100")
