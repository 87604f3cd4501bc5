"""The rollups' change log for outreach (see ``cases.figure_changes``): an activity's day in its
neighborhood, before and after a change — its own columns, or the partners and issues it is
linked to (which partners were engaged, which categories it counts under)."""

from __future__ import annotations

from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from cases.figure_changes import days_changed, local_day, track
from outreach.models import Activity


def activity_days(state: tuple | None) -> set:
    if state is None:
        return set()
    values = dict(zip(Activity.TRACKED_FIELDS, state, strict=True))
    return {(local_day(values["starts_at"]), values["neighborhood_id"])}


track(Activity, activity_days)


@receiver(m2m_changed, sender=Activity.partners.through, weak=False)
@receiver(m2m_changed, sender=Activity.issues.through, weak=False)
def _links_changed(sender, instance, action, reverse=False, pk_set=None, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        days_changed(activity_days(instance.tracked_state()))
        return
    # From the other side (a partner's or an issue's activities): the activities named.
    activities = Activity.objects.filter(pk__in=pk_set or ()).values_list("starts_at", "neighborhood_id")
    days_changed((local_day(starts_at), place) for starts_at, place in activities)
