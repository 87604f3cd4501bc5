"""Form widgets that write their HTML in Python.

Django renders a ``<select>`` through its template engine: one template include per
``<option>``. The staff list pages' filter forms hold a few hundred options (every officer,
neighborhood and category), and rendering them that way was the largest part of a list
page's time (about 25 ms of /issues/ at 215 officers). ``Select`` here writes the same
markup — the same attributes, the same ``selected`` options, optgroups — directly.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from django import forms
from django.forms.utils import flatatt
from django.utils.safestring import mark_safe

__all__ = ["Select"]


def _text(value) -> str:
    """Escaped like the template engine does (a value that is already HTML stays as it is)."""
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return html.escape(str(value if value is not None else ""), quote=True)


def _option(value, label, selected: bool) -> str:
    chosen = " selected" if selected else ""
    return f'<option value="{_text("" if value is None else value)}"{chosen}>{_text(label)}</option>'


class Select(forms.Select):
    """``forms.Select`` with its HTML written in Python (same output as Django's template).

    It walks ``choices`` itself instead of going through ``optgroups()`` (a dict per option,
    built for the template): as Django does, the first option whose value matches is
    selected, a choice whose label is a list is an ``<optgroup>``, a ``None`` value is "".
    Rows given by ``show_rows`` are drawn as they are, without Django's normalizing of each
    choice (which walks every pair again: some 1.5 ms for 215 officers).
    """

    plain_rows: Callable[[], list[tuple[str, str]]] | None = None

    def use_required_attribute(self, initial):
        if self.plain_rows is None:
            return super().use_required_attribute(initial)
        # Django's asks whether the first choice is an empty one, walking (and normalizing) them all.
        first = next(iter(self.plain_rows()), None)
        return forms.Widget.use_required_attribute(self, initial) and first is not None and first[0] in ("", None)

    def render(self, name, value, attrs=None, renderer=None):
        wanted = set(self.format_value(value))
        attrs = self.build_attrs(self.attrs, attrs)
        found = False
        parts = []
        for group_value, group_label in self.plain_rows() if self.plain_rows is not None else self.choices:
            grouped = isinstance(group_label, list | tuple)
            options = group_label if grouped else [(group_value, group_label)]
            rendered = []
            for option_value, option_label in options:
                selected = not found and str("" if option_value is None else option_value) in wanted
                found = found or selected
                rendered.append(_option(option_value, option_label, selected))
            rendered = "".join(rendered)
            parts.append(f'<optgroup label="{_text(group_value)}">{rendered}</optgroup>' if grouped else rendered)
        # Every value and label above went through _text (escaped), as the attributes through flatatt.
        return mark_safe(  # noqa: S308
            f'<select name="{_text(name)}"{flatatt(attrs)}>{"".join(parts)}</select>'
        )


def use_fast_selects(form: forms.Form) -> None:
    """Give each plain ``<select>`` of ``form`` this module's ``Select`` (same choices and attributes)."""
    for field in form.fields.values():
        widget = field.widget
        if type(widget) is forms.Select:
            fast = Select(attrs=widget.attrs, choices=widget.choices)
            fast.is_required = widget.is_required
            field.widget = fast


def show_rows(field: forms.ModelChoiceField, rows: Callable[[], list[tuple[str, str]]]) -> None:
    """Draw a ``ModelChoiceField``'s select from plain ``(id, label)`` rows instead of model instances.

    ``rows`` is called when the select is drawn (a form that is only validated, as behind a
    CSV export, reads nothing). Only what the select shows changes: a submitted id is still
    looked up in the field's queryset, so an id that is not there (any more) is refused.
    """
    empty = [] if field.empty_label is None else [("", field.empty_label)]
    read: list[list[tuple[str, str]]] = []

    def choices():  # read once: Django also looks at the first option before drawing
        if not read:
            read.append([*empty, *rows()])
        return read[0]

    field.widget.choices = choices
    if isinstance(field.widget, Select):
        field.widget.plain_rows = choices
