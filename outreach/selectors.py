"""Reads for the outreach log: querysets already joined, filtered and annotated.

Every officer and supervisor may read every activity (outreach crosses beat
lines just as issues do). Editing is narrower, see ``can_edit_activity``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cases.models import Issue, tracking_code_normalize
from cases.selectors import issues_visible_to
from outreach.models import Activity, ActivityRevision
from partners.models import LANGUAGE_CHOICES, Partner

User = get_user_model()

LANGUAGE_LABELS = dict(LANGUAGE_CHOICES)
STAFF_PERMISSION = "outreach.view_activity"
EDIT_ANY_PERMISSION = "outreach.edit_any_activity"


def _is_staff(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(STAFF_PERMISSION))


@dataclass(frozen=True)
class ActivityFilters:
    """The outreach list's filters; the list page and the CSV export share them."""

    mine: bool = False
    neighborhood_id: int | None = None
    kind: str = ""
    partner_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    # A staff member's area (``core.area``): activities in these neighborhoods.
    neighborhood_ids: frozenset[int] | None = None


def officers_prefetch():
    """An activity's officers by name, as the list ``activity.officer_list`` (no related manager per row)."""
    return Prefetch(
        "officers", queryset=User.objects.order_by("last_name", "first_name", "username"), to_attr="officer_list"
    )


def partners_prefetch():
    """An activity's partners by name, as the list ``activity.partner_list``."""
    return Prefetch("partners", queryset=Partner.objects.order_by("name"), to_attr="partner_list")


def activities_visible_to(user) -> QuerySet[Activity]:
    """Activities a user may read, with what list pages show already joined."""
    if not _is_staff(user):
        return Activity.objects.none()
    return Activity.objects.select_related("neighborhood", "created_by")


def activity_list(user, filters: ActivityFilters) -> QuerySet[Activity]:
    """The outreach log, filtered; officers and partners prefetched, linked issues counted in SQL."""
    qs = activities_visible_to(user)
    if filters.mine:
        # The ids of mine first (as an officer on it, or its author: each from its own index), so the
        # list reads my activities rather than walking everyone's looking for mine.
        as_officer = Activity.officers.through.objects.filter(user_id=user.pk).order_by().values("activity_id")
        as_author = Activity.objects.filter(created_by=user).order_by().values("id")
        qs = qs.filter(pk__in=as_officer.union(as_author))
    if filters.neighborhood_id:
        qs = qs.filter(neighborhood_id=filters.neighborhood_id)
    elif filters.neighborhood_ids is not None:
        qs = qs.filter(neighborhood_id__in=sorted(filters.neighborhood_ids))
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.partner_id:
        # EXISTS rather than a join: one row per activity whatever the partners.
        with_partner = Activity.partners.through.objects.filter(
            activity_id=OuterRef("pk"), partner_id=filters.partner_id
        )
        qs = qs.filter(Exists(with_partner))
    tz = timezone.get_current_timezone()
    if filters.date_from:
        qs = qs.filter(starts_at__gte=datetime.combine(filters.date_from, time.min, tzinfo=tz))
    if filters.date_to:
        # Inclusive: everything that started on the last day.
        qs = qs.filter(starts_at__lt=datetime.combine(filters.date_to + timedelta(days=1), time.min, tzinfo=tz))
    issue_count = Activity.issues.through.objects.filter(activity_id=OuterRef("pk"))
    return (
        qs.annotate(
            issue_count=Coalesce(
                count_subquery(issue_count, "activity_id"),
                0,
            )
        )
        .prefetch_related(officers_prefetch(), partners_prefetch())
        .order_by("-starts_at", "-pk")
    )


def count_subquery(queryset, group_field):
    """A correlated COUNT(*) subquery (no join, so no row multiplication with other annotations)."""
    return Subquery(
        queryset.order_by().values(group_field).annotate(n=Count("*")).values("n")[:1],
        output_field=IntegerField(),
    )


def activity_totals(queryset: QuerySet[Activity]) -> dict:
    """Count, attendance and officer-hours of a filtered list, in one aggregate query."""
    return queryset.order_by().aggregate(
        activities=Count("pk"),
        attendance=Coalesce(Sum("attendance"), 0),
        hours=Sum("hours"),
    )


def activity_totals_capped(queryset: QuerySet[Activity], cap: int) -> dict:
    """The outreach log's totals, read from at most ``cap + 1`` activities (newest first, on the
    index the list walks), so the page costs the same however long the log is.

    ``{"activities", "attendance", "hours", "exact"}``: exact when the list holds ``cap`` or
    fewer; otherwise ``activities`` is the cap and the attendance and hours are those of the
    newest ``cap`` (the page says so; the dashboard totals any period).
    """
    rows = list(queryset.order_by("-starts_at", "-id").values_list("attendance", "hours")[: cap + 1])
    exact = len(rows) <= cap
    rows = rows[:cap]
    return {
        "activities": len(rows),
        "attendance": sum(attendance or 0 for attendance, _hours in rows),
        "hours": sum((hours for _attendance, hours in rows if hours is not None), Decimal(0)) if rows else None,
        "exact": exact,
    }


