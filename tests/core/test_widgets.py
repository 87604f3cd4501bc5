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


@pytest.mark.django_db
@pytest.mark.parametrize("required", [True, False])
@pytest.mark.parametrize("empty_label", ["Pick one", None])
def test_rows_drawn_as_they_are_give_djangos_markup(required, empty_label):
    """``show_rows``' rows skip Django's normalizing, for the options and for the ``required`` test
    (whether the first option is an empty one); the field is bound and drawn as Django draws it."""
    from django.contrib.auth.models import Group

    from core.widgets import show_rows

    groups = [Group.objects.create(name=name) for name in ("Night <shift>", "Day")]
    rows = [(str(group.pk), group.name) for group in groups]

    class _Form(forms.Form):
        group = forms.ModelChoiceField(
            queryset=Group.objects.filter(pk__in=[g.pk for g in groups]).order_by("pk"),
            required=required,
            empty_label=empty_label,
        )

    django_form, our_form = _Form(initial={"group": groups[1].pk}), _Form(initial={"group": groups[1].pk})
    use_fast_selects(our_form)
    read = []
    show_rows(our_form.fields["group"], lambda: read.append(1) or rows)
    assert parse_html(str(our_form["group"])) == parse_html(str(django_form["group"]))
    assert len(read) == 1  # read once, for the required test and the options together
