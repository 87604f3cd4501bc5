"""Reads for the cases app: querysets already scoped and joined."""

from cases.models import SweepRun


def last_sweep_run():
    """The most recent finished escalation sweep, or None (health check, make run)."""
    return SweepRun.objects.filter(finished_at__isnull=False, dry_run=False).order_by("-started_at").first()
