"""The language of the staff pages: the staff member's, not the address's.

The public pages carry their language in the address (``/report/`` English, ``/es/report/``
Spanish: ``i18n_patterns``). The staff pages have one address each (bookmarks, links in emails,
the API's links all stay valid) and follow the person: the language chosen in their profile or
with the switcher, kept in the session from sign-in (no query per page), else the language
cookie the switcher sets (the sign-in page, before anyone is known). ``/es/<staff page>`` —
where someone added the prefix by hand — chooses Spanish and goes to the page.
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.http import HttpResponseRedirect
from django.urls import Resolver404, resolve
from django.utils import translation

SESSION_KEY = "ui_language"
# Machine clients' answers are not a person's pages; the admin follows the person too.
NOT_PAGES = ("/api/", "/open311/", "/static/", "/healthz")


def supported(code: str | None) -> str | None:
    codes = {code for code, _ in settings.LANGUAGES}
    return code if code in codes else None


@lru_cache(maxsize=4096)
def _route_of(path: str) -> str:
    """ "public" for a page of the language-prefixed patterns, "page" for another page, "" for none.
    (The prefixed patterns match ``/es/…`` only while Spanish is active: each try says its language.)"""
    for candidate, kind, language in ((f"/es{path}", "public", "es"), (path, "page", settings.LANGUAGE_CODE)):
        with translation.override(language):
            try:
                resolve(candidate)
            except Resolver404:
                continue
        return kind
    return ""


def chosen_language(request) -> str | None:
    session = getattr(request, "session", None)
    chosen = session.get(SESSION_KEY) if session is not None else None
    return supported(chosen) or supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))


def language_remember(request, response, code: str) -> None:
    """Keep ``code`` as this person's language of the staff pages: session and cookie."""
    if getattr(request, "session", None) is not None:
        request.session[SESSION_KEY] = code
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


class StaffLanguageMiddleware:
    """After ``LocaleMiddleware`` (which gives every unprefixed address English) and the session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if not path.startswith(NOT_PAGES):
            prefix = translation.get_language_from_path(path)
            if prefix is None:
                if _route_of(path) == "page":
                    code = chosen_language(request)
                    if code:
                        translation.activate(code)
                        request.LANGUAGE_CODE = code
            else:
                bare = path[len(prefix) + 1 :]
                if _route_of(path) == "" and _route_of(bare) == "page":
                    query = request.META.get("QUERY_STRING", "")
                    response = HttpResponseRedirect(bare + (f"?{query}" if query else ""))
                    language_remember(request, response, prefix)
                    return response
        return self.get_response(request)
