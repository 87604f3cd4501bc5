"""Building blocks every REST API view shares: pagination, throttles, permissions,
input fields that refuse what the database would choke on, and the schema class
that documents the one error shape on every operation.

The API's rules come from the same selectors and permissions as the pages; this
module only adapts them to DRF.
"""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import filters, permissions, serializers
from rest_framework.metadata import SimpleMetadata
from rest_framework.pagination import PageNumberPagination
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle

# Largest value a PostgreSQL bigint primary key can hold; larger ids cannot exist.
MAX_ID = 2**63 - 1
# Datetimes outside these years are refused: they are never meant, and near
# year 1 or 9999 a time-zone conversion overflows Python's datetime.
MIN_YEAR, MAX_YEAR = 1900, 2200


# --- pagination ---------------------------------------------------------------------


class StandardPagination(PageNumberPagination):
    """``?page=`` and ``?page_size=`` (at most ``max_page_size``; larger asks are clamped)."""

    page_size_query_param = "page_size"
    max_page_size = 200
    page_size_query_description = _("Results per page (default 50, at most 200).")


# --- throttles ----------------------------------------------------------------------
# DRF binds THROTTLE_RATES when the class is defined; reading the setting on each
# request lets an administrator's environment (and tests) change rates.


def _rate(scope):
    return api_settings.DEFAULT_THROTTLE_RATES.get(scope)


class _AlwaysWait:
    """DRF's ``wait()`` is None when more requests are on record than the rate allows (the rate was
    lowered since): the 429 would then carry no Retry-After. Wait until enough of them age out."""

    def wait(self):
        wait = super().wait()
        if wait is None and self.history:
            oldest_that_must_expire = self.history[max(self.num_requests, 1) - 1]
            return max(1.0, self.duration - (self.now - oldest_that_must_expire))
        return wait


class AnonThrottle(_AlwaysWait, AnonRateThrottle):
    def get_rate(self):
        return _rate(self.scope)


class UserThrottle(_AlwaysWait, UserRateThrottle):
    def get_rate(self):
        return _rate(self.scope)


class ScopedThrottle(_AlwaysWait, ScopedRateThrottle):
    """A view's own budget (``throttle_scope``), e.g. contact details or statistics."""

    def get_rate(self):
        # A scope without a configured rate is not limited (rather than a 500).
        return _rate(self.scope)


class WriteThrottle(_AlwaysWait, UserRateThrottle):
    """Every change (POST/PATCH/…) counts against the ``write`` budget of the user."""

    scope = "write"

    def get_rate(self):
        return _rate(self.scope)

    def allow_request(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        return super().allow_request(request, view)


# --- permissions --------------------------------------------------------------------


class ActionPermission(permissions.BasePermission):
    """The Django permission a view names for the action (``required_perms``).

    ``required_perms`` maps a viewset action (or ``"*"``) to a permission
    codename, or to ``None`` for "any authenticated user". Unauthenticated
    requests get 401 (DRF turns a refused anonymous request into
    NotAuthenticated); signed-in users without the permission get 403.
    """

    message = _("Your role does not allow this.")

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        perms = getattr(view, "required_perms", {})
        action = getattr(view, "action", None) or request.method.lower()
        perm = perms.get(action, perms.get("*"))
        return perm is None or user.has_perm(perm)


# --- input fields -------------------------------------------------------------------


def _check_datetime_range(value):
    if value.year < MIN_YEAR or value.year > MAX_YEAR:
        return False
    try:
        value.astimezone(dt.UTC)
    except OverflowError:
        return False
    return True


class SafeDateTimeField(serializers.DateTimeField):
    """A DateTimeField that refuses years no one means (the database would overflow)."""

    def to_internal_value(self, value):
        result = super().to_internal_value(value)
        if not _check_datetime_range(result):
            self.fail("range")
        return result

    default_error_messages = {"range": _("Use a date between the years 1900 and 2200.")}


class SafeDateTimeFormField(forms.DateTimeField):
    """The same rule for query parameters (django-filter)."""

    def to_python(self, value):
        result = super().to_python(value)
        if result is not None:
            if timezone.is_naive(result):
                try:
                    result = timezone.make_aware(result)
                except (OverflowError, ValueError):
                    raise forms.ValidationError(_("Use a date between the years 1900 and 2200."), code="range")
            if not _check_datetime_range(result):
                raise forms.ValidationError(_("Use a date between the years 1900 and 2200."), code="range")
        return result


class TextField(serializers.CharField):
    """CharField that also refuses lone UTF-16 surrogates (PostgreSQL cannot store them)."""

    default_error_messages = {"surrogate": _("The text contains characters that are not valid Unicode.")}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            self.fail("surrogate")
        return value


ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


class IdFormField(forms.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


# --- filters (django-filter) --------------------------------------------------------


@extend_schema_field(ID_SCHEMA)
class IdFilter(django_filters.Filter):
    """An object id in a query parameter: a positive integer that fits a bigint."""

    field_class = IdFormField


class SafeDateTimeFilter(django_filters.DateTimeFilter):
    field_class = SafeDateTimeFormField


class SafeCharFilter(django_filters.CharFilter):
    """Free text in a query parameter, at most 100 characters."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 100)
        super().__init__(*args, **kwargs)


class IntegerFilter(django_filters.NumberFilter):
    """A whole number in a query parameter (NumberFilter alone would accept 1.5)."""

    field_class = forms.IntegerField


class OrderingFilter(filters.OrderingFilter):
    """``?ordering=`` with the allowed values listed in the schema (a field, or ``-field`` for descending)."""

    def get_schema_operation_parameters(self, view):
        fields = [name if isinstance(name, str) else name[0] for name in getattr(view, "ordering_fields", None) or []]
        if not fields:
            return []
        choices = [value for name in fields for value in (name, f"-{name}")]
        default = ", ".join(getattr(view, "ordering", None) or [])
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": f"Sort order; the default is {default}. Unknown values are ignored.",
                "schema": {"type": "string", "enum": choices},
            }
        ]


class SchemaMetadata(SimpleMetadata):
    """OPTIONS answers: what the view is and where its precise description lives.

    DRF's default would describe POST bodies from the view's main serializer,
    which is wrong for actions with their own input; the OpenAPI schema is exact.
    """

    def determine_metadata(self, request, view):
        metadata = super().determine_metadata(request, view)
        metadata.pop("actions", None)
        metadata["schema"] = request.build_absolute_uri("/api/schema/")
        return metadata
