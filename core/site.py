"""The site's own address, for links that leave it (residents' emails).

``SITE_URL`` when set (production requires it). In development, with it empty, the address of
the request being answered (``SiteAddressMiddleware`` keeps it for the request's duration), so an
email queued while answering ``make run``'s pages links back to the address the browser used;
outside a request (the worker, a shell) the development server's own address.
"""

from __future__ import annotations

from contextvars import ContextVar

from django.conf import settings

__all__ = ["DEVELOPMENT_ADDRESS", "SiteAddressMiddleware", "absolute_url", "site_url"]

DEVELOPMENT_ADDRESS = "http://127.0.0.1:8000"
_request_address: ContextVar[str] = ContextVar("request_address", default="")


def site_url() -> str:
    """The site's address, with no trailing slash."""
    return settings.SITE_URL.rstrip("/") or _request_address.get() or DEVELOPMENT_ADDRESS


def absolute_url(path: str) -> str:
    """``path`` (starting with a slash) on the site's address."""
    return f"{site_url()}{path}"


class SiteAddressMiddleware:
    """Remembers the request's own address while it is answered, when ``SITE_URL`` is empty."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.SITE_URL:
            return self.get_response(request)
        token = _request_address.set(f"{request.scheme}://{request.get_host()}")
        try:
            return self.get_response(request)
        finally:
            _request_address.reset(token)
