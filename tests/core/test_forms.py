"""core.forms: each form gets fields of its own, as Django's deepcopy gives it, copied on first use;
a form cleaned without BoundFields cleans as Django's own ``_clean_fields`` does."""

from __future__ import annotations

import copy

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.datastructures import MultiValueDict

from cases.web.public.forms import ReportForm
from core.forms import CleansFieldsDirectly, copies_fields_quickly, fields_copied
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
    assert isinstance(quick, dict) and list(quick) == list(django) == list(_Sample.base_fields)
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
    assert _OwnCopyField.copies == before  # copied on first use
    assert "own" in fields
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
    from tests.cases.web.public.public_helpers import form_data

    bad = ReportForm(form_data(cat, description="", reporter_email="not an email"))
    assert not bad.is_valid()
    assert bad.fields["description"].widget.attrs["aria-invalid"] == "true"
    assert bad.fields["description"].widget.attrs["aria-describedby"] == "description-help description-error"
    good = ReportForm(form_data(cat))
    assert good.is_valid(), good.errors
    assert "aria-invalid" not in good.fields["description"].widget.attrs
    assert "aria-invalid" not in ReportForm.base_fields["description"].widget.attrs
    assert good.fields["neighborhood"].queryset is not ReportForm.base_fields["neighborhood"].queryset


# --- copied on first use -----------------------------------------------------------------------

_USES = {
    "item": lambda fields: fields["name"],
    "get": lambda fields: fields.get("name"),
    "items": lambda fields: dict(fields.items())["name"],
    "values": lambda fields: list(fields.values())[0],
    "iteration": lambda fields: [fields[name] for name in list(iter(fields))][0],
    "dict()": lambda fields: dict(fields)["name"],
    "unpacking": lambda fields: {**fields}["name"],
    "update": lambda fields: (lambda other: (other.update(fields), other["name"])[1])({}),
    "union": lambda fields: ({} | fields)["name"],
    "copy": lambda fields: fields.copy()["name"],
    "setdefault": lambda fields: fields.setdefault("name", None),
    "pop": lambda fields: fields.pop("name"),
    "popitem": lambda fields: [fields.popitem() for _ in range(len(fields))][-1][1],
    "deepcopy": lambda fields: copy.deepcopy(fields)["name"],
}


@pytest.mark.parametrize("use", list(_USES))
def test_however_the_fields_are_used_they_are_the_forms_own(use):
    form = _Sample()
    assert not fields_copied(form)
    got = _USES[use](form.fields)
    assert fields_copied(form)
    original = _Sample.base_fields["name"]
    assert type(got) is type(original) and got is not original
    assert got.widget is not original.widget and got.widget.attrs == original.widget.attrs
    assert got.widget.attrs is not original.widget.attrs


def test_the_copy_compares_sizes_and_tests_membership_as_a_dict():
    first, second = _Sample(), _Sample()
    assert len(first.fields) == len(_Sample.base_fields) and bool(first.fields)
    assert "name" in second.fields and "missing" not in second.fields
    assert list(reversed(_Sample().fields)) == list(reversed(list(_Sample.base_fields)))
    assert _Sample().fields != {} and _Sample().fields.keys() == _Sample.base_fields.keys()
    assert repr(_Sample().fields).startswith("{'name': <django.forms.fields.CharField")


def test_a_form_changing_one_of_its_fields_later_changes_no_other_form():
    first, second = _Sample(), _Sample()
    first.fields["name"].required = False
    first.fields["name"].widget.attrs["aria-invalid"] = "true"
    assert second.fields["name"].required and "aria-invalid" not in second.fields["name"].widget.attrs
    assert _Sample.base_fields["name"].required and "aria-invalid" not in _Sample.base_fields["name"].widget.attrs


# --- cleaned without BoundFields -------------------------------------------------------------------


class _Cleaned(CleansFieldsDirectly, forms.Form):
    name = forms.CharField(max_length=5)
    count = forms.IntegerField(min_value=0, required=False)
    when = forms.DateField(required=False, disabled=True, initial="2024-03-05")
    choice = forms.ChoiceField(choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect)
    place = forms.ModelChoiceField(queryset=Neighborhood.objects.order_by("name"), required=False)
    flag = forms.BooleanField(required=False)
    attachment = forms.FileField(required=False)
    later = forms.CharField(required=False)
    split = forms.SplitDateTimeField(required=False)
    tags = forms.MultipleChoiceField(choices=[("x", "X"), ("y", "Y")], required=False)

    def clean_count(self):
        # A hook that changes a later field: the rest of this round sees the change, as in Django.
        if self.cleaned_data.get("count") == 0:
            self.fields["later"].required = True
        return self.cleaned_data["count"]


@copies_fields_quickly
class _CleanedOnUse(_Cleaned):
    pass


class _DjangosCleaning(_Cleaned):
    _clean_fields = forms.BaseForm._clean_fields


_INPUTS = [
    {},
    {"name": "Ana", "count": "3", "choice": "a", "flag": "on", "later": "x", "tags": ["x", "y"]},
    {"name": "too long", "count": "-1", "choice": "z", "place": "999999", "tags": ["q"]},
    {"name": "Ana", "count": "0", "choice": "b", "when": "1999-01-01"},  # the hook makes "later" required
    {"name": "Ana", "count": "x", "choice": "b", "split_0": "2024-01-02", "split_1": "10:30"},
    {"name": " Ana ", "choice": "a", "split_0": "2024-01-02", "split_1": "nonsense"},
]


def _outcome(form):
    valid = form.is_valid()
    return valid, form.cleaned_data, form.errors.get_json_data()


@pytest.mark.django_db
@pytest.mark.parametrize("data", _INPUTS)
@pytest.mark.parametrize("with_file", [False, True])
def test_cleaning_without_boundfields_gives_djangos_outcome(data, with_file, place):
    data = {**data, "place": str(place.pk)} if "place" not in data and data else data
    files = MultiValueDict({"attachment": [SimpleUploadedFile("a.txt", b"hi")]}) if with_file else MultiValueDict()
    query = MultiValueDict({key: value if isinstance(value, list) else [value] for key, value in data.items()})
    expected = _outcome(_DjangosCleaning(query, files))
    for form_class in (_Cleaned, _CleanedOnUse):
        got = _outcome(form_class(query, files))
        assert got[0] == expected[0] and got[2] == expected[2], form_class
        assert {k: v for k, v in got[1].items() if k != "attachment"} == {
            k: v for k, v in expected[1].items() if k != "attachment"
        }
        assert ("attachment" in got[1]) == ("attachment" in expected[1])
    # Initial values and their forms: a bound form renders what it was given.
    assert str(_CleanedOnUse(query, files)["name"]) == str(_DjangosCleaning(query, files)["name"])


@pytest.mark.django_db
def test_a_valid_report_form_is_cleaned_without_copying_its_fields(place, cat):
    from tests.cases.web.public.public_helpers import form_data

    form = ReportForm(form_data(cat, same_issue="new"))
    assert form.is_valid(), form.errors
    assert not fields_copied(form)
    # Rendering it copies them, described as before.
    assert form.fields["description"].widget.attrs["aria-describedby"] == "description-help"
    assert fields_copied(form) and form.fields["description"] is not ReportForm.base_fields["description"]
