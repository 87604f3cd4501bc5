"""A note kept on an officer's phone and sent later (issue 19, item 2): sent twice with its key,
it is added once; if the issue was finished meanwhile, it is refused as a conflict (nothing written)
until the officer says "send anyway" — through the service, the issue page's note form (as the
device replays it and as a page, in English and Spanish) and the REST API."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import connections, transaction

from cases.models import Event, Issue
from cases.services import issue_add_note
from cases.services.issues import IssueFinishedMeanwhile
from core.client_keys import Conflict
from core.models import ClientKey
from partners.models import StaffProfile
from tests import factories
from tests.api.conftest import token_client
from tests.locks import backend_pid, wait_until_blocked_on

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def issue(neighborhood):
    return factories.IssueFactory(neighborhood=neighborhood, status=Issue.Status.ACKNOWLEDGED)


def notes(issue):
    return list(Event.objects.filter(issue=issue, kind=Event.Kind.NOTE).values_list("message", flat=True))


def finish(issue, status=Issue.Status.CLOSED):
    Issue.objects.filter(pk=issue.pk).update(status=status)  # someone else closed it meanwhile
    issue.refresh_from_db()


# --- the service ------------------------------------------------------------------------------


def test_the_same_key_twice_adds_one_note_and_returns_the_first(issue, officer):
    key = uuid.uuid4()
    first = issue_add_note(issue=issue, actor=officer, text="Talked to the owner", client_key=key)
    again = issue_add_note(issue=issue, actor=officer, text="Talked to the owner", client_key=str(key))
    assert (first.replayed, again.replayed) == (False, True)
    assert again.pk == first.pk
    assert notes(issue) == ["Talked to the owner"]


def test_a_key_that_is_not_a_uuid_is_refused_and_nothing_is_written(issue, officer):
    with pytest.raises(ValidationError) as refused:
        issue_add_note(issue=issue, actor=officer, text="Hello", client_key="CG-123")
    assert "client_key" in refused.value.message_dict
    assert notes(issue) == [] and not ClientKey.objects.exists()


def test_another_officers_key_is_refused(issue, officer, supervisor):
    key = uuid.uuid4()
    issue_add_note(issue=issue, actor=officer, text="Mine", client_key=key)
    with pytest.raises(Conflict) as refused:
        issue_add_note(issue=issue, actor=supervisor, text="Theirs", client_key=key)
    assert refused.value.code == "client_key_reused"
    assert notes(issue) == ["Mine"]


def test_the_same_key_on_another_issue_is_refused(issue, officer, neighborhood):
    key = uuid.uuid4()
    issue_add_note(issue=issue, actor=officer, text="Here", client_key=key)
    other = factories.IssueFactory(neighborhood=neighborhood)
    with pytest.raises(Conflict):
        issue_add_note(issue=other, actor=officer, text="There", client_key=key)
    assert notes(other) == []


@pytest.mark.parametrize("status", [Issue.Status.CLOSED, Issue.Status.RESOLVED, Issue.Status.REFERRED])
def test_a_note_written_while_open_on_an_issue_finished_meanwhile_is_a_conflict(issue, officer, status):
    key = uuid.uuid4()
    finish(issue, status)
    with pytest.raises(IssueFinishedMeanwhile) as refused:
        issue_add_note(issue=issue, actor=officer, text="Left a card", client_key=key, seen_status="acknowledged")
    assert refused.value.code == "issue_finished" and refused.value.details == {"status": status}
    assert notes(issue) == [] and not ClientKey.objects.filter(key=key).exists()
    # "Send anyway": added, once, whatever the retries.
    for _ in range(2):
        issue_add_note(
            issue=issue, actor=officer, text="Left a card", client_key=key, seen_status="acknowledged", confirm=True
        )
    assert notes(issue) == ["Left a card"]


def test_no_conflict_when_the_officer_saw_it_finished_or_did_not_say(issue, officer):
    finish(issue)
    issue_add_note(issue=issue, actor=officer, text="After closing", seen_status="closed")
    issue_add_note(issue=issue, actor=officer, text="From a program")
    assert notes(issue) == ["After closing", "From a program"]


def test_a_replay_of_a_note_added_before_the_issue_closed_is_no_conflict(issue, officer):
    key = uuid.uuid4()
    first = issue_add_note(issue=issue, actor=officer, text="Before", client_key=key, seen_status="acknowledged")
    finish(issue)
    again = issue_add_note(issue=issue, actor=officer, text="Before", client_key=key, seen_status="acknowledged")
    assert again.pk == first.pk and notes(issue) == ["Before"]


def test_an_unknown_seen_status_is_refused(issue, officer):
    with pytest.raises(ValidationError):
        issue_add_note(issue=issue, actor=officer, text="Hm", seen_status="gone")
    assert notes(issue) == []


@pytest.mark.django_db(transaction=True)
def test_two_requests_with_one_key_at_once_add_one_note():
    neighborhood = factories.NeighborhoodFactory()
    officer = factories.officer(neighborhoods=[neighborhood])
    issue = factories.IssueFactory(neighborhood=neighborhood)
    key = uuid.uuid4()
    results, errors = [], []

    def second():
        try:
            results.append(issue_add_note(issue=issue, actor=officer, text="Same", client_key=key))
        except Exception as error:  # reported by the main thread
            errors.append(error)
        finally:
            connections.close_all()

    with transaction.atomic():
        first = issue_add_note(issue=issue, actor=officer, text="Same", client_key=key)
        me = backend_pid()
        thread = threading.Thread(target=second)
        thread.start()
        assert wait_until_blocked_on(me, thread), f"the second request never waited on the first ({errors})"
    thread.join()
    assert not errors
    assert [event.pk for event in results] == [first.pk] and results[0].replayed is True
    assert notes(issue) == ["Same"]


# --- the issue page's note form -----------------------------------------------------------------


def note_form(key="", seen="acknowledged", **more):
    return {
        "text": "Spoke with the neighbours",
        "visibility": "internal",
        "client_key": key,
        "seen_status": seen,
        **more,
    }


def test_the_note_form_replayed_by_the_device_adds_once(client, issue, officer):
    client.force_login(officer)
    key = str(uuid.uuid4())
    answers = [
        client.post(f"/issues/{issue.pk}/note/", note_form(key), HTTP_ACCEPT="application/json") for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json()["message"] == "Internal note added."
    assert answers[1].json()["message"] == "This note was already added."
    assert notes(issue) == ["Spoke with the neighbours"]


def test_the_issue_page_carries_the_status_the_officer_saw(client, issue, officer):
    client.force_login(officer)
    page = client.get(f"/issues/{issue.pk}/").content.decode()
    assert 'name="seen_status" value="acknowledged"' in page
    assert 'data-offline="note"' in page and 'name="client_key"' in page


def test_the_note_form_tells_the_device_of_the_conflict(client, issue, officer):
    client.force_login(officer)
    finish(issue)
    key = str(uuid.uuid4())
    answer = client.post(f"/issues/{issue.pk}/note/", note_form(key), HTTP_ACCEPT="application/json")
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "issue_finished"
    assert "“Closed” meanwhile" in answer.json()["error"]["message"]
    assert notes(issue) == []
    anyway = client.post(f"/issues/{issue.pk}/note/", note_form(key, confirm="true"), HTTP_ACCEPT="application/json")
    assert anyway.status_code == 201
    assert notes(issue) == ["Spoke with the neighbours"]


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "This issue became “Closed” meanwhile. The note was not added: send it anyway or discard it."),
        ("es", "Este caso pasó a “Cerrado” mientras tanto. La nota no se añadió: envíela de todos modos o descártela."),
    ],
)
def test_the_note_page_shows_the_conflict_and_keeps_the_text(client, issue, officer, language, words):
    StaffProfile.objects.filter(user=officer).update(language=language)
    client.force_login(officer)
    finish(issue)
    page = client.post(f"/issues/{issue.pk}/note/", note_form(str(uuid.uuid4())))
    assert page.status_code == 409
    html = page.content.decode()
    assert words in html
    assert "Spoke with the neighbours" in html  # the text is still in the form
    assert 'name="seen_status" value="closed"' in html  # now seen: sending the form again adds it
    assert notes(issue) == []


def test_the_note_form_without_the_new_fields_works_as_before(client, issue, officer):
    client.force_login(officer)
    response = client.post(f"/issues/{issue.pk}/note/", {"text": "Plain", "visibility": "internal"})
    assert response.status_code == 302
    assert notes(issue) == ["Plain"]


# --- the REST API -------------------------------------------------------------------------------


def test_the_api_note_with_the_same_idempotency_key_adds_once(issue, officer):
    api = token_client(officer)
    key = str(uuid.uuid4())
    url = f"/api/v1/issues/{issue.pk}/note/"
    first = api.post(url, {"text": "Via the API"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = api.post(url, {"text": "Via the API"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["id"] == again.json()["id"] and again["Idempotent-Replayed"] == "true"
    assert notes(issue) == ["Via the API"]


def test_the_api_note_conflict_is_a_409_then_confirm_adds_it(issue, officer):
    api = token_client(officer)
    finish(issue, Issue.Status.REFERRED)
    url = f"/api/v1/issues/{issue.pk}/note/"
    body = {"text": "Late", "seen_status": "acknowledged"}
    refused = api.post(url, body, format="json")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "issue_finished"
    assert refused.json()["error"]["status"] == "referred"
    assert notes(issue) == []
    assert api.post(url, {**body, "confirm": True}, format="json").status_code == 201
    assert notes(issue) == ["Late"]


def test_the_api_note_refuses_a_bad_idempotency_key(issue, officer):
    answer = token_client(officer).post(
        f"/api/v1/issues/{issue.pk}/note/", {"text": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="123"
    )
    assert answer.status_code == 400
    assert "Idempotency-Key" in answer.json()["error"]["fields"]
    assert notes(issue) == []


def test_a_note_taking_the_issue_is_a_conflict_not_a_refusal_when_it_was_closed_meanwhile(client, issue, officer):
    """The page kept offline offered "Take it" (the issue was unassigned and open); closed since, it
    can no longer be assigned: the answer is the conflict, and "send anyway" adds the note alone."""
    client.force_login(officer)
    finish(issue)
    data = note_form(str(uuid.uuid4()), take="on")
    answer = client.post(f"/issues/{issue.pk}/note/", data, HTTP_ACCEPT="application/json")
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "issue_finished"
    anyway = client.post(f"/issues/{issue.pk}/note/", {**data, "confirm": "true"}, HTTP_ACCEPT="application/json")
    assert anyway.status_code == 201
    assert notes(issue) == ["Spoke with the neighbours"]
    issue.refresh_from_db()
    assert issue.assignee_id is None and issue.status == Issue.Status.CLOSED
