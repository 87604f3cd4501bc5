"""Writes of the cases app, one module per area; import from ``cases.services``.

- ``issues``: intake and every officer action on an issue
- further modules (escalation, outbox, problems, …) live beside it
"""

from cases.services.issues import *  # noqa: F403
from cases.services.issues import __all__ as _issues_all

__all__ = list(_issues_all)
