"""Celery tasks of the cases app. Thin: call one function; the schedule is their retry.

All run from Celery beat (settings.CELERY_BEAT_SCHEDULE). Each is safe to run
twice or on two workers at once: the sweep's escalations are unique in the
database, the drain claims rows with SKIP LOCKED, and the contact retention run
locks the issues it erases with SKIP LOCKED and only takes those still holding
details. ``acks_late`` (settings) hands the message of a worker killed mid-task to
another, which finishes the job.

A run that waited in the queue for several intervals (a worker that was down,
a long catch-up sweep ahead of it) expires instead of piling up: the next
scheduled run does the same work, since each run does whatever is due *now*.
"""

from celery import shared_task
from django.conf import settings


def _expires(seconds: int) -> int:
    return max(3 * int(seconds), 3)


@shared_task(name="cases.tasks.escalation_sweep_task", expires=_expires(settings.ESCALATION_SWEEP_SECONDS))
def escalation_sweep_task():
    from cases.escalation.sweep import escalation_sweep_run

    return escalation_sweep_run().as_dict()


@shared_task(name="cases.tasks.outbox_drain_task", expires=_expires(settings.OUTBOX_DRAIN_SECONDS))
def outbox_drain_task():
    from cases.notifications.drain import outbox_drain

    return outbox_drain()


@shared_task(name="cases.tasks.alert_digests_send_task", expires=12 * 3600)
def alert_digests_send_task():
    from cases.notifications.alerts import alert_digests_send

    return {"digests": alert_digests_send()}


@shared_task(name="cases.tasks.fixed_checks_send_task", expires=3600)
def fixed_checks_send_task():
    from cases.services.fixed_checks import fixed_checks_send

    return {"asked": fixed_checks_send()}


# Daily (03:30). A run left waiting half a day expires; the next day's run erases what is due then.
@shared_task(name="cases.tasks.contact_details_erase_task", expires=12 * 3600)
def contact_details_erase_task():
    from cases.services.retention import contact_details_erase

    return {"issues": contact_details_erase()}


# Nightly (03:45): the escalation sweep's log keeps its last 30 days (cases.escalation.sweep), the
# devices' idempotency keys their last 90 (core.client_keys).
@shared_task(name="cases.tasks.housekeeping_task", expires=12 * 3600)
def housekeeping_task():
    from cases.escalation.sweep import sweep_runs_prune
    from core.client_keys import client_keys_prune

    return {"sweep_runs": sweep_runs_prune(), "client_keys": client_keys_prune()}
