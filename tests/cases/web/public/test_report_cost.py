"""What one resident report costs the server, and that the cheaper path still says and counts the same.

An accepted report is one cache call (the rate limit, reserved up front) and two SQL
statements: the stamp of the per-process copies of categories and boundaries
(core.snapshots), and the one statement that writes the issue, its report, its
timeline event and the receipt in the outbox (core.inserts). Benchmarked under
gunicorn by ``benchmarks.form_load``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django import forms
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Category, Event, Issue, OutboxMessage, Report
from tests.cases.web.public.public_helpers import form_data
from tests.factories import IssueFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cache_calls(monkeypatch):
    """The cache's methods, still doing their work, each call recorded by name."""
    calls = []
    for name in ("get", "set", "add", "incr", "decr", "count", "delete"):
        method = getattr(cache, name, None)
        if method is None:
            continue

        def recorded(*args, _name=name, _method=method, **kwargs):
            calls.append(_name)
            return _method(*args, **kwargs)

        monkeypatch.setattr(cache, name, recorded)
    return calls


def _report(client, category, *, address="127.0.0.1", **overrides):
    return client.post("/report/", form_data(category, same_issue="new", **overrides), REMOTE_ADDR=address)


def test_an_accepted_report_is_one_cache_call_and_two_statements(client, place, cat, cache_calls):
    assert _report(client, cat).status_code == 302  # the per-process copies are built on first use
    cache_calls.clear()
    with CaptureQueriesContext(connection) as queries:
        # An address beside the pin is checked against the neighborhoods' names (no statement of its own).
        response = _report(
            client, cat, address="1200 Main St", reporter_email="resident@example.org", contact_consent="on"
        )
    assert response.status_code == 302
    assert cache_calls == ["count"]
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) == 2, statements
    assert "stamp" in statements[0] and statements[1].startswith("WITH ")
    issue = Issue.objects.latest("id")
    assert response["Location"] == f"/report/{issue.tracking_code}/"
    report = Report.objects.get(issue=issue)
    event = Event.objects.get(issue=issue)
    assert event.kind == Event.Kind.CREATED and event.data == {"channel": "web", "report_id": report.pk}
    receipt = OutboxMessage.objects.get(issue=issue)
    assert receipt.recipient_email == "resident@example.org" and issue.tracking_code in receipt.subject


def test_forms_sent_back_unsaved_do_not_count_and_the_honeypot_does(client, place, cat, settings):
    settings.REPORT_RATE_LIMIT = "2/h"
    for _ in range(3):  # corrections asked for: not counted
        assert _report(client, cat, description="").status_code == 200
    IssueFactory(category=cat, neighborhood=place, lat=place.center_lat, lng=place.center_lng)
    asked = client.post("/report/", form_data(cat, lat=str(place.center_lat), lng=str(place.center_lng)))
    assert asked.status_code == 200 and 'name="same_issue"' in asked.content.decode()  # the question: not counted
    assert _report(client, cat).status_code == 302
    assert _report(client, cat, website="http://spam.example").status_code == 400  # the honeypot counts
    refused = _report(client, cat)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert Report.objects.count() == 1
    assert _report(client, cat, address="10.9.8.7").status_code == 302  # another address still can


def test_a_refused_report_is_not_counted_against_the_next_window(client, place, cat, settings):
    settings.REPORT_RATE_LIMIT = "1/h"
    assert _report(client, cat).status_code == 302
    for _ in range(3):
        assert _report(client, cat).status_code == 429
    redis = cache.primary._cache.get_client()
    assert [int(redis.get(key)) for key in redis.keys("*ratelimit:report:*")] == [1], "refusals are given back"


def test_a_category_edited_in_another_process_applies_to_the_next_report(client, place, cat):
    assert _report(client, cat).status_code == 302
    # Another process (an administrator in another worker) changes the SLA: no signal reaches this one.
    Category.objects.filter(pk=cat.pk).update(target_hours_normal=100, updated_at=timezone.now())
    assert _report(client, cat).status_code == 302
    issue = Issue.objects.latest("id")
    assert issue.due_at - issue.created_at == timedelta(hours=100)
    Category.objects.filter(pk=cat.pk).update(is_active=False, updated_at=timezone.now())
    response = _report(client, cat)
    assert response.status_code == 200
    assert "Choose one of the kinds of problem listed." in response.content.decode()


def test_the_report_forms_fields_are_copied_without_the_generic_deepcopy(client, place, cat, monkeypatch):
    """Each POST builds a ReportForm; its fields are copied on core.forms' quick path, none by
    copy.deepcopy's generic one (6–10 % of a report's CPU before)."""
    import copy

    from cases.web.public.forms import ReportForm

    generic = []
    real_deepcopy = copy.deepcopy

    def recorded(value, memo=None, *args):
        if isinstance(value, (forms.Field, forms.Widget)):
            generic.append(type(value).__name__)
        return real_deepcopy(value, memo, *args)

    monkeypatch.setattr(copy, "deepcopy", recorded)
    form = ReportForm(form_data(cat, same_issue="new"))
    assert generic == []
    assert form.is_valid(), form.errors
    assert _report(client, cat).status_code == 302
    assert generic == []


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("code", ["CG-ABCD-2345", "CG-ZZ99-AB23", "cg-abcd 2345", "CG-ÁBCD-2345"])
def test_the_status_address_is_the_one_reverse_gives(language, code):
    from django.urls import reverse
    from django.utils import translation

    from cases.web.public.views import _status_url

    with translation.override(language):
        assert _status_url(code) == reverse("report_status", kwargs={"code": code})
        assert _status_url(code) == reverse("report_status", kwargs={"code": code})  # from what was kept


def test_the_status_address_follows_the_script_prefix():
    from django.urls import get_script_prefix, reverse, set_script_prefix

    from cases.web.public.views import _status_url

    before = get_script_prefix()
    set_script_prefix("/city/")
    try:
        assert _status_url("CG-ABCD-2345") == reverse("report_status", kwargs={"code": "CG-ABCD-2345"})
        assert _status_url("CG-ABCD-2345").startswith("/city/")
    finally:
        set_script_prefix(before)
