"""The supervisors' moderation queue at /moderation/: oldest first, keyset pages, a fixed query count."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases.models import ModerationItem, Report
from cases.photos import photo_clean
from cases.selectors.moderation import QUEUE_PAGE_SIZE
from cases.web.staff.moderation import cursor_decode, cursor_encode
from tests.cases.web.public.public_helpers import jpeg_bytes
from tests.factories import IssueFactory, ReportFactory, supervisor

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator(neighborhood):
    return supervisor(districts=[neighborhood.district])


def queue_item(
    neighborhood, category, *, minutes_ago, reason=ModerationItem.Reason.MASKED, resolved=False, photo=False
):
    issue = IssueFactory(neighborhood=neighborhood, category=category, public_description="Call me at [☎ •••]")
    report = ReportFactory(issue=issue, public_text="Call me at [☎ •••]")
    if photo:
        clean = photo_clean(SimpleUploadedFile("p.jpg", jpeg_bytes(), content_type="image/jpeg"))
        report.photo.save(clean.name, clean, save=False)
        report.photo_state = Report.PhotoState.PENDING
        report.save()
    now = timezone.now()
    return ModerationItem.objects.create(
        issue=issue,
        report=report if reason != ModerationItem.Reason.MASKED else None,
        reason=reason,
        findings={"phone": 1},
        created_at=now - timedelta(minutes=minutes_ago),
        resolved_at=now if resolved else None,
    )


def codes_in(html):
    return re.findall(r'id="item-(\d+)"', html)


def test_oldest_first_and_only_unresolved(client, moderator, neighborhood, category):
    newer = queue_item(neighborhood, category, minutes_ago=5)
    older = queue_item(neighborhood, category, minutes_ago=50, reason=ModerationItem.Reason.FLAGGED)
    queue_item(neighborhood, category, minutes_ago=500, resolved=True)
    client.force_login(moderator)
    response = client.get("/moderation/")
    assert response.status_code == 200
    html = response.content.decode()
    assert codes_in(html) == [str(older.pk), str(newer.pk)]
    assert older.issue.tracking_code in html and f"/issues/{older.issue_id}/#moderation" in html
    assert "Call me at [☎ •••]" in html  # the public text with its masks
    assert "phone × 1" in html
    assert category.name in html and neighborhood.name in html


def test_filter_by_reason(client, moderator, neighborhood, category):
    masked = queue_item(neighborhood, category, minutes_ago=5)
    photo = queue_item(neighborhood, category, minutes_ago=6, reason=ModerationItem.Reason.PHOTO, photo=True)
    client.force_login(moderator)
    html = client.get("/moderation/?reason=photo").content.decode()
    assert codes_in(html) == [str(photo.pk)]
    # The photo's thumbnail comes from the staff view; the original is never a public path.
    assert f"/issues/{photo.issue_id}/reports/{photo.report_id}/photo/" in html
    assert f"/moderation/reports/{photo.report_id}/photo-approve/" in html
    assert codes_in(client.get("/moderation/?reason=masked").content.decode()) == [str(masked.pk)]
    # An unknown reason is ignored, not an error.
    assert len(codes_in(client.get("/moderation/?reason=nope").content.decode())) == 2


def test_keyset_pagination_walks_every_item_once(client, moderator, neighborhood, category):
    # Several items share one created_at: the id breaks the tie.
    items = [queue_item(neighborhood, category, minutes_ago=100 - i // 3) for i in range(QUEUE_PAGE_SIZE + 7)]
    expected = [str(i.pk) for i in sorted(items, key=lambda i: (i.created_at, i.pk))]
    client.force_login(moderator)
    seen, url = [], "/moderation/"
    while url:
        html = client.get(url).content.decode()
        seen += codes_in(html)
        match = re.search(r'href="(\?after=[^"]+)" rel="next"', html)
        url = "/moderation/" + match.group(1).replace("&amp;", "&") if match else ""
    assert seen == expected


def test_the_cursor_round_trips_and_bad_cursors_start_over(client, moderator, neighborhood, category):
    moment = timezone.now()
    assert cursor_decode(cursor_encode((moment, 42))) == (moment, 42)
    assert cursor_decode("") is None and cursor_decode("x-1") is None and cursor_decode("9" * 40 + "-1") is None
    queue_item(neighborhood, category, minutes_ago=1)
    client.force_login(moderator)
    assert client.get("/moderation/?after=garbage").status_code == 200


@pytest.mark.parametrize("size", [3, 40])
def test_the_queue_runs_a_fixed_number_of_queries(
    client, moderator, neighborhood, category, django_assert_max_num_queries, size
):
    for i in range(size):
        reason = [ModerationItem.Reason.MASKED, ModerationItem.Reason.FLAGGED, ModerationItem.Reason.PHOTO][i % 3]
        queue_item(neighborhood, category, minutes_ago=i, reason=reason)
    client.force_login(moderator)
    client.get("/moderation/")  # warm the session
    with django_assert_max_num_queries(6):
        response = client.get("/moderation/")
    assert len(codes_in(response.content.decode())) == min(size, QUEUE_PAGE_SIZE)


def test_an_officer_gets_403_and_no_link(client, officer, moderator):
    client.force_login(officer)
    assert client.get("/moderation/").status_code == 403
    assert 'href="/moderation/"' not in client.get("/queue/").content.decode()
    client.force_login(moderator)
    assert 'href="/moderation/"' in client.get("/queue/").content.decode()


def test_anonymous_is_sent_to_login(client):
    response = client.get("/moderation/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_looks_fine_from_the_queue(client, moderator, neighborhood, category):
    item = queue_item(neighborhood, category, minutes_ago=5, reason=ModerationItem.Reason.FLAGGED)
    client.force_login(moderator)
    response = client.post(f"/moderation/items/{item.pk}/resolve/", {"queue_reason": "flagged"})
    assert response.status_code == 302 and response["Location"] == "/moderation/?reason=flagged"
    item.refresh_from_db()
    assert item.resolved_by == moderator
    assert codes_in(client.get("/moderation/").content.decode()) == []


def test_approve_from_the_queue_without_reason_changes_nothing(client, moderator, neighborhood, category):
    item = queue_item(neighborhood, category, minutes_ago=5, reason=ModerationItem.Reason.PHOTO, photo=True)
    client.force_login(moderator)
    url = f"/moderation/reports/{item.report_id}/photo-approve/"
    response = client.post(url, {"reason": "", "return_to": "queue"}, follow=True)
    assert "nothing was changed" in response.content.decode()
    item.refresh_from_db()
    assert item.resolved_at is None
    response = client.post(url, {"reason": "Only the wall", "return_to": "queue"}, follow=True)
    assert "The photo is approved" in response.content.decode()
    item.refresh_from_db()
    assert item.resolved_at is not None
