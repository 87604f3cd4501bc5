"""The site's own address, for links that leave it (residents' emails).

``SITE_URL`` when set (production requires it). In development, with it empty, the address of
the request being answered (``SiteAddressMiddleware`` keeps it for the request's duration), so an
email queued while answering ``make run``'s pages links back to the address the browser used;
outside a request (the worker, a shell) the development server's own address.
"""

from __future__ import annotations

from contextvars import ContextVar

from django.conf import settings
from django.core import checks

__all__ = ["DEVELOPMENT_ADDRESS", "SiteAddressMiddleware", "absolute_url", "check_site_url", "site_url"]

DEVELOPMENT_ADDRESS = "http://127.0.0.1:8000"
_request_address: ContextVar[str] = ContextVar("request_address", default="")


def site_url() -> str:
    """The site's address, with no trailing slash."""
    return settings.SITE_URL.rstrip("/") or _request_address.get() or DEVELOPMENT_ADDRESS


def absolute_url(path: str) -> str:
    """``path`` (starting with a slash) on the site's address."""
    return f"{site_url()}{path}"


@checks.register()
def check_site_url(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Production needs its public address for the links in residents' emails. A system check
    rather than a refusal in the settings: ``check``, ``migrate`` (the deployment's first step)
    and ``runserver`` stop on it, while a build step that needs no address (``collectstatic``
    runs only the static files' checks) goes on."""
    if getattr(settings, "PRODUCTION", False) and not settings.SITE_URL.startswith(("https://", "http://")):
        return [
            checks.Error(
                "SITE_URL must be set when ENVIRONMENT=production: the site's public address, for the "
                "links in residents' emails (e.g. https://cg.example.org).",
                id="core.E001",
            )
        ]
    return []


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
