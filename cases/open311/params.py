"""Validation of Open311 parameters: every bad input becomes a clear 400/403/404, never a 500.

Parameters arrive form-encoded (POST) or in the query string (GET). Each
scalar parameter may be sent once (the same value repeated is tolerated);
text may not carry control characters (PostgreSQL refuses NUL bytes, XML
1.0 cannot carry most others); numbers must be finite decimals.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import EmailValidator, URLValidator
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.module_loading import import_string

from cases.models import ApiClient, Category, CategoryAttribute, Issue
from cases.open311 import selectors
from cases.open311.render import Open311Error
from cases.photos import photo_clean
from core.text import whole_number
from partners.models import Neighborhood
from partners.selectors import address_point_for, neighborhood_for_point, neighborhood_named_in

logger = logging.getLogger(__name__)

# The spec: a search "may not span more than 90 days"; without dates, the last 90 days.
DEFAULT_WINDOW = timedelta(days=90)
DESCRIPTION_MAX = 4000  # the spec's limit on a request's description
ADDRESS_MAX = Issue._meta.get_field("address").max_length
ADDRESS_ID_MAX = Issue._meta.get_field("address_id").max_length
NAME_MAX = 60
EMAIL_MAX = 254
PHONE_MAX = 40
CLIENT_ID_MAX = 100  # device_id, account_id
MEDIA_URL_MAX = 200
ATTRIBUTE_STRING_MAX = 200
ATTRIBUTE_TEXT_MAX = 4000
MAX_IDS = 1000
# GET requests' paging (an extension 311 clients use, as Chicago's Open311 does): at most the spec's
# 1 000 a page, and no deeper than 10 000 requests into a search, whose reading would grow with the
# page number; further back, a client narrows start_date and end_date.
MAX_PAGE_SIZE = 1000
MAX_PAGED_ROWS = 10_000

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?$")
_PHONE = re.compile(r"^\+?[\d\s().\-/]{3,30}(\s*(x|ext\.?)\s*\d{1,6})?$", re.IGNORECASE)
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\]]*)\](\[\])?$")
_email = EmailValidator()
_url = URLValidator(schemes=["http", "https"])


def bad_request(*descriptions: str) -> Open311Error:
    return Open311Error(400, *descriptions)


class _Errors:
    """Collects every 400 of one request so a client sees all its mistakes at once."""

    def __init__(self):
        self.messages: list[str] = []

    def add(self, message: str) -> None:
        self.messages.append(message)

    def raise_any(self) -> None:
        if self.messages:
            raise bad_request(*self.messages)


def _clean(name: str, value: str) -> str:
    if _CONTROL.search(value):
        raise bad_request(f"{name} contains control characters.")
    return value.strip()


def one(data: QueryDict, name: str) -> str:
    """A scalar parameter, stripped; '' when absent. Two different values are an error."""
    values = data.getlist(name)
    if not values:
        return ""
    if len(set(values)) > 1:
        raise bad_request(f"{name} was sent more than once with different values; send it once.")
    return _clean(name, values[0])


def _finite_decimal(name: str, text: str) -> Decimal:
    if not _DECIMAL.match(text):
        raise bad_request(f"{name} must be a decimal number, not {text[:40]!r}.")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise bad_request(f"{name} must be a decimal number, not {text[:40]!r}.")
    if not number.is_finite() or not math.isfinite(float(number)):
        raise bad_request(f"{name} must be a finite number.")
    return number


# --- POST requests ------------------------------------------------------------------


@dataclass
class NewRequest:
    """A validated POST requests: everything open311_request_submit needs."""

    client: ApiClient
    category: Category
    text: str
    lat: float | None = None
    lng: float | None = None
    address: str = ""
    address_id: str = ""
    neighborhood: Neighborhood | None = None
    reporter_name: str = ""
    reporter_email: str = ""
    reporter_phone: str = ""
    media_url: str = ""
    attributes: dict = field(default_factory=dict)
    # The ``media`` file, checked and re-encoded (cases.photos.photo_clean); set by media_photo().
    photo: ContentFile | None = None


def client_for(data: QueryDict) -> ApiClient:
    """403 unless api_key names an active client."""
    values = data.getlist("api_key")
    if not values or not values[0].strip():
        raise Open311Error(403, "api_key is required to create a service request.")
    key = values[0].strip()
    client = selectors.api_client_for_key(key) if len(set(values)) == 1 and not _CONTROL.search(key) else None
    if client is None:
        raise Open311Error(403, "api_key is not valid or has been revoked.")
    return client


def service_for(data: QueryDict) -> Category:
    code = one(data, "service_code")
    if not code:
        raise bad_request("service_code is required.")
    category = selectors.public_service(code)
    if category is None:
        raise Open311Error(404, f"Unknown service_code {code[:60]!r}; see services.json for the list.")
    return category


def _geocode(address: str) -> tuple[float, float] | None:
    """The department's own geocoder (settings.GEOCODER), when one is configured."""
    if not settings.GEOCODER:
        return None
    try:
        point = import_string(settings.GEOCODER)(address)
        if point is None:
            return None
        lat, lng = float(point[0]), float(point[1])
    except Exception:  # a failing geocoder must not fail the request
        logger.warning("Open311: the geocoder failed; placing the request by neighborhood name instead.")
        return None
    if not (math.isfinite(lat) and math.isfinite(lng) and -90 <= lat <= 90 and -180 <= lng <= 180):
        return None
    return lat, lng


