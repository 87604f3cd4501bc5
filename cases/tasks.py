"""Celery tasks of the cases app. Thin: take ids, call one service."""

from celery import shared_task


@shared_task(name="cases.tasks.escalation_sweep_task")
def escalation_sweep_task():
    from cases.escalation import escalation_sweep_run

    return escalation_sweep_run().as_dict()


@shared_task(name="cases.tasks.outbox_drain_task")
def outbox_drain_task():
    from cases.notifications import outbox_drain

    return outbox_drain()
