"""The audit trail (issue 13, item 7): every reveal of residents' contact details and every
moderation — who, when, which issue, why.

Revealing contact details is a POST with a reason, recorded before they are shown; /audit/
lists the entries (everyone's for ``cases.view_audit``, one's own otherwise) in keyset pages
served by the partial audit indexes, and exports them as CSV without any contact value.
"""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone, translation

from cases import services
from cases.models import Event
from cases.selectors.audit import (
    audit_action_label,
    audit_events_filtered,
    audit_page,
    audit_reason,
    cursor_of,
)
from cases.web.staff.audit_forms import ContactRevealForm
from tests import factories

NAME, EMAIL, PHONE = "Ana Ruiz", "ana@example.org", "816-555-0100"
SECRETS = (NAME, EMAIL, PHONE)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def issue(neighborhood, category):
    issue = factories.IssueFactory(neighborhood=neighborhood, category=category)
    factories.ReportFactory(issue=issue, reporter_name=NAME, reporter_email=EMAIL, reporter_phone=PHONE)
    return issue


def _reveal_url(issue):
    return f"/issues/{issue.pk}/contacts/"


def _reveals(issue):
    return list(issue.events.filter(kind=Event.Kind.CONTACT_VIEWED))


def _audit(issue, kind, actor=None, *, at, message="", data=None):
    return factories.EventFactory(issue=issue, kind=kind, actor=actor, message=message, data=data or {}, created_at=at)


# --- revealing contact details needs a reason ---------------------------------------------


def test_the_issue_page_offers_a_post_form_with_reasons_not_a_link(client, officer, issue):
    client.force_login(officer)
    body = client.get(f"/issues/{issue.pk}/").content.decode()
    assert f'method="post" action="{_reveal_url(issue)}#reports"' in body
    assert 'name="reason_code"' in body and "Follow-up visit" in body and 'name="reason_other"' in body
    assert "contacts=show" not in body
    assert not any(secret in body for secret in SECRETS)


