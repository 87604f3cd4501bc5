"""Photos: re-encoded, every piece of metadata (GPS above all) removed, bad files refused."""

import io
import os
import struct
import time
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, PngImagePlugin

from cases.models import Issue, Report
from cases.photos import photo_clean, photo_stash, photo_unstash
from tests.cases.web.public.public_helpers import center_neighborhood, form_data, graffiti, jpeg_bytes

GPS_IFD = 0x8825


def upload(data, name="photo.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def test_the_helper_photo_really_carries_gps():
    image = Image.open(io.BytesIO(jpeg_bytes()))
    assert image.getexif().get_ifd(GPS_IFD)[1] == "N"


@pytest.mark.django_db
def test_gps_exif_is_gone_from_the_stored_file(client, settings):
    category, _place = graffiti(), center_neighborhood()
    response = client.post("/report/", {**form_data(category), "photo": upload(jpeg_bytes(), "IMG_2231.jpg")})
    assert response.status_code == 302
    report = Report.objects.get()
    stored = settings.MEDIA_ROOT / report.photo.name
    raw = stored.read_bytes()
    image = Image.open(io.BytesIO(raw))
    assert image.format == "JPEG" and image.size == (64, 48)
    assert len(image.getexif()) == 0
    assert image.getexif().get_ifd(GPS_IFD) == {}
    assert "exif" not in image.info
    for marker in (b"Exif", b"GPS", b"SERIAL-12345", b"Jane Resident", b"CameraMaker"):
        assert marker not in raw, marker
    assert "IMG_2231" not in report.photo.name


def test_png_text_chunks_and_webp_exif_are_removed():
    meta = PngImagePlugin.PngInfo()
    meta.add_text("Author", "Jane Resident")
    meta.add_text("Comment", "taken at 12 Elm St")
    out = io.BytesIO()
    Image.new("RGBA", (20, 20), (0, 128, 0, 128)).save(out, format="PNG", pnginfo=meta)
    clean = photo_clean(upload(out.getvalue(), "a.png", "image/png")).read()
    image = Image.open(io.BytesIO(clean))
    assert image.format == "PNG" and image.mode == "RGBA"
    assert b"Jane Resident" not in clean and b"Elm" not in clean and not image.text

    exif = Image.Exif()
    exif[GPS_IFD] = {1: "N", 2: (39.0, 5.0, 59.0)}
    exif[0x013B] = "Jane Resident"
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "blue").save(out, format="WEBP", exif=exif.tobytes())
    assert Image.open(io.BytesIO(out.getvalue())).getexif().get_ifd(GPS_IFD)
    clean = photo_clean(upload(out.getvalue(), "a.webp", "image/webp")).read()
    image = Image.open(io.BytesIO(clean))
    assert image.format == "WEBP" and len(image.getexif()) == 0 and b"Jane Resident" not in clean


def test_orientation_is_applied_before_the_tag_is_dropped():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    out = io.BytesIO()
    Image.new("RGB", (40, 20), "white").save(out, format="JPEG", exif=exif.tobytes())
    image = Image.open(io.BytesIO(photo_clean(upload(out.getvalue())).read()))
    assert image.size == (20, 40)


def test_large_photos_are_scaled_down():
    out = io.BytesIO()
    Image.new("RGB", (4000, 1000), "gray").save(out, format="JPEG")
    image = Image.open(io.BytesIO(photo_clean(upload(out.getvalue())).read()))
    assert image.size == (2560, 640)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"GIF89a" + b"\x00" * 50, "not a photo we can read"),
        (b"just some text, not an image", "not a photo we can read"),
        (jpeg_bytes()[:200], "not a photo we can read"),  # truncated
    ],
)
def test_files_that_are_not_photos_are_refused(data, message):
    with pytest.raises(ValidationError) as error:
        photo_clean(upload(data))
    assert message in error.value.messages[0]


def test_gif_and_bmp_are_refused_even_when_valid():
    for kind in ("GIF", "BMP", "TIFF"):
        out = io.BytesIO()
        Image.new("RGB", (10, 10), "red").save(out, format=kind)
        with pytest.raises(ValidationError, match="JPEG, PNG or WebP"):
            photo_clean(upload(out.getvalue(), f"a.{kind.lower()}"))


def test_oversize_file_is_refused_before_decoding():
    with pytest.raises(ValidationError, match=r"40\.0 MB; photos can be at most 10 MB"):
        photo_clean(upload(b"\xff\xd8" + b"0" * (40 * 1024 * 1024)))


def _png_declaring(width, height):
    """A tiny PNG whose header claims a huge canvas: a decompression bomb."""
    out = io.BytesIO()
    Image.new("1", (8, 8)).save(out, format="PNG")
    data = bytearray(out.getvalue())
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return bytes(data)


def test_decompression_bomb_is_refused():
    bomb = _png_declaring(60_000, 60_000)
    assert len(bomb) < 200
    with pytest.raises(ValidationError, match="too large to process"):
        photo_clean(upload(bomb, "bomb.png", "image/png"))


@pytest.mark.django_db
def test_bomb_through_the_form_saves_nothing(client):
    category, _place = graffiti(), center_neighborhood()
    response = client.post("/report/", {**form_data(category), "photo": upload(_png_declaring(20_000, 20_000))})
    assert response.status_code == 200
    assert "too large to process" in response.content.decode()
    assert Issue.objects.count() == 0


def test_stash_roundtrip_and_forgery(settings):
    token = photo_stash(photo_clean(upload(jpeg_bytes())))
    kept = photo_unstash(token)
    assert kept is not None and Image.open(io.BytesIO(kept.read())).format == "JPEG"
    assert photo_unstash(token[:-2] + "xx") is None
    assert photo_unstash("") is None
    photo_unstash(token, delete=True)
    assert photo_unstash(token) is None


def test_stash_starts_without_a_folder_and_sweeps_abandoned_photos(settings):
    stash = settings.MEDIA_ROOT / "reports" / "tmp"
    assert not stash.exists()  # the first stash creates the folder; the sweep finds nothing to list
    first = photo_stash(photo_clean(upload(jpeg_bytes(), "first.jpg")))
    abandoned = stash / "abandoned.jpg"
    abandoned.write_bytes(b"left behind by a form nobody sent again")
    day_old = time.time() - 25 * 3600
    os.utime(abandoned, (day_old, day_old))
    second = photo_stash(photo_clean(upload(jpeg_bytes(), "second.jpg")))
    assert not abandoned.exists()
    assert photo_unstash(first) is not None and photo_unstash(second) is not None


def test_stash_works_on_a_storage_that_cannot_list_and_says_the_sweep_was_skipped(settings, monkeypatch, caplog):
    from django.core.files.storage import default_storage

    def cannot_list(path):
        raise NotImplementedError("this storage cannot list")

    monkeypatch.setattr(default_storage, "listdir", cannot_list)
    with caplog.at_level("WARNING", logger="cases.photos"):
        token = photo_stash(photo_clean(upload(jpeg_bytes())))
    assert photo_unstash(token) is not None  # the resident's photo is kept all the same
    assert "Photo stash sweep skipped" in caplog.text
