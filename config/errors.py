"""Error answers: branded pages (400, 403, 404, 500, 503, CSRF failure) and "database down" as a 503.

Two rules shape this module:

- **An error page never needs the database.** The 500 and 503 pages are exactly
  what is shown when it is gone, so every page here is rendered without the
  request: no context processors, hence no ``user`` (a session lookup), no
  ``perms``, no messages, no session write. The templates (templates/errors/)
  extend their own small base, not the site layout.
- **Database unreachable is a 503, in the caller's format and language**, and
  only that: a constraint violation or a bad query stays a 500, so it is noticed.
  Django turns an exception into a response inside each middleware layer, so
  nothing outside can catch it. Two hooks cover every place it can be raised:
  ``ErrorPagesMiddleware.process_exception`` for views (DRF views go through
  ``core.api.errors`` first), and ``server_error`` (``handler500``), which
  Django calls inside its ``except`` block for errors raised in middleware
  (session and user lookups, the CSRF failure view) — it reads ``sys.exc_info()``.
  With ``DEBUG`` on, Django shows its traceback page instead of calling
  ``handler500``; errors in views still get the 503.
"""

from __future__ import annotations

import logging
import sys

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from cases.open311.render import Open311Error, error_answer
from core.outages import RETRY_AFTER_SECONDS, database_unavailable

logger = logging.getLogger(__name__)

LANGUAGE_CODES = ("en", "es")


# --- the answers -----------------------------------------------------------------------


def _page_language(request) -> str:
    """The URL prefix (/es/…) decides; otherwise the language LocaleMiddleware activated."""
    path = getattr(request, "path_info", "") or ""
    for code in LANGUAGE_CODES:
        if code != settings.LANGUAGE_CODE and (path == f"/{code}" or path.startswith(f"/{code}/")):
            return code
    current = (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
    return current if current in LANGUAGE_CODES else settings.LANGUAGE_CODE


def _fallback_html(status: int) -> str:
    # Only if the branded page itself cannot be rendered (e.g. the static manifest is missing):
    # an answer with the right status is still better than an error inside the error handler.
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>CommonGround</title></head>'
        f'<body><h1>CommonGround</h1><p>Error {status}. <a href="/">Home</a></p>'
        f'<p lang="es">Error {status}. <a href="/es/">Inicio</a></p></body></html>'
    )


def render_error_page(request, template: str, status: int, context: dict | None = None) -> HttpResponse:
    """A branded error page in the request's language, rendered without touching the database."""
    language = _page_language(request)
    try:
        with translation.override(language):
            html = render_to_string(
                template,
                {
                    "page_lang": language,
                    "home_url": reverse("home"),
                    "report_url": reverse("report_form"),
                    **(context or {}),
                },
            )
    except Exception:
        logger.exception("error page %s could not be rendered", template)
        html = _fallback_html(status)
    response = HttpResponse(html, status=status, content_type="text/html; charset=utf-8")
    response["Content-Language"] = language
    return response


def _open311_format(path: str) -> str:
    return "xml" if path.rstrip("/").endswith(".xml") else "json"


def database_unavailable_response(request) -> HttpResponse:
    """The 503 in the shape the caller reads: API error JSON, Open311 errors, health JSON, or a page."""
    from core.api.errors import error_body  # core.api.errors imports this module

    path = getattr(request, "path_info", "") or ""
    if path.startswith("/api/"):
        message = _("The service is temporarily unavailable. Try again in a few seconds.")
        response = JsonResponse(error_body("unavailable", message, retry_after=RETRY_AFTER_SECONDS), status=503)
    elif path.startswith("/open311/"):
        error = Open311Error(503, "The service is temporarily unavailable; try again in a few seconds.")
        response = error_answer(_open311_format(path), error)
        if request.method in ("GET", "HEAD"):
            response["Access-Control-Allow-Origin"] = "*"
    elif path.startswith("/healthz"):
        response = JsonResponse({"status": "unavailable", "database": {"ok": False}}, status=503)
    else:
        language = _page_language(request)
        others = [code for code in LANGUAGE_CODES if code != language]
        response = render_error_page(request, "errors/503.html", 503, {"page_languages": [language, *others]})
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    return response


def _log_unavailable(request, exc) -> None:
    logger.warning(
        "database unavailable (%s), answering 503 to %s %s", exc.__class__.__name__, request.method, request.path
    )


# --- handlers (config/urls.py) and CSRF_FAILURE_VIEW ------------------------------------


def _api_or_open311_error(request, status: int, code: str, message: str) -> HttpResponse | None:
    from core.api.errors import error_body

    path = getattr(request, "path_info", "") or ""
    if path.startswith("/api/"):
        return JsonResponse(error_body(code, message), status=status)
    if path.startswith("/open311/"):
        return error_answer(_open311_format(path), Open311Error(status, message))
    return None


def bad_request(request, exception=None):
    return _api_or_open311_error(request, 400, "bad_request", "The request could not be read.") or (
        render_error_page(request, "errors/400.html", 400)
    )


def permission_denied(request, exception=None):
    # Views raise PermissionDenied with a translated sentence saying why; show it.
    reason = str(exception) if exception is not None and str(exception) else ""
    return render_error_page(request, "errors/403.html", 403, {"reason": reason})


def page_not_found(request, exception=None):
    return render_error_page(request, "errors/404.html", 404)


def server_error(request):
    exc = sys.exc_info()[1]  # Django calls handler500 inside its except block
    if database_unavailable(exc):
        _log_unavailable(request, exc)
        return database_unavailable_response(request)
    return _api_or_open311_error(request, 500, "server_error", "An unexpected error occurred.") or (
        render_error_page(request, "errors/500.html", 500)
    )


def csrf_failure(request, reason=""):
    """A form sent without a valid CSRF token: a page open too long, or cookies blocked.

    The resident's report form comes back filled in (nothing is lost, nothing is
    saved); any other form gets a page that explains and links back.
    """
    match = getattr(request, "resolver_match", None)
    if request.method == "POST" and match is not None and match.url_name == "report_form":
        from cases.web.public.views import report_form_after_csrf_failure

        return report_form_after_csrf_failure(request)
    return render_error_page(request, "errors/csrf.html", 403)


# --- middleware ---------------------------------------------------------------------------

_TECHNICAL_404_MARKS = (b'<meta name="robots" content="NONE,NOARCHIVE">', b"DEBUG = True")


class ErrorPagesMiddleware:
    """Database unavailable in a view → 503; with DEBUG on, our 404 page instead of Django's URL list.

    Listed last in MIDDLEWARE, so the pages it answers still pass through every
    other middleware (security headers, language, CSP).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.DEBUG and response.status_code == 404 and _is_technical_404(response):
            # DEBUG's 404 lists every URL pattern of the site: useful to a developer, a map of
            # the staff and admin pages to anyone else. `make run` has DEBUG off by default;
            # this keeps the real page when someone turns it on (tracebacks of 500s remain).
            response = page_not_found(request)
        return response

    def process_exception(self, request, exception):
        if database_unavailable(exception):
            _log_unavailable(request, exception)
            return database_unavailable_response(request)
        return None


def _is_technical_404(response) -> bool:
    if getattr(response, "streaming", False) or not response.get("Content-Type", "").startswith("text/html"):
        return False
    return all(mark in response.content for mark in _TECHNICAL_404_MARKS)
