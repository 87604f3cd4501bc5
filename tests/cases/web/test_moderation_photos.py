"""Residents' photos are public only once a moderator approves them (issue 13, item 4).

New contract: a photo a resident sends is kept for staff (the original, served by a staff-only
view) and is nowhere public — not on the status page, not in Open311's media_url, not at any
URL — until approved. Approval writes a public copy under a fresh random name; hiding deletes it.
MEDIA_ROOT is never served as a folder.
"""

from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from cases import services
from cases.models import Event, ModerationItem, Report
from cases.photos import photo_clean, public_photo_path
from tests.cases.web.public.public_helpers import jpeg_bytes
from tests.factories import CategoryFactory, IssueFactory, ReportFactory, UserFactory, officer, supervisor

pytestmark = pytest.mark.django_db

BASE = "/open311/v2"


@pytest.fixture
def moderator(neighborhood):
    return supervisor(districts=[neighborhood.district])


@pytest.fixture
def issue(neighborhood):
    return IssueFactory(neighborhood=neighborhood, category=CategoryFactory(service_code="graffiti-photos"))


def with_photo(issue, **kwargs) -> Report:
    report = ReportFactory(issue=issue, photo_state=Report.PhotoState.PENDING, **kwargs)
    clean = photo_clean(SimpleUploadedFile("IMG_0042.jpg", jpeg_bytes(), content_type="image/jpeg"))
    report.photo.save(clean.name, clean, save=True)
    ModerationItem.objects.create(
        issue=issue, report=report, reason=ModerationItem.Reason.PHOTO, created_at=report.created_at
    )
    return report


def open311_media_url(client, issue):
    [item] = client.get(f"{BASE}/requests/{issue.tracking_code}.json").json()
    return item["media_url"]


def test_an_unapproved_photo_is_nowhere_public(client, issue, settings):
    report = with_photo(issue)
    stem = report.photo.name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    # Not served as a file: the old /media/ route is gone.
    assert client.get(f"/media/{report.photo.name}").status_code == 404
    # Not at a public photo URL, even knowing the original's name.
    assert client.get(f"/photos/{report.pk}/{stem}.jpg").status_code == 404
    html = client.get(f"/report/{issue.tracking_code}/").content.decode()
    assert "/photos/" not in html and stem not in html
    assert open311_media_url(client, issue) is None
    assert not report.public_photo


def test_approval_publishes_a_clean_copy_under_a_new_name(
    client, issue, moderator, settings, django_capture_on_commit_callbacks
):
    report = with_photo(issue)
    with django_capture_on_commit_callbacks(execute=True):
        services.photo_approve(report=report, reason="Shows only the wall", actor=moderator)
    report.refresh_from_db()
    assert report.photo_state == Report.PhotoState.APPROVED
    assert report.public_photo.name.startswith("public/")
    original_stem = report.photo.name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    assert original_stem not in report.public_photo.name  # not guessable from the original
    assert (settings.MEDIA_ROOT / report.photo.name).exists()  # the original stays, for staff

    url = public_photo_path(report.pk, report.public_photo.name)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert "public" in response["Cache-Control"] and "max-age=" in response["Cache-Control"]
    raw = b"".join(response.streaming_content)
    image = Image.open(io.BytesIO(raw))
    assert image.format == "JPEG" and len(image.getexif()) == 0 and "exif" not in image.info
    for marker in (b"Exif", b"GPS", b"SERIAL-12345", b"Jane Resident"):
        assert marker not in raw

    assert url in client.get(f"/report/{issue.tracking_code}/").content.decode()
    assert open311_media_url(client, issue) == f"http://testserver{url}"
    # The queue's photo item is done; the timeline says who approved and why.
    assert not ModerationItem.objects.filter(report=report, resolved_at__isnull=True).exists()
    event = Event.objects.get(issue=issue, kind=Event.Kind.MODERATED)
    assert event.actor == moderator and event.message == "Shows only the wall" and not event.is_public
    assert event.data == {"action": "photo_approve", "report": report.pk, "before": "pending", "after": "approved"}


def test_a_wrong_token_or_extension_is_404(client, issue, moderator):
    report = with_photo(issue)
    services.photo_approve(report=report, reason="ok", actor=moderator)
    report.refresh_from_db()
    url = public_photo_path(report.pk, report.public_photo.name)
    token = url.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    other = IssueFactory(neighborhood=issue.neighborhood, category=issue.category)
    stranger = ReportFactory(issue=other)
    assert client.get(url.replace(".jpg", ".png")).status_code == 404
    assert client.get(url.replace(token, token[:-1] + ("0" if token[-1] != "0" else "1"))).status_code == 404
    assert client.get(f"/photos/{stranger.pk}/{token}.jpg").status_code == 404


