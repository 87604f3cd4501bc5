"""Moderation (issue 13): moderators change only what the public sees, with a reason, on the record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cases import services
from cases.models import Event, ModerationItem, Report
from tests.factories import IssueFactory, ReportFactory, UserFactory, supervisor

pytestmark = pytest.mark.django_db

EMAIL = "ana.resident@example.org"


@pytest.fixture
def moderator(neighborhood):
    return supervisor(districts=[neighborhood.district])


@pytest.fixture
def issue(neighborhood, category):
    issue = IssueFactory(
        neighborhood=neighborhood,
        category=category,
        description=f"Tags on the wall, write me at {EMAIL}",
        public_description="Tags on the wall, write me at [•••@•••]",
    )
    return issue


@pytest.fixture
def report(issue):
    return ReportFactory(issue=issue, text=issue.description, public_text=issue.public_description)


def item(issue, report=None, reason=ModerationItem.Reason.MASKED, *, age_minutes=0, **kwargs):
    return ModerationItem.objects.create(
        issue=issue,
        report=report,
        reason=reason,
        findings=kwargs.pop("findings", {"email": 1}),
        created_at=timezone.now() - timedelta(minutes=age_minutes),
        **kwargs,
    )


def moderated_events(issue):
    return list(Event.objects.filter(issue=issue, kind=Event.Kind.MODERATED).order_by("id"))


# --- permission and reason --------------------------------------------------------------------


SERVICE_CALLS = {
    "issue_text": lambda issue, report, actor, reason: services.issue_public_text_edit(
        issue=issue, text="Tags on the wall", reason=reason, actor=actor
    ),
    "report_text": lambda issue, report, actor, reason: services.report_public_text_edit(
        report=report, text="Tags on the wall", reason=reason, actor=actor
    ),
    "report_hide": lambda issue, report, actor, reason: services.report_hide(report=report, reason=reason, actor=actor),
}


@pytest.mark.parametrize("call", SERVICE_CALLS.values(), ids=SERVICE_CALLS.keys())
def test_an_officer_without_the_permission_is_refused_and_nothing_changes(call, issue, report, officer):
    with pytest.raises(PermissionDenied):
        call(issue, report, officer, "Removed an email")
    issue.refresh_from_db()
    report.refresh_from_db()
    assert issue.public_description.endswith("[•••@•••]") and not report.is_hidden
    assert moderated_events(issue) == []


def test_every_other_service_refuses_an_officer_too(issue, report, officer):
    report.media_url = "https://img.example.org/a.jpg"
    report.save()
    for call in (
        lambda: services.report_unhide(report=report, reason="r", actor=officer),
        lambda: services.photo_approve(report=report, reason="r", actor=officer),
        lambda: services.photo_hide(report=report, reason="r", actor=officer),
        lambda: services.moderation_item_resolve(item=item(issue), actor=officer),
    ):
        with pytest.raises(PermissionDenied):
            call()
    assert moderated_events(issue) == []


@pytest.mark.parametrize("call", SERVICE_CALLS.values(), ids=SERVICE_CALLS.keys())
@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reason_is_required(call, reason, issue, report, moderator):
    with pytest.raises(ValidationError) as refused:
        call(issue, report, moderator, reason)
    assert "reason" in refused.value.message_dict
    report.refresh_from_db()
    assert not report.is_hidden and moderated_events(issue) == []


# --- public text ---------------------------------------------------------------------------------


def test_editing_the_public_description_keeps_the_original_records_and_resolves(issue, report, moderator):
    issue_item = item(issue, reason=ModerationItem.Reason.MASKED)
    report_item = item(issue, report, reason=ModerationItem.Reason.FLAGGED)
    photo_item = item(issue, report, reason=ModerationItem.Reason.PHOTO)
    before = issue.public_description

    services.issue_public_text_edit(
        issue=issue, text="Tags on the laundromat wall, call 816-555-0142", reason="Phone left in", actor=moderator
    )

    issue.refresh_from_db()
    assert issue.description == f"Tags on the wall, write me at {EMAIL}"  # the original, for staff
    assert issue.public_description.startswith("Tags on the laundromat wall")
    # A moderator's text goes through the masker too.
    assert "816-555-0142" not in issue.public_description
    [event] = moderated_events(issue)
    assert event.actor == moderator and not event.is_public
    assert event.message == "Phone left in"
    assert event.data == {"action": "issue_text", "report": None, "before": before, "after": issue.public_description}
    issue_item.refresh_from_db()
    assert issue_item.resolved_at is not None and issue_item.resolved_by == moderator
    # Only the items about that text: the report's text and photo wait.
    report_item.refresh_from_db()
    photo_item.refresh_from_db()
    assert report_item.resolved_at is None and photo_item.resolved_at is None


def test_editing_a_reports_public_text(issue, report, moderator):
    text_item = item(issue, report, reason=ModerationItem.Reason.FLAGGED)
    issue_item = item(issue, reason=ModerationItem.Reason.MASKED)
    services.report_public_text_edit(report=report, text="Tags on the wall", reason="Email removed", actor=moderator)
    report.refresh_from_db()
    assert report.text == f"Tags on the wall, write me at {EMAIL}"
    assert report.public_text == "Tags on the wall"
    [event] = moderated_events(issue)
    assert event.data["action"] == "report_text" and event.data["report"] == report.pk
    assert event.data["before"].endswith("[•••@•••]") and event.data["after"] == "Tags on the wall"
    text_item.refresh_from_db()
    issue_item.refresh_from_db()
    assert text_item.resolved_by == moderator and issue_item.resolved_at is None


def test_public_text_cannot_be_emptied(issue, report, moderator):
    with pytest.raises(ValidationError) as refused:
        services.report_public_text_edit(report=report, text="  ", reason="why", actor=moderator)
    assert "text" in refused.value.message_dict


def test_hide_and_unhide_a_report(issue, report, moderator):
    text_item = item(issue, report, reason=ModerationItem.Reason.MASKED)
    photo_item = item(issue, report, reason=ModerationItem.Reason.PHOTO)
    services.report_hide(report=report, reason="Abusive", actor=moderator)
    report.refresh_from_db()
    assert report.is_hidden and report.text  # nothing deleted
    text_item.refresh_from_db()
    photo_item.refresh_from_db()
    assert text_item.resolved_at is not None
    # The photo is decided on its own: unhiding the report must not publish it.
    assert photo_item.resolved_at is None
    with pytest.raises(ValidationError):
        services.report_hide(report=report, reason="again", actor=moderator)
    services.report_unhide(report=report, reason="Was a mistake", actor=moderator)
    report.refresh_from_db()
    assert not report.is_hidden
    assert [e.data["action"] for e in moderated_events(issue)] == ["report_hide", "report_unhide"]
    assert [e.data["after"] for e in moderated_events(issue)] == ["hidden", "visible"]


def test_looks_fine_resolves_an_item_and_is_recorded(issue, report, moderator):
    queued = item(issue, report, reason=ModerationItem.Reason.FLAGGED)
    services.moderation_item_resolve(item=queued, actor=moderator)
    queued.refresh_from_db()
    assert queued.resolved_at is not None and queued.resolved_by == moderator
    [event] = moderated_events(issue)
    assert event.data["action"] == "resolve" and event.data["before"] == event.data["after"] == report.public_text
    with pytest.raises(ValidationError):
        services.moderation_item_resolve(item=queued, actor=moderator)


def test_a_photo_item_cannot_be_waved_through(issue, report, moderator):
    queued = item(issue, report, reason=ModerationItem.Reason.PHOTO)
    with pytest.raises(ValidationError):
        services.moderation_item_resolve(item=queued, actor=moderator)
    queued.refresh_from_db()
    assert queued.resolved_at is None


def test_staff_see_the_moderation_on_the_timeline(client, issue, report, moderator):
    services.report_public_text_edit(report=report, text="Tags on the wall", reason="Email removed", actor=moderator)
    client.force_login(moderator)
    html = client.get(issue.get_absolute_url()).content.decode()
    assert "Report&#x27;s public text changed" in html or "Report's public text changed" in html
    assert "Email removed" in html


# --- the issue page's forms ----------------------------------------------------------------------


def test_moderators_see_the_forms_with_the_original_beside_the_public_copy(client, issue, report, moderator):
    client.force_login(moderator)
    html = client.get(issue.get_absolute_url()).content.decode()
    assert 'id="moderation"' in html
    assert f"/moderation/issues/{issue.pk}/public-text/" in html
    assert f"/moderation/reports/{report.pk}/hide/" in html
    assert 'for="id_mod_issue_public-text_reason"' in html and 'for="id_mod_r' in html
    assert EMAIL in html  # the original, staff only


def test_officers_see_no_moderation_forms(client, issue, report, officer):
    client.force_login(officer)
    html = client.get(issue.get_absolute_url()).content.decode()
    assert 'id="moderation"' not in html and "/moderation/" not in html


@pytest.mark.parametrize(
    "path",
    [
        "/moderation/issues/{issue}/public-text/",
        "/moderation/reports/{report}/hide/",
        "/moderation/items/{item}/resolve/",
    ],
)
def test_an_officer_gets_403_from_the_moderation_views(client, issue, report, officer, path):
    queued = item(issue, report)
    client.force_login(officer)
    url = path.format(issue=issue.pk, report=report.pk, item=queued.pk)
    response = client.post(url, {"reason": "x", "text": "y"})
    assert response.status_code == 403
    assert moderated_events(issue) == []


def test_an_anonymous_visitor_is_sent_to_login(client, issue, report):
    response = client.post(f"/moderation/reports/{report.pk}/hide/", {"reason": "x"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_form_changes_the_public_text_and_says_so(client, issue, report, moderator):
    client.force_login(moderator)
    response = client.post(
        f"/moderation/reports/{report.pk}/public-text/", {"text": "Tags on the wall", "reason": "Email"}, follow=True
    )
    assert response.redirect_chain[-1][0].endswith(f"{issue.get_absolute_url()}#moderation")
    assert "public text was changed" in response.content.decode()
    report.refresh_from_db()
    assert report.public_text == "Tags on the wall"


def test_the_form_without_a_reason_says_why_and_changes_nothing(client, issue, report, moderator):
    client.force_login(moderator)
    response = client.post(f"/moderation/reports/{report.pk}/public-text/", {"text": "Edited", "reason": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert "nothing was changed" in html and "Give a reason" in html
    assert "Edited" in html  # the typed text is shown again
    report.refresh_from_db()
    assert report.public_text.endswith("[•••@•••]")
    assert moderated_events(issue) == []


@pytest.mark.parametrize(
    ("english", "spanish"),
    [
        ("Moderation: what the public sees", "Moderación: lo que ve el público"),
        ("Moderation queue", "Cola de moderación"),
        ("Reason", "Motivo"),
        ("Approve photo", "Aprobar la foto"),
        (
            "Give a reason: it is kept in the issue's audit trail.",
            "Indique un motivo: queda en el registro de auditoría del caso.",
        ),
    ],
)
def test_the_moderation_strings_have_spanish(english, spanish):
    from django.utils import translation

    with translation.override("es"):
        assert translation.gettext(english) == spanish


def test_unknown_action_is_404(client, issue, report, moderator):
    client.force_login(moderator)
    assert client.post(f"/moderation/reports/{report.pk}/delete/", {"reason": "x"}).status_code == 404


def test_a_user_without_a_role_gets_403(client, issue, report):
    client.force_login(UserFactory())
    assert client.post(f"/moderation/reports/{report.pk}/hide/", {"reason": "x"}).status_code == 403
    assert Report.objects.get(pk=report.pk).is_hidden is False


def test_an_edit_masks_the_reporters_name_too(issue, moderator):
    report = ReportFactory(issue=issue, reporter_name="Ana Ruiz", reporter_email="ana@example.org")
    services.report_public_text_edit(
        report=report, text="Ana Ruiz saw them at night", reason="Rewrote", actor=moderator
    )
    services.issue_public_text_edit(issue=issue, text="Ana Ruiz saw tags", reason="Rewrote", actor=moderator)
    report.refresh_from_db()
    issue.refresh_from_db()
    assert "Ruiz" not in report.public_text and "saw them at night" in report.public_text
    assert "Ruiz" not in issue.public_description
