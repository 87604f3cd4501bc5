"""Reads of the cases app, one module per area; import from ``cases.selectors``."""

from cases.selectors.issues import *  # noqa: F403
from cases.selectors.issues import __all__ as _issues_all
from cases.selectors.runs import last_sweep_run

__all__ = [*_issues_all, "last_sweep_run"]
