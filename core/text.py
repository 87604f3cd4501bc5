"""Free text a service takes: trimmed, required or not, and no longer than its limit."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def clean_text(value, *, field: str, required: bool = True, max_length: int = 5000, empty_message: str = "") -> str:
    """``value`` stripped; a ``ValidationError`` on ``field`` when it is required and empty
    (``empty_message``, or "This field is required.") or longer than ``max_length``."""
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: empty_message or _("This field is required.")})
    if len(value) > max_length:
        raise ValidationError({field: _("Keep it under %(n)d characters.") % {"n": max_length}})
    return value
