"""Anonymous two-way messages: the private key at submit, unlocking, the thread, staff replies, limits."""

import json
import logging
import re
import statistics
import time

import pytest
from django.apps import apps
from django.db import connection, models
from django.test import Client

from cases import services
from cases.message_keys import message_key_hash, message_key_new, message_key_normalize
from cases.models import Event, Notification, OutboxMessage, Report, ResidentMessage
from cases.notifications.drain import outbox_drain
from tests.cases.web.public.public_helpers import form_data

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.77"
KEY_RE = re.compile(r'<p class="tracking-code message-key" id="message-key">([A-Z0-9-]+)</p>')


def client_from(address=ADDRESS):
    return Client(REMOTE_ADDR=address)


def checked_filed_report(client, cat, **overrides):
    """File a report through the web form; returns (report, key shown on the confirmation, confirmation html)."""
    overrides.setdefault("same_issue", "new")
    response = client.post("/report/", form_data(cat, **overrides))
    assert response.status_code == 302, response.content.decode()[:2000]
    page = client.get(response["Location"])
    html = page.content.decode()
    match = KEY_RE.search(html)
    assert match, "the confirmation shows the private key"
    return Report.objects.latest("id"), match.group(1), html


def unlock(client, code, key):
    return client.post(f"/report/{code}/messages/unlock/", {"key": key})


@pytest.fixture
def keyed(place, cat):
    """A report filed through the form by a resident, and its key."""
    client = client_from()
    report, key, _html = checked_filed_report(client, cat)
    return report, key


# --- the key --------------------------------------------------------------------


def test_key_format_and_hash():
    key = message_key_new()
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", key)
    assert not set(key) & set("IO01")
    assert message_key_new() != key
    digest = message_key_hash(key)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    # Read aloud and typed back any which way, it is the same key.
    assert message_key_hash(key.lower().replace("-", " ")) == digest
    assert message_key_normalize(" k7qm-2xw9 plt4 ") == "K7QM2XW9PLT4"


@pytest.mark.parametrize("prefix", ["", "/es"])
def test_the_key_rides_only_to_its_status_page_which_deletes_it(place, cat, prefix):
    client = client_from()
    response = client.post(f"{prefix}/report/", form_data(cat, same_issue="new"))
    assert response.status_code == 302, response.content.decode()[:2000]
    code = Report.objects.latest("id").issue.tracking_code
    assert response["Location"] == f"{prefix}/report/{code}/"
    cookie = response.cookies["cg_submitted"]
    # The browser sends it to the confirmation alone, not with every request to the site.
    assert cookie["path"] == f"{prefix}/report/{code}/"
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    page = client.get(response["Location"])
    assert KEY_RE.search(page.content.decode())
    gone = page.cookies["cg_submitted"]
    assert gone.value == "" and gone["path"] == f"{prefix}/report/{code}/" and gone["max-age"] == 0


def test_key_shown_once_at_submit_and_only_its_hash_stored(place, cat):
    client = client_from()
    report, key, html = checked_filed_report(client, cat, reporter_email="res@example.org", contact_consent="on")
    assert "we cannot show it again" in html.lower()
    assert report.message_key_hash == message_key_hash(key)
    # Shown once: the status page again no longer has it.
    again = client.get(f"/report/{report.issue.tracking_code}/").content.decode()
    assert key not in again and "message-key" not in again.replace("id_message_key", "").replace(
        "message-key-help", ""
    ).replace("message-key-form", "").replace("message-key-input", "")
    # Not in any text column of the tables a report touches (the receipt email included).
    needles = {key, message_key_normalize(key)}
    for model in (Report, Event, ResidentMessage, OutboxMessage, apps.get_model("cases", "Issue")):
        text_fields = [
            f.column
            for f in model._meta.concrete_fields
            if isinstance(f, (models.CharField, models.TextField, models.JSONField))
        ]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(text_fields)} FROM {model._meta.db_table}")  # noqa: S608
            for row in cursor.fetchall():
                for value in row:
                    text = json.dumps(value) if not isinstance(value, str) else value
                    for needle in needles:
                        assert needle not in (text or ""), (model.__name__, value)
    receipt = OutboxMessage.objects.get(recipient_email="res@example.org")
    assert key not in receipt.body