@pytest.mark.parametrize(
    "data",
    [{}, {"reason_code": ""}, {"reason_code": "other", "reason_other": "   "}, {"reason_code": "because"}],
    ids=["nothing", "empty", "other-without-text", "unknown-code"],
)
def test_a_reveal_without_a_reason_shows_nothing_and_records_nothing(client, officer, issue, data):
    client.force_login(officer)
    response = client.post(_reveal_url(issue), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert not any(secret in body for secret in SECRETS)
    assert "Contact details were not shown" in body
    assert 'class="field-error"' in body
    assert _reveals(issue) == []
    fragment = client.post(_reveal_url(issue), data, **HTMX)
    assert fragment.status_code == 200  # htmx swaps only 2xx: the fragment carries the error
    assert not any(secret in fragment.content.decode() for secret in SECRETS)
    assert _reveals(issue) == []


def test_a_reveal_with_a_reason_shows_the_details_and_records_why(client, officer, issue):
    client.force_login(officer)
    response = client.post(_reveal_url(issue), {"reason_code": "follow_up_visit"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    assert all(secret in body for secret in SECRETS)
    (event,) = _reveals(issue)
    assert (event.actor, event.is_public, event.message) == (officer, False, "Follow-up visit")
    assert event.data == {"reason_code": "follow_up_visit"}

    fragment = client.post(
        _reveal_url(issue), {"reason_code": "other", "reason_other": "Court date question"}, **HTMX
    ).content.decode()
    assert EMAIL in fragment and 'id="issue-main"' in fragment and "<html" not in fragment
    latest = issue.events.filter(kind=Event.Kind.CONTACT_VIEWED).latest("id")
    assert (latest.message, latest.data) == ("Court date question", {"reason_code": "other"})


def test_the_reason_is_stored_in_english_and_read_in_the_readers_language(officer, issue):
    """Staff pages run in English today (only the public pages have /es/), but the strings are
    translated, and the stored reason must not depend on the language a page was in."""
    with translation.override("es"):
        form = ContactRevealForm({"reason_code": "call_back", "reason_other": "tarde"})
        assert form.is_valid()
        assert "Visita de seguimiento" in str(form["reason_code"])
        event = services.contact_view_record(issue=issue, actor=officer, **form.service_kwargs())
    assert event.message == "Call the resident back: tarde"
    event = audit_events_filtered(officer).get(pk=event.pk)
    with translation.override("es"):
        assert audit_reason(event) == "Devolver la llamada al residente: tarde"
        assert audit_action_label(event) == "Datos de contacto mostrados"
    assert audit_reason(event) == "Call the resident back: tarde"


def test_a_get_no_longer_reveals_anything(client, officer, issue):
    client.force_login(officer)
    body = client.get(f"/issues/{issue.pk}/?contacts=show").content.decode()
    assert not any(secret in body for secret in SECRETS)
    assert _reveals(issue) == []
    assert client.get(_reveal_url(issue)).status_code == 405


def test_who_may_not_see_contacts_is_refused_and_nothing_is_recorded(client, other_officer, issue):
    client.force_login(other_officer)
    response = client.post(_reveal_url(issue), {"reason_code": "call_back"})
    assert response.status_code == 403
    assert not any(secret in response.content.decode() for secret in SECRETS)
    assert _reveals(issue) == []


def test_anonymous_reveal_goes_to_login(client, issue):
    response = client.post(_reveal_url(issue), {"reason_code": "call_back"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert _reveals(issue) == []


def test_an_issue_without_contact_details_records_no_reveal(client, officer, neighborhood, category):
    quiet = factories.IssueFactory(neighborhood=neighborhood, category=category)
    factories.ReportFactory(issue=quiet, is_anonymous=True)
    client.force_login(officer)
    assert client.post(_reveal_url(quiet), {"reason_code": "call_back"}).status_code == 200
    assert _reveals(quiet) == []


def test_the_service_refuses_an_empty_reason(officer, issue):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.contact_view_record(issue=issue, actor=officer, reason="  ")
    with pytest.raises(ValidationError):
        services.contact_view_record(issue=issue, actor=officer, reason="x", reason_code="nope")
    assert _reveals(issue) == []


# --- the log ------------------------------------------------------------------------------


@pytest.fixture
def log(issue, officer, supervisor, neighborhood, category):
    """A reveal by the officer, a moderation by the supervisor, an erasure, on two issues."""
    now = timezone.now()
    second = factories.IssueFactory(neighborhood=neighborhood, category=category)
    entries = {
        "reveal": _audit(
            issue,
            Event.Kind.CONTACT_VIEWED,
            officer,
            at=now - timedelta(days=3),
            message="Follow-up visit",
            data={"reason_code": "follow_up_visit"},
        ),
        "moderation": _audit(
            second,
            Event.Kind.MODERATED,
            supervisor,
            at=now - timedelta(days=1),
            message="Neighbour's name in the text",
            data={"action": "report_hide", "report": None, "before": "BEFORE-TEXT", "after": "AFTER-TEXT"},
        ),
        "erasure": _audit(second, Event.Kind.CONTACT_ERASED, None, at=now - timedelta(hours=1)),
        # Not audit entries: never listed.
        "note": _audit(issue, Event.Kind.NOTE, officer, at=now, message="Crew booked"),
    }
    entries["second"] = second
    return entries


def _listed(response):
    body = response.content.decode()
    return [int(part.split('"', 1)[0]) for part in body.split('data-event-id="')[1:]]


def test_a_supervisor_reads_every_entry(client, supervisor, log):
    client.force_login(supervisor)
    response = client.get("/audit/")
    assert response.status_code == 200
    assert _listed(response) == [log["erasure"].pk, log["moderation"].pk, log["reveal"].pk]
    body = response.content.decode()
    assert "<h1>Audit log</h1>" in body
    assert "Follow-up visit" in body and "Neighbour&#x27;s name in the text" in body
    assert "Moderation: report hidden" in body and "System (retention)" in body
    assert f'href="/issues/{log["second"].pk}/">{log["second"].tracking_code}</a>' in body
    assert '<th scope="col">' in body and "<caption" in body
    assert "Crew booked" not in body


def test_an_officer_reads_only_their_own(client, officer, log):
    client.force_login(officer)
    response = client.get("/audit/")
    assert response.status_code == 200
    assert _listed(response) == [log["reveal"].pk]
    body = response.content.decode()
    assert "My reveals and moderations" in body
    assert 'name="who"' not in body  # no one else to choose
    # A "who" in the address changes nothing for them.
    assert _listed(client.get(f"/audit/?who={log['moderation'].actor_id}")) == [log["reveal"].pk]


def test_the_log_template_is_translated(rf, supervisor, log):
    from django.template.loader import render_to_string

    from cases.selectors.audit import audit_rows
    from cases.web.staff.audit_forms import AuditFilterForm

    request = rf.get("/audit/")
    request.user = supervisor
    with translation.override("es"):
        page = audit_page(audit_events_filtered(supervisor))
        context = {
            "form": AuditFilterForm(whole_log=True),
            "whole_log": True,
            "page": page,
            "rows": list(audit_rows(page.rows)),
            "filtered": False,
        }
        body = render_to_string("audit/log.html", context, request=request)
    assert "Registro de auditoría" in body and "Visita de seguimiento" in body
    assert "Moderación: reporte ocultado" in body and "Sistema (conservación)" in body


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("action=reveal", ["reveal"]),
        ("action=moderation", ["moderation"]),
        ("action=erasure", ["erasure"]),
        ("who=system", ["erasure"]),
        ("who={officer}", ["reveal"]),
        ("issue={code}", ["reveal"]),
        ("issue={code_loose}", ["reveal"]),
        ("date_from={two_days_ago}", ["erasure", "moderation"]),
        ("date_to={two_days_ago}", ["reveal"]),
        ("date_from={four_days_ago}&date_to={four_days_ago}", []),
        ("action=moderation&who={officer}", []),
    ],
)
def test_filters(client, supervisor, officer, issue, log, query, expected):
    client.force_login(supervisor)
    today = timezone.localdate()
    url = "/audit/?" + query.format(
        officer=officer.pk,
        code=issue.tracking_code,
        code_loose=issue.tracking_code.lower().replace("-", " "),
        two_days_ago=(today - timedelta(days=2)).isoformat(),
        four_days_ago=(today - timedelta(days=4)).isoformat(),
    )
    response = client.get(url)
    assert response.status_code == 200
    assert _listed(response) == [log[name].pk for name in expected]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("action=delete", "Select a valid choice"),
        ("who=999999", "Select a valid choice"),
        ("issue=not-a-code", "Enter a tracking code like CG-ABCD-2345."),
        ("date_from=2026-13-45", "Enter a valid date."),
        ("date_from=2026-05-02&date_to=2026-05-01", "“To” must be on or after “From”."),
        ("date_to=9999-12-31", "Enter a date between 1900 and 9998."),
        ("before=garbage", "This page link is not valid"),
        ("before=999999999999999999_1", "This page link is not valid"),
        ("before=1_1&after=1_1", "This page link is not valid"),
        ("issue=%00", "Null characters are not allowed."),
    ],
)
def test_bad_filter_input_is_explained_and_lists_nothing(client, supervisor, log, query, message):
    client.force_login(supervisor)
    response = client.get(f"/audit/?{query}")
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    assert 'data-testid="audit-invalid"' in body
    assert _listed(response) == []
    export = client.get(f"/audit/export.csv?{query}")
    assert export.status_code == 400 and message in export.content.decode()


def test_anonymous_goes_to_login(client, db):
    for url in ("/audit/", "/audit/export.csv"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_a_user_without_a_role_is_refused(client, db):
    client.force_login(factories.UserFactory())
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/export.csv").status_code == 403


def test_the_staff_navigation_links_the_log(client, officer):
    client.force_login(officer)
    assert '<a href="/audit/">Audit log</a>' in client.get("/queue/").content.decode()


# --- keyset pages -------------------------------------------------------------------------


def _many(issue, actor, count, *, start, ties_every=3):
    """``count`` reveals, several sharing a timestamp (the id breaks the tie)."""
    rows = [
        Event(
            issue=issue,
            kind=Event.Kind.CONTACT_VIEWED,
            actor=actor,
            message=f"reason {i}",
            data={"reason_code": "other"},
            created_at=start + timedelta(seconds=i // ties_every),
        )
        for i in range(count)
    ]
    return Event.objects.bulk_create(rows)


def test_pages_walk_older_and_newer_without_gaps_or_repeats(client, supervisor, issue, officer, settings):
    from cases.web.staff import audit as audit_views

    start = timezone.now() - timedelta(days=1)
    created = _many(issue, officer, 23, start=start)
    _audit(issue, Event.Kind.NOTE, officer, at=start + timedelta(seconds=4))  # not listed
    expected = [e.pk for e in sorted(created, key=lambda e: (e.created_at, e.pk), reverse=True)]
    client.force_login(supervisor)
    size = 5
    audit_views.PAGE_SIZE, saved = size, audit_views.PAGE_SIZE
    try:
        seen, pages, url = [], [], "/audit/"
        while url:
            response = client.get(url)
            assert response.status_code == 200
            ids = _listed(response)
            pages.append((url, ids))
            seen += ids
            body = response.content.decode()
            url = (
                "/audit/" + body.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
                if 'rel="next"' in body
                else None
            )
        assert seen == expected
        assert [len(ids) for _, ids in pages] == [5, 5, 5, 5, 3]
        # And back: each "newer" link from a page gives exactly the page before it.
        for (_, newer_ids), (older_url, _) in zip(pages, pages[1:], strict=False):
            body = client.get(older_url).content.decode()
            newer = body.split('rel="prev"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
            assert _listed(client.get("/audit/" + newer)) == newer_ids
        assert 'rel="prev"' not in client.get("/audit/").content.decode()
    finally:
        audit_views.PAGE_SIZE = saved


def test_pages_keep_the_filters(client, supervisor, issue, officer, log):
    from cases.web.staff import audit as audit_views

    _many(issue, officer, 7, start=timezone.now() - timedelta(days=5))
    client.force_login(supervisor)
    audit_views.PAGE_SIZE, saved = 3, audit_views.PAGE_SIZE
    try:
        body = client.get("/audit/?action=reveal").content.decode()
        older = body.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
        assert "action=reveal" in older and "before=" in older
        assert 'href="/audit/export.csv?action=reveal"' in body
    finally:
        audit_views.PAGE_SIZE = saved


def test_the_selector_pages_by_keyset(supervisor, issue, officer):
    created = _many(issue, officer, 10, start=timezone.now(), ties_every=10)  # all at one instant
    queryset = audit_events_filtered(supervisor)
    first = audit_page(queryset, size=4)
    assert [e.pk for e in first.rows] == sorted((e.pk for e in created), reverse=True)[:4]
    assert first.newer is None and first.older == cursor_of(first.rows[-1])


@pytest.mark.parametrize("size", [5, 60])
@pytest.mark.parametrize("who", ["supervisor", "officer"])
def test_the_log_runs_a_fixed_number_of_queries(
    client, supervisor, officer, issue, neighborhood, category, django_assert_max_num_queries, size, who
):
    start = timezone.now() - timedelta(days=2)
    for i in range(size):
        other = factories.IssueFactory(neighborhood=neighborhood, category=category)
        actor = officer if i % 2 else factories.officer(neighborhoods=[neighborhood])
        _audit(
            other,
            Event.Kind.CONTACT_VIEWED,
            actor,
            at=start + timedelta(minutes=i),
            message="Follow-up visit",
            data={"reason_code": "follow_up_visit"},
        )
        _audit(
            other,
            Event.Kind.MODERATED,
            supervisor,
            at=start + timedelta(minutes=i, seconds=1),
            message="r",
            data={"action": "issue_text"},
        )
        _audit(other, Event.Kind.CONTACT_ERASED, None, at=start + timedelta(minutes=i, seconds=2))
    client.force_login({"supervisor": supervisor, "officer": officer}[who])
    # Session, user, the user's and groups' permissions, the roles (navigation), the page;
    # the supervisor's "who" filter lists the staff (one more).
    pin = {"supervisor": 7, "officer": 6}[who]
    for url in ("/audit/", "/audit/?action=reveal&date_from=2020-01-01", "/audit/?issue=CG-ABCD-2345"):
        with django_assert_max_num_queries(pin):
            response = client.get(url)
        assert response.status_code == 200
    older = client.get("/audit/").content.decode()
    if 'rel="next"' in older:
        link = older.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
        with django_assert_max_num_queries(pin):
            assert client.get("/audit/" + link).status_code == 200


# --- the plan: the partial indexes serve the pages ----------------------------------------


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_pages_read_the_partial_audit_indexes(supervisor, officer, issue, neighborhood, category):
    start = timezone.now() - timedelta(days=30)
    others = [factories.IssueFactory(neighborhood=neighborhood, category=category) for _ in range(20)]
    notes = [
        Event(issue=others[i % 20], kind=Event.Kind.NOTE, actor=officer, created_at=start + timedelta(seconds=i))
        for i in range(20000)
    ]
    Event.objects.bulk_create(notes, batch_size=5000)
    _many(issue, officer, 300, start=start)
    _many(issue, supervisor, 300, start=start)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_event")

    whole = audit_events_filtered(supervisor).order_by("-created_at", "-id")[:51]
    assert "event_audit_idx" in _plan(whole)
    own = audit_events_filtered(officer).order_by("-created_at", "-id")[:51]
    assert "event_audit_actor_idx" in _plan(own)
    chosen = audit_events_filtered(supervisor, who=str(officer.pk)).order_by("-created_at", "-id")[:51]
    assert "event_audit_actor_idx" in _plan(chosen)
    first = audit_page(audit_events_filtered(supervisor), size=50)
    before = (first.rows[-1].created_at, first.rows[-1].pk)
    from cases.selectors.audit import _older_than

    older = audit_events_filtered(supervisor).filter(_older_than(*before)).order_by("-created_at", "-id")[:51]
    assert "event_audit_idx" in _plan(older)


# --- CSV ----------------------------------------------------------------------------------


def _checked_csv(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_export_has_who_when_issue_action_why_and_no_contact_value(client, supervisor, officer, issue, log):
    client.force_login(officer)
    client.post(_reveal_url(issue), {"reason_code": "other", "reason_other": '=HYPERLINK("http://x")'})
    client.force_login(supervisor)
    rows = _checked_csv(client.get("/audit/export.csv"))
    assert rows[0] == ["when", "who", "username", "action", "issue", "reason"]
    body = rows[1:]
    assert len(body) == 4
    newest = body[0]
    assert newest[2] == officer.username and newest[3] == "Contact details shown"
    event = Event.objects.filter(kind=Event.Kind.CONTACT_VIEWED, actor=officer).latest("id")
    assert newest[0] == timezone.localtime(event.created_at).isoformat(timespec="seconds")
    assert newest[4] == issue.tracking_code
    assert newest[5] == '\'=HYPERLINK("http://x")'  # a formula is never a formula in the sheet
    assert body[1][1:4] == ["system", "", "Contact details erased (retention)"]
    assert body[2][3] == "Moderation: report hidden" and body[2][5] == "Neighbour's name in the text"
    text = "\n".join(",".join(row) for row in rows)
    assert not any(secret in text for secret in SECRETS)
    assert "BEFORE-TEXT" not in text and "AFTER-TEXT" not in text  # a moderation's texts stay out


def test_the_export_applies_the_filters_and_the_officers_scope(client, supervisor, officer, log):
    client.force_login(supervisor)
    rows = _checked_csv(client.get("/audit/export.csv?action=moderation"))
    assert [row[3] for row in rows[1:]] == ["Moderation: report hidden"]
    client.force_login(officer)
    rows = _checked_csv(client.get("/audit/export.csv"))
    assert [row[2] for row in rows[1:]] == [officer.username]
    rows = _checked_csv(client.get(f"/audit/export.csv?who={log['moderation'].actor_id}"))
    assert [row[2] for row in rows[1:]] == [officer.username]


def test_the_reveal_then_appears_in_the_log(client, officer, supervisor, issue):
    client.force_login(officer)
    client.post(_reveal_url(issue), {"reason_code": "resident_asked"})
    client.force_login(supervisor)
    body = client.get(f"/audit/?issue={issue.tracking_code}").content.decode()
    assert "Resident asked to be contacted" in body and officer.get_full_name() in body


# --- the embedded mode --------------------------------------------------------------------

SQLITE_SCENARIO = r"""
import csv, io, json
from datetime import timedelta
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.test import Client
from django.utils import timezone
from cases.web.staff import audit as audit_views
from cases.models import Event
from tests import factories as f

place = f.NeighborhoodFactory()
officer, boss = f.officer(neighborhoods=[place]), f.supervisor(neighborhoods=[place])
issue = f.IssueFactory(neighborhood=place, category=f.CategoryFactory())
f.ReportFactory(issue=issue, reporter_email="ana@example.org")
client = Client()
client.force_login(officer)
refused = client.post(f"/issues/{issue.pk}/contacts/", {"reason_code": ""})
shown = client.post(f"/issues/{issue.pk}/contacts/", {"reason_code": "follow_up_visit"})
start = timezone.now() - timedelta(days=1)
hide = {"action": "report_hide"}
Event.objects.bulk_create([Event(issue=issue, kind="moderated", actor=boss, message=f"m{i}", data=hide,
                                 created_at=start + timedelta(seconds=i // 2)) for i in range(7)])
client.force_login(boss)
audit_views.PAGE_SIZE = 3
seen, url = [], "/audit/"
while url:
    body = client.get(url).content.decode()
    seen += [int(p.split('"', 1)[0]) for p in body.split('data-event-id="')[1:]]
    url = ("/audit/" + body.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
           if 'rel="next"' in body else None)
audit = Event.objects.filter(kind__in=Event.AUDIT_KINDS)
expected = list(audit.order_by("-created_at", "-id").values_list("id", flat=True))
today = timezone.localdate().isoformat()
query = f"action=reveal&who={officer.pk}&issue={issue.tracking_code}&date_from={today}"
filtered = client.get(f"/audit/?{query}").content.decode()
bad = client.get("/audit/?date_from=nope")
export = client.get("/audit/export.csv?action=moderation")
rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
print(json.dumps({
    "refused": refused.status_code, "shown": shown.status_code,
    "email_shown": "ana@example.org" in shown.content.decode(),
    "pages_ok": seen == expected, "count": len(seen),
    "filtered": filtered.count('data-event-id="'), "reason": "Follow-up visit" in filtered,
    "bad": [bad.status_code, "Enter a valid date." in bad.content.decode()],
    "csv": len(rows) - 1, "csv_action": rows[1][3],
}))
"""


def test_the_audit_trail_works_on_sqlite(tmp_path):
    from tests.sqlite import checked_run_on_sqlite

    result = checked_run_on_sqlite(SQLITE_SCENARIO, tmp_path)
    assert result == {
        "refused": 400,
        "shown": 200,
        "email_shown": True,
        "pages_ok": True,
        "count": 8,
        "filtered": 1,
        "reason": True,
        "bad": [200, True],
        "csv": 7,
        "csv_action": "Moderation: report hidden",
    }


# --- the admin ----------------------------------------------------------------------------


def test_the_admin_shows_no_contact_details(admin_client, issue):
    report = issue.reports.get()
    for url in (f"/admin/cases/report/{report.pk}/change/", f"/admin/cases/issue/{issue.pk}/change/"):
        response = admin_client.get(url)
        assert response.status_code == 200
        body = response.content.decode()
        assert not any(secret in body for secret in SECRETS), url
        assert 'name="reporter_email"' not in body and 'name="reports-0-reporter_email"' not in body
    # Saving the report in the admin keeps the details it does not show.
    saved = admin_client.post(
        f"/admin/cases/report/{report.pk}/change/",
        {
            "issue": issue.pk,
            "text": "Edited",
            "public_text": "Edited",
            "channel": report.channel,
            "language": "en",
            "photo_state": "",
            "attributes": "{}",
            "created_at_0": "2026-01-01",
            "created_at_1": "10:00:00",
        },
    )
    assert saved.status_code == 302, saved.content.decode()[-3000:]
    report.refresh_from_db()
    assert report.text == "Edited"
    assert (report.reporter_name, report.reporter_email, report.reporter_phone) == SECRETS


def test_the_admin_cannot_change_or_delete_an_audit_entry(admin_client, officer, issue):
    reveal = services.contact_view_record(issue=issue, actor=officer, reason="Follow-up visit")
    note = _audit(issue, Event.Kind.NOTE, officer, at=timezone.now(), message="Crew booked")
    page = admin_client.get(f"/admin/cases/event/{reveal.pk}/change/")
    assert page.status_code == 200 and 'name="message"' not in page.content.decode()  # read-only view
    assert admin_client.post(f"/admin/cases/event/{reveal.pk}/delete/", {"post": "yes"}).status_code == 403
    assert 'name="message"' in admin_client.get(f"/admin/cases/event/{note.pk}/change/").content.decode()
    bulk = admin_client.post(
        "/admin/cases/event/", {"action": "delete_selected", "_selected_action": [reveal.pk], "post": "yes"}
    )
    assert bulk.status_code in (200, 302)
    assert Event.objects.filter(pk=reveal.pk).exists()
