"""One error shape for every failure the REST API reports.

    {"error": {"code": "invalid", "message": "description: This field is required.",
               "fields": {"description": ["This field is required."]}}}

Services raise ``django.core.exceptions.ValidationError`` (never DRF errors); it
becomes a 400 with the same field messages the pages show. Throttled answers
carry ``retry_after`` (seconds) as well as the ``Retry-After`` header, and so
does a 503 when the database cannot be reached (code ``unavailable``). A ``core.client_keys.Conflict``
(an idempotency key reused, a note on an issue finished meanwhile) is a 409 with its own code.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler

from core.client_keys import Conflict
from core.outages import RETRY_AFTER_SECONDS, database_unavailable

NON_FIELD = "non_field_errors"


def _flatten(detail, prefix="") -> dict[str, list[str]]:
    """Nested serializer errors → ``{"officers.0": ["…"]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(detail, list) and detail and all(not isinstance(item, dict | list) for item in detail):
        out[prefix or NON_FIELD] = [str(item) for item in detail]
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if value:
                out.update(_flatten(value, f"{prefix}.{index}" if prefix else str(index)))
    elif detail not in (None, ""):
        out[prefix or NON_FIELD] = [str(detail)]
    return out


def _summary(fields: dict[str, list[str]]) -> str:
    if not fields:
        return _("The input is invalid.")
    name, messages = next(iter(fields.items()))
    if name == NON_FIELD:
        return messages[0]
    return f"{name}: {messages[0]}"


def error_body(code: str, message: str, fields: dict | None = None, **extra) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}, **extra}}


def api_exception_handler(exc, context):
    if database_unavailable(exc):
        # An outage, not a bug: tell the client when to come back. Other database errors
        # (a constraint, a bad query) stay unexpected: a 500 that is logged and noticed.
        message = _("The service is temporarily unavailable. Try again in a few seconds.")
        return Response(
            error_body("unavailable", message, retry_after=RETRY_AFTER_SECONDS),
            status=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"},
        )
    if isinstance(exc, Conflict):
        return Response(error_body(exc.code, exc.message, **exc.details), status=409)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: Django logs it and answers 500

    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        response.data = error_body("invalid", _summary(fields), fields)
        return response

    detail = getattr(exc, "detail", "")
    code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
    extra = {}
    if isinstance(exc, exceptions.Throttled):
        code = "throttled"
        if exc.wait is not None:
            extra["retry_after"] = max(1, int(exc.wait + 0.999))
            # DRF writes the header only for a non-zero wait; every 429 says when to come back.
            response["Retry-After"] = str(extra["retry_after"])
    message = str(detail) if not isinstance(detail, dict | list) else _summary(_flatten(detail))
    response.data = error_body(str(code), message, **extra)
    return response


@csrf_exempt  # it never changes anything; without this a POST would get Django's HTML CSRF page
def api_not_found(request, *args, **kwargs):
    """Any /api/ path no route matches: a JSON 404 in the same shape, not an HTML page."""
    return JsonResponse(error_body("not_found", _("No such API endpoint.")), status=404)
