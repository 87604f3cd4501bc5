"""Open311 POST requests: a ``media`` photo under the web form's rules, links kept as links, UTF-8 only."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from cases import services
from cases.models import Issue, ModerationItem, Report
from tests.cases.open311.test_open311 import FORM, checked_errors_of, counts, post, valid_graffiti
from tests.cases.open311.test_open311_support import BASE, checked_xml_of, seed_services
from tests.cases.test_photos import GPS_IFD, _png_declaring
from tests.cases.web.public.public_helpers import jpeg_bytes
from tests.factories import supervisor

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return seed_services()


def media(data: bytes, name="IMG_0042.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def post_multipart(client, data, fmt="json"):
    # The test client encodes a dict holding a file as multipart/form-data (UTF-8).
    return client.post(f"{BASE}/requests.{fmt}", data)


def stored_files(settings):
    root = settings.MEDIA_ROOT
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def checked_xml_errors(response, status):
    assert response.status_code == status, response.content
    root = checked_xml_of(response)
    assert root.tag == "errors"
    assert [e.findtext("code") for e in root.findall("error")] == [str(status)] * len(root.findall("error"))
    return " ".join(e.findtext("description") for e in root.findall("error"))


# --- media -----------------------------------------------------------------------------


def test_media_photo_is_kept_without_its_exif(client, world, settings):
    original = jpeg_bytes()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the upload really carries GPS
    response = post_multipart(client, {**valid_graffiti(world), "media": media(original)})
    assert response.status_code == 201, response.content
    issue = Issue.objects.get(tracking_code=response.json()[0]["service_request_id"])
    report = issue.reports.get()
    assert report.photo
    assert report.channel == Report.Channel.OPEN311
    assert "IMG_0042" not in report.photo.name  # a random name: the original may carry a person's name
    raw = (settings.MEDIA_ROOT / report.photo.name).read_bytes()
    image = Image.open(io.BytesIO(raw))
    assert image.format == "JPEG" and image.size == (64, 48)
    assert len(image.getexif()) == 0 and "exif" not in image.info
    for marker in (b"Exif", b"GPS", b"SERIAL-12345", b"Jane Resident", b"CameraMaker"):
        assert marker not in raw, marker
    # Not public until a moderator approves it: no public copy is made on intake.
    assert not report.public_photo


def test_media_in_xml_and_with_a_media_url_keeps_both(client, world):
    data = {**valid_graffiti(world, media_url="https://img.example.org/9.jpg"), "media": media(jpeg_bytes())}
    response = post_multipart(client, data, fmt="xml")
    assert response.status_code == 201, response.content
    report = Report.objects.get()
    assert report.photo and report.media_url == "https://img.example.org/9.jpg"


def test_media_url_is_stored_as_a_link_and_never_fetched(client, world, monkeypatch):
    import socket
    import urllib.request

    def refuse(*args, **kwargs):
        raise AssertionError("media_url must never be fetched")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    response = post(client, valid_graffiti(world, media_url="https://img.example.org/tags.jpg"))
    assert response.status_code == 201, response.content
    report = Report.objects.get()
    assert report.media_url == "https://img.example.org/tags.jpg"
    assert not report.photo


def test_a_media_link_waits_in_the_moderation_queue_and_is_public_only_once_approved(client, world):
    response = post(client, valid_graffiti(world, media_url="https://img.example.org/tags.jpg"))
    assert response.status_code == 201, response.content
    report = Report.objects.get()
    assert report.photo_state == Report.PhotoState.PENDING
    item = ModerationItem.objects.get(reason=ModerationItem.Reason.PHOTO)
    assert item.report_id == report.pk and item.resolved_at is None
    code = report.issue.tracking_code
    assert client.get(f"{BASE}/requests/{code}.json").json()[0]["media_url"] is None
    services.photo_approve(report=report, reason="A photo of the wall, nobody in it", actor=supervisor())
    assert client.get(f"{BASE}/requests/{code}.json").json()[0]["media_url"] == "https://img.example.org/tags.jpg"


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("upload", "needle"),
    [
        (lambda: media(b"\xff\xd8" + b"0" * (10 * 1024 * 1024 + 1)), "photos can be at most 10 MB"),
        (lambda: media(b"%PDF-1.4 not a photo at all", "scan.pdf", "application/pdf"), "not a photo we can read"),
        (lambda: media(_png_declaring(60_000, 60_000), "bomb.png", "image/png"), "too large to process"),
        (lambda: media(b"", "empty.jpg"), "empty"),
    ],
    ids=["too-large", "not-an-image", "decompression-bomb", "empty"],
)
def test_bad_media_is_400_with_the_reason_and_saves_nothing(client, world, settings, upload, needle, fmt):
    before, files = counts(), stored_files(settings)
    response = post_multipart(client, {**valid_graffiti(world), "media": upload()}, fmt=fmt)
    text = checked_errors_of(response, 400) if fmt == "json" else checked_xml_errors(response, 400)
    assert needle in text and text.startswith("media: ")
    assert counts() == before
    assert stored_files(settings) == files


def test_bad_media_reason_in_spanish_for_a_spanish_client(client, world):
    data = {**valid_graffiti(world, locale="es"), "media": media(b"not a photo", "x.jpg")}
    text = checked_errors_of(post_multipart(client, data), 400)
    assert text.startswith("media: ") and "foto" in text.lower()


def test_two_media_files_are_400(client, world):
    before = counts()
    response = client.post(
        f"{BASE}/requests.json", {**valid_graffiti(world), "media": [media(jpeg_bytes()), media(jpeg_bytes())]}
    )
    assert "at most one media file" in checked_errors_of(response, 400)
    assert counts() == before


def test_media_sent_as_text_is_400(client, world):
    before = counts()
    response = post(client, valid_graffiti(world, media="https://img.example.org/1.jpg"))
    assert "media must be a file" in checked_errors_of(response, 400)
    assert counts() == before


def test_api_key_rules_hold_with_media(client, world, settings):
    before, files = counts(), stored_files(settings)
    no_key = {**valid_graffiti(world, api_key=None), "media": media(jpeg_bytes())}
    assert "api_key is required" in checked_errors_of(post_multipart(client, no_key), 403)
    bad_key = {**valid_graffiti(world, api_key="nope"), "media": media(jpeg_bytes())}
    assert "not valid" in checked_errors_of(post_multipart(client, bad_key), 403)
    # A bad key is answered before the photo is looked at, even a photo that would be refused.
    junk = {**valid_graffiti(world, api_key="nope"), "media": media(b"junk")}
    assert "not valid" in checked_errors_of(post_multipart(client, junk), 403)
    assert counts() == before and stored_files(settings) == files


def test_media_is_checked_after_the_other_parameters(client, world):
    data = {**valid_graffiti(world, lat="95", long="-94.59"), "media": media(b"junk")}
    text = checked_errors_of(post_multipart(client, data), 400)
    assert "lat must be between" in text and "media" not in text


# --- UTF-8 only --------------------------------------------------------------------------


def _multipart(fields: list[tuple[str | bytes, bytes]], boundary="cgb0undary") -> tuple[bytes, str]:
    parts = []
    for name, value in fields:
        name = name if isinstance(name, bytes) else name.encode()
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="'.encode() + name + b'"\r\n\r\n' + value + b"\r\n"
        )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _with(world, *extra: tuple[str | bytes, bytes]) -> tuple[bytes, str]:
    return _multipart([*((k, v.encode()) for k, v in valid_graffiti(world).items()), *extra])


def _urlencoded(world, description: bytes) -> bytes:
    from urllib.parse import urlencode

    return urlencode(valid_graffiti(world)).encode() + b"&description=" + description


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        # Latin-1 bytes sent raw (Django would read the whole body as Latin-1: "Caf\xe9" → mojibake).
        (lambda w: _urlencoded(w, b"Caf\xe9 wall"), FORM),
        (lambda w: _urlencoded(w, b"Caf\xe9 wall"), FORM + "; charset=utf-8"),
        # Latin-1 percent-escaped (Django would store U+FFFD).
        (lambda w: _urlencoded(w, b"Caf%E9+wall"), FORM),
        # Valid Latin-1, declared: only UTF-8 is accepted.
        (lambda w: _urlencoded(w, b"Caf%E9+wall"), FORM + "; charset=latin-1"),
        (lambda w: _urlencoded(w, b"Caf%C3%A9"), FORM + "; charset=windows-1252"),
        (lambda w: _urlencoded(w, b"Cafe"), FORM + "; charset=no-such-charset"),
        # A multipart text part that is not UTF-8, with or without a charset on the request.
        (lambda w: _with(w, ("description", b"\xe9t\xe9")), None),
        (lambda w: _with(w, ("description", b"ok\xff")), "charset=utf-8"),
        # A parameter name that is not UTF-8.
        (lambda w: _with(w, (b"x\xff", b"1")), None),
    ],
    ids=[
        "urlencoded-raw-latin1",
        "urlencoded-raw-latin1-declared-utf8",
        "urlencoded-escaped-latin1",
        "urlencoded-declared-latin1",
        "urlencoded-declared-cp1252",
        "urlencoded-unknown-charset",
        "multipart-latin1-part",
        "multipart-bad-byte-declared-utf8",
        "multipart-bad-field-name",
    ],
)
def test_text_that_is_not_utf8_is_400_and_saves_nothing(client, world, body, content_type, fmt):
    payload = body(world)
    if isinstance(payload, tuple):
        payload, multipart_type = payload
        content_type = multipart_type + (f"; {content_type}" if content_type else "")
    before = counts()
    response = client.generic("POST", f"{BASE}/requests.{fmt}", payload, content_type=content_type)
    text = checked_errors_of(response, 400) if fmt == "json" else checked_xml_errors(response, 400)
    assert "UTF-8" in text
    assert counts() == before


def test_a_query_string_that_is_not_utf8_is_400(client, world):
    from urllib.parse import urlencode

    before = counts()
    data = valid_graffiti(world, api_key=None)
    response = client.post(
        f"{BASE}/requests.json?api_key={world['client'].key}&description=Caf%E9",
        urlencode(data),
        content_type=FORM,
    )
    assert "UTF-8" in checked_errors_of(response, 400)
    assert counts() == before


def test_utf8_text_is_stored_as_sent(client, world):
    from urllib.parse import quote

    description = "Café «mural» — 東京 🎨"
    response = client.generic(
        "POST",
        f"{BASE}/requests.json",
        _urlencoded(world, quote(description).encode()),
        content_type=FORM + "; charset=UTF-8",
    )
    assert response.status_code == 201, response.content
    assert Issue.objects.get().description == description
    body, content_type = _multipart(
        [*((k, v.encode()) for k, v in valid_graffiti(world).items()), ("description", description.encode())]
    )
    response = client.generic("POST", f"{BASE}/requests.json", body, content_type=content_type)
    assert response.status_code == 201, response.content
    assert Issue.objects.order_by("-id").first().description == description


def test_a_media_file_named_in_latin1_is_400_not_silently_dropped(client, world, settings):
    fields = [(k, v.encode()) for k, v in valid_graffiti(world).items()]
    body, content_type = _multipart(fields)
    part = (
        b'--cgb0undary\r\nContent-Disposition: form-data; name="media"; filename="caf\xe9.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n" + jpeg_bytes() + b"\r\n"
    )
    body = part + body
    before, files = counts(), stored_files(settings)
    response = client.generic("POST", f"{BASE}/requests.json", body, content_type=content_type)
    assert "UTF-8" in checked_errors_of(response, 400)
    assert counts() == before and stored_files(settings) == files


def test_a_body_over_the_upload_limit_is_400_and_says_so(client, world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 50_000
    before = counts()
    response = post_multipart(client, {**valid_graffiti(world), "media": media(jpeg_bytes((400, 400)) + b"0" * 60_000)})
    text = checked_errors_of(response, 400)
    assert "too large" in text and "10 MB" in text
    assert counts() == before
