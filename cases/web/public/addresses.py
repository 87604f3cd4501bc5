"""``GET /addresses/suggest/?q=…`` (and ``/es/…``): the city's address points that match what a resident
is typing in the report form's address field, best first, as JSON (``partners.selectors.address_suggestions``).

Public city data, no personal data: answers may be kept by any cache for a few minutes. One statement
per answer; refusals (too short, too long, control characters) name the problem in a 400.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.http import JsonResponse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.ratelimit import rate_limit_reserve, rate_limit_retry_after
from partners.addresses import normalize
from partners.selectors import SUGGESTION_MIN_CHARS, address_suggestions

QUERY_MAX_CHARS = 100
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _refused(message: str, status: int = 400) -> JsonResponse:
    response = JsonResponse({"error": message, "results": []}, status=status)
    patch_cache_control(response, no_store=True)
    return response


@require_GET
def address_suggest(request):
    query = request.GET.get("q", "")
    if len(query) > QUERY_MAX_CHARS:
        return _refused(_("The address is too long: type at most %(max)s characters.") % {"max": QUERY_MAX_CHARS})
    if _CONTROL.search(query):
        return _refused(_("The address contains characters that are not part of an address."))
    if len(normalize(query).replace(" ", "")) < SUGGESTION_MIN_CHARS:
        return _refused(_("Type at least %(min)s letters or digits of the address.") % {"min": SUGGESTION_MIN_CHARS})
    rate = settings.ADDRESS_SUGGEST_RATE_LIMIT
    if not rate_limit_reserve(request, scope="address-suggest", rate=rate):
        response = _refused(_("Too many searches in a short time. Please wait a little and try again."), 429)
        response["Retry-After"] = str(rate_limit_retry_after(rate=rate))
        return response
    response = JsonResponse({"query": query, "results": address_suggestions(query)})
    patch_cache_control(response, public=True, max_age=300)
    return response
