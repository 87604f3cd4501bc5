"""The rollups' change log: which days of which neighborhood a change to the figures' rows touches.

Every save or delete of an issue, a feedback answer or (``outreach.figure_changes``) an outreach
activity that changes a column the figures read adds ``ChangedDay`` rows in the same
transaction: the local days (``settings.TIME_ZONE``) of the row's dates before and after the
change, in its neighborhood before and after. A save that changes nothing the figures read adds
nothing. The services, the admin and anything else that saves through the ORM are covered by
the signals below; ``issue_submit`` adds its row to the one multi-row INSERT that writes the new
issue (and marks the issue ``figure_days_logged``, so the signal does not add it twice);
set-based loaders (the demo seed, the bench data) rebuild the rollups
once they are done (``insights.rollups.rollups_rebuild``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from django.conf import settings
from django.db.models.functions import TruncDate
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone

from cases.models import Category, ChangedDay, Event, Feedback, Issue
from partners.models import Neighborhood

__all__ = ["days_changed", "issue_days", "local_day"]


def local_day(moment: datetime | None) -> date | None:
    """The day a moment falls on in the department's time zone (the figures' days)."""
    return None if moment is None else timezone.localdate(moment, timezone.get_default_timezone())


def days_changed(days: Iterable[tuple[date | None, int | None]]) -> None:
    """Log these (day, neighborhood) pairs as changed; pairs with no day are nothing to log."""
    if not settings.ROLLUP_CHANGE_LOG:
        return
    pairs = sorted({(day, place) for day, place in days if day and place})
    rows = [ChangedDay(day=day, neighborhood_id=place) for day, place in pairs]
    if rows:
        ChangedDay.objects.bulk_create(rows)


def _days_of(state: tuple | None, fields: tuple[str, ...], date_fields: tuple[str, ...]) -> set:
    if state is None:
        return set()
    values = dict(zip(fields, state, strict=True))
    return {(local_day(values[name]), values["neighborhood_id"]) for name in date_fields}


def issue_days(state: tuple | None) -> set:
    """The (day, neighborhood) pairs an issue's figures sit in: reported, acknowledged, finished."""
    return _days_of(state, Issue.TRACKED_FIELDS, ("created_at", "acknowledged_at", "resolved_at"))


def _before(model, instance) -> tuple | None:
    """The tracked values as stored: remembered at load (``core.models.TrackedFields``), else read."""
    if instance.pk is None or instance._state.adding:
        return None
    remembered = getattr(instance, "tracked_before", None)
    if remembered is not None:
        return remembered
    stored = model.objects.filter(pk=instance.pk).values_list(*model.TRACKED_FIELDS).first()
    return tuple(stored) if stored is not None else None


def track(model, days_of):
    """Log the days a save or delete of ``model`` touches; ``days_of(state)`` names them."""

    @receiver(pre_save, sender=model, weak=False)
    def remember(sender, instance, raw=False, **kwargs):
        if not raw and settings.ROLLUP_CHANGE_LOG:
            instance.tracked_before = _before(model, instance)

    @receiver(post_save, sender=model, weak=False)
    def saved(sender, instance, raw=False, **kwargs):
        if raw or not settings.ROLLUP_CHANGE_LOG:
            return
        before, after = getattr(instance, "tracked_before", None), instance.tracked_state()
        if before != after and not instance.__dict__.pop("figure_days_logged", False):
            days_changed(days_of(before) | days_of(after))
        instance.tracked_before = after

    @receiver(post_delete, sender=model, weak=False)
    def deleted(sender, instance, **kwargs):
        days_changed(days_of(getattr(instance, "tracked_before", None) or instance.tracked_state()))

    return remember, saved, deleted


track(Issue, issue_days)
track(Feedback, lambda state: _days_of(state, Feedback.TRACKED_FIELDS, ("created_at",)))


@receiver(post_save, sender=Event, weak=False)
def _reopened(sender, instance, created=False, raw=False, **kwargs):
    """A reopening counts on its own day (the issue's dates change too, and log theirs)."""
    if created and not raw and instance.kind == Event.Kind.REOPENED:
        days_changed([(local_day(instance.created_at), instance.issue.neighborhood_id)])


def relog_on_change(model, field: str, column: str) -> None:
    """When ``field`` of a ``model`` row changes (not on creation), log every day the issues and
    answers whose ``column`` names that row count on: their figures move between summary rows."""
    remembered = f"_was_{field}"

    @receiver(pre_save, sender=model, weak=False)
    def remember(sender, instance, raw=False, **kwargs):
        stored = None if raw or instance.pk is None else sender.objects.filter(pk=instance.pk).values_list(field)
        setattr(instance, remembered, None if stored is None else stored.first())

    @receiver(post_save, sender=model, weak=False)
    def changed(sender, instance, created=False, raw=False, **kwargs):
        was = getattr(instance, remembered, None)
        if not (created or raw or was is None or was[0] == getattr(instance, field)):
            _every_day_of(column, instance.pk)


def _every_day_of(column: str, pk: int) -> None:
    """Log every day the issues and answers of one category or neighborhood (``column``) count on:
    a grouped read per date."""
    zone = timezone.get_default_timezone()
    for model, moment in (
        (Issue, "created_at"),
        (Issue, "acknowledged_at"),
        (Issue, "resolved_at"),
        (Feedback, "created_at"),
    ):
        days_changed(
            model.objects.filter(**{column: pk, f"{moment}__isnull": False})
            .annotate(day=TruncDate(moment, tzinfo=zone))
            .values_list("day", "neighborhood_id")
            .distinct()
            .order_by()
        )
    days_changed(
        (local_day(moment), place)
        for moment, place in Event.objects.filter(kind=Event.Kind.REOPENED, **{f"issue__{column}": pk})
        .values_list("created_at", "issue__neighborhood_id")
        .order_by()
    )


# A category made public or private moves its issues and answers between the public and the
# private rows of the place tables.
relog_on_change(Category, "is_public", "category_id")
# A neighborhood moved to another district moves its figures between the districts' rows of the
# tables that have them (``insights.models.CityRows``); the worker sums both districts again.
relog_on_change(Neighborhood, "district", "neighborhood_id")