def test_open311_and_staff_reports_get_no_key(place, cat):
    report = services.issue_submit(category=cat, text="Tags again", neighborhood=place)
    assert report.message_key_hash == "" and report.message_key == ""


def test_me_too_report_gets_its_own_key(place, cat):
    client = client_from()
    first, first_key, _ = checked_filed_report(client, cat)
    second, second_key, _ = checked_filed_report(client, cat, same_issue=first.issue.tracking_code)
    assert second.issue_id == first.issue_id and second.pk != first.pk
    assert first_key != second_key
    assert services.report_for_message_key(tracking_code=first.issue.tracking_code, key=second_key) == second


# --- unlocking -------------------------------------------------------------------


def test_right_key_opens_the_thread(keyed):
    report, key = keyed
    code = report.issue.tracking_code
    client = client_from()
    response = unlock(client, code, key.lower())
    assert response.status_code == 303
    assert response["Location"] == f"/report/{code}/messages/"
    cookie = response.cookies["cg_messages"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert cookie["path"] == f"/report/{code}/messages/"
    # The Spanish pages' path has a cookie of its own, so switching language keeps the conversation open.
    assert response.cookies["cg_messages_es"]["path"] == f"/es/report/{code}/messages/"
    assert int(cookie["max-age"]) == 1800
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    # Not no-referrer: Chromium would then send "Origin: null" with the page's own forms (CSRF refuses).
    assert page["Referrer-Policy"] == "same-origin"
    assert "Write to the officer" in page.content.decode()


def test_wrong_key_same_status_same_shape(keyed):
    report, key = keyed
    code = report.issue.tracking_code
    right = unlock(client_from(), code, key)
    wrong = unlock(client_from(), code, message_key_new())
    unknown_code = unlock(client_from(), "CG-ZZZZ-ZZZZ", key)
    for response in (wrong, unknown_code):
        assert response.status_code == right.status_code == 303
        assert sorted(response.headers) == sorted(right.headers)
        assert len(response.content) == len(right.content) == 0
        assert "cg_messages" in response.cookies
    assert wrong["Location"] == f"/report/{code}/?key=wrong#error-summary"
    # The unknown code answers exactly as a wrong key does: nothing says whether the code exists.
    assert unknown_code["Location"] == "/report/CG-ZZZZ-ZZZZ/?key=wrong#error-summary"
    page = client_from().get(wrong["Location"]).content.decode()
    assert "That key does not match. Check it and try again." in page
    # A wrong key's cookie opens nothing.
    client = client_from()
    unlock(client, code, message_key_new())
    assert client.get(f"/report/{code}/messages/")["Location"].startswith(f"/report/{code}/?key=")


def test_key_of_another_issue_does_not_open_this_one(place, cat):
    client = client_from()
    first, first_key, _ = checked_filed_report(client, cat)
    second, _second_key, _ = checked_filed_report(client, cat, description="A different wall, other street")
    assert first.issue_id != second.issue_id
    assert services.report_for_message_key(tracking_code=second.issue.tracking_code, key=first_key) is None
    assert unlock(client_from(), second.issue.tracking_code, first_key)["Location"].endswith("?key=wrong#error-summary")


def test_merged_report_is_still_found_under_its_old_code(place, cat, supervisor):
    client = client_from()
    first, first_key, _ = checked_filed_report(client, cat)
    second, _, _ = checked_filed_report(client, cat, description="A different wall, other street")
    services.issue_mark_duplicate(issue=first.issue, of=second.issue, actor=supervisor)
    assert services.report_for_message_key(tracking_code=first.issue.tracking_code, key=first_key) == first


def test_unlock_timing_right_and_wrong_alike(keyed, settings):
    settings.MESSAGE_KEY_RATE_LIMIT = "1000/h"
    settings.MESSAGE_KEY_GLOBAL_RATE_LIMIT = "1000/h"
    report, key = keyed
    code = report.issue.tracking_code
    client = client_from()

    def checked_unlock_time(k):
        start = time.perf_counter()
        response = unlock(client, code, k)
        elapsed = time.perf_counter() - start
        assert response.status_code == 303
        return elapsed

    for _ in range(5):  # warm up (prepared plans, caches)
        checked_unlock_time(key)
        checked_unlock_time(message_key_new())
    right, wrong = [], []
    for _ in range(30):
        right.append(checked_unlock_time(key))
        wrong.append(checked_unlock_time(message_key_new()))
    right_median, wrong_median = statistics.median(right), statistics.median(wrong)
    assert (
        abs(right_median - wrong_median) < 0.005
        or max(right_median, wrong_median) / min(right_median, wrong_median) < 1.5
    ), (right_median, wrong_median)


def test_thread_without_cookie_goes_to_the_key_form(keyed):
    report, _key = keyed
    code = report.issue.tracking_code
    response = client_from().get(f"/report/{code}/messages/")
    assert response.status_code == 303
    assert response["Location"] == f"/report/{code}/?key=locked#error-summary"
    page = client_from().get(response["Location"]).content.decode()
    assert "Enter your private key" in page


def test_forged_cookie_opens_nothing(keyed):
    report, _key = keyed
    code = report.issue.tracking_code
    client = client_from()
    client.cookies["cg_messages"] = json.dumps({"r": report.pk, "h": report.message_key_hash, "c": code})
    assert client.get(f"/report/{code}/messages/").status_code == 303


def test_lock_closes_the_conversation(keyed):
    report, key = keyed
    code = report.issue.tracking_code
    client = client_from()
    unlock(client, code, key)
    assert client.get(f"/report/{code}/messages/").status_code == 200
    response = client.post(f"/report/{code}/messages/lock/")
    assert response.status_code == 303
    assert client.get(f"/report/{code}/messages/").status_code == 303


# --- rate limits -------------------------------------------------------------------


def test_per_address_limit(keyed, settings):
    settings.MESSAGE_KEY_RATE_LIMIT = "3/h"
    report, key = keyed
    code = report.issue.tracking_code
    client = client_from()
    for _ in range(3):
        assert unlock(client, code, message_key_new()).status_code == 303
    refused_wrong = unlock(client, code, message_key_new())
    refused_right = unlock(client, code, key)
    for refused in (refused_wrong, refused_right):
        assert refused.status_code == 429
        assert 0 < int(refused["Retry-After"]) <= 3600
        assert "cg_messages" not in refused.cookies

    # The same answer, right key or wrong (each page's CSRF token is masked afresh).
    def unmasked(response):
        return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", response.content)

    assert unmasked(refused_wrong) == unmasked(refused_right)
    assert sorted(refused_wrong.headers) == sorted(refused_right.headers)
    assert "too many tries" in refused_right.content.decode().lower()
    # Spanish too.
    es = client.post(f"/es/report/{code}/messages/unlock/", {"key": key})
    assert es.status_code == 429 and "demasiados intentos" in es.content.decode().lower()
    # Another address is not refused.
    assert unlock(client_from("198.51.100.9"), code, key).status_code == 303


def test_global_limit(keyed, settings):
    settings.MESSAGE_KEY_RATE_LIMIT = "100/h"
    settings.MESSAGE_KEY_GLOBAL_RATE_LIMIT = "4/h"
    report, key = keyed
    code = report.issue.tracking_code
    for n in range(4):
        assert unlock(client_from(f"198.51.100.{n + 1}"), code, message_key_new()).status_code == 303
    refused = unlock(client_from("192.0.2.200"), code, key)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0


def test_sending_is_limited_per_key(keyed, settings):
    settings.MESSAGE_SEND_RATE_LIMIT = "2/d"
    report, key = keyed
    code = report.issue.tracking_code
    client = client_from()
    unlock(client, code, key)
    # Refused for correction: not counted.
    assert client.post(f"/report/{code}/messages/", {"body": ""}).status_code == 400
    for n in range(2):
        assert client.post(f"/report/{code}/messages/", {"body": f"Message {n}"}).status_code == 303
    refused = client.post(f"/report/{code}/messages/", {"body": "One too many"})
    assert refused.status_code == 429 and refused["Retry-After"]
    assert ResidentMessage.objects.count() == 2


# --- the conversation ------------------------------------------------------------


def test_resident_message_reply_and_privacy(keyed, officer, caplog):
    caplog.set_level(logging.DEBUG)
    report, key = keyed
    issue = report.issue
    issue.neighborhood.staff.add(officer.staff_profile)
    code = issue.tracking_code
    resident = client_from()
    unlock(resident, code, key)
    sent = resident.post(f"/report/{code}/messages/", {"body": "The tags are back, bigger.\r\nSince Monday."})
    assert sent.status_code == 303 and sent["Location"] == f"/report/{code}/messages/"
    message = ResidentMessage.objects.get()
    assert message.direction == "in" and message.author is None and message.language == "en"
    assert message.body == "The tags are back, bigger.\nSince Monday."
    event = Event.objects.get(kind=Event.Kind.MESSAGE_RECEIVED)
    assert not event.is_public and event.message == "" and "bigger" not in json.dumps(event.data)
    # The officer hears of it in the app (not what it says).
    outbox = OutboxMessage.objects.get(channel="in_app", recipient=officer)
    assert code in outbox.subject and "bigger" not in outbox.body + outbox.subject
    outbox_drain()
    assert Notification.objects.filter(user=officer, issue=issue).exists()

    # The officer sees it as new on the issue page; then it is read.
    staff = Client()
    staff.force_login(officer)
    page = staff.get(f"/issues/{issue.pk}/").content.decode()
    assert "The tags are back, bigger." in page and 'data-testid="unread-messages"' in page
    message.refresh_from_db()
    assert message.read_at is not None
    reply = staff.post(
        f"/issues/{issue.pk}/messages/{report.pk}/reply/", {"body": "We will paint over it on Thursday."}
    )
    assert reply.status_code == 303
    assert reply["Location"] == f"/issues/{issue.pk}/#messages-{report.pk}"
    out = ResidentMessage.objects.get(direction="out")
    assert out.author == officer and out.language == "en" and out.read_at is None
    replied = Event.objects.get(kind=Event.Kind.MESSAGE_REPLIED)
    assert not replied.is_public and replied.message == "" and replied.actor == officer

    # The resident reads it on the thread page only, signed as the department, never by name.
    thread = resident.get(f"/report/{code}/messages/").content.decode()
    assert "We will paint over it on Thursday." in thread
    assert "Community policing officer" in thread
    for name in (officer.username, officer.first_name, officer.last_name):
        if name:
            assert name not in thread
    out.refresh_from_db()
    assert out.read_at is not None
    status = client_from().get(f"/report/{code}/").content.decode()
    assert "paint over it" not in status and "bigger" not in status
    open311 = client_from().get(f"/open311/v2/requests/{code}.json")
    assert open311.status_code == 200
    assert "paint over" not in open311.content.decode() and "bigger" not in open311.content.decode()

    # No address, no browser: not in the rows, not in the log.
    for row in list(ResidentMessage.objects.values()) + list(
        Event.objects.filter(kind__startswith="message_").values()
    ):
        assert ADDRESS not in json.dumps(row, default=str)
    assert ADDRESS not in caplog.text
    assert "203.0.113" not in caplog.text


def test_spanish_report_reply_language(place, cat, officer):
    client = client_from()
    response = client.post("/es/report/", form_data(cat, same_issue="new"))
    page = client.get(response["Location"]).content.decode()
    key = KEY_RE.search(page).group(1)
    assert "no podemos volver a mostrarla" in page.lower()
    report = Report.objects.get()
    assert report.language == "es"
    code = report.issue.tracking_code
    unlock_es = client.post(f"/es/report/{code}/messages/unlock/", {"key": key})
    assert unlock_es["Location"] == f"/es/report/{code}/messages/"
    client.post(f"/es/report/{code}/messages/", {"body": "Siguen las pintadas."})
    assert ResidentMessage.objects.get().language == "es"
    report.issue.neighborhood.staff.add(officer.staff_profile)
    staff = Client()
    staff.force_login(officer)
    assert "The resident reads Spanish." in staff.get(f"/issues/{report.issue.pk}/").content.decode()
    staff.post(f"/issues/{report.issue.pk}/messages/{report.pk}/reply/", {"body": "Gracias, vamos mañana."})
    assert ResidentMessage.objects.get(direction="out").language == "es"
    thread = client.get(f"/es/report/{code}/messages/").content.decode()
    assert "Gracias, vamos mañana." in thread and "Agente de policía comunitaria" in thread


def test_officer_outside_scope_cannot_reply(keyed, other_officer):
    report, _key = keyed
    staff = Client()
    staff.force_login(other_officer)
    response = staff.post(f"/issues/{report.issue.pk}/messages/{report.pk}/reply/", {"body": "Hello"})
    assert response.status_code == 403
    assert not ResidentMessage.objects.exists()
    page = staff.get(f"/issues/{report.issue.pk}/").content.decode()
    assert "Reply to the resident" not in page


def test_reply_needs_a_keyed_report(place, cat, officer):
    report = services.issue_submit(category=cat, text="Phoned in", neighborhood=place)
    report.issue.neighborhood.staff.add(officer.staff_profile)
    with pytest.raises(Exception, match="no private key"):
        services.staff_reply_send(report=report, body="Hi", actor=officer)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("", "Write a message."),
        ("   \n  ", "Write a message."),
        ("x" * 2001, "under 2000 characters"),
        ("bad \x00 byte", "Null characters are not allowed"),
        ("sneaky \u202e reversed", "control characters"),
        ("escape \x1b[31m", "control characters"),
    ],
)
def test_message_validation(keyed, body, error):
    report, key = keyed
    code = report.issue.tracking_code
    client = client_from()
    unlock(client, code, key)
    response = client.post(f"/report/{code}/messages/", {"body": body})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-summary"' in html and error in html
    assert not ResidentMessage.objects.exists()
    assert not Event.objects.filter(kind=Event.Kind.MESSAGE_RECEIVED).exists()


