"""Serving residents' photos: the approved public copy to anyone, the original to staff.

MEDIA_ROOT is not served as a folder (no ``/media/``): a stored photo is reachable only
through these views, which check what may be shown. Files are read through Django's
default storage, so the same code runs in the embedded mode and in production (where
gunicorn streams them; a CDN or X-Accel-Redirect in front can come later if photo
traffic ever matters).

- ``/photos/<report>/<token>.<ext>``: the approved public copy. The token is the copy's
  random file name, so report ids cannot be enumerated, and every approval gets a new
  URL: a hidden photo's URL never serves again. 404 for anything not approved.
- ``/issues/<id>/reports/<report>/photo/``: the original, for staff who may see the
  issue and its reports.
"""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from cases.selectors import issue_for_user
from cases.selectors.moderation import public_photo_report, report_for_staff_photo
from core.permissions import perm_required, staff_required

CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
# Short enough that a photo a moderator hides soon leaves shared caches too.
PUBLIC_MAX_AGE = 600


def _file_response(name: str) -> FileResponse:
    try:
        handle = default_storage.open(name, "rb")
    except OSError:
        raise Http404(_("This photo is not available.")) from None
    ext = name.rsplit(".", 1)[-1].lower()
    response = FileResponse(handle, content_type=CONTENT_TYPES.get(ext, "application/octet-stream"))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    return response


@require_safe
def public_photo(request, report_id: int, token: str, ext: str):
    report = public_photo_report(report_id, token, ext)
    if report is None:
        raise Http404(_("This photo is not available."))
    response = _file_response(report.public_photo.name)
    patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)
    return response


@staff_required
@perm_required("cases.view_report")
@require_safe
def staff_photo(request, pk: int, report_id: int):
    issue = issue_for_user(request.user, pk)
    report = report_for_staff_photo(issue, report_id)
    if report is None:
        raise Http404(_("This report has no photo."))
    response = _file_response(report.photo.name)
    patch_cache_control(response, private=True, max_age=300)
    patch_vary_headers(response, ["Cookie"])
    return response
