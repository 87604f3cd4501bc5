"""/notifications/: staff see their own in-app notifications, the unread count, and mark them read."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from cases.models import Notification
from tests.factories import officer, supervisor

pytestmark = pytest.mark.django_db


def notify(user, n=1, *, read=False, url="/issues/1/", subject="Escalated"):
    now = timezone.now()
    return Notification.objects.bulk_create(
        Notification(
            user=user,
            subject=f"{subject} {i}",
            body="Level 2: notify the neighborhood's supervisor",
            url=url,
            created_at=now - timedelta(minutes=i),
            read_at=now if read else None,
        )
        for i in range(n)
    )


def test_anonymous_visitors_are_sent_to_login(client):
    for url in ("/notifications/", "/notifications/unread-count/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")
    response = client.post("/notifications/read-all/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_signed_in_non_staff_get_403(client):
    resident = get_user_model().objects.create_user("resident", "r@example.org", "pw-Secret-123")
    client.force_login(resident)
    assert client.get("/notifications/").status_code == 403
    assert client.get("/notifications/unread-count/").status_code == 403


def test_staff_see_only_their_own_with_unread_count(client, officer):
    other = supervisor()
    notify(officer, 2, subject="Mine")
    notify(officer, 1, read=True, subject="Old")
    notify(other, 3, subject="Theirs")
    client.force_login(officer)
    page = client.get("/notifications/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Mine 0" in html and "Mine 1" in html and "Old 0" in html
    assert "Theirs" not in html
    assert 'data-unread="2"' in html
    assert client.get("/notifications/unread-count/").json() == {"unread": 2}
    unread_only = client.get("/notifications/?show=unread").content.decode()
    assert "Mine 0" in unread_only and "Old 0" not in unread_only


def test_nav_badge_is_loaded_by_htmx(client, officer):
    notify(officer, 3)
    client.force_login(officer)
    page = client.get("/notifications/").content.decode()
    assert 'hx-get="/notifications/unread-count/"' in page
    badge = client.get("/notifications/unread-count/", HTTP_HX_REQUEST="true")
    assert badge.status_code == 200
    assert 'data-unread="3"' in badge.content.decode()


def test_mark_one_read_then_all_read(client, officer):
    first, second, third = notify(officer, 3)
    client.force_login(officer)
    response = client.post(f"/notifications/{first.pk}/read/", {"next": "/issues/1/"})
    assert response.status_code == 302 and response["Location"] == "/issues/1/"
    first.refresh_from_db()
    assert first.read_at is not None
    read_at = first.read_at
    client.post(f"/notifications/{first.pk}/read/")
    first.refresh_from_db()
    assert first.read_at == read_at  # reading twice keeps the first time
    assert client.get("/notifications/unread-count/").json() == {"unread": 2}
    response = client.post("/notifications/read-all/")
    assert response.status_code == 302 and response["Location"] == "/notifications/"
    assert not Notification.objects.filter(user=officer, read_at__isnull=True).exists()
    assert 'data-unread="0"' in client.get("/notifications/").content.decode()


def test_cannot_mark_someone_elses_notification(client, officer):
    [theirs] = notify(supervisor())
    client.force_login(officer)
    assert client.post(f"/notifications/{theirs.pk}/read/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_leaves_other_people_alone(client, officer):
    other = supervisor()
    notify(officer, 2)
    notify(other, 2)
    client.force_login(officer)
    client.post("/notifications/read-all/")
    assert Notification.objects.filter(user=other, read_at__isnull=True).count() == 2


def test_redirect_target_must_be_on_this_site(client, officer):
    [item] = notify(officer)
    client.force_login(officer)
    response = client.post(f"/notifications/{item.pk}/read/", {"next": "https://evil.example/"})
    assert response["Location"] == "/notifications/"


def test_reading_requires_post(client, officer):
    [item] = notify(officer)
    client.force_login(officer)
    assert client.get(f"/notifications/{item.pk}/read/").status_code == 405
    assert client.get("/notifications/read-all/").status_code == 405
    item.refresh_from_db()
    assert item.read_at is None


@pytest.mark.parametrize("size", [3, 120])
def test_list_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries, size):
    user = officer()
    notify(user, size)
    client.force_login(user)
    with django_assert_max_num_queries(8):
        page = client.get("/notifications/")
    assert page.status_code == 200
    assert page.content.decode().count("data-notification-id=") == min(size, 50)
    if size > 50:
        assert "1–50 of 120" in page.content.decode() and 'rel="next"' in page.content.decode()