def test_hiding_takes_the_copy_down(client, issue, moderator, settings, django_capture_on_commit_callbacks):
    report = with_photo(issue)
    services.photo_approve(report=report, reason="ok", actor=moderator)
    report.refresh_from_db()
    url = public_photo_path(report.pk, report.public_photo.name)
    copy_file = settings.MEDIA_ROOT / report.public_photo.name
    assert client.get(url).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        services.photo_hide(report=report, reason="A face is visible", actor=moderator)
    report.refresh_from_db()
    assert report.photo_state == Report.PhotoState.HIDDEN and not report.public_photo
    assert not copy_file.exists()
    assert (settings.MEDIA_ROOT / report.photo.name).exists()
    assert client.get(url).status_code == 404
    assert url not in client.get(f"/report/{issue.tracking_code}/").content.decode()
    assert open311_media_url(client, issue) is None

    # Approved again: a new URL; the hidden one never serves again.
    services.photo_approve(report=report, reason="Face blurred by the camera after all", actor=moderator)
    report.refresh_from_db()
    new_url = public_photo_path(report.pk, report.public_photo.name)
    assert new_url != url and client.get(new_url).status_code == 200 and client.get(url).status_code == 404


def test_a_hidden_report_hides_its_approved_photo(client, issue, moderator):
    report = with_photo(issue)
    services.photo_approve(report=report, reason="ok", actor=moderator)
    report.refresh_from_db()
    url = public_photo_path(report.pk, report.public_photo.name)
    services.report_hide(report=report, reason="Abusive text", actor=moderator)
    assert client.get(url).status_code == 404
    assert open311_media_url(client, issue) is None


def test_sensitive_categories_never_show_photos(client, neighborhood, moderator):
    issue = IssueFactory(neighborhood=neighborhood, category=CategoryFactory(is_public=False))
    report = with_photo(issue)
    services.photo_approve(report=report, reason="ok", actor=moderator)
    report.refresh_from_db()
    assert client.get(public_photo_path(report.pk, report.public_photo.name)).status_code == 404
    assert "/photos/" not in client.get(f"/report/{issue.tracking_code}/").content.decode()


def test_the_original_is_for_staff_only(client, issue, neighborhood):
    report = with_photo(issue)
    url = f"/issues/{issue.pk}/reports/{report.pk}/photo/"
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(UserFactory())
    assert client.get(url).status_code == 403
    client.force_login(officer(neighborhoods=[neighborhood]))
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert "private" in response["Cache-Control"]
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    # Another issue's id with this report: 404, not the photo.
    other = IssueFactory(neighborhood=neighborhood, category=issue.category)
    assert client.get(f"/issues/{other.pk}/reports/{report.pk}/photo/").status_code == 404
    # The staff issue page shows the original through that view, never a /media/ path.
    html = client.get(issue.get_absolute_url()).content.decode()
    assert url in html and "/media/" not in html


def test_the_rest_api_points_staff_at_the_original(client, issue, neighborhood):
    report = with_photo(issue)
    client.force_login(officer(neighborhoods=[neighborhood]))
    body = client.get(f"/api/v1/reports/?issue={issue.pk}").json()
    items = body["results"] if isinstance(body, dict) else body
    [item] = [row for row in items if row["id"] == report.pk]
    assert item["photo"] == f"http://testserver/issues/{issue.pk}/reports/{report.pk}/photo/"


def test_a_client_link_is_shown_only_once_approved(client, issue, moderator):
    report = ReportFactory(issue=issue, media_url="https://img.example.org/wall.jpg", photo_state="pending")
    assert open311_media_url(client, issue) is None
    services.photo_approve(report=report, reason="The app's own photo of the wall", actor=moderator)
    assert open311_media_url(client, issue) == "https://img.example.org/wall.jpg"
    report.refresh_from_db()
    assert not report.public_photo  # a link is never fetched or copied


def test_approving_a_report_without_photo_is_refused(issue, moderator):
    report = ReportFactory(issue=issue)
    with pytest.raises(Exception) as refused:
        services.photo_approve(report=report, reason="ok", actor=moderator)
    assert "no photo" in str(refused.value)


def test_the_approve_form_from_the_issue_page(client, issue, moderator):
    report = with_photo(issue)
    client.force_login(moderator)
    refused = client.post(f"/moderation/reports/{report.pk}/photo-approve/", {"reason": ""})
    assert refused.status_code == 400 and "Give a reason" in refused.content.decode()
    report.refresh_from_db()
    assert report.photo_state == "pending"
    response = client.post(f"/moderation/reports/{report.pk}/photo-approve/", {"reason": "Only the wall"}, follow=True)
    assert "The photo is approved" in response.content.decode()
    report.refresh_from_db()
    assert report.photo_state == "approved" and report.public_photo


def test_a_missing_original_cannot_be_approved(issue, moderator, settings):
    report = with_photo(issue)
    (settings.MEDIA_ROOT / report.photo.name).unlink()
    with pytest.raises(Exception) as refused:
        services.photo_approve(report=report, reason="ok", actor=moderator)
    assert "missing" in str(refused.value)
    report.refresh_from_db()
    assert report.photo_state == "pending"


def test_unused_contentfile_import_guard():
    # photo_clean accepts an in-memory file, as photo_approve passes it.
    assert photo_clean(ContentFile(jpeg_bytes(), name="x")).name.endswith(".jpg")
