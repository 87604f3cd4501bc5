"""Working without a network: the service worker and the web app manifest of the staff pages.

The service worker is served from the site's root (``/sw.js``) so that its scope is the whole
site; it is registered by static/js/offline.js for signed-in officers only. It keeps the staff
shell (styles, scripts, the outreach form, the queue) and the staff pages the officer opens, so
they open without a signal; what is typed there waits on the device (IndexedDB) until the network
returns (static/js/offline.js). Its cache is named after a hash of what it holds: a deploy that
changes a file or the worker gives a new name, and the worker drops the old cache.
"""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.files.storage import storages
from django.http import HttpResponse, JsonResponse
from django.template.loader import get_template
from django.templatetags.static import static
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

# What the worker fetches when it installs: enough for the outreach form, the queue and an
# issue page to open and work offline. Other static files are kept as pages ask for them.
SHELL_STATIC = (
    "css/app.css",
    "vendor/htmx/htmx.min.js",
    "vendor/leaflet/leaflet.css",
    "vendor/leaflet/leaflet.js",
    "js/nav.js",
    "js/offline.js",
    "js/outreach.js",
    "js/picker.js",
    "js/issues.js",
    "js/response-templates.js",
    "img/favicon.svg",
    "img/icon-192.png",
)
SHELL_PAGES = ("/outreach/new/", "/outreach/", "/queue/")
# Staff pages kept (network first) once opened: the queue, issue pages, the outreach log and form.
# Never the admin, the API, sign-in, contact reveals (POST, no-store) or any public page.
PAGE_PATTERNS = (r"^/queue/$", r"^/issues/[0-9]+/$", r"^/outreach/$", r"^/outreach/new/$", r"^/outreach/[0-9]+/$")


def _worker_source() -> str:
    config = {
        "static": [static(path) for path in SHELL_STATIC],
        "pages": list(SHELL_PAGES),
        "pagePatterns": list(PAGE_PATTERNS),
        "staticPrefix": settings.STATIC_URL,
        # Hashed names (production's manifest storage) never change content: kept, not asked again.
        # Plain names (development) may: asked first, the copy kept for when there is no network.
        "hashedStatic": isinstance(storages["staticfiles"], ManifestFilesMixin),
    }
    template = get_template("offline/sw.js")
    source = template.template.source
    version = hashlib.sha256((json.dumps(config, sort_keys=True) + source).encode()).hexdigest()[:16]
    config["version"] = version
    return template.render({"config": json.dumps(config, sort_keys=True)})


@require_GET
def service_worker(request):
    response = HttpResponse(_worker_source(), content_type="text/javascript; charset=utf-8")
    # The browser checks for a new worker on every visit; a deploy reaches the phones at once.
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def web_manifest(request):
    manifest = {
        "name": "CommonGround",
        "short_name": "CommonGround",
        "description": _("Community policing case management"),
        "lang": get_language(),
        "start_url": "/queue/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#f6f8fa",
        "theme_color": "#1f5fa8",
        "icons": [
            {"src": static("img/icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any maskable"},
            {"src": static("img/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any maskable"},
            {"src": static("img/favicon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    response = JsonResponse(manifest, content_type="application/manifest+json")
    response["Cache-Control"] = "no-cache"
    return response
