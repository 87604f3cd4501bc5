"""Celery tasks of the insights app: the summary tables' upkeep (``insights.rollups``).

Both are safe to run twice or on two workers at once: the apply takes log rows with SKIP LOCKED
and serialises on each neighborhood's row; the repair recomputes from raw rows, which gives the
same rows however often it runs.
"""

from celery import shared_task
from django.conf import settings


@shared_task(name="insights.tasks.rollups_apply_task", expires=max(3 * settings.ROLLUP_APPLY_SECONDS, 3))
def rollups_apply_task():
    from insights.rollups import rollups_advance_open, rollups_apply_all

    return {"changes": rollups_apply_all(), "fell_due": rollups_advance_open()}


# Nightly. A run left waiting half a day expires; the next night's run checks the same window.
@shared_task(name="insights.tasks.rollups_repair_task", expires=12 * 3600)
def rollups_repair_task():
    from insights.rollups import rollups_repair

    record = rollups_repair()
    return {"first_day": str(record.first_day), "last_day": str(record.last_day), "drift": record.drift}
