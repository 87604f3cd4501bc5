"""core.widgets.Select writes the same HTML as Django's template-rendered Select."""

from __future__ import annotations

import pytest
from django import forms
from django.test.html import parse_html

from core.widgets import Select, use_fast_selects

CHOICES = [
    ("", "Any"),
    ("a", 'Alpha & "quotes" <b>'),
    ("Group", [("g1", "In a group"), ("g2", "Also <i>")]),
    (3, "Three"),
]


@pytest.mark.parametrize("value", [None, "", "a", "g2", 3, "missing"])
def test_same_markup_as_django(value):
    attrs = {"id": "id_x", "class": "wide", "aria-describedby": "x-help", "required": True}
    django_html = forms.Select(choices=CHOICES).render("x", value, attrs=attrs)
    ours = Select(choices=CHOICES).render("x", value, attrs=attrs)
    # The same elements, attributes and text (attribute order and whitespace between tags aside).
    assert parse_html(str(ours)) == parse_html(str(django_html))
    assert "<b>" not in str(ours) and "&lt;b&gt;" in str(ours)


class _Filters(forms.Form):
    kind = forms.ChoiceField(choices=[("", "All"), ("x", "X")], required=False)
    many = forms.MultipleChoiceField(choices=[("x", "X")], required=False)
    text = forms.CharField(required=False)


def test_use_fast_selects_swaps_plain_selects_only():
    form = _Filters(data={"kind": "x"})
    plain = str(form["kind"])
    use_fast_selects(form)
    assert type(form.fields["kind"].widget) is Select
    assert type(form.fields["many"].widget) is forms.SelectMultiple
    assert parse_html(str(form["kind"])) == parse_html(plain)
    assert 'value="x" selected' in str(form["kind"])
