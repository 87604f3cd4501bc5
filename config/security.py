"""Browser security headers that Django does not set itself.

The Content-Security-Policy comes from django-csp (``CONTENT_SECURITY_POLICY``
in settings); this module holds the two pieces around it: the image source a
map tile URL template needs, and the Permissions-Policy header.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

# Browser features the app never uses are denied to every frame, so a script that
# slipped in cannot reach the camera, a payment sheet or a USB device either.
# Geolocation stays open to our own pages: the resident form's "use my location"
# button (static/js/report-form.js) asks for it. Only feature names Chromium knows
# are listed (an unknown one is a console warning on every page; the browser test
# fails on it). interest-cohort is FLoC's old name for browsing-topics: both are refused.
PERMISSIONS_POLICY = {
    "accelerometer": "()",
    "autoplay": "()",
    "browsing-topics": "()",
    "camera": "()",
    "display-capture": "()",
    "encrypted-media": "()",
    "geolocation": "(self)",
    "gyroscope": "()",
    "hid": "()",
    "idle-detection": "()",
    "interest-cohort": "()",
    "local-fonts": "()",
    "magnetometer": "()",
    "microphone": "()",
    "midi": "()",
    "payment": "()",
    "publickey-credentials-get": "()",
    "screen-wake-lock": "()",
    "serial": "()",
    "usb": "()",
    "window-management": "()",
    "xr-spatial-tracking": "()",
}
PERMISSIONS_POLICY_HEADER = ", ".join(f"{feature}={allow}" for feature, allow in PERMISSIONS_POLICY.items())


def tile_source(url_template: str) -> str | None:
    """The CSP source expression that lets Leaflet load tiles from ``url_template``.

    ``https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png`` → ``https://*.tile.openstreetmap.org``:
    a host label holding a placeholder becomes CSP's leftmost-label wildcard. A
    relative template (tiles served by this site) needs nothing beyond ``'self'``.
    """
    if not url_template:
        return None
    parts = urlsplit(url_template)
    if not parts.scheme and not parts.netloc:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ImproperlyConfigured(f"MAP_TILE_URL {url_template!r} is not an http(s) URL template.")
    host, _, port = parts.netloc.rpartition("@")[2].partition(":")
    labels = host.split(".")
    templated = [i for i, label in enumerate(labels) if "{" in label]
    if templated:
        last = templated[-1]
        if last == len(labels) - 1:
            raise ImproperlyConfigured(f"MAP_TILE_URL {url_template!r}: a placeholder in the top-level domain.")
        # CSP wildcards cover whole leftmost labels only: "a{s}.tiles.example" → "*.tiles.example".
        host = ".".join(["*", *labels[last + 1 :]])
    if "{" in port:
        raise ImproperlyConfigured(f"MAP_TILE_URL {url_template!r}: a placeholder in the port.")
    return f"{parts.scheme}://{host}{':' + port if port else ''}"


class PermissionsPolicyMiddleware:
    """Adds the Permissions-Policy header to every response that does not set its own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY_HEADER)
        return response
