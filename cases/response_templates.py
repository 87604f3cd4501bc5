"""Response templates' placeholders: which ones a template may use, and its text for one issue.

A template's text is a ``str.format`` string limited to three names, each without a format spec,
conversion, index or attribute (``{category.pk}``, ``{due:%Y}``, ``{0}`` are refused): what an
administrator types can read nothing of the issue but the three values given here. ``{{`` and
``}}`` stand for literal braces. Imports no model: ``cases.models`` validates with it.
"""

from __future__ import annotations

from string import Formatter

from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

PLACEHOLDERS = ("category", "neighborhood", "due")

__all__ = ["PLACEHOLDERS", "placeholder_errors", "template_language", "template_render"]


def placeholder_errors(text: str) -> list[str]:
    """What is wrong with the placeholders of ``text`` (empty when it may be saved)."""
    allowed = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
    try:
        parts = list(Formatter().parse(text))
    except ValueError:
        return [
            _("A brace is not closed or not opened. Use only %(allowed)s; write {{ or }} for a brace itself.")
            % {"allowed": allowed}
        ]
    errors = []
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            errors.append(
                _("Unknown placeholder %(placeholder)s. Use only %(allowed)s.")
                % {"placeholder": shown, "allowed": allowed}
            )
    return errors


def template_language(language: str) -> str:
    """The language a template is written in for a resident who reported in ``language``."""
    return "es" if (language or "").lower().startswith("es") else "en"


def template_render(template, issue, *, language: str | None = None) -> str:
    """The template's text for ``issue``, in ``language`` (default: the language the issue was
    reported in — the resident reads it on the status page and in their update emails)."""
    language = template_language(language or issue.language)
    text = template.text_es if language == "es" and template.text_es else template.text_en
    with translation.override(language):
        values = {
            "category": issue.category.name,
            "neighborhood": issue.neighborhood.name,
            "due": date_format(timezone.localtime(issue.due_at), "DATE_FORMAT"),
        }
    try:
        return text.format(**values)
    except (ValueError, KeyError, IndexError, AttributeError):
        # A row written around the admin's validation (raw SQL, an old import): the text as typed
        # beats a page that fails.
        return text
