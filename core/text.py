"""Text from a request: free text a service takes (trimmed, required or not, and no longer than its
limit), and a whole number typed in a query string or a form. Text for a page: a field kept in
English and Spanish in the reader's language, and a person's name from a user's columns."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import get_language
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


def whole_number(text, *, max_digits: int = 18) -> int | None:
    """``text`` as a non-negative whole number when it is ASCII digits only (at most ``max_digits``:
    18 fit a bigint), else None. ``str.isdigit`` alone also accepts digits such as "²", which
    ``int`` then refuses: a 500 from a query string."""
    if not isinstance(text, str) or not (text.isascii() and text.isdigit()) or len(text) > max_digits:
        return None
    return int(text)


def in_language(english: str | None, spanish: str | None) -> str:
    """A text kept in both languages, in the active one: the Spanish when the page is in Spanish
    and there is one, else the English."""
    if spanish and (get_language() or "en").startswith("es"):
        return spanish
    return english or ""


def person_name(first_name: str | None, last_name: str | None, username: str | None) -> str:
    """What ``User.get_full_name() or get_username()`` gives, from the columns a read took."""
    return f"{first_name or ''} {last_name or ''}".strip() or username or ""
