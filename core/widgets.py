"""Form widgets that write their HTML in Python.

Django renders a ``<select>`` through its template engine: one template include per
``<option>``. The staff list pages' filter forms hold a few hundred options (every officer,
neighborhood and category), and rendering them that way was the largest part of a list
page's time (about 25 ms of /issues/ at 215 officers). ``Select`` here writes the same
markup — the same attributes, the same ``selected`` options, optgroups — directly.
"""

from __future__ import annotations

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join

__all__ = ["Select"]


def _option(option: dict) -> tuple:
    attrs = dict(option["attrs"])
    if option["selected"]:
        attrs["selected"] = True
    return (option["value"] if option["value"] is not None else "", flatatt(attrs), option["label"])


class Select(forms.Select):
    """``forms.Select`` with its HTML written in Python (same output as Django's template)."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        parts = []
        for group_name, options, _index in widget["optgroups"]:
            rendered = format_html_join("", '<option value="{}"{}>{}</option>', (_option(o) for o in options))
            if group_name:
                rendered = format_html('<optgroup label="{}">{}</optgroup>', group_name, rendered)
            parts.append((rendered,))
        options = format_html_join("", "{}", parts)  # each part is already escaped
        return format_html('<select name="{}"{}>{}</select>', widget["name"], flatatt(widget["attrs"]), options)


def use_fast_selects(form: forms.Form) -> None:
    """Give each plain ``<select>`` of ``form`` this module's ``Select`` (same choices and attributes)."""
    for field in form.fields.values():
        widget = field.widget
        if type(widget) is forms.Select:
            fast = Select(attrs=widget.attrs, choices=widget.choices)
            fast.is_required = widget.is_required
            field.widget = fast
