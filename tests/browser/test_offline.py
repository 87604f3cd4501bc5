"""Working without a network (issue 19, items 2 and 3), in real Chromium: the service worker keeps
the staff pages, entries made offline wait on the device (IndexedDB) and are sent once when the
network returns; the same request sent twice writes one row; a note on an issue closed meanwhile
is shown as a conflict; signing out empties what the device keeps."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from cases.models import Event, Issue
from outreach.models import Activity
from tests import factories
from tests.browser.conftest import go_offline, login, wait_for_the_worker, wait_until_true

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def field(db):
    westside = factories.NeighborhoodFactory(name="Westside", slug="westside")
    officer = factories.officer(username="ofc.ortega", first_name="Luz", last_name="Ortega", neighborhoods=[westside])
    issue = factories.IssueFactory(
        neighborhood=westside, status=Issue.Status.ACKNOWLEDGED, description="Broken fence at the park"
    )
    return officer, issue


def notes(issue):
    return list(Event.objects.filter(issue=issue, kind=Event.Kind.NOTE).values_list("message", flat=True))


def sign_in_with_the_worker(page, live_server, officer):
    """Signed in, the service worker installed and in control of the page."""
    login(page, live_server, officer.username)
    page.goto(f"{live_server.url}/queue/")
    wait_for_the_worker(page)


def note_kept_offline(page, live_server, officer, issue, text):
    """Signed in with the worker, the issue page opened, then offline: one note kept on the device."""
    sign_in_with_the_worker(page, live_server, officer)
    page.goto(f"{live_server.url}/issues/{issue.pk}/")
    go_offline(page)
    page.fill("#id_note_text", text)
    page.locator("form.action-note button[type=submit]").click()
    expect(page.locator("#offline-outbox-list li")).to_have_count(1)


def waiting(page):
    return page.locator("#offline-outbox")


def test_offline_activity_and_note_are_kept_then_sent_once(live_server, phone_page, field, screenshot):
    page = phone_page
    officer, issue = field
    sign_in_with_the_worker(page, live_server, officer)
    page.goto(f"{live_server.url}/outreach/new/")
    page.goto(f"{live_server.url}/issues/{issue.pk}/")
    expect(waiting(page)).to_be_hidden()

    go_offline(page)
    # A note, on the issue page opened before the signal went.
    page.fill("#id_note_text", "Fence wire cut again; owner told.")
    page.locator("form.action-note button[type=submit]").click()
    expect(page.locator("#offline-status")).to_have_text("Saved on this device — waiting to send.")
    expect(waiting(page)).to_be_visible()
    expect(page.locator("#offline-outbox-title")).to_have_text("Waiting to send (1)")
    expect(page.locator("#offline-outbox-list")).to_contain_text("Fence wire cut again; owner told.")
    expect(page.locator("#id_note_text")).to_have_value("")  # ready for the next one

    # The outreach form opens without a network (kept by the service worker) and logs one.
    page.goto(f"{live_server.url}/outreach/new/")
    expect(page.locator("h1")).to_have_text("Log an outreach activity")
    page.select_option("#id_kind", "clean_up")
    page.fill("#id_title", "Basement food pantry visit")
    page.get_by_role("button", name="Log activity").click()
    expect(page.locator("#offline-status")).to_have_text("Saved on this device — waiting to send.")
    expect(page.locator("#offline-outbox-title")).to_have_text("Waiting to send (2)")
    screenshot(page, "waiting")

    # Reloaded, still offline: the page opens from the device and the entries are still there.
    page.reload()
    expect(page.locator("h1")).to_have_text("Log an outreach activity")
    expect(page.locator("#offline-outbox-list li")).to_have_count(2)
    expect(page.locator("#offline-outbox-list")).to_contain_text("Basement food pantry visit")
    expect(page.locator("#offline-outbox-list")).to_contain_text("Waiting for the network")
    assert not Activity.objects.exists() and notes(issue) == []
    # The queue and the issue page open from the device too, the list on them.
    page.goto(f"{live_server.url}/queue/")
    expect(page.locator("h1")).to_have_text("My queue")
    page.goto(f"{live_server.url}/issues/{issue.pk}/")
    expect(page.locator("h1")).to_contain_text(issue.tracking_code)
    expect(page.locator("#offline-outbox-title")).to_have_text("Waiting to send (2)")

    # The signal returns: both are sent, once each, and the list empties.
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")  # as the browser does when a real network returns
    expect(waiting(page)).to_be_hidden()
    expect(page.locator("#offline-status")).to_have_text("Sent: nothing is waiting on this device any more.")
    activity = Activity.objects.get()
    assert activity.title == "Basement food pantry visit" and activity.created_by == officer
    assert notes(issue) == ["Fence wire cut again; owner told."]
    page.reload()
    expect(waiting(page)).to_be_hidden()
    page.evaluate("document.getElementById('offline-send-now').click()")  # nothing left to send twice
    page.wait_for_load_state("networkidle")
    assert Activity.objects.count() == 1 and len(notes(issue)) == 1


def test_the_same_request_sent_twice_writes_one_row(live_server, desktop_page, field):
    """The device's replay, twice and at the same moment, with one key: one activity, one note."""
    page = desktop_page
    officer, issue = field
    login(page, live_server, officer.username)
    page.goto(f"{live_server.url}/outreach/new/")
    page.select_option("#id_kind", "door_to_door")
    page.fill("#id_title", "Door-to-door on 9th")
    activity_key, note_key = str(uuid.uuid4()), str(uuid.uuid4())
    answers = page.evaluate(
        """async ([key, noteUrl, noteKey]) => {
            const token = document.querySelector("input[name=csrfmiddlewaretoken]").value;
            const form = new FormData(document.getElementById("activity-form"));
            form.set("client_key", key);
            const note = new URLSearchParams({csrfmiddlewaretoken: token, text: "Knocked twice", visibility: "internal",
                                              client_key: noteKey, seen_status: "acknowledged"});
            const send = (url, body) => fetch(url, {method: "POST", body: new URLSearchParams(body),
                                                    headers: {Accept: "application/json"}})
                .then(async r => [r.status, await r.json()]);
            return Promise.all([send("/outreach/new/", form), send("/outreach/new/", form),
                                send(noteUrl, note), send(noteUrl, note)]);
        }""",
        [activity_key, f"/issues/{issue.pk}/note/", note_key],
    )
    assert [status for status, _ in answers] == [201, 201, 201, 201]
    activity = Activity.objects.get()
    assert {body["id"] for _, body in answers[:2]} == {activity.pk}
    assert sorted(body["replayed"] for _, body in answers[:2]) == [False, True]
    assert notes(issue) == ["Knocked twice"]

    # And once more, later, through the page's request context (a retry after a lost answer).
    token = page.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    again = page.request.post(
        f"{live_server.url}/issues/{issue.pk}/note/",
        form={"csrfmiddlewaretoken": token, "text": "Knocked twice", "visibility": "internal", "client_key": note_key},
        headers={"Accept": "application/json"},
    )
    assert again.status == 201 and again.json()["message"] == "This note was already added."
    assert Activity.objects.count() == 1 and notes(issue) == ["Knocked twice"]