def test_staff_reply_validation_keeps_the_text(keyed, officer):
    report, _key = keyed
    report.issue.neighborhood.staff.add(officer.staff_profile)
    staff = Client()
    staff.force_login(officer)
    response = staff.post(f"/issues/{report.issue.pk}/messages/{report.pk}/reply/", {"body": "x" * 2001})
    assert response.status_code == 400
    assert "under 2000 characters" in response.content.decode()
    assert not ResidentMessage.objects.exists()


def test_notification_goes_to_the_assignee_when_there_is_one(keyed, officer, supervisor):
    report, _key = keyed
    services.issue_assign(issue=report.issue, officer=officer, actor=supervisor)
    OutboxMessage.objects.all().delete()
    services.resident_message_send(report=report, body="Hello", language="en")
    assert list(OutboxMessage.objects.values_list("recipient", flat=True)) == [officer.pk]


def test_report_lookup_is_one_query(keyed, django_assert_num_queries):
    report, key = keyed
    code = report.issue.tracking_code
    with django_assert_num_queries(1):
        assert services.report_for_message_key(tracking_code=code, key=key) == report
    with django_assert_num_queries(1):
        assert services.report_for_message_key(tracking_code="CG-ZZZZ-ZZZZ", key="nonsense") is None


def test_issue_page_messages_fixed_queries(keyed, officer, django_assert_max_num_queries):
    report, key = keyed
    report.issue.neighborhood.staff.add(officer.staff_profile)
    for n in range(5):
        services.resident_message_send(report=report, body=f"Message {n}", language="en")
    staff = Client()
    staff.force_login(officer)
    staff.get(f"/issues/{report.issue.pk}/")
    with django_assert_max_num_queries(40) as few:
        staff.get(f"/issues/{report.issue.pk}/")
    baseline = len(few.captured_queries)
    for n in range(10):
        services.resident_message_send(report=report, body=f"More {n}", language="en")
        services.staff_reply_send(report=report, body=f"Reply {n}", actor=officer)
    # The first view after new messages also marks them read (one UPDATE); no query per message.
    with django_assert_max_num_queries(baseline + 1):
        staff.get(f"/issues/{report.issue.pk}/")


