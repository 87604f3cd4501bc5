"""core.forms.copies_fields_quickly: each form gets fields of its own, as Django's deepcopy gives it."""

from __future__ import annotations

import copy

import pytest
from django import forms

from cases.public_forms import ReportForm
from core.forms import copies_fields_quickly
from partners.models import Neighborhood


class _OwnCopyField(forms.CharField):
    """A field with a __deepcopy__ of its own: copied by it, not by the quick path."""

    copies = 0

    def __deepcopy__(self, memo):
        type(self).copies += 1
        return super().__deepcopy__(memo)


class _SlottedWidget(forms.TextInput):
    __slots__ = ()


@copies_fields_quickly
class _Sample(forms.Form):
    name = forms.CharField(max_length=20, help_text="h", widget=forms.TextInput(attrs={"class": "wide"}))
    kind = forms.ChoiceField(choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect)
    place = forms.ModelChoiceField(queryset=Neighborhood.objects.order_by("name"), required=False)
    email = forms.EmailField(required=False)
    own = _OwnCopyField(required=False)
    slotted = forms.CharField(required=False, widget=_SlottedWidget)


def _comparable(value):
    """What a copy must hold the same as Django's: plain values equal, containers by content."""
    if isinstance(value, forms.Widget):
        return (type(value), _comparable(value.__dict__))
    if isinstance(value, dict):
        return {
            key: _comparable(item) for key, item in value.items() if key not in ("_queryset", "choices", "_choices")
        }
    if isinstance(value, (list, tuple)):
        return [_comparable(item) for item in value]
    return value


def test_each_field_is_copied_as_djangos_deepcopy_copies_it():
    quick = copy.deepcopy(_Sample.base_fields)
    django = copy.deepcopy(dict(_Sample.base_fields))
    assert type(quick) is dict and list(quick) == list(django) == list(_Sample.base_fields)
    for name, original in _Sample.base_fields.items():
        mine, theirs = quick[name], django[name]
        assert type(mine) is type(original) and mine is not original
        assert _comparable(mine.__dict__) == _comparable(theirs.__dict__), name
        # Never shared with the class: the widget, its attrs, the messages, the validators.
        assert mine.widget is not original.widget and mine.widget.attrs is not original.widget.attrs
        assert mine.error_messages is not original.error_messages and mine.error_messages == original.error_messages
        assert mine.validators is not original.validators and mine.validators == original.validators


def test_choices_and_querysets_are_the_forms_own():
    fields = copy.deepcopy(_Sample.base_fields)
    original = _Sample.base_fields
    assert fields["kind"].widget.choices == original["kind"].widget.choices
    assert fields["kind"].widget.choices is not original["kind"].widget.choices
    place = fields["place"]
    assert place.queryset is not original["place"].queryset
    assert place.queryset.query is not original["place"].queryset.query
    assert str(place.queryset.query) == str(original["place"].queryset.query)
    assert place.widget.choices.field is place  # the widget lists this form's queryset, not the class's


def test_a_form_changing_its_fields_changes_no_other_form():
    first, second = _Sample(), _Sample()
    first.fields["name"].widget.attrs["aria-invalid"] = "true"
    first.fields["name"].error_messages["required"] = "changed"
    first.fields["name"].validators.append(lambda value: None)
    first.fields["kind"].widget.choices.append(("c", "C"))
    assert "aria-invalid" not in second.fields["name"].widget.attrs
    assert "aria-invalid" not in _Sample.base_fields["name"].widget.attrs
    assert second.fields["name"].error_messages["required"] != "changed"
    assert len(second.fields["name"].validators) == len(_Sample.base_fields["name"].validators)
    assert ("c", "C") not in second.fields["kind"].widget.choices


def test_fields_and_widgets_of_other_kinds_are_deep_copied_as_usual():
    before = _OwnCopyField.copies
    fields = copy.deepcopy(_Sample.base_fields)
    assert _OwnCopyField.copies == before + 1
    assert fields["slotted"].widget is not _Sample.base_fields["slotted"].widget
    assert type(fields["slotted"].widget) is _SlottedWidget


def test_a_subclass_still_gets_copies_of_its_own():
    class Wider(_Sample):
        extra = forms.CharField()

    form, other = Wider(), Wider()
    assert set(form.fields) == {*_Sample.base_fields, "extra"}
    form.fields["name"].widget.attrs["x"] = "1"
    assert "x" not in other.fields["name"].widget.attrs


@pytest.mark.django_db
def test_the_report_form_validates_and_describes_its_fields_as_before(place, cat):
    from tests.cases.public_helpers import form_data

    bad = ReportForm(form_data(cat, description="", reporter_email="not an email"))
    assert not bad.is_valid()
    assert bad.fields["description"].widget.attrs["aria-invalid"] == "true"
    assert bad.fields["description"].widget.attrs["aria-describedby"] == "description-help description-error"
    good = ReportForm(form_data(cat))
    assert good.is_valid(), good.errors
    assert "aria-invalid" not in good.fields["description"].widget.attrs
    assert "aria-invalid" not in ReportForm.base_fields["description"].widget.attrs
    assert good.fields["neighborhood"].queryset is not ReportForm.base_fields["neighborhood"].queryset
