"""Reads behind the Open311 endpoints, already scoped to what the public may see.

Sensitive categories (``is_public=False``) do not exist as far as Open311 is
concerned: they are not services, and their issues are not requests.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, JSONField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import JSONObject
from django.utils import timezone

from cases.models import ApiClient, Category, CategoryAttribute, Event, Issue, Report
from core.dialect import local_times
from partners.models import Neighborhood

# The spec's default and maximum number of requests in one GET requests answer.
MAX_REQUESTS = 1000
SERVICE_CODE_MAX = Category._meta.get_field("service_code").max_length
TRACKING_CODE_MAX = Issue._meta.get_field("tracking_code").max_length


def _lookup_value(value: str, max_length: int) -> bool:
    """Whether a client-given id can name a row at all (PostgreSQL refuses NUL bytes in a query)."""
    return bool(value) and len(value) <= max_length and "\x00" not in value


def public_services() -> QuerySet[Category]:
    """Every category Open311 clients may file into, with whether it asks extra questions."""
    has_attributes = CategoryAttribute.objects.filter(category=OuterRef("pk"))
    return Category.objects.filter(is_public=True, is_active=True).annotate(has_attributes=Exists(has_attributes))


def public_service(service_code: str) -> Category | None:
    """One service with its attributes in order, or None when unknown, inactive or sensitive."""
    if not _lookup_value(service_code, SERVICE_CODE_MAX):
        return None
    return (
        Category.objects.filter(is_public=True, is_active=True, service_code=service_code)
        .prefetch_related(Prefetch("attributes", queryset=CategoryAttribute.objects.order_by("order", "code")))
        .first()
    )


def public_service_codes(codes: list[str]) -> set[str]:
    """Which of these codes name public categories (active or retired: their requests stay readable)."""
    codes = [code for code in codes if _lookup_value(code, SERVICE_CODE_MAX)]
    return set(Category.objects.filter(is_public=True, service_code__in=codes).values_list("service_code", flat=True))


def api_client_for_key(key: str) -> ApiClient | None:
    """The active client holding this api_key; revoked keys find nothing."""
    if not _lookup_value(key, ApiClient._meta.get_field("key").max_length):
        return None
    return ApiClient.objects.filter(key=key, is_active=True).first()


def neighborhood_for_address_id(address_id: str) -> Neighborhood | None:
    """Our own address ids are neighborhood slugs: a client that knows them can file at neighborhood level."""
    if not _lookup_value(address_id, Neighborhood._meta.get_field("slug").max_length):
        return None
    return Neighborhood.objects.filter(slug__iexact=address_id).first()


# What a service request shows, read as plain tuples in this order (no model objects, not even a
# dict, per request): the issue's public columns, its category's name and targets, its
# neighborhood's district, then the two annotations of ``public_requests``. Its three times come as
# local text and offset (``core.dialect.LocalTimeText``: PostgreSQL writes them; SQLite gives the
# datetime and no offset).
# ``serializers.request_items`` unpacks them in the same order.
REQUEST_FIELDS = (
    "tracking_code",
    "status",
    "priority",
    "public_description",
    "created_local",
    "created_offset",
    "updated_local",
    "updated_offset",
    "due_local",
    "due_offset",
    "public_address",
    "address_id",
    "lat",
    "lng",
    "referred_to",
    "category__service_code",
    "category__name_en",
    "category__name_es",
    "category__target_hours_low",
    "category__target_hours_normal",
    "category__target_hours_high",
    "category__target_hours_urgent",
    "neighborhood__district",
    "status_note",
    "first_media",
)


def _public_requests(zone: str) -> QuerySet:
    """Issues as Open311 service requests, as tuples of ``REQUEST_FIELDS``: one query whatever
    the number of rows; times in ``zone``.

    ``status_note`` is the latest public timeline message; ``first_media`` the earliest
    approved photo or link (``{"report", "photo", "link"}``, None before any approval).
    """
    latest_public_message = (
        Event.objects.filter(issue=OuterRef("pk"), is_public=True)
        .exclude(message="")
        .order_by("-created_at", "-id")
        .values("message")[:1]
    )
    # Only what a moderator approved, on a report still shown (cases.selectors.moderation): our public
    # copy of a photo, or a link a 311 client sent (never fetched; shown as given once approved).
    first_public_media = (
        Report.objects.filter(issue=OuterRef("pk"), photo_state=Report.PhotoState.APPROVED, is_hidden=False)
        .filter(~Q(public_photo="") | ~Q(media_url=""))
        .order_by("created_at", "id")
        .values(media=JSONObject(report="id", photo="public_photo", link="media_url"))[:1]
    )
    return (
        Issue.objects.filter(category__is_public=True)
        .annotate(
            **local_times(("created", "updated", "due"), zone),
            status_note=Subquery(latest_public_message),
            first_media=Subquery(first_public_media, output_field=JSONField()),
        )
        .values_list(*REQUEST_FIELDS)
        .order_by("-created_at", "-id")
    )


_PUBLIC_REQUESTS: dict[str, QuerySet] = {}


def public_requests() -> QuerySet:
    """``_public_requests`` in the current time zone, its annotations worked out once per process
    (and zone) and the queryset cloned for each answer (resolving the two subqueries was about a
    tenth of a 1 000-request answer)."""
    zone = timezone.get_current_timezone_name()
    base = _PUBLIC_REQUESTS.get(zone)
    if base is None:
        base = _PUBLIC_REQUESTS[zone] = _public_requests(zone)
    return base.all()


def requests_by_ids(tracking_codes: list[str]) -> list[tuple]:
    tracking_codes = [code for code in tracking_codes if _lookup_value(code, TRACKING_CODE_MAX)]
    return list(public_requests().filter(tracking_code__in=tracking_codes)[:MAX_REQUESTS])


def _of_services(queryset: QuerySet, service_codes: list[str]) -> QuerySet:
    """Requests of these services. One code is looked up first (an InitPlan), so the newest of
    that category are read from issue_cat_created_idx in order and the scan stops at the limit."""
    if len(service_codes) == 1:
        category = Category.objects.filter(is_public=True, service_code=service_codes[0]).values("id")[:1]
        return queryset.filter(category_id=Subquery(category))
    return queryset.filter(category__service_code__in=service_codes)


def requests_matching(
    *,
    start: datetime,
    end: datetime,
    service_codes: list[str] | None = None,
    statuses: set[str] | None = None,
    page: int = 1,
    page_size: int = MAX_REQUESTS,
) -> list[tuple]:
    """Requests made in [start, end], newest first: page ``page`` of ``page_size`` (at most the
    spec's 1000; ``params.request_search`` keeps page × page_size within its bound)."""
    queryset = public_requests().filter(created_at__gte=start, created_at__lte=end)
    if service_codes:
        queryset = _of_services(queryset, service_codes)
    if statuses is not None and statuses != {"open", "closed"}:
        open_statuses = list(Issue.OPEN_STATUSES)
        queryset = (
            queryset.filter(status__in=open_statuses)
            if "open" in statuses
            else queryset.exclude(status__in=open_statuses)
        )
    page_size = min(page_size, MAX_REQUESTS)
    return list(queryset[(page - 1) * page_size : page * page_size])


# Timeline kinds that open or close an issue. Every other public entry comes while the issue is
# open, or, after it is closed, changes nothing of that (a note, another report joining).
CLOSING_KINDS = (
    Event.Kind.DUPLICATE,
    Event.Kind.REFERRED,
    Event.Kind.RESOLVED,
    Event.Kind.CLOSED,
    Event.Kind.CRIME_REPORT,
)
OPENING_KINDS = (Event.Kind.CREATED, Event.Kind.REOPENED)

# What an update shows, in this order (``serializers.update_items`` unpacks it).
UPDATE_FIELDS = (
    "id",
    "issue__tracking_code",
    "kind",
    "message",
    "data",
    "created_local",
    "created_offset",
    "status_kind",
)


def public_updates(*, start: datetime, end: datetime, page: int = 1, page_size: int = MAX_REQUESTS) -> list[tuple]:
    """mySociety's service request updates: the public timeline entries (as the status page shows
    them) of public requests, made in [start, end], oldest first, as tuples of ``UPDATE_FIELDS``.

    ``status_kind`` is the latest opening or closing entry of the issue up to this one: whether
    the request was open or closed after it, read from the timeline itself (event_issue_created_idx),
    not from the issue as it is now. Read from event_public_created_idx in order: a page costs its
    rows, whatever the size of the timeline.
    """
    status_kind = (
        Event.objects.filter(issue=OuterRef("issue"), kind__in=CLOSING_KINDS + OPENING_KINDS)
        .filter(Q(created_at__lt=OuterRef("created_at")) | Q(created_at=OuterRef("created_at"), id__lte=OuterRef("id")))
        .order_by("-created_at", "-id")
        .values("kind")[:1]
    )
    zone = timezone.get_current_timezone_name()
    rows = (
        Event.objects.filter(is_public=True, created_at__gte=start, created_at__lte=end)
        .filter(issue__category__is_public=True)
        .annotate(**local_times(("created",), zone), status_kind=Subquery(status_kind))
        .order_by("created_at", "id")
        .values_list(*UPDATE_FIELDS)
    )
    page_size = min(page_size, MAX_REQUESTS)
    return list(rows[(page - 1) * page_size : page * page_size])


def request_by_id(tracking_code: str) -> tuple | None:
    if not _lookup_value(tracking_code, TRACKING_CODE_MAX):
        return None
    return public_requests().filter(tracking_code=tracking_code).first()


def report_for_token(token: str) -> Report | None:
    """The Open311 report a POST token stands for, on an issue the public may see."""
    if not _lookup_value(token, Report._meta.get_field("open311_token").max_length):
        return None
    return (
        Report.objects.filter(open311_token=token, issue__category__is_public=True)
        .select_related("issue")
        .only("id", "open311_token", "issue__tracking_code")
        .first()
    )
