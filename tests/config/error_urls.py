"""Test-only URL conf: the site's own routes plus views that fail in known ways.

Used with ``@pytest.mark.urls("tests.config.error_urls")``; it re-exports the
site's error handlers because Django reads them from the root URL conf.
"""

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import connection, transaction
from django.http import Http404
from django.urls import path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401 (read by Django)
from config.urls import urlpatterns as site_urlpatterns


def boom(request):
    raise RuntimeError("a bug")


def duplicate_username(request):
    """A real constraint violation: the database answered, the code is wrong (a 500, not a 503)."""
    User.objects.create(username="twin")
    User.objects.create(username="twin")


def bad_sql(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM no_such_table_here")


def statement_timeout(request):
    """A real OperationalError from a working server (57014 query_canceled): still a 500."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 1")
        cursor.execute("SELECT pg_sleep(1)")


def forbidden(request):
    raise PermissionDenied("Only supervisors decide on escalated issues.")


def suspicious(request):
    raise SuspiciousOperation("tampered")


def missing(request):
    raise Http404("no such thing")


@api_view(["GET"])
@permission_classes([AllowAny])
def api_duplicate_username(request):
    duplicate_username(request)


urlpatterns = [
    path("test-errors/boom/", boom),
    path("es/test-errors/boom/", boom),
    path("test-errors/integrity/", duplicate_username),
    path("test-errors/bad-sql/", bad_sql),
    path("test-errors/timeout/", statement_timeout),
    path("test-errors/forbidden/", forbidden),
    path("es/test-errors/forbidden/", forbidden),
    path("test-errors/suspicious/", suspicious),
    path("es/test-errors/suspicious/", suspicious),
    path("test-errors/missing/", missing),
    path("api/test-errors/integrity/", api_duplicate_username),
    path("open311/v2/test-errors/boom.xml", boom),
    *site_urlpatterns,
]