@pytest.mark.parametrize(
    ("code", "key"),
    [
        ("CG-ZZZZ-ZZZZ", "\x00\x00"),
        ("cg%00zzzz", "K7QM-2XW9-PLT4"),
        ("x" * 300, "k" * 5000),
        ("CG-ZZZZ-ZZZZ", "ñandú 🙂 <script>"),
    ],
)
def test_odd_codes_and_keys_answer_like_a_wrong_key(db, code, key):
    response = client_from().post(f"/report/{code}/messages/unlock/", {"key": key})
    assert response.status_code == 303
    assert response["Location"].endswith("?key=wrong#error-summary")
    assert client_from().get(f"/report/{code}/messages/").status_code == 303


def test_queue_and_list_mark_issues_with_unread_messages(keyed, officer):
    report, _key = keyed
    report.issue.neighborhood.staff.add(officer.staff_profile)
    staff = Client()
    staff.force_login(officer)
    assert 'data-testid="unread-messages"' not in staff.get("/queue/").content.decode()
    services.resident_message_send(report=report, body="Hello", language="en")
    for path in ("/queue/", "/issues/"):
        assert 'data-testid="unread-messages"' in staff.get(path).content.decode(), path
    staff.get(f"/issues/{report.issue.pk}/")  # read by someone who works it
    assert 'data-testid="unread-messages"' not in staff.get("/queue/").content.decode()