def _location(data: QueryDict, errors: _Errors) -> dict:
    lat_text, lng_text = one(data, "lat"), one(data, "long")
    address = one(data, "address_string")
    address_id = one(data, "address_id")
    place: dict = {"address": address, "address_id": address_id}
    if len(address) > ADDRESS_MAX:
        errors.add(f"address_string must be at most {ADDRESS_MAX} characters.")
    if len(address_id) > ADDRESS_ID_MAX:
        errors.add(f"address_id must be at most {ADDRESS_ID_MAX} characters.")
    if bool(lat_text) != bool(lng_text):
        errors.add("Send both lat and long, or neither.")
        return place
    if lat_text:
        try:
            lat = float(_finite_decimal("lat", lat_text))
            lng = float(_finite_decimal("long", lng_text))
        except Open311Error as error:
            errors.messages.extend(error.descriptions)
            return place
        if not -90 <= lat <= 90:
            errors.add("lat must be between -90 and 90.")
        if not -180 <= lng <= 180:
            errors.add("long must be between -180 and 180.")
        if errors.messages:
            return place
        neighborhood = neighborhood_for_point(lat, lng)
        if neighborhood is None:
            errors.add(f"The point {lat}, {lng} is outside every neighborhood this department serves.")
            return place
        return {**place, "lat": lat, "lng": lng, "neighborhood": neighborhood}
    if not address and not address_id:
        errors.add("A location is required: lat and long, address_string, or address_id.")
        return place
    if errors.messages:
        return place
    if address:
        # The city's address points first (the web form's lookup), then the department's geocoder.
        point = address_point_for(address) or _geocode(address)
        if point is not None:
            neighborhood = neighborhood_for_point(*point)
            if neighborhood is not None:
                return {**place, "lat": point[0], "lng": point[1], "neighborhood": neighborhood}
        neighborhood = neighborhood_named_in(address)
        if neighborhood is not None:
            return {**place, "neighborhood": neighborhood}
    if address_id:
        neighborhood = selectors.neighborhood_for_address_id(address_id)
        if neighborhood is not None:
            return {**place, "neighborhood": neighborhood}
    errors.add(
        "We could not place this request in a neighborhood: send lat and long, "
        "or an address_string that includes the neighborhood's name."
    )
    return place


def _attribute_values(data: QueryDict, errors: _Errors) -> dict[str, list[str]]:
    given: dict[str, list[str]] = {}
    for key in data:
        match = _ATTRIBUTE_KEY.match(key)
        if match is None:
            continue
        code = match.group(1)
        for value in data.getlist(key):
            if _CONTROL.search(value):
                errors.add(f"attribute[{code[:60]}] contains control characters.")
                continue
            given.setdefault(code, []).append(value.strip())
    return given


def _answer(attribute: CategoryAttribute, values: list[str], errors: _Errors):
    """The stored answer for one attribute, or None (with an error) when it does not fit its datatype."""
    Datatype = CategoryAttribute.Datatype
    name = f"attribute[{attribute.code}]"
    values = [value for value in values if value != ""]
    if attribute.datatype == Datatype.MULTIVALUELIST:
        keys = {str(item.get("key")) for item in attribute.values if isinstance(item, dict)}
        unknown = [value for value in values if value not in keys]
        if unknown:
            errors.add(f"{name}: {unknown[0][:60]!r} is not one of its values ({', '.join(sorted(keys))}).")
            return None
        return list(dict.fromkeys(values))
    if len(set(values)) > 1:
        errors.add(f"{name} takes one value.")
        return None
    value = values[0]
    if attribute.datatype == Datatype.SINGLEVALUELIST:
        keys = {str(item.get("key")) for item in attribute.values if isinstance(item, dict)}
        if value not in keys:
            errors.add(f"{name}: {value[:60]!r} is not one of its values ({', '.join(sorted(keys))}).")
            return None
        return value
    if attribute.datatype == Datatype.NUMBER:
        try:
            number = _finite_decimal(name, value)
        except Open311Error as error:
            errors.messages.extend(error.descriptions)
            return None
        if number == number.to_integral_value() and abs(number) < 10**15:
            return int(number)
        return float(number)
    if attribute.datatype == Datatype.DATETIME:
        try:
            moment = parse_w3c(name, value)
        except Open311Error as error:
            errors.messages.extend(error.descriptions)
            return None
        return moment.isoformat()
    limit = ATTRIBUTE_TEXT_MAX if attribute.datatype == Datatype.TEXT else ATTRIBUTE_STRING_MAX
    if len(value) > limit:
        errors.add(f"{name} must be at most {limit} characters.")
        return None
    return value


