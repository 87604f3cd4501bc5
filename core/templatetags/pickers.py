"""The search-as-you-type picker (static/js/picker.js) for templates: its words in the page's
language, given to the script by ``templates/_picker.html``."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag
def picker_text() -> dict:
    """Words static/js/picker.js shows, in the page's language."""
    return {
        "placeholder": _("Type to search…"),
        "issuePlaceholder": _("Tracking code or words of the issue…"),
        "issueHelp": _("Search by tracking code or by words of the description or address."),
        "noMatches": _("No matches."),
        "remove": _("Remove"),
        "failed": _("Search failed; try again."),
    }
