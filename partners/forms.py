"""Form fields for choosing partners, shared by the pages that name them (an outreach activity, a
SARA Problem's response)."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from partners.models import Partner

# Search-as-you-type over active partners by name (JSON), served by the partner directory.
PARTNER_SEARCH_URL = "/partners/search/"


class PartnersField(forms.ModelMultipleChoiceField):
    """Partners picked with the search widget (static/js/picker.js asks ``PARTNER_SEARCH_URL``; a
    picked partner becomes a selected option). Without JavaScript it is a list of the choices.
    Give it its queryset with ``partners_to_pick``."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Partners"))
        kwargs.setdefault("queryset", Partner.objects.none())
        kwargs.setdefault("required", False)
        attrs = {"data-picker": "remote", "data-search-url": PARTNER_SEARCH_URL, "size": 5}
        kwargs.setdefault("widget", forms.SelectMultiple(attrs=attrs))
        super().__init__(**kwargs)


def partners_to_pick(named: QuerySet | Iterable | None = None) -> QuerySet[Partner]:
    """Active partners, by name; an inactive one stays selectable where it is already ``named``
    (ids or a queryset of them), so saving the form again does not refuse or drop it."""
    allowed = Q(is_active=True)
    if named is not None:
        allowed |= Q(pk__in=named)
    return Partner.objects.filter(allowed).order_by("name")