def _attributes(data: QueryDict, category: Category, errors: _Errors) -> dict:
    given = _attribute_values(data, errors)
    definition = {attribute.code: attribute for attribute in category.attributes.all()}
    for code in given:
        if code not in definition:
            errors.add(f"attribute[{code[:60]}] is not an attribute of service {category.service_code}.")
    answers = {}
    for code, attribute in definition.items():
        values = [value for value in given.get(code, []) if value != ""]
        if not values:
            if attribute.required:
                errors.add(f"attribute[{code}] is required for service {category.service_code}.")
            continue
        answer = _answer(attribute, values, errors)
        if answer is not None:
            answers[code] = answer
    return answers


def _contact(data: QueryDict, errors: _Errors) -> dict:
    first, last = one(data, "first_name"), one(data, "last_name")
    email, phone = one(data, "email"), one(data, "phone")
    for name, value in (("first_name", first), ("last_name", last)):
        if len(value) > NAME_MAX:
            errors.add(f"{name} must be at most {NAME_MAX} characters.")
    if email:
        try:
            if len(email) > EMAIL_MAX:
                raise ValidationError("too long")
            _email(email)
        except ValidationError:
            errors.add("email is not a valid email address.")
    if phone and (len(phone) > PHONE_MAX or not _PHONE.match(phone)):
        errors.add("phone is not a valid phone number.")
    for name in ("device_id", "account_id"):
        if len(one(data, name)) > CLIENT_ID_MAX:
            errors.add(f"{name} must be at most {CLIENT_ID_MAX} characters.")
    return {
        "reporter_name": " ".join(part for part in (first, last) if part),
        "reporter_email": email,
        "reporter_phone": phone,
    }


def new_request(data: QueryDict) -> NewRequest:
    """Validate a POST requests body: 403 for the key, 400/404 for the service, then every 400 at once."""
    client = client_for(data)
    category = service_for(data)
    errors = _Errors()

    def field_or_error(reader, *args):
        try:
            return reader(*args)
        except Open311Error as error:
            errors.messages.extend(error.descriptions)
            return None

    place = field_or_error(_location, data, errors) or {}
    contact = field_or_error(_contact, data, errors) or {}
    description = field_or_error(one, data, "description") or ""
    if len(description) > DESCRIPTION_MAX:
        errors.add(f"description must be at most {DESCRIPTION_MAX} characters.")
    media_url = field_or_error(one, data, "media_url") or ""
    if media_url:
        try:
            if len(media_url) > MEDIA_URL_MAX:
                raise ValidationError("too long")
            _url(media_url)
        except ValidationError:
            errors.add(f"media_url must be an http(s) URL of at most {MEDIA_URL_MAX} characters.")
    if any(value for value in data.getlist("media")):
        errors.add(
            "media must be a file: send it as a multipart/form-data part with a filename "
            "(or send a link to the image as media_url)."
        )
    attributes = _attributes(data, category, errors)
    errors.raise_any()
    return NewRequest(
        client=client,
        category=category,
        # The spec makes description optional; the service name then says what was reported.
        text=description or category.name_en,
        lat=place.get("lat"),
        lng=place.get("lng"),
        address=place.get("address", ""),
        address_id=place.get("address_id", ""),
        neighborhood=place.get("neighborhood"),
        media_url=media_url,
        attributes=attributes,
        **contact,
    )


def media_photo(files) -> ContentFile | None:
    """The ``media`` file of a multipart request, under the web form's rules, or None without one.

    The same check as the resident form's photo (cases.photos.photo_clean): at most
    10 MB, a JPEG, PNG or WebP that decodes, no decompression bomb; what is kept is
    a re-encoded copy with no metadata (EXIF GPS, camera serial…), under a random
    name. Anything else is a 400 that says why; nothing is stored.
    """
    uploads = files.getlist("media") if files else []
    if not uploads:
        return None
    if len(uploads) > 1:
        raise bad_request("Send at most one media file.")
    try:
        return photo_clean(uploads[0])
    except ValidationError as error:
        raise bad_request(*(f"media: {message}" for message in error.messages))


