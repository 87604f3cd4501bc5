"""Domain rows as GeoReport v2 items. Never a resident's name, email or phone."""

from __future__ import annotations

import re

from django.conf import settings
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from cases.models import PRIORITY_ORDER, Category, Event, Issue
from cases.photos import public_photo_path
from cases.selectors.public import public_message
from core.dialect import local_iso

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this endpoint's document (its services' shape and parameters) last changed.
CHANGESET = "2026-11-24T00:00:00+00:00"
DESCRIPTION_MAX = 4000
# Where each priority's target stands among a row's four target columns (low, normal, high, urgent).
_PRIORITY_INDEX = {priority.value: index for index, priority in enumerate(PRIORITY_ORDER)}

# A US ZIP code after a comma or a state abbreviation ("…, MO 64106").
_ZIPCODE = re.compile(r"(?:,|\b[A-Z]{2})\s+(\d{5}(?:-\d{4})?)\b")


def discovery(*, base_url: str) -> dict:
    return {
        "changeset": CHANGESET,
        "contact": _("Questions about this endpoint go to the department's CommonGround administrators."),
        "key_service": _(
            "API keys are issued by the department's administrators, one per client application; "
            "ask them for one. Reading services and requests needs no key."
        ),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base_url,
                "changeset": CHANGESET,
                "type": "production" if settings.PRODUCTION else "test",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


def service_item(category: Category) -> dict:
    """One service; names follow the active language (English or Spanish)."""
    return {
        "service_code": category.service_code,
        "service_name": category.name,
        "description": category.hint or None,
        "metadata": bool(category.has_attributes),
        "type": "realtime",
        "keywords": category.keywords or None,
        "group": category.group or None,
    }


def service_definition(category: Category) -> dict:
    es = _is_spanish()
    attributes = []
    for attribute in category.attributes.all():
        item = {
            "variable": True,
            "code": attribute.code,
            "datatype": attribute.datatype,
            "required": attribute.required,
            "datatype_description": attribute.datatype_description or None,
            "order": attribute.order,
            "description": (attribute.description_es if es and attribute.description_es else attribute.description_en),
        }
        if attribute.datatype in ("singlevaluelist", "multivaluelist"):
            item["values"] = [
                {"key": str(value.get("key", "")), "name": str(value.get("name", value.get("key", "")))}
                for value in attribute.values
                if isinstance(value, dict)
            ]
        attributes.append(item)
    return {"service_code": category.service_code, "attributes": attributes}


def _is_spanish() -> bool:
    return (get_language() or "en").startswith("es")


def service_notice(issue: Issue) -> str | None:
    """What the department commits to while the request is open (the SLA target, in hours)."""
    if issue.status not in Issue.OPEN_STATUSES:
        return None
    return _notice(issue.category.target_hours(issue.priority))


def _notice(hours: int) -> str:
    return _("We aim to act on this within %(hours)d hours.") % {"hours": hours}


def zipcode_of(address: str) -> str | None:
    matches = _ZIPCODE.findall(address or "")
    return matches[-1] if matches else None


def public_media_url(media, absolute_uri=None) -> str | None:
    """The request's approved photo as an absolute URL (or an approved client link); None before approval."""
    if not isinstance(media, dict):
        return None
    if media.get("photo"):
        path = public_photo_path(media["report"], media["photo"])
        return absolute_uri(path) if absolute_uri else path
    return media.get("link") or None


class Agencies:
    """The agency responsible for a request: the agency it was referred to, or community policing in
    its neighborhood's district — each district's name written once per answer, in its language."""

    def __init__(self):
        self._in_district = _("Community policing, %(district)s district")
        self._names = {"": _("Community policing")}

    def __call__(self, status: str, referred_to: str, district: str | None) -> str:
        if status == Issue.Status.REFERRED and referred_to:
            return referred_to
        district = district or ""
        name = self._names.get(district)
        if name is None:
            name = self._names[district] = self._in_district % {"district": district}
        return name


def request_items(rows, *, absolute_uri=None) -> list[dict]:
    """Service requests from ``selectors.public_requests``' rows (tuples of its ``REQUEST_FIELDS``).

    What is the same for every row — the time zone, the language, the translated sentences, the
    agency of each district, the notice for each target — is worked out once per answer, not once
    per request in it: a 1 000-request answer is a thousand turns of this loop.
    ``absolute_uri`` (the request's ``build_absolute_uri``) makes ``media_url`` absolute.
    """
    zone = timezone.get_current_timezone()
    spanish = _is_spanish()
    open_statuses = frozenset(Issue.OPEN_STATUSES)
    decimals = settings.PUBLIC_LOCATION_DECIMALS
    agency = Agencies()
    notice = _("We aim to act on this within %(hours)d hours.")
    notices: dict[int, str] = {}

    items = []
    for (
        tracking_code,
        status,
        priority,
        description,
        created_local,
        created_offset,
        updated_local,
        updated_offset,
        due_local,
        due_offset,
        public_address,
        address_id,
        lat,
        lng,
        referred_to,
        service_code,
        name_en,
        name_es,
        hours_low,
        hours_normal,
        hours_high,
        hours_urgent,
        district,
        status_note,
        first_media,
    ) in rows:
        is_open = status in open_statuses
        responsible = agency(status, referred_to, district)
        service_notice = None
        if is_open:
            hours = (hours_low, hours_normal, hours_high, hours_urgent)[_PRIORITY_INDEX[priority]]
            service_notice = notices.get(hours)
            if service_notice is None:
                service_notice = notices[hours] = notice % {"hours": hours}
        items.append(
            {
                "service_request_id": tracking_code,
                "status": "open" if is_open else "closed",
                "status_notes": status_note or None,
                "service_name": (spanish and name_es) or name_en,
                "service_code": service_code,
                # The public copy: emails, phones and names typed into the text are masked (cases.redaction).
                "description": description[:DESCRIPTION_MAX] or None,
                "agency_responsible": responsible,
                "service_notice": service_notice,
                "requested_datetime": local_iso(created_local, created_offset, zone),
                "updated_datetime": local_iso(updated_local, updated_offset, zone),
                "expected_datetime": local_iso(due_local, due_offset, zone),
                "address": public_address or None,
                "address_id": address_id or None,
                "zipcode": zipcode_of(public_address),
                "lat": None if lat is None else round(lat, decimals),
                "long": None if lng is None else round(lng, decimals),
                "media_url": public_media_url(first_media, absolute_uri),
            }
        )
    return items


def created_item(*, tracking_code: str, token: str, notice: str) -> dict:
    """The POST answer: the request's id (its public tracking code) and a token for later lookups."""
    return {"service_request_id": tracking_code, "token": token, "service_notice": notice, "account_id": None}


def token_item(*, tracking_code: str, token: str) -> dict:
    return {"service_request_id": tracking_code, "token": token}


def update_items(rows, *, closing_kinds) -> list[dict]:
    """Service request updates from ``selectors.public_updates``' rows (``UPDATE_FIELDS``): the words
    the status page shows for each entry, or, for an entry without any, what happened
    ("Acknowledged"), in the answer's language."""
    zone = timezone.get_current_timezone()
    closing = frozenset(closing_kinds)
    labels: dict[str, str] = {}
    items = []
    for update_id, tracking_code, kind, message, data, created_local, created_offset, status_kind in rows:
        description = public_message(kind, message, data)
        if not description:
            description = labels.get(kind)
            if description is None:
                description = labels[kind] = str(Event.Kind(kind).label) if kind in Event.Kind.values else kind
        items.append(
            {
                "update_id": str(update_id),
                "service_request_id": tracking_code,
                "status": "closed" if status_kind in closing else "open",
                "updated_datetime": local_iso(created_local, created_offset, zone),
                "description": description,
            }
        )
    return items
