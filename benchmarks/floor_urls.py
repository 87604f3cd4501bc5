"""The product's URLconf plus three bench-only views: ``/bench/floor/``, ``/bench/ok/`` and
``/bench/report-unlogged/``.

``/bench/report-unlogged/`` is the resident form's own view with the summary tables' change log
off (``ROLLUP_CHANGE_LOG``) for that request: what the form costs without the rollups' upkeep
(``benchmarks.form_load``). gunicorn's sync workers serve one request at a time, so the switch
never reaches another request.

``/bench/ok/`` is the no-database view ``benchmarks.http`` measures every page
against: a GET answered "ok" (text/plain, 200) through the same middleware —
security headers, CSP, sessions, locale, CSRF, authentication, messages — with
no query (the anonymous request it is measured with opens no session and reads
no user).

``/bench/floor/`` is the floor of the resident form's POST (``benchmarks.form_load``).

The floor is the least a form POST that saves a report can cost through this
stack: the same middleware (sessions, CSRF check, locale, security headers),
the same multipart body parsed by Django, then **one** ``INSERT`` (prepared once
per database session, as the form's write is) of one row
holding what the resident's report stores — the Issue's columns and the
Report's (``bench_form_floor``, created by ``benchmarks.form_load`` in the
bench database with those tables' column types) — in autocommit, and a 302
like the form's. No validation, no neighborhood lookup, no rate limit, no
timeline or outbox row, no index but the primary key: that is the product's
extra work the ratio measures.

Only ``benchmarks.floor_settings`` points at this module: the product never routes here.
"""

from datetime import timedelta

from django.db import connection
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from cases.models import new_tracking_code
from config import urls as product_urls
from core import prepared

FLOOR_TABLE = "bench_form_floor"
# What one resident's report stores: an Issue row and a Report row, here as one row.
FLOOR_COLUMNS = (
    "tracking_code",
    "category_id",
    "neighborhood_id",
    "lat",
    "lng",
    "address",
    "address_id",
    "description",
    "priority",
    "status",
    "approach",
    "created_at",
    "updated_at",
    "due_at",
    "hold_reason",
    "escalation_level",
    "needs_decision",
    "outcome",
    "resolution_note",
    "referred_to",
    "crime_report_number",
    "reopen_count",
    "report_count",
    "report_text",
    "report_channel",
    "report_language",
    "report_is_anonymous",
    "reporter_name",
    "reporter_email",
    "reporter_phone",
    "contact_consent",
    "report_attributes",
    "report_photo",
    "report_open311_token",
    "report_media_url",
    "report_created_at",
)
_INSERT = (
    f"INSERT INTO {FLOOR_TABLE} ({', '.join(FLOOR_COLUMNS)}) "  # noqa: S608 (constant names only)
    f"VALUES ({', '.join(['%s'] * len(FLOOR_COLUMNS))})"
)


def _number(value, cast):
    try:
        return cast(value)
    except (TypeError, ValueError):
        return None


@require_POST
def form_floor(request):
    post = request.POST
    now = timezone.now()
    text = post.get("description", "")
    anonymous = bool(post.get("anonymous"))
    values = (
        new_tracking_code(),
        _number(post.get("category"), int),
        _number(post.get("neighborhood"), int) or 0,
        _number(post.get("lat"), float),
        _number(post.get("lng"), float),
        post.get("address", "")[:200],
        "",
        text,
        "normal",
        "new",
        "",
        now,
        now,
        now + timedelta(hours=120),
        "",
        0,
        False,
        "",
        "",
        "",
        "",
        0,
        1,
        text,
        "web",
        "en",
        anonymous,
        "" if anonymous else post.get("reporter_name", "")[:120],
        "" if anonymous else post.get("reporter_email", "")[:254],
        "" if anonymous else post.get("reporter_phone", "")[:40],
        not anonymous and bool(post.get("contact_consent")),
        "{}",
        "",
        "",
        "",
        now,
    )
    with connection.cursor() as cursor:
        # Prepared once per session, as the form's own write is (core.prepared): the floor gets every
        # saving the product has, so the ratio shows the form's extra work, not a technique.
        prepared.execute(cursor, _INSERT, values)
    return HttpResponseRedirect("/report/")


@require_GET
def no_database(request):
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


def report_unlogged(request):
    from django.conf import settings

    from cases.web.public import views as public_views

    settings.ROLLUP_CHANGE_LOG = False
    try:
        return public_views.report_form(request)
    finally:
        settings.ROLLUP_CHANGE_LOG = True


# Last, as the form's own route is (the public pages close config/urls.py): the floor's request is
# resolved through every product route first, so URL resolution costs both the same. The no-database
# view is resolved after every product route too: no page it is compared with resolves in more steps.
urlpatterns = [
    *product_urls.urlpatterns,
    path("bench/floor/", form_floor, name="bench_form_floor"),
    path("bench/ok/", no_database, name="bench_no_database"),
    path("bench/report-unlogged/", report_unlogged, name="bench_report_unlogged"),
]

# The product's error handlers, if its URLconf names any, hold here too.
for _name in ("handler400", "handler403", "handler404", "handler500"):
    if hasattr(product_urls, _name):
        globals()[_name] = getattr(product_urls, _name)