# --- GET requests -------------------------------------------------------------------


def parse_w3c(name: str, text: str, *, end_of_day: bool = False) -> datetime:
    """A W3C / ISO 8601 datetime (or date); naive ones are in the department's time zone."""
    try:
        # A bare date first: parse_datetime would read it as midnight, but an end_date means the whole day.
        day: date | None = parse_date(text) if _DATE_ONLY.match(text) else None
        if day is not None:
            moment = datetime.combine(day, time.max if end_of_day else time.min)
        else:
            moment = parse_datetime(text)
            if moment is None:
                raise ValueError(text)
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        moment.astimezone(UTC)  # out-of-range offsets at the ends of the calendar
    except (ValueError, OverflowError):
        raise bad_request(f"{name} must be a W3C datetime such as 2026-01-31T17:00:00-06:00, not {text[:40]!r}.")
    return moment


def _comma_list(text: str) -> list[str]:
    return list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))


@dataclass
class RequestSearch:
    tracking_codes: list[str] | None = None
    service_codes: list[str] | None = None
    statuses: set[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    page: int = 1
    page_size: int = MAX_PAGE_SIZE


def _whole_number(data: QueryDict, name: str, default: int, low: int, high: int) -> int:
    text = one(data, name).strip()
    if not text:
        return default
    number = whole_number(text)
    if number is None or not low <= number <= high:
        raise bad_request(f"{name} must be a whole number from {low} to {high}.")
    return number


def request_search(data: QueryDict, *, now: datetime) -> RequestSearch:
    """GET requests parameters. service_request_id overrides every other parameter, as the spec says."""
    ids = _comma_list(one(data, "service_request_id"))
    if ids:
        if len(ids) > MAX_IDS:
            raise bad_request(f"Ask for at most {MAX_IDS} service_request_id values at once.")
        return RequestSearch(tracking_codes=[code.upper() for code in ids])
    search = RequestSearch()
    codes = _comma_list(one(data, "service_code"))
    if codes:
        known = selectors.public_service_codes(codes)
        unknown = [code for code in codes if code not in known]
        if unknown:
            raise Open311Error(404, f"Unknown service_code {unknown[0][:60]!r}; see services.json for the list.")
        search.service_codes = codes
    statuses = _comma_list(one(data, "status").lower())
    if statuses:
        if not set(statuses) <= {"open", "closed"}:
            raise bad_request("status must be open, closed, or both separated by a comma.")
        search.statuses = set(statuses)
    search.start, search.end = _window(data, now=now)
    search.page, search.page_size = _paging(data)
    return search


def _window(data: QueryDict, *, now: datetime) -> tuple[datetime, datetime]:
    """start_date and end_date: the last 90 days when neither is given, 90 days from the one
    given, never more than 90 days."""
    start_text, end_text = one(data, "start_date"), one(data, "end_date")
    start = parse_w3c("start_date", start_text) if start_text else None
    end = parse_w3c("end_date", end_text, end_of_day=True) if end_text else None
    try:
        if start is None and end is None:
            end = now
            start = now - DEFAULT_WINDOW
        elif start is None:
            start = end - DEFAULT_WINDOW
        elif end is None:
            end = start + DEFAULT_WINDOW
    except OverflowError:
        raise bad_request("start_date and end_date must be within the calendar.")
    if start > end:
        raise bad_request("start_date must be before end_date.")
    # A day's slack so that a date-only end_date (read as the end of that day) can close a 90-day window.
    if end - start > DEFAULT_WINDOW + timedelta(days=1):
        raise bad_request("start_date and end_date may not span more than 90 days.")
    return start, end


def _paging(data: QueryDict) -> tuple[int, int]:
    """page and page_size, within MAX_PAGED_ROWS of the start of the answer."""
    page_size = _whole_number(data, "page_size", MAX_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    page = _whole_number(data, "page", 1, 1, MAX_PAGED_ROWS)
    if page * page_size > MAX_PAGED_ROWS:
        raise bad_request(
            f"page and page_size reach no further than {MAX_PAGED_ROWS} items into a search; "
            "narrow start_date and end_date to go further back."
        )
    return page, page_size


@dataclass(frozen=True)
class UpdateSearch:
    start: datetime
    end: datetime
    page: int
    page_size: int


def update_search(data: QueryDict, *, now: datetime) -> UpdateSearch:
    """GET servicerequestupdates parameters (mySociety's extension): the window and the paging
    of GET requests."""
    start, end = _window(data, now=now)
    page, page_size = _paging(data)
    return UpdateSearch(start=start, end=end, page=page, page_size=page_size)
