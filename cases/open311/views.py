"""Open311 GeoReport v2 endpoints (JSON and XML). Views parse, call one selector or service, render.

Reads are public and need no key; creating a request needs an active
api_key. Every answer — errors included — is in the spec's shape and the
format the path asks for, whatever the input: nothing here may end in a 500.
"""

from __future__ import annotations

import codecs
import functools
import hashlib
import hmac
import re
import time
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
    ValidationError,
)
from django.core.handlers.wsgi import get_bytes_from_wsgi
from django.db import connection
from django.http import HttpRequest, HttpResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.http.request import UnreadablePostError
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.csrf import csrf_exempt

from cases.open311 import params, selectors, serializers
from cases.open311.render import Open311Error, answer, answer_bytes, error_answer
from cases.open311.services import open311_request_submit
from core.dialect import Dialect
from core.once import cached_once

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])", re.IGNORECASE)
_PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


# --- plumbing -----------------------------------------------------------------------


def _language(request: HttpRequest, data: QueryDict) -> str:
    """``locale`` (en, es, es_MX, es-US…) wins; otherwise the Accept-Language header.

    LocaleMiddleware pins unprefixed paths to English (the public pages put
    Spanish under /es/), so the header is read here.
    """
    locale = data.get("locale", "")
    if isinstance(locale, str) and locale.strip():
        return "es" if locale.strip().lower().startswith("es") else "en"
    return "es" if translation.get_language_from_request(request).startswith("es") else "en"


def _throttle(scope: str, ident: str) -> None:
    """Fixed-window budget per client, shared with the REST API's rates (API_THROTTLE_ANON / _USER).

    Over budget: 429 with Retry-After, so well-behaved clients know when to
    come back. The cache keeps counting in the database while Redis is down (core.cache),
    so the budget holds then too.
    """
    rate = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}).get(scope)
    match = _RATE.match(rate or "")
    if match is None:
        return
    limit = int(match.group(1))
    period = int(match.group(2) or 1) * _PERIOD_SECONDS[match.group(3).lower()]
    now = time.time()
    window = int(now // period)
    key = f"open311:throttle:{scope}:{ident}:{window}"
    cache.add(key, 0, timeout=period + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=period + 1)
        count = 1
    if count > limit:
        retry_after = max(1, int((window + 1) * period - now))
        raise Open311Error(
            429, f"Too many requests; retry in {retry_after} seconds.", headers={"Retry-After": str(retry_after)}
        )


def _client_address(request: HttpRequest) -> str:
    """A keyed hash of the caller's address: enough to count requests, never the address itself."""
    address = request.META.get("REMOTE_ADDR", "") or "unknown"
    return hmac.new(settings.SECRET_KEY.encode(), address.encode(), hashlib.sha256).hexdigest()[:32]


def endpoint(*methods: str):
    """Method check, language, rate budget for reads, CORS for reads, and every error in the spec's shape."""

    def decorate(view):
        # No view here uses the session: clients identify with api_key, so CSRF does not apply.
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, fmt: str | None = "json", **kwargs) -> HttpResponse:
            fmt = fmt or "json"
            try:
                if request.method not in methods and not (request.method == "HEAD" and "GET" in methods):
                    raise Open311Error(
                        405, f"Method {request.method} is not allowed here.", headers={"Allow": ", ".join(methods)}
                    )
                if request.method in ("GET", "HEAD"):
                    _throttle("anon", f"ip:{_client_address(request)}")
                with translation.override(_language(request, request.GET)):
                    response = view(request, *args, fmt=fmt, **kwargs)
            except Open311Error as error:
                response = error_answer(fmt, error)
            if request.method in ("GET", "HEAD"):
                # Public data: browser-based civic apps may read it from any origin.
                response["Access-Control-Allow-Origin"] = "*"
            patch_vary_headers(response, ["Accept-Language"])
            return response

        return wrapper

    return decorate


