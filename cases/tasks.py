"""Celery tasks of the cases app. Thin: call one function, own the schedule's retries.

Both run from Celery beat (settings.CELERY_BEAT_SCHEDULE). Each is safe to run
twice or on two workers at once: the sweep's escalations are unique in the
database and the drain claims rows with SKIP LOCKED. ``acks_late`` (settings)
hands the message of a worker killed mid-task to another, which finishes the job.
"""

from celery import shared_task


@shared_task(name="cases.tasks.escalation_sweep_task")
def escalation_sweep_task():
    from cases.escalation import escalation_sweep_run

    return escalation_sweep_run().as_dict()


@shared_task(name="cases.tasks.outbox_drain_task")
def outbox_drain_task():
    from cases.notifications import outbox_drain

    return outbox_drain()
