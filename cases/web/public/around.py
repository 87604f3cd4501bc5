"""/around/ (and /es/around/): recent public reports near a place or in a neighborhood, as a list
that works without JavaScript and a map beside it (``cases.selectors.public.around_issues``)."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from cases.selectors.public import AROUND_DAYS, AROUND_RADIUS_M, around_issues, public_neighborhoods
from cases.web.public.views import float_param
from partners.models import Neighborhood


@require_GET
def around(request):
    neighborhoods = list(public_neighborhoods())
    slug = request.GET.get("neighborhood", "").strip()
    raw_lat, raw_lng = request.GET.get("lat", "").strip(), request.GET.get("lng", "").strip()
    error, neighborhood, lat, lng = "", None, None, None
    if raw_lat or raw_lng:
        lat, lng = float_param(raw_lat, 90), float_param(raw_lng, 180)
        if lat is None or lng is None:
            lat = lng = None
            error = _("That place could not be read. Choose a neighborhood instead.")
    elif slug:
        neighborhood = next((n for n in neighborhoods if n.slug == slug), None)
        if neighborhood is None:
            error = _("No neighborhood is called that. Choose one from the list.")
    items = around_issues(neighborhood=neighborhood, lat=lat, lng=lng) if not error else []
    searched = neighborhood is not None or lat is not None
    boundary = None
    if neighborhood is not None:
        boundary = Neighborhood.objects.filter(pk=neighborhood.pk).values_list("boundary", flat=True).first()
    points = [
        {
            "lat": item.lat,
            "lng": item.lng,
            "code": item.tracking_code,
            "url": reverse("report_status", args=[item.tracking_code]),
            "category": f"{item.category} · {item.status_label}",
        }
        for item in items
        if item.lat is not None
    ]
    context = {
        "neighborhoods": neighborhoods,
        "neighborhood": neighborhood,
        "near": lat is not None,
        "items": items,
        "searched": searched,
        "error": error,
        "days": AROUND_DAYS,
        "radius": AROUND_RADIUS_M,
        "map_settings": {
            "tiles": settings.MAP_TILE_URL,
            "attribution": settings.MAP_TILE_ATTRIBUTION,
            "center": [lat, lng] if lat is not None else settings.MAP_CENTER,
        },
        "map_data": {"boundary": boundary or {}, "points": points},
    }
    return render(request, "public/around.html", context, status=400 if error else 200)