def _base_path(request: HttpRequest) -> str:
    """Where this API is mounted (/open311/v2), from the top-level resource being answered."""
    return request.path.rsplit("/", 1)[0]


# --- discovery and services ------------------------------------------------------------


# Services change when an administrator edits a category: clients may reuse an answer for a few minutes.
SERVICES_MAX_AGE = 300


@endpoint("GET")
def discovery(request: HttpRequest, *, fmt: str) -> HttpResponse:
    document = serializers.discovery(base_url=request.build_absolute_uri(_base_path(request)))
    response = answer(fmt, document, xml_root="discovery")
    patch_cache_control(response, public=True, max_age=SERVICES_MAX_AGE)
    return response


@endpoint("GET")
def services(request: HttpRequest, *, fmt: str) -> HttpResponse:
    items = [serializers.service_item(category) for category in selectors.public_services()]
    response = answer(fmt, items, xml_root="services")
    patch_cache_control(response, public=True, max_age=SERVICES_MAX_AGE)
    return response


@endpoint("GET")
def service_definition(request: HttpRequest, service_code: str, *, fmt: str) -> HttpResponse:
    category = selectors.public_service(service_code)
    if category is None:
        raise Open311Error(404, f"Unknown service_code {service_code[:60]!r}; see services.json for the list.")
    response = answer(fmt, serializers.service_definition(category), xml_root="service_definition")
    patch_cache_control(response, public=True, max_age=SERVICES_MAX_AGE)
    return response


# --- requests -----------------------------------------------------------------------


def _post_data(request: HttpRequest) -> QueryDict:
    """Form fields of the body, plus any sent in the query string (some clients put api_key there)."""
    try:
        if request.content_type not in FORM_TYPES and request.body:
            raise params.bad_request("Send the parameters form-encoded (application/x-www-form-urlencoded).")
        _require_utf8_charset(request)
        if request.content_type == "multipart/form-data":
            # Read whole (at most DATA_UPLOAD_MAX_MEMORY_SIZE, 12 MB: a 10 MB photo and its fields)
            # so the parts' headers can be checked: Django skips a part whose header is not UTF-8.
            _require_utf8_part_headers(request.body, request.content_params.get("boundary", ""))
        body = request.POST
        request.FILES  # noqa: B018 (parsed here, so a broken upload is this function's 400)
    except RequestDataTooBig:
        raise params.bad_request(
            "The request body is too large."
            + (" A media photo can be at most 10 MB." if request.content_type == "multipart/form-data" else "")
        )
    except (TooManyFieldsSent, TooManyFilesSent):
        raise params.bad_request("Too many parameters.")
    except (BadRequest, SuspiciousOperation, MultiPartParserError, UnreadablePostError, ValueError):
        raise params.bad_request(NOT_UTF8)
    _require_utf8_text(request, body)
    data = request.GET.copy()
    for key, values in body.lists():
        data.setlist(key, data.getlist(key) + values)
    return data


# Only UTF-8 is accepted: Django would read other bytes as Latin-1 (urlencoded) or swap them
# for U+FFFD (multipart), and either way the resident's words would be stored garbled.
NOT_UTF8 = (
    "The request could not be read as UTF-8 form fields: send every parameter as UTF-8 text "
    "(form-encoded, or multipart/form-data); other character sets are not accepted."
)
_UTF8_CHARSETS = {"utf-8", "ascii"}  # ASCII is a subset of UTF-8


def _require_utf8_charset(request: HttpRequest) -> None:
    charset = (getattr(request, "content_params", None) or {}).get("charset")
    if charset is None:
        return
    try:
        name = codecs.lookup(charset.strip()).name
    except LookupError:
        name = ""
    if name not in _UTF8_CHARSETS:
        raise params.bad_request(f"charset={charset.strip()[:40]!r} is not accepted: {NOT_UTF8}")