def test_a_note_on_an_issue_closed_meanwhile_is_a_conflict_the_officer_decides(live_server, phone_page, field):
    page = phone_page
    officer, issue = field
    sign_in_with_the_worker(page, live_server, officer)
    page.goto(f"{live_server.url}/issues/{issue.pk}/")
    go_offline(page)
    for kept, text in enumerate(("Spoke with the owner about the fence.", "Second visit: nobody home."), start=1):
        page.fill("#id_note_text", text)
        page.locator("form.action-note button[type=submit]").click()
        expect(page.locator("#offline-outbox-title")).to_contain_text("Waiting to send")
        # Kept before the next is typed: saving empties the form, which would empty the next text.
        expect(page.locator("#offline-outbox-list li")).to_have_count(kept)

    Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.CLOSED)  # a supervisor closed it meanwhile
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    conflicts = page.locator("#offline-outbox-list li.outbox-conflict")
    expect(conflicts).to_have_count(2)
    first = conflicts.filter(has_text="Spoke with the owner about the fence.")
    expect(first).to_contain_text("Conflict: not sent")
    expect(first).to_contain_text("This issue became “Closed” meanwhile.")
    assert notes(issue) == []

    # Still there after a reload: the device keeps them until the officer decides.
    page.reload()
    expect(page.locator("#offline-outbox-list li.outbox-conflict")).to_have_count(2)
    page.locator("#offline-outbox-list li", has_text="Spoke with the owner").get_by_role(
        "button", name="Send anyway"
    ).click()
    expect(page.locator("#offline-outbox-list li")).to_have_count(1)
    assert notes(issue) == ["Spoke with the owner about the fence."]
    page.locator("#offline-outbox-list li", has_text="nobody home").get_by_role("button", name="Discard").click()
    expect(waiting(page)).to_be_hidden()
    expect(page.locator("#offline-status")).to_have_text("Discarded.")
    assert notes(issue) == ["Spoke with the owner about the fence."]


