"""Residents' photos: checked, re-encoded, stripped of every piece of metadata.

A phone photo carries EXIF: the GPS position where it was taken (often the
resident's home), the camera's serial number, the time. None of it may reach
our storage. Every accepted photo is decoded to bare pixels and encoded again
into a fresh image, so nothing of the original file survives but the picture.

Decoding an attacker's file is the risky part: a tiny PNG can declare a
gigapixel canvas (a decompression bomb). The declared size is checked before
any pixel is decoded.
"""

from __future__ import annotations

import io
import logging
import uuid
import warnings
from datetime import timedelta

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# Decoded size we are willing to hold in memory (a 40-megapixel phone photo is large).
MAX_PIXELS = 40_000_000
# Stored photos are scaled down to this longest side: plenty to see a problem, small to keep.
MAX_SIDE = 2560
ACCEPTED_FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WEBP"}
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}

STASH_DIR = "reports/tmp"
STASH_MAX_AGE = timedelta(hours=24)
_STASH_SALT = "cases.photos.stash"


def _too_large_message(size: int) -> str:
    return _("This photo is %(size)s MB; photos can be at most 10 MB. Choose a smaller photo.") % {
        "size": f"{size / (1024 * 1024):.1f}"
    }


def photo_clean(upload) -> ContentFile:
    """Check an uploaded file and return a re-encoded copy with no metadata.

    Raises ValidationError with a message fit for the resident.
    """
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise ValidationError(_too_large_message(size), code="too_large")
    upload.seek(0)
    raw = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(raw) > MAX_UPLOAD_BYTES:
        raise ValidationError(_too_large_message(len(raw)), code="too_large")
    if not raw:
        raise ValidationError(_("The photo file is empty."), code="empty")
    not_image = _("This file is not a photo we can read. Choose a JPEG, PNG or WebP image.")
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that; treat it as the error it is.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(raw))
            kind = ACCEPTED_FORMATS.get(image.format or "")
            if kind is None:
                raise ValidationError(not_image, code="not_image")
            width, height = image.size
            if width <= 0 or height <= 0:
                raise ValidationError(not_image, code="not_image")
            if width * height > MAX_PIXELS:
                raise ValidationError(
                    _("This image is too large to process (%(w)d × %(h)d pixels). Choose a smaller photo.")
                    % {"w": width, "h": height},
                    code="too_many_pixels",
                )
            image.load()
            # Keep the picture the right way up once the orientation tag is gone.
            image = ImageOps.exif_transpose(image)
            clean = _bare_pixels(image, kind)
        except ValidationError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ValidationError(
                _("This image is too large to process. Choose a smaller photo."), code="too_many_pixels"
            )
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, MemoryError):
            raise ValidationError(not_image, code="not_image")
    if max(clean.size) > MAX_SIDE:
        clean.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if kind == "JPEG":
        clean.save(out, format="JPEG", quality=85, optimize=True)
    elif kind == "PNG":
        clean.save(out, format="PNG", optimize=True)
    else:
        clean.save(out, format="WEBP", quality=85)
    # A random name: the original file name may carry a person's name or a place.
    return ContentFile(out.getvalue(), name=f"{uuid.uuid4().hex}.{EXTENSIONS[kind]}")


def _bare_pixels(image: Image.Image, kind: str) -> Image.Image:
    """A new image holding only the pixels: no EXIF, XMP, ICC, comments or text chunks."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    mode = "RGBA" if has_alpha and kind != "JPEG" else "RGB"
    pixels = image.convert(mode)
    return Image.frombytes(mode, pixels.size, pixels.tobytes())


# --- keeping a checked photo across a re-displayed form -------------------------


def photo_stash(content: ContentFile) -> str:
    """Keep a cleaned photo while the form is shown again; returns a signed token for a hidden field.

    Browsers cannot re-send a file input, so without this a resident would have
    to attach the photo again after every correction.
    """
    _stash_sweep()
    name = default_storage.save(f"{STASH_DIR}/{content.name}", content)
    return signing.dumps(name, salt=_STASH_SALT, compress=True)


def photo_unstash(token: str, *, delete: bool = False) -> ContentFile | None:
    """The stashed photo for a token, or None if the token is forged, stale or gone."""
    if not token:
        return None
    try:
        name = signing.loads(token, salt=_STASH_SALT, max_age=STASH_MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(name, str) or not name.startswith(f"{STASH_DIR}/") or ".." in name:
        return None
    try:
        with default_storage.open(name, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    if delete:
        default_storage.delete(name)
    return ContentFile(data, name=name.rsplit("/", 1)[-1])


def photo_stash_discard(token: str) -> None:
    photo_unstash(token, delete=True)


def _stash_sweep() -> None:
    """Remove stashed photos nobody came back for (abandoned forms).

    It runs inside a resident's upload, so it never fails that upload: with no folder yet there
    is nothing to sweep; a storage that cannot list or date its files leaves the abandoned photos
    for an operator, and the log says so.
    """
    cutoff = timezone.now() - STASH_MAX_AGE
    try:
        _dirs, files = default_storage.listdir(STASH_DIR)
        for filename in files:
            path = f"{STASH_DIR}/{filename}"
            try:
                abandoned = default_storage.get_modified_time(path) < cutoff
            except FileNotFoundError:  # taken back or swept by a concurrent request
                continue
            if abandoned:
                default_storage.delete(path)
    except FileNotFoundError:
        return
    except (OSError, NotImplementedError):
        logger.warning("Photo stash sweep skipped: the storage cannot list or date %s/", STASH_DIR, exc_info=True)


# --- where a photo is served (cases/web/photos.py) ------------------------------


def public_photo_token(name: str) -> str:
    """The unguessable part of a public copy's URL: its random file name without the extension."""
    return name.rsplit("/", 1)[-1].rsplit(".", 1)[0]


def public_photo_path(report_id: int, name: str) -> str:
    """The public URL path of a report's approved copy; it changes with every approval."""
    from django.urls import reverse

    filename = name.rsplit("/", 1)[-1]
    token, _dot, ext = filename.rpartition(".")
    return reverse("public_photo", kwargs={"report_id": report_id, "token": token, "ext": ext})


def staff_photo_path(issue_id: int, report_id: int) -> str:
    """The staff-only URL of a report's original photo."""
    from django.urls import reverse

    return reverse("staff_photo", kwargs={"pk": issue_id, "report_id": report_id})