def _require_utf8_part_headers(raw: bytes, boundary: str) -> None:
    """Every part's headers (its field name, a file's name) must be UTF-8.

    Django's multipart parser silently drops a part whose header it cannot decode:
    a ``media`` file named in Latin-1 would vanish and the request succeed without it.
    """
    if not boundary:
        return  # the parser refuses the body itself
    for part in raw.split(b"--" + boundary.encode("ascii", "replace"))[1:]:
        head, found, _rest = part.partition(b"\r\n\r\n")
        if not found:
            continue  # the closing delimiter
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            raise params.bad_request(NOT_UTF8)


def _utf8_pairs(raw: bytes) -> bool:
    """Whether a query string or urlencoded body is UTF-8 throughout, percent-escapes included."""
    try:
        parse_qsl(raw.decode("utf-8"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except ValueError:  # UnicodeDecodeError is one
        return False
    return True


def _require_utf8_text(request: HttpRequest, body: QueryDict) -> None:
    """Refuse a request whose text is not UTF-8, before anything reads it.

    Django does not: a urlencoded body that is not UTF-8 is read as Latin-1 and
    bad percent-escapes become U+FFFD; multipart text parts are decoded with
    errors replaced by U+FFFD. So the raw query string and urlencoded body are
    decoded strictly, and multipart fields may not hold U+FFFD (which also refuses
    a literal replacement character: it means the text was damaged before it came).
    ``media`` is left to media_photo's check (a file sent without a filename).
    """
    query = get_bytes_from_wsgi(request.META, "QUERY_STRING", "")
    if not _utf8_pairs(query):
        raise params.bad_request(NOT_UTF8)
    if request.content_type == "multipart/form-data":
        for key, values in body.lists():
            if "\ufffd" in key or (key != "media" and any("\ufffd" in value for value in values)):
                raise params.bad_request(NOT_UTF8)
    elif request.content_type == "application/x-www-form-urlencoded" and not _utf8_pairs(request.body):
        raise params.bad_request(NOT_UTF8)


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    data = _post_data(request)
    try:
        new = params.new_request(data)
    except Open311Error as error:
        if error.status == 403:
            # Count failed keys per address: guessing keys gets slow, real clients are unaffected.
            _throttle("anon", f"badkey:{_client_address(request)}")
        raise
    _throttle("user", f"client:{new.client.pk}")
    language = _language(request, data)
    with translation.override(language):
        # After the key, the parameters and the client's budget: decoding an image is the costly part.
        new.photo = params.media_photo(request.FILES)
        return _submit(request, fmt, new, language)


def _submit(request: HttpRequest, fmt: str, new: params.NewRequest, language: str) -> HttpResponse:
    try:
        report = open311_request_submit(
            client=new.client,
            category=new.category,
            text=new.text,
            language=language,
            lat=new.lat,
            lng=new.lng,
            address=new.address,
            address_id=new.address_id,
            neighborhood=new.neighborhood,
            reporter_name=new.reporter_name,
            reporter_email=new.reporter_email,
            reporter_phone=new.reporter_phone,
            attributes=new.attributes,
            media_url=new.media_url,
            photo=new.photo,
        )
    except ValidationError as error:
        raise params.bad_request(*error.messages)
    issue = report.issue
    status_path = f"/es/report/{issue.tracking_code}/" if language == "es" else f"/report/{issue.tracking_code}/"
    notice = "{} {}".format(
        serializers.service_notice(issue),
        translation.gettext("Follow it at %(url)s") % {"url": request.build_absolute_uri(status_path)},
    )
    item = serializers.created_item(tracking_code=issue.tracking_code, token=report.open311_token, notice=notice)
    location = f"{_base_path(request)}/requests/{issue.tracking_code}.{fmt}"
    return answer(fmt, [item], xml_root="service_requests", status=201, headers={"Location": location})


@endpoint("GET", "POST")
def requests(request: HttpRequest, *, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _create(request, fmt)
    search = params.request_search(request.GET, now=timezone.now())

    def build() -> HttpResponse:
        if search.tracking_codes is not None:
            issues = selectors.requests_by_ids(search.tracking_codes)
        else:
            issues = selectors.requests_matching(
                start=search.start,
                end=search.end,
                service_codes=search.service_codes,
                statuses=search.statuses,
                page=search.page,
                page_size=search.page_size,
            )
        return answer(
            fmt,
            serializers.request_items(issues, absolute_uri=request.build_absolute_uri),
            xml_root="service_requests",
        )

    return _kept(request, fmt, build)


# How long a kept answer may serve the same search: the default window ("the last 90 days")
# ends at most this much later than asked. Nothing else can make it stale (see ``_kept``).
KEPT_ANSWER_SECONDS = 60


def _kept(request: HttpRequest, fmt: str, build) -> HttpResponse:
    """``build()``'s answer, kept and shared while the database has not changed.

    A 1 000-request answer is half a megabyte built from 1 000 rows, and 311 apps and city maps
    poll the same few searches. The answer is kept under the database snapshot it is read in
    (``Dialect.snapshot``): any write anywhere moves the snapshot, so a kept answer always
    shows what a fresh read would. One request builds a missing answer while the others asking
    the same wait for it (``cached_once``). Where no snapshot can be told (SQLite, a transaction
    that has written), every answer is built afresh.
    """
    snapshot = Dialect().snapshot()
    if snapshot is None:
        return build()
    asked = (
        # Snapshots are the server's, not the database's: two databases on one server (and one Redis)
        # may share a snapshot's text.
        connection.settings_dict["NAME"],
        fmt,
        translation.get_language(),
        timezone.get_current_timezone_name(),
        request.build_absolute_uri("/"),
        sorted(request.GET.lists()),
        snapshot,
    )
    key = "open311:answer:" + hashlib.sha256(repr(asked).encode()).hexdigest()
    body = cached_once(
        key, lambda: build().content, fresh_seconds=KEPT_ANSWER_SECONDS, stale_seconds=0, poll_seconds=0.01
    )
    return answer_bytes(fmt, body)


@endpoint("GET")
def service_request_updates(request: HttpRequest, *, fmt: str) -> HttpResponse:
    """mySociety's GET servicerequestupdates: the public timeline entries of public requests made
    between start_date and end_date (the last 90 days by default), oldest first, paged as requests."""
    search = params.update_search(request.GET, now=timezone.now())

    def build() -> HttpResponse:
        rows = selectors.public_updates(
            start=search.start, end=search.end, page=search.page, page_size=search.page_size
        )
        return answer(
            fmt,
            serializers.update_items(rows, closing_kinds=selectors.CLOSING_KINDS),
            xml_root="service_request_updates",
        )

    return _kept(request, fmt, build)


@endpoint("GET")
def request_detail(request: HttpRequest, request_id: str, *, fmt: str) -> HttpResponse:
    code = request_id.strip().upper()
    issue = selectors.request_by_id(code)
    if issue is None:
        raise Open311Error(404, f"Unknown service_request_id {request_id[:40]!r}.")
    return answer(
        fmt, serializers.request_items([issue], absolute_uri=request.build_absolute_uri), xml_root="service_requests"
    )


@endpoint("GET")
def token_detail(request: HttpRequest, token: str, *, fmt: str) -> HttpResponse:
    report = selectors.report_for_token(token)
    if report is None:
        raise Open311Error(404, f"Unknown token {token[:40]!r}.")
    item = serializers.token_item(tracking_code=report.issue.tracking_code, token=report.open311_token)
    return answer(fmt, [item], xml_root="service_requests")


@endpoint("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
def not_found(request: HttpRequest, path: str, *, fmt: str) -> HttpResponse:
    raise Open311Error(404, "No such Open311 resource; start at discovery.json.")
