"""Working offline (static/js/offline.js) for templates: the words the script shows, in the page's
language, given to it by ``templates/_offline.html``."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag
def offline_text() -> dict:
    """Words static/js/offline.js shows, in the page's language."""
    return {
        "saved": _("Saved on this device — waiting to send."),
        "sent": _("Sent: nothing is waiting on this device any more."),
        "activity": _("Outreach activity"),
        "note": _("Note on issue"),
        "waiting": _("Waiting for the network"),
        "sending": _("Sending…"),
        "signIn": _("Sign in to send"),
        "conflict": _("Conflict: not sent"),
        "refused": _("Not accepted: not sent"),
        "sendAnyway": _("Send anyway"),
        "discard": _("Discard"),
        "discarded": _("Discarded."),
        "signOutWarning": _("Entries waiting to send are deleted from this device when you sign out. Sign out anyway?"),
    }
