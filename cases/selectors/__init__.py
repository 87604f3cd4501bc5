"""Reads of the cases app, one module per area; import from ``cases.selectors``."""

from cases.selectors.issues import *  # noqa: F403
from cases.selectors.issues import __all__ as _issues_all
from cases.selectors.runs import (
    last_interrupted_sweep_run,
    last_sweep_run,
    latest_sweep_run,
    sweep_run_summary,
)

__all__ = [*_issues_all, "last_interrupted_sweep_run", "last_sweep_run", "latest_sweep_run", "sweep_run_summary"]
