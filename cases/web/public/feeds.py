"""Atom feeds of new public reports and resolutions: ``/feeds/city.atom`` and, per neighborhood,
``/feeds/neighborhoods/<slug>.atom`` (also at its first address, ``/feeds/<slug>.atom``, for every
slug but ``city``; ``/es/feeds/…`` in Spanish). Public categories only, the masked public
text, no place finer than the neighborhood (``cases.selectors.public.area_updates``)."""

from __future__ import annotations

from django.contrib.syndication.views import Feed
from django.http import Http404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _

from cases.selectors.public import FEED_DAYS, AreaUpdate, area_updates
from partners.models import Neighborhood


class AreaFeed(Feed):
    feed_type = Atom1Feed

    def get_object(self, request, slug: str = ""):
        if not slug:
            return None
        neighborhood = Neighborhood.objects.filter(slug=slug).only("id", "name", "slug").first()
        if neighborhood is None:
            raise Http404("No such neighborhood.")
        return neighborhood

    def title(self, obj):
        if obj is None:
            return _("New and resolved reports in the city")
        return _("New and resolved reports in %(name)s") % {"name": obj.name}

    def subtitle(self, obj):
        return _("Public reports of the last %(days)s days: no personal details, places to the neighborhood.") % {
            "days": FEED_DAYS
        }

    def link(self, obj):
        return reverse("around") + (f"?neighborhood={obj.slug}" if obj else "")

    def items(self, obj):
        return area_updates(neighborhood=obj)

    def item_title(self, item: AreaUpdate):
        if item.kind == "resolved":
            return _("Resolved: %(category)s in %(place)s (%(code)s)") % {
                "category": item.category,
                "place": item.neighborhood,
                "code": item.tracking_code,
            }
        return _("Reported: %(category)s in %(place)s (%(code)s)") % {
            "category": item.category,
            "place": item.neighborhood,
            "code": item.tracking_code,
        }

    def item_description(self, item: AreaUpdate):
        return item.text

    def item_link(self, item: AreaUpdate):
        return reverse("report_status", args=[item.tracking_code])

    def item_guid(self, item: AreaUpdate):
        return f"{item.tracking_code}:{item.kind}:{item.at.isoformat()}"

    item_guid_is_permalink = False

    def item_pubdate(self, item: AreaUpdate):
        return item.at

    def item_updateddate(self, item: AreaUpdate):
        return item.at
