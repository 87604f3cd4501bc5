"""Directory pages: partners and neighborhoods (issue 4), and the partner search the outreach form uses.

These pages combine the apps (a neighborhood's open issues, a partner's outreach),
so they live in insights, composed from each app's selectors and the directory
figures (``insights.figures.directory``). The partners app imports nothing from
cases or outreach.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from core.pagination import page_from_request
from core.permissions import staff_required
from core.widgets import show_rows, use_fast_selects
from insights.figures.directory import (
    RECENT_DAYS,
    neighborhoods_with_figures,
    open_issues_by_category,
    open_issues_in,
    problems_with_partner,
)
from outreach.selectors import ActivityFilters, activity_list, activity_totals
from partners import selectors
from partners.models import LANGUAGE_CHOICES, Neighborhood, Partner

PAGE_SIZE = 25
NEIGHBORHOOD_PAGE_SIZE = 50
LANGUAGE_LABELS = dict(LANGUAGE_CHOICES)


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _map_settings() -> dict:
    return {
        "tiles": settings.MAP_TILE_URL,
        "attribution": settings.MAP_TILE_ATTRIBUTION,
        "center": settings.MAP_CENTER,
    }


def _labels(codes) -> list[str]:
    return [str(LANGUAGE_LABELS.get(code, code)) for code in codes or []]


class PartnerFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("All"))] + Partner.Kind.choices, required=False)
    cops_type = forms.ChoiceField(
        label=_("COPS partner type"), choices=[("", _("All"))] + Partner.CopsType.choices, required=False
    )
    neighborhood = forms.ModelChoiceField(
        label=_("Serves"), queryset=Neighborhood.objects.order_by("name"), required=False, empty_label=_("All")
    )
    inactive = forms.BooleanField(label=_("Include inactive"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        use_fast_selects(self)
        show_rows(self.fields["neighborhood"], selectors.neighborhood_choices)

    def to_filters(self) -> selectors.PartnerFilters:
        if not self.is_bound:
            return selectors.PartnerFilters()
        self.is_valid()
        data = self.cleaned_data
        return selectors.PartnerFilters(
            kind=data.get("kind") or "",
            cops_type=data.get("cops_type") or "",
            neighborhood_id=data["neighborhood"].pk if data.get("neighborhood") else None,
            q=data.get("q") or "",
            include_inactive=bool(data.get("inactive")),
        )


class NeighborhoodFilterForm(forms.Form):
    q = forms.CharField(label=_("Name or beat"), required=False, max_length=100)
    district = forms.ChoiceField(label=_("District"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].choices = [("", _("All"))] + [(d, d) for d in selectors.district_choices()]

    def to_filters(self) -> selectors.NeighborhoodFilters:
        if not self.is_bound:
            return selectors.NeighborhoodFilters()
        self.is_valid()
        return selectors.NeighborhoodFilters(
            district=self.cleaned_data.get("district") or "", q=self.cleaned_data.get("q") or ""
        )


@staff_required
@require_GET
def partner_list(request):
    form = PartnerFilterForm(request.GET or None)
    # Each row's activity count and latest activity are the partner's own columns (kept by the
    # outreach services), so the page reads its 25 partners and nothing of their outreach.
    partners = selectors.partner_directory(form.to_filters())
    page = page_from_request(request, partners, ("name", "id"), size=PAGE_SIZE)
    return render(request, "partners/partner_list.html", {"form": form, "page": page})


@staff_required
@require_GET
def partner_detail(request, pk):
    partner = selectors.partner_detail(pk)
    activities = activity_list(request.user, ActivityFilters(partner_id=partner.pk))
    return render(
        request,
        "partners/partner_detail.html",
        {
            "partner": partner,
            "languages": _labels(partner.languages),
            "activities": activities[:25],
            "totals": activity_totals(activities),
            "problems": problems_with_partner(partner),
        },
    )


@staff_required
@require_GET
def partner_search(request):
    """Search-as-you-type for the outreach form: active partners by name (JSON)."""
    results = [
        {"id": p.pk, "name": p.name, "detail": f"{p.get_kind_display()} · {p.get_cops_type_display()}"}
        for p in selectors.partner_search(request.GET.get("q", ""))
    ]
    return JsonResponse({"results": results})


@staff_required
@require_GET
def neighborhood_list(request):
    form = NeighborhoodFilterForm(request.GET or None)
    neighborhoods = neighborhoods_with_figures(selectors.neighborhood_directory(form.to_filters()))
    page = Paginator(neighborhoods, NEIGHBORHOOD_PAGE_SIZE).get_page(request.GET.get("page"))
    shapes = [
        {
            "name": n.name,
            "url": n.get_absolute_url(),
            "boundary": n.boundary,
            "open": n.open_issues,
            "detail": ngettext("%(n)d open issue", "%(n)d open issues", n.open_issues) % {"n": n.open_issues},
        }
        for n in page.object_list
        if n.boundary
    ]
    return render(
        request,
        "partners/neighborhood_list.html",
        {
            "form": form,
            "page": page,
            "query": _query_without_page(request),
            "shapes": shapes,
            "map_settings": _map_settings(),
            "recent_days": RECENT_DAYS,
        },
    )


@staff_required
@require_GET
def neighborhood_detail(request, slug):
    neighborhood = selectors.neighborhood_by_slug(slug)
    figures = neighborhoods_with_figures(Neighborhood.objects.filter(pk=neighborhood.pk)).values(
        "open_issues", "overdue_issues", "recent_activities", "recent_hours"
    )[0]
    issues, issue_figures = open_issues_in(request.user, neighborhood)
    points = [
        {
            "code": i.tracking_code,
            "url": i.get_absolute_url(),
            "lat": i.lat,
            "lng": i.lng,
            "category": str(i.category),
            "overdue": i.is_overdue,
        }
        for i in issues
        if i.lat is not None and i.lng is not None
    ]
    partners = neighborhood.partners.filter(is_active=True).order_by("name")
    return render(
        request,
        "partners/neighborhood_detail.html",
        {
            "neighborhood": neighborhood,
            "languages": _labels(neighborhood.languages),
            "figures": figures,
            "recent_days": RECENT_DAYS,
            "issues": issues,
            "issue_figures": issue_figures,
            "by_category": open_issues_by_category(request.user, neighborhood),
            "map_data": {"boundary": neighborhood.boundary, "points": points},
            "map_settings": _map_settings(),
            "activities": activity_list(request.user, ActivityFilters(neighborhood_id=neighborhood.pk))[:10],
            "partners": list(partners),
            "staff": selectors.staff_assigned_to(neighborhood),
        },
    )
