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
from rest_framework import exceptions, filters, permissions, serializers
from rest_framework.metadata import SimpleMetadata
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle
from rest_framework.utils.urls import remove_query_param, replace_query_param

from core.pagination import (
    BadCursor,
    KeysetPage,
    capped_count,
    count_cap_for,
    decode_cursor,
    encode_cursor,
    keyset_order,
    keyset_page,
)

# Largest value a PostgreSQL bigint primary key can hold; larger ids cannot exist.
MAX_ID = 2**63 - 1
# Datetimes outside these years are refused: they are never meant, and near
# year 1 or 9999 a time-zone conversion overflows Python's datetime.
MIN_YEAR, MAX_YEAR = 1900, 2200


# --- pagination ---------------------------------------------------------------------


class StandardPagination(BasePagination):
    """Keyset pagination: ``?page_size=`` (at most ``max_page_size``; larger asks are clamped), and the
    ``next`` / ``previous`` links, which carry an ``after`` / ``before`` cursor.

    A page is read from the position the cursor names in the list's order (its ``?ordering=``,
    with ``id`` last as the tiebreak), so page 10 000 costs what page 1 does. ``count`` is exact
    up to ten pages (``core.pagination.count_cap_for``: 500 rows at the default 50 a page, at most
    1 000); above it ``count`` is that cap and ``count_is_exact`` false.
    An ordering on a column that may be empty (e.g. a partner's ``active_since``) cannot be a
    keyset; such lists (small tables) are paged by position, behind the same cursor links.
    """

    page_size_query_param = "page_size"
    max_page_size = 200
    page_size_query_description = _("Results per page (default 50, at most 200).")
    cursor_description = _("A position in the list, from the previous answer's next or previous link.")
    invalid_cursor_message = _("This cursor is not valid; start again from the first page.")

    def get_page_size(self, request) -> int:
        size = api_settings.PAGE_SIZE
        try:
            asked = int(request.query_params.get(self.page_size_query_param, size))
        except (TypeError, ValueError):
            return size
        return min(asked, self.max_page_size) if asked > 0 else size

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        size = self.get_page_size(request)
        after = request.query_params.get("after") or None
        before = request.query_params.get("before") or None
        order = keyset_order(queryset)
        try:
            if order is not None:
                branches = getattr(view, "keyset_branches", None)
                self.page = keyset_page(queryset, order, after=after, before=before, size=size, branches=branches)
            else:
                self.page = self._position_page(queryset, after=after, before=before, size=size)
        except BadCursor:
            raise exceptions.ValidationError({"cursor": [self.invalid_cursor_message]}) from None
        return list(self.page.object_list)

    def _position_page(self, queryset, *, after, before, size) -> KeysetPage:
        """For orders that cannot be a keyset (small tables): the cursor is a position."""
        start = 0
        for cursor, step in ((after, 0), (before, -size)):
            if cursor:
                (value,), _position = decode_cursor(cursor, [_PositionField()])
                start = max(value + step, 0)
        rows = list(queryset[start : start + size + 1])
        page = KeysetPage(object_list=rows[:size], start_index=start + 1 if rows else 0, size=size)
        if len(rows) > size:
            page.next_cursor = encode_cursor([start + size], start + size)
        if start > 0:
            page.previous_cursor = encode_cursor([start], start)
        page.count, page.count_is_exact = capped_count(queryset, count_cap_for(size))
        return page

    def _link(self, param: str, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        url = self.request.build_absolute_uri()
        other = "before" if param == "after" else "after"
        return replace_query_param(remove_query_param(url, other), param, cursor)

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.page.count,
                "count_is_exact": self.page.count_is_exact,
                "next": self._link("after", self.page.next_cursor),
                "previous": self._link("before", self.page.previous_cursor),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["count", "count_is_exact", "next", "previous", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "description": "Rows in the list, counted up to ten pages (at most 1000).",
                    "example": 123,
                },
                "count_is_exact": {
                    "type": "boolean",
                    "description": "False when the list holds more than count rows.",
                },
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": str(self.page_size_query_description),
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
            *(
                {
                    "name": name,
                    "required": False,
                    "in": "query",
                    "description": str(self.cursor_description),
                    "schema": {"type": "string", "maxLength": 512},
                }
                for name in ("after", "before")
            ),
        ]


class _PositionField:
    """A cursor's position read as a non-negative integer (``decode_cursor`` calls ``to_python``)."""

    def to_python(self, value):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
            raise ValueError(value)
        return value


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