def test_admin_does_not_offer_the_key_hash(keyed, django_user_model):
    report, _key = keyed
    admin_user = django_user_model.objects.create_superuser("root", "root@example.org", "pw-Secret-123")
    client = Client()
    client.force_login(admin_user)
    for path in (f"/admin/cases/report/{report.pk}/change/", f"/admin/cases/issue/{report.issue_id}/change/"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert "message_key_hash" not in page.content.decode()
        assert report.message_key_hash not in page.content.decode()


def test_keys_use_every_symbol_in_every_place_and_hash_as_salted_hmac_did(settings):
    from collections import Counter

    from django.utils.crypto import salted_hmac

    from cases.message_keys import message_key_hashes
    from cases.models import TRACKING_ALPHABET

    keys = [message_key_new().replace("-", "") for _ in range(3000)]
    assert len(set(keys)) == len(keys)
    for position in range(12):
        seen = Counter(key[position] for key in keys)
        # Each of the 32 symbols, about 94 times in 3000 draws; a stuck or biased bit halves some counts.
        assert set(seen) == set(TRACKING_ALPHABET), position
        assert min(seen.values()) > 40, (position, seen.most_common()[-3:])
    # Rows stored before the derived key was kept per process still match: the same HMAC, under
    # SECRET_KEY and each fallback (rotation), for a right key as typed and a wrong one.
    settings.SECRET_KEY_FALLBACKS = ["an-older-secret-key-kept-for-rotation-0123456789"]
    key = message_key_new()
    expected = [
        salted_hmac("cases.message_key", message_key_normalize(key), secret=secret, algorithm="sha256").hexdigest()
        for secret in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS)
    ]
    assert message_key_hash(key.lower()) == expected[0]
    assert message_key_hashes(key) == expected
    settings.SECRET_KEY = "a-new-secret-key-after-rotation-9876543210-abcdefghij"
    assert (
        message_key_hash(key)
        == salted_hmac(
            "cases.message_key", message_key_normalize(key), secret=settings.SECRET_KEY, algorithm="sha256"
        ).hexdigest()
    )