def test_a_note_lost_on_the_way_is_sent_again_though_the_browser_never_went_offline(live_server, phone_page, field):
    """A weak signal: the browser says online, the request fails on the way. No "online" event will
    ever come, so the page tries again by itself a few seconds later."""
    page = phone_page
    officer, issue = field
    sign_in_with_the_worker(page, live_server, officer)
    page.goto(f"{live_server.url}/issues/{issue.pk}/")
    lost = []

    def lose(route):
        lost.append(route.request.method)
        route.abort("internetdisconnected")

    page.route(f"**/issues/{issue.pk}/note/", lose)
    page.fill("#id_note_text", "Street light out again at the corner of 9th.")
    page.locator("form.action-note button[type=submit]").click()
    expect(page.locator("#offline-outbox-list li")).to_have_count(1)
    assert lost == ["POST"] and notes(issue) == []
    page.unroute(f"**/issues/{issue.pk}/note/")

    expect(waiting(page)).to_be_hidden(timeout=20000)
    expect(page.locator("#offline-status")).to_have_text("Sent: nothing is waiting on this device any more.")
    assert notes(issue) == ["Street light out again at the corner of 9th."]
    assert lost == ["POST"]


def test_signing_out_empties_what_the_device_keeps(live_server, phone_page, field):
    page = phone_page
    officer, issue = field
    note_kept_offline(page, live_server, officer, issue, "Not for the next person on this phone.")
    Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.CLOSED)  # so it stays as a conflict
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("#offline-outbox-list li.outbox-conflict")).to_have_count(1)
    kept = page.evaluate(
        """async () => ({databases: (await indexedDB.databases()).map(d => d.name), caches: await caches.keys()})"""
    )
    assert kept["databases"] == ["commonground-offline"] and kept["caches"], kept

    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    page.locator("form.logout button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/")
    expect(page.locator(".messages")).to_contain_text("You are signed out.")
    assert dialogs and "deleted from this device" in dialogs[0]
    left = page.evaluate(
        """async () => ({databases: (await indexedDB.databases()).map(d => d.name), caches: await caches.keys(),
                         workers: (await navigator.serviceWorker.getRegistrations()).length})"""
    )
    assert left == {"databases": [], "caches": [], "workers": 0}
    assert notes(issue) == []
    # Signed out, the kept pages are gone too: offline, the queue does not open from the device.
    go_offline(page)
    with pytest.raises(Exception, match="ERR_INTERNET_DISCONNECTED"):
        page.goto(f"{live_server.url}/queue/")


def test_someone_else_signing_in_gets_a_device_emptied_of_the_last_users_entries(live_server, phone_page, field):
    """The last officer never signed out (the session expired): the next one to sign in on the
    phone neither sees nor sends what was kept for the last one."""
    page = phone_page
    officer, issue = field
    note_kept_offline(page, live_server, officer, issue, "Written by Ortega, never sent.")
    # The session ends without a sign-out, before the network comes back (with the session still
    # valid, the page would rightly send the note as Ortega the moment it is online).
    page.context.clear_cookies()
    page.context.set_offline(False)

    colleague = factories.officer(username="ofc.baker", neighborhoods=[issue.neighborhood])
    login(page, live_server, colleague.username)
    page.goto(f"{live_server.url}/issues/{issue.pk}/")
    # The page has taken the device for its user (static/js/offline.js, claimDevice).
    wait_until_true(page, f"localStorage.getItem('commonground-offline-owner') === '{colleague.pk}'")
    expect(waiting(page)).to_be_hidden()
    stored = page.evaluate(
        """async () => new Promise(done => {
            const open = indexedDB.open("commonground-offline", 1);
            open.onupgradeneeded = () => open.result.createObjectStore("outbox", {keyPath: "key"});
            open.onsuccess = () => {
                const read = open.result.transaction("outbox").objectStore("outbox").getAll();
                read.onsuccess = () => { done(read.result.map(e => e.text)); open.result.close(); };
            };
        })"""
    )
    assert stored == []
    assert notes(issue) == []
