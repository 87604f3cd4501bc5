"""Reads for the cases app: querysets already scoped and joined."""

from cases.models import SweepRun


def last_sweep_run():
    """The most recent finished escalation sweep, or None (health check, make run)."""
    return SweepRun.objects.filter(finished_at__isnull=False, dry_run=False).order_by("-started_at").first()


def latest_sweep_run():
    """The most recently started escalation sweep, whatever its state, or None (/healthz)."""
    return SweepRun.objects.filter(dry_run=False).order_by("-started_at").first()


def last_interrupted_sweep_run(*, now=None):
    """The most recently started sweep that died before finishing, or None (/healthz).

    Beat starts a new sweep every interval, so a run that died is rarely the latest for long;
    this keeps it in sight. Read from ``sweeprun_unfinished_idx`` (unfinished runs only).
    """
    runs = SweepRun.objects.filter(SweepRun.state_q(SweepRun.State.INTERRUPTED, now=now), dry_run=False)
    return runs.order_by("-started_at").first()


def _iso(moment):
    return moment.isoformat() if moment else None


def sweep_run_summary(run) -> dict | None:
    """What /healthz says of one run: its state and what it committed."""
    if run is None:
        return None
    return {
        "state": str(run.state),
        "started_at": _iso(run.started_at),
        "progress_at": _iso(run.progress_at),
        "finished_at": _iso(run.finished_at),
        "batches": run.batches,
        "escalations": run.escalations,
        "issues_escalated": run.issues_escalated,
        "notifications": run.notifications,
        "hotspots": run.hotspots,
        "problems_opened": run.problems_opened,
    }
