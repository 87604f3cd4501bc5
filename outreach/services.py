"""Writes for outreach activities. Pages and the API both call these."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from cases.models import Event
from cases.services import event_record
from core.client_keys import Conflict, client_key_claim, client_key_parse, client_key_record
from outreach.models import Activity, ActivityRevision
from partners.models import Partner

SCALAR_FIELDS = (
    "kind",
    "title",
    "starts_at",
    "ends_at",
    "neighborhood",
    "place",
    "attendance",
    "hours",
    "languages",
    "notes",
    "problem",
    "follow_up_needed",
    "follow_up_note",
)
M2M_FIELDS = ("officers", "partners", "issues")
CLIENT_KEY_KIND = "outreach.activity"


def activity_default_hours(*, starts_at, ends_at, officer_count: int) -> Decimal:
    """Officer-hours: the activity's duration times the officers who attended (at least one)."""
    seconds = (ends_at - starts_at).total_seconds()
    return (Decimal(seconds) / Decimal(3600) * max(officer_count, 1)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _validate(fields: dict) -> None:
    errors = {}
    if fields.get("kind") not in Activity.Kind.values:
        errors["kind"] = _("Choose a kind of activity.")
    if not (fields.get("title") or "").strip():
        errors["title"] = _("Give the activity a title.")
    starts_at, ends_at = fields.get("starts_at"), fields.get("ends_at")
    if starts_at is None:
        errors["starts_at"] = _("When did it start?")
    if ends_at is None:
        errors["ends_at"] = _("When did it end?")
    if starts_at and ends_at and ends_at < starts_at:
        errors["ends_at"] = _("The end is before the start.")
    if starts_at and ends_at and (ends_at - starts_at).total_seconds() > 7 * 24 * 3600:
        errors["ends_at"] = _("An activity lasts at most a week; log longer work as several activities.")
    if fields.get("neighborhood") is None:
        errors["neighborhood"] = _("Choose the neighborhood.")
    attendance = fields.get("attendance", 0)
    if attendance is None or attendance < 0:
        errors["attendance"] = _("Attendance cannot be negative.")
    hours = fields.get("hours")
    if hours is not None and hours < 0:
        errors["hours"] = _("Hours cannot be negative.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def partner_figures_refresh(*, partner_ids: Iterable[int]) -> None:
    """Recount ``Partner.activity_count`` and ``last_activity_at`` of these partners from the activity
    and link rows, in one UPDATE: called in the transaction that changed an activity's partners or
    start, or deleted it, with every partner it had before and has after.

    The partners are locked first (in id order; ``FOR NO KEY UPDATE``, so a link inserted meanwhile
    still passes its foreign-key check). Two transactions recounting the same partner then take
    turns, and the UPDATE's snapshot, taken after the lock, holds the links the other one committed:
    the last recount to commit saw every change before it, and nothing drifts. An increment would
    need no lock but could never be checked against the rows it counts.
    """
    ids = sorted({int(pk) for pk in partner_ids})
    if not ids:
        return
    list(Partner.objects.filter(pk__in=ids).order_by("pk").select_for_update(no_key=True).values_list("pk"))
    links = Activity.partners.through.objects.filter(partner_id=OuterRef("pk")).order_by().values("partner_id")
    Partner.objects.filter(pk__in=ids).update(
        activity_count=Coalesce(Subquery(links.annotate(n=Count("*")).values("n")), 0),
        last_activity_at=Subquery(links.annotate(latest=Max("activity__starts_at")).values("latest")),
    )


def _partner_ids_of(activity_ids) -> set[int]:
    return set(
        Activity.partners.through.objects.filter(activity_id__in=activity_ids).values_list("partner_id", flat=True)
    )


def _link_issue_events(activity: Activity, issues, actor) -> None:
    for issue in issues:
        event_record(
            issue=issue,
            kind=Event.Kind.OUTREACH,
            actor=actor,
            message=activity.title,
            data={"activity_id": activity.pk},
        )


@transaction.atomic
def activity_create(*, actor, officers=None, partners=(), issues=(), client_key=None, **fields) -> Activity:
    """Log an outreach activity. The logging officer is an officer on it unless others are named.

    ``client_key``: the UUID the officer's device made for this entry (``core.client_keys``). When
    that key already logged an activity, nothing is written and that activity is returned, with
    ``replayed`` set to True (False on the activity just written).
    """
    unknown = set(fields) - set(SCALAR_FIELDS)
    if unknown:
        raise TypeError(f"unknown activity fields: {sorted(unknown)}")
    key = client_key_parse(client_key)
    if key is not None:
        made = client_key_claim(key=key, actor=actor, kind=CLIENT_KEY_KIND)
        if made is not None:
            existing = Activity.objects.filter(pk=made).first()
            if existing is None:
                raise Conflict(
                    _("This activity was logged earlier and has since been deleted."), code="client_key_deleted"
                )
            existing.replayed = True
            return existing
    _validate(fields)
    officers = list(officers) if officers else [actor]
    if fields.get("hours") is None:
        fields["hours"] = activity_default_hours(
            starts_at=fields["starts_at"], ends_at=fields["ends_at"], officer_count=len(officers)
        )
    fields.setdefault("languages", [])
    activity = Activity.objects.create(created_by=actor, **fields)
    activity.officers.set(officers)
    activity.partners.set(partners)
    activity.issues.set(issues)
    partner_figures_refresh(partner_ids=[getattr(partner, "pk", partner) for partner in partners])
    _link_issue_events(activity, issues, actor)
    if key is not None:
        client_key_record(key=key, object_id=activity.pk)
    activity.replayed = False
    return activity


def _describe(value):
    if hasattr(value, "pk"):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


@transaction.atomic
def activity_update(*, activity: Activity, actor, **changes) -> Activity:
    """Edit an activity; what changed and who changed it is kept as an ActivityRevision.

    ``hours=None`` recomputes officer-hours (duration × officers) from the edited values.
    """
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    unknown = set(changes) - set(SCALAR_FIELDS) - set(M2M_FIELDS)
    if unknown:
        raise TypeError(f"unknown activity fields: {sorted(unknown)}")
    merged = {name: getattr(activity, name) for name in SCALAR_FIELDS}
    merged.update({k: v for k, v in changes.items() if k in SCALAR_FIELDS})
    if merged.get("hours") is None:
        merged["hours"] = activity.hours
    _validate(merged)
    if "hours" in changes and changes["hours"] is None:
        # Hours cleared on edit: recompute from the (possibly new) times and officers, as on create.
        officer_count = len(changes["officers"]) if "officers" in changes else activity.officers.count()
        changes["hours"] = activity_default_hours(
            starts_at=merged["starts_at"], ends_at=merged["ends_at"], officer_count=officer_count
        )
    diff = {}
    for name in SCALAR_FIELDS:
        if name in changes and getattr(activity, name) != changes[name]:
            diff[name] = [_describe(getattr(activity, name)), _describe(changes[name])]
            setattr(activity, name, changes[name])
    new_issues = []
    recount = set()  # partners whose outreach figures this edit changes
    for name in M2M_FIELDS:
        if name not in changes:
            continue
        before = set(getattr(activity, name).values_list("pk", flat=True))
        after = {obj.pk for obj in changes[name]}
        if before != after:
            diff[name] = [sorted(before), sorted(after)]
            getattr(activity, name).set(changes[name])
            if name == "issues":
                new_issues = [obj for obj in changes[name] if obj.pk not in before]
            if name == "partners":
                recount |= before | after
    if not diff:
        return activity
    activity.save(update_fields=[n for n in SCALAR_FIELDS if n in diff] + ["updated_at"])
    if "starts_at" in diff:
        recount |= _partner_ids_of([activity.pk])
    partner_figures_refresh(partner_ids=recount)
    ActivityRevision.objects.create(activity=activity, actor=actor, changes=diff)
    _link_issue_events(activity, new_issues, actor)
    return activity


@transaction.atomic
def activities_delete(*, activities: QuerySet[Activity]) -> int:
    """Delete activities (their links and revisions go with them) and recount their partners' figures.

    The activities are locked before their partners are read, so an edit that changes their
    partners meanwhile either commits first (and its partners are the ones read) or waits.
    Returns how many activities were deleted.
    """
    # Through a subquery: the caller's queryset (the admin's changelist) may join or be DISTINCT,
    # which FOR UPDATE refuses.
    chosen = Activity.objects.filter(pk__in=activities.order_by().values("pk"))
    ids = list(chosen.order_by("pk").select_for_update().values_list("pk", flat=True))
    if not ids:
        return 0
    partner_ids = _partner_ids_of(ids)
    Activity.objects.filter(pk__in=ids).delete()
    partner_figures_refresh(partner_ids=partner_ids)
    return len(ids)
