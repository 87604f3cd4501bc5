"""core.api.lean: the API's read lists give DRF's output, key for key, row for row.

Every list and detail read of the demo data is asked twice: once as it runs, once with
``LeanRepresentation`` handing every row back to DRF's own ``to_representation``.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cases.models import Issue, Problem
from core.api.lean import LeanRepresentation


@pytest.fixture
def demo(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo", verbosity=0)
    supervisor = get_user_model().objects.filter(groups__name="Supervisor").order_by("pk").first()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=supervisor)[0].key}")
    return client


def _urls() -> list[str]:
    issue = Issue.objects.filter(assignee__isnull=False, problem__isnull=False).order_by("pk").first()
    issue = issue or Issue.objects.order_by("pk").first()
    problem = Problem.objects.order_by("pk").first()
    return [
        "/api/v1/issues/?page_size=200",
        "/api/v1/issues/?ordering=due_at&page_size=200",
        f"/api/v1/issues/{issue.pk}/",
        f"/api/v1/issues/{issue.pk}/events/",
        "/api/v1/issues/queue/",
        "/api/v1/reports/?page_size=200",
        "/api/v1/escalations/?page_size=200",
        "/api/v1/notifications/",
        "/api/v1/problems/?page_size=200",
        f"/api/v1/problems/{problem.pk}/",
        f"/api/v1/problems/{problem.pk}/events/",
        "/api/v1/activities/?page_size=200",
        "/api/v1/partners/?page_size=200",
        "/api/v1/neighborhoods/",
        "/api/v1/staff/?page_size=200",
        "/api/v1/me/",
        "/api/v1/categories/",
    ]


def test_every_read_is_drfs_output(demo, monkeypatch):
    urls = _urls()
    lean = {url: demo.get(url) for url in urls}

    def drf(self, instance):
        return super(LeanRepresentation, self).to_representation(instance)

    monkeypatch.setattr(LeanRepresentation, "to_representation", drf)
    for url in urls:
        answer = demo.get(url)
        assert answer.status_code == lean[url].status_code == 200, url
        assert lean[url].json() == answer.json(), url
        assert lean[url].content == answer.content, url  # same keys in the same order
    rows = lean["/api/v1/issues/?page_size=200"].json()["results"]
    assert len(rows) > 20 and any(row["assignee"] for row in rows) and any(row["problem"] for row in rows)


@pytest.mark.parametrize("zone", ["America/Chicago", "UTC", "Asia/Kolkata"])
def test_times_are_written_as_drf_writes_them(zone):
    """DateTimeField's ISO 8601 shortcut: DRF's text in any time zone ("Z" for UTC); None and naive values its way."""
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from django.utils import timezone
    from rest_framework import serializers

    from core.api.lean import _datetime, _drf

    field = serializers.DateTimeField()
    field.bind("at", serializers.Serializer())
    with timezone.override(zone):
        read = _datetime(field, "at", _drf(field))
        for value in (
            datetime(2026, 12, 7, 3, 4, 5, 678901, tzinfo=UTC),
            datetime(2026, 7, 1, 12, 0, tzinfo=UTC),
            None,
        ):
            row = SimpleNamespace(at=value)
            assert read(row) == (None if value is None else field.to_representation(value)), value
        if zone == "UTC":
            assert read(SimpleNamespace(at=datetime(2026, 12, 7, 3, 4, 5, tzinfo=UTC))) == "2026-12-07T03:04:05Z"
        naive = datetime(2026, 12, 7, 3, 4, 5)
        assert read(SimpleNamespace(at=naive)) == field.to_representation(naive)
