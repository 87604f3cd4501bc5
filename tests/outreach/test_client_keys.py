"""An outreach activity sent twice with the device's key is logged once (issue 19, item 2): the
service, the form (as the offline queue replays it, and as a plain page), and the REST API's
``Idempotency-Key`` header — also when two requests with one key arrive at the same moment."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connections, transaction
from django.utils import timezone

from cases.models import Event
from core.client_keys import Conflict
from core.models import ClientKey
from outreach.models import Activity
from outreach.services import activity_create
from partners.models import StaffProfile
from tests import factories
from tests.api.conftest import token_client
from tests.locks import backend_pid, wait_until_blocked_on

pytestmark = pytest.mark.django_db


def fields(neighborhood, title="Park clean-up"):
    start = timezone.now().replace(microsecond=0) - timedelta(hours=3)
    return {
        "kind": "clean_up",
        "title": title,
        "starts_at": start,
        "ends_at": start + timedelta(hours=2),
        "neighborhood": neighborhood,
    }


def form_data(officer, neighborhood, key, title="Park clean-up"):
    start = timezone.localtime() - timedelta(hours=3)
    return {
        "client_key": key,
        "kind": "clean_up",
        "title": title,
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "neighborhood": neighborhood.pk,
        "attendance": "12",
        "officers": [str(officer.pk)],
        "hours": "",
        "issues": "",
        "problem": "",
        "follow_up_note": "",
    }


# --- the service ------------------------------------------------------------------------------


def test_the_same_key_twice_logs_one_activity_and_returns_the_first(officer, neighborhood):
    key = uuid.uuid4()
    issue = factories.IssueFactory(neighborhood=neighborhood)
    first = activity_create(actor=officer, client_key=key, issues=[issue], **fields(neighborhood))
    again = activity_create(actor=officer, client_key=str(key), issues=[issue], **fields(neighborhood))
    assert first.replayed is False and again.replayed is True
    assert again.pk == first.pk
    assert Activity.objects.count() == 1
    # Its side effects happened once too: one timeline entry on the issue it addressed.
    assert Event.objects.filter(issue=issue, kind=Event.Kind.OUTREACH).count() == 1
    assert ClientKey.objects.get(key=key).object_id == first.pk


def test_without_a_key_each_call_logs_one(officer, neighborhood):
    activity_create(actor=officer, **fields(neighborhood))
    activity_create(actor=officer, **fields(neighborhood))
    assert Activity.objects.count() == 2
    assert not ClientKey.objects.exists()


def test_a_key_that_is_not_a_uuid_is_refused_and_nothing_is_written(officer, neighborhood):
    with pytest.raises(ValidationError) as refused:
        activity_create(actor=officer, client_key="not-a-uuid", **fields(neighborhood))
    assert "client_key" in refused.value.message_dict
    assert not Activity.objects.exists() and not ClientKey.objects.exists()


def test_another_officers_key_is_refused(officer, other_officer, neighborhood):
    key = uuid.uuid4()
    activity_create(actor=officer, client_key=key, **fields(neighborhood))
    with pytest.raises(Conflict) as refused:
        activity_create(actor=other_officer, client_key=key, **fields(neighborhood, "Theirs"))
    assert refused.value.code == "client_key_reused"
    assert list(Activity.objects.values_list("title", flat=True)) == ["Park clean-up"]


def test_a_key_that_made_a_note_is_refused_for_an_activity(officer, neighborhood):
    from cases.services import issue_add_note

    key = uuid.uuid4()
    issue_add_note(issue=factories.IssueFactory(neighborhood=neighborhood), actor=officer, text="Seen", client_key=key)
    with pytest.raises(Conflict) as refused:
        activity_create(actor=officer, client_key=key, **fields(neighborhood))
    assert refused.value.code == "client_key_reused"
    assert not Activity.objects.exists()


def test_an_invalid_activity_keeps_its_key_free(officer, neighborhood):
    key = uuid.uuid4()
    with pytest.raises(ValidationError):
        activity_create(actor=officer, client_key=key, **{**fields(neighborhood), "title": " "})
    assert not ClientKey.objects.filter(key=key).exists()  # rolled back with the refused activity
    assert activity_create(actor=officer, client_key=key, **fields(neighborhood)).replayed is False


def test_the_key_of_a_deleted_activity_is_a_conflict_not_a_second_activity(officer, neighborhood):
    from outreach.services import activities_delete

    key = uuid.uuid4()
    activity = activity_create(actor=officer, client_key=key, **fields(neighborhood))
    activities_delete(activities=Activity.objects.filter(pk=activity.pk))
    with pytest.raises(Conflict) as refused:
        activity_create(actor=officer, client_key=key, **fields(neighborhood))
    assert refused.value.code == "client_key_deleted"
    assert not Activity.objects.exists()


# --- two requests with one key at once --------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first_commits", [True, False])
def test_two_requests_with_one_key_at_once_log_one_activity(first_commits):
    """The first request holds its transaction open; the second, with the same key, waits on the
    key's unique index (not on a check that both would pass). The first commits: the second answers
    with its activity. The first fails and rolls back: the second logs it."""
    neighborhood = factories.NeighborhoodFactory()
    officer = factories.officer(neighborhoods=[neighborhood])
    key = uuid.uuid4()
    results, errors = [], []

    def second():
        try:
            results.append(activity_create(actor=officer, client_key=key, **fields(neighborhood)))
        except Exception as error:  # reported by the main thread
            errors.append(error)
        finally:
            connections.close_all()

    class Abandoned(Exception):
        pass

    try:
        with transaction.atomic():
            first = activity_create(actor=officer, client_key=key, **fields(neighborhood))
            me = backend_pid()
            thread = threading.Thread(target=second)
            thread.start()
            assert wait_until_blocked_on(me, thread), f"the second request never waited on the first ({errors})"
            if not first_commits:
                raise Abandoned
    except Abandoned:
        pass
    thread.join()
    assert not errors
    assert Activity.objects.count() == 1
    (answer,) = results
    if first_commits:
        assert answer.pk == first.pk and answer.replayed is True
    else:
        assert answer.replayed is False and Activity.objects.get().pk == answer.pk
    assert ClientKey.objects.get(key=key).object_id == answer.pk


# --- the form, as the offline queue sends it and as a page --------------------------------------


def test_the_form_replayed_by_the_device_logs_once_and_says_so(client, officer, neighborhood):
    client.force_login(officer)
    key = str(uuid.uuid4())
    answers = [
        client.post("/outreach/new/", form_data(officer, neighborhood, key), HTTP_ACCEPT="application/json")
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [201, 201]
    activity = Activity.objects.get()
    assert [a.json() for a in answers] == [
        {"id": activity.pk, "url": f"/outreach/{activity.pk}/", "replayed": False},
        {"id": activity.pk, "url": f"/outreach/{activity.pk}/", "replayed": True},
    ]


@pytest.mark.parametrize(
    ("language", "already"),
    [("en", "This outreach activity was already logged."), ("es", "Esta actividad comunitaria ya estaba registrada.")],
)
def test_the_form_posted_twice_as_a_page_logs_once(client, officer, neighborhood, language, already):
    StaffProfile.objects.filter(user=officer).update(language=language)
    client.force_login(officer)
    key = str(uuid.uuid4())
    client.post("/outreach/new/", form_data(officer, neighborhood, key))
    again = client.post("/outreach/new/", form_data(officer, neighborhood, key), follow=True)
    assert Activity.objects.count() == 1
    assert already in again.content.decode()


def test_the_form_refuses_a_bad_key_clearly(client, officer, neighborhood):
    client.force_login(officer)
    page = client.post("/outreach/new/", form_data(officer, neighborhood, "12345"))
    assert page.status_code == 400
    assert "The idempotency key must be a UUID" in page.content.decode()
    as_json = client.post("/outreach/new/", form_data(officer, neighborhood, "12345"), HTTP_ACCEPT="application/json")
    assert as_json.status_code == 400
    assert as_json.json()["error"]["fields"]["client_key"]
    assert not Activity.objects.exists()


def test_the_form_answers_the_device_with_the_reasons_it_refuses(client, officer, neighborhood):
    client.force_login(officer)
    data = {**form_data(officer, neighborhood, str(uuid.uuid4())), "title": ""}
    answer = client.post("/outreach/new/", data, HTTP_ACCEPT="application/json")
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid"
    assert "title" in answer.json()["error"]["fields"]


def test_the_form_with_another_officers_key_is_a_409(client, officer, other_officer, neighborhood):
    key = uuid.uuid4()
    activity_create(actor=other_officer, client_key=key, **fields(neighborhood, "Theirs"))
    client.force_login(officer)
    answer = client.post("/outreach/new/", form_data(officer, neighborhood, str(key)), HTTP_ACCEPT="application/json")
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "client_key_reused"
    page = client.post("/outreach/new/", form_data(officer, neighborhood, str(key)))
    assert page.status_code == 409
    assert "This idempotency key was already used for another entry" in page.content.decode()
    assert Activity.objects.count() == 1


def test_the_form_shows_an_empty_key_field_the_script_fills(client, officer):
    client.force_login(officer)
    page = client.get("/outreach/new/").content.decode()
    assert 'name="client_key"' in page and 'data-offline="activity"' in page


# --- the REST API -------------------------------------------------------------------------------


def api_body(neighborhood, title="Park clean-up"):
    start = timezone.now().replace(microsecond=0) - timedelta(hours=3)
    return {
        "kind": "clean_up",
        "title": title,
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "neighborhood": neighborhood.pk,
    }


def test_the_api_with_the_same_idempotency_key_logs_once(officer, neighborhood):
    api = token_client(officer)
    key = str(uuid.uuid4())
    first = api.post("/api/v1/activities/", api_body(neighborhood), format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = api.post("/api/v1/activities/", api_body(neighborhood), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["id"] == again.json()["id"]
    assert "Idempotent-Replayed" not in first and again["Idempotent-Replayed"] == "true"
    assert Activity.objects.count() == 1


def test_the_api_refuses_a_bad_idempotency_key_and_another_users(officer, other_officer, neighborhood):
    api = token_client(officer)
    bad = api.post("/api/v1/activities/", api_body(neighborhood), format="json", HTTP_IDEMPOTENCY_KEY="nope")
    assert bad.status_code == 400
    assert bad.json()["error"]["fields"] == {"Idempotency-Key": [bad.json()["error"]["message"].split(": ", 1)[1]]}
    key = str(uuid.uuid4())
    assert (
        token_client(other_officer)
        .post("/api/v1/activities/", api_body(neighborhood), format="json", HTTP_IDEMPOTENCY_KEY=key)
        .status_code
        == 201
    )
    taken = api.post("/api/v1/activities/", api_body(neighborhood, "Mine"), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "client_key_reused"
    assert list(Activity.objects.values_list("title", flat=True)) == ["Park clean-up"]
