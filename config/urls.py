"""URL map. Each area's routes live in its own module; this file only composes them."""

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.staticfiles.urls import staticfiles_urlpatterns
from django.urls import include, path

from config import language_views, offline, views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    # Working offline (config/offline.py): the service worker at the root, so its scope is the site.
    path("sw.js", offline.service_worker, name="service_worker"),
    path("manifest.webmanifest", offline.web_manifest, name="web_manifest"),
    # The language switcher (Django's set_language, and the staff member's profile keeps it).
    path("i18n/setlang/", language_views.language_set, name="set_language"),
    path("accounts/profile/", language_views.profile, name="profile"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("open311/v2/", include("cases.open311.urls")),
    # The moderation queue and actions, and the photo views (public copy, staff original).
    path("", include("cases.web.staff.moderation_urls")),
    path("api/", include("config.api_urls")),
    # Staff pages
    path("", include("cases.web.staff.urls")),
    path("", include("cases.problems.urls")),
    path("", include("cases.notifications.urls")),
    path("", include("cases.web.staff.audit_urls")),
    path("", include("outreach.urls")),
    path("", include("insights.directory_urls")),
    path("", include("insights.urls")),
]

# Public pages: English at /…, Spanish at /es/….
urlpatterns += i18n_patterns(
    path("", views.home, name="home"),
    path("", include("cases.web.public.urls")),
    path("", include("insights.transparency_urls")),
    prefix_default_language=False,
)

if settings.DEBUG:
    urlpatterns += staticfiles_urlpatterns()
# MEDIA_ROOT is never served as a folder: residents' photos are public only once approved, through
# cases.web.photos (the approved copy at /photos/…, the original to staff), in every mode.

# Branded error pages that need no database (config/errors.py); CSRF_FAILURE_VIEW in settings.
handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
