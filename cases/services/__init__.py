"""Writes of the cases app, one module per area; import from ``cases.services``.

- ``issues``: intake and every officer action on an issue
- further modules (escalation, outbox, problems, …) live beside it
"""

from cases.services.issues import *  # noqa: F403
from cases.services.issues import __all__ as _issues_all

__all__ = list(_issues_all)

from cases.services.problems import *  # noqa: E402, F403
from cases.services.problems import __all__ as _problems_all  # noqa: E402

__all__ += list(_problems_all)

from cases.services.escalation import *  # noqa: E402, F403
from cases.services.escalation import __all__ as _escalation_all  # noqa: E402
from cases.services.outbox import *  # noqa: E402, F403
from cases.services.outbox import __all__ as _outbox_all  # noqa: E402

__all__ += list(_escalation_all) + list(_outbox_all)

from cases.services.moderation import *  # noqa: E402, F403
from cases.services.moderation import __all__ as _moderation_all  # noqa: E402

__all__ += list(_moderation_all)
from cases.services.messages import *  # noqa: E402, F403
from cases.services.messages import __all__ as _messages_all  # noqa: E402

__all__ += list(_messages_all)