def activity_for_user(user, pk) -> Activity:
    """One activity with everything its detail page shows, or 404."""
    qs = (
        activities_visible_to(user)
        .select_related("problem")
        .prefetch_related(
            Prefetch("officers", queryset=User.objects.order_by("last_name", "first_name", "username")),
            Prefetch("partners", queryset=Partner.objects.order_by("name")),
            Prefetch(
                "issues",
                queryset=Issue.objects.select_related("category", "neighborhood", "assignee").order_by("tracking_code"),
            ),
        )
    )
    return get_object_or_404(qs, pk=pk)


def can_edit_activity(user, activity: Activity) -> bool:
    """The author — whoever logged it or any officer named on it — or a supervisor.

    Officers named on an activity were there and may correct it (a partner
    added, attendance recounted); everyone else needs ``outreach.edit_any_activity``.
    """
    if not (_is_staff(user) and user.has_perm("outreach.change_activity")):
        return False
    if user.has_perm(EDIT_ANY_PERMISSION):
        return True
    if activity.created_by_id == user.pk:
        return True
    return activity.officers.filter(pk=user.pk).exists()


def activity_revisions(activity: Activity) -> list[dict]:
    """The activity's edit history, newest first, with linked objects named (fixed number of queries).

    Revisions store the ids of officers/partners/issues before and after; the
    names are looked up in one query per kind for the whole history.
    """
    revisions = list(ActivityRevision.objects.filter(activity=activity).select_related("actor"))
    wanted = {"officers": set(), "partners": set(), "issues": set()}
    for revision in revisions:
        for name, ids in wanted.items():
            if name in revision.changes:
                before, after = revision.changes[name]
                ids.update(before)
                ids.update(after)
    names = {
        "officers": {u.pk: u.get_full_name() or u.username for u in User.objects.filter(pk__in=wanted["officers"])},
        "partners": dict(Partner.objects.filter(pk__in=wanted["partners"]).values_list("pk", "name")),
        "issues": dict(Issue.objects.filter(pk__in=wanted["issues"]).values_list("pk", "tracking_code")),
    }
    labels = {f.name: f.verbose_name for f in Activity._meta.get_fields() if hasattr(f, "verbose_name")}
    result = []
    for revision in revisions:
        changes = []
        for name, (before, after) in revision.changes.items():
            if name in names:
                removed = [names[name].get(pk, f"#{pk}") for pk in before if pk not in after]
                added = [names[name].get(pk, f"#{pk}") for pk in after if pk not in before]
                changes.append({"field": labels.get(name, name), "added": added, "removed": removed, "m2m": True})
            else:
                changes.append(
                    {
                        "field": labels.get(name, name),
                        "before": _revision_value(name, before),
                        "after": _revision_value(name, after),
                        "m2m": False,
                    }
                )
        result.append({"revision": revision, "changes": changes})
    return result


def _revision_value(name: str, value):
    """A stored before/after value as people read it (local times, labels rather than codes)."""
    if value is None or value == "" or value == []:
        return "—"
    if name in ("starts_at", "ends_at"):
        try:
            return date_format(timezone.localtime(datetime.fromisoformat(value)), "DATETIME_FORMAT")
        except (TypeError, ValueError):
            return value
    if name == "kind":
        return Activity.Kind(value).label if value in Activity.Kind.values else value
    if name == "languages":
        return ", ".join(str(LANGUAGE_LABELS.get(code, code)) for code in value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return value


def language_labels(codes) -> list[str]:
    return [str(LANGUAGE_LABELS.get(code, code)) for code in codes or []]


def officer_choices(activity: Activity | None = None) -> QuerySet:
    """People who can be named as officers on an activity: active staff who log outreach.

    On an existing activity its officers stay choosable even if they have since
    left, so correcting an old activity does not force dropping them.
    """
    can_log = Q(
        groups__permissions__codename="add_activity",
        groups__permissions__content_type__app_label="outreach",
    ) | Q(is_superuser=True)
    staff = User.objects.filter(can_log, is_active=True).values("pk")
    wanted = Q(pk__in=staff)
    if activity is not None:
        wanted |= Q(pk__in=activity.officers.values("pk"))
    return User.objects.filter(wanted).order_by("last_name", "first_name", "username")


def issue_search(user, q: str, limit: int = 10) -> list[Issue]:
    """Issues for the "issues addressed" picker: the staff issue search, from two typed characters on."""
    from cases.selectors.staff import issue_search as staff_issue_search

    q = (q or "").strip()
    return staff_issue_search(user, q, limit=limit) if len(q) >= 2 else []


def normalize_tracking_code(text: str) -> str:
    """The canonical tracking code for what an officer typed, or '' when it is not one."""
    return tracking_code_normalize(text, strict=True) or ""


def issues_by_codes(user, codes: list[str]) -> tuple[list[Issue], list[str]]:
    """The visible issues with these tracking codes, and the codes that matched none."""
    wanted = [c for c in dict.fromkeys(codes) if c]
    found = {i.tracking_code: i for i in issues_visible_to(user).filter(tracking_code__in=wanted)}
    return [found[c] for c in wanted if c in found], [c for c in wanted if c not in found]
