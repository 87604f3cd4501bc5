"""Form helpers shared by the apps.

``form_add_service_errors``: a service's ValidationError shown on the form that called it.

``copies_fields_quickly``: every form instance starts with ``copy.deepcopy`` of its
class's fields (``BaseForm.__init__``), so that a form may change its own fields —
ours set ``aria-describedby`` and ``aria-invalid`` on their widgets — without
touching the class or another request's form. For the resident's report form (16
fields) that copy was 6–10 % of the CPU its POST costs, most of it in
``copy.copy``'s generic ``__reduce_ex__`` path, which each field and its widget
take. The decorated class's fields are copied with the same result
— for each field and widget Django's own ``__deepcopy__`` steps, done directly:
a new object of the class with a copy of its ``__dict__``, its own widget (own
``attrs``, own ``choices``), own ``error_messages`` and ``validators``, and for a
``ModelChoiceField`` a fresh clone of its queryset. A field or widget of another
kind (its own ``__deepcopy__``, ``__copy__``, ``__reduce__``, ``__getstate__``,
``__setstate__`` or slots) is deep-copied as Django does. And the copy is made
when the form's fields are first used (``_FieldsCopiedOnUse``): a report that is
valid is cleaned with the class's fields, which cleaning only reads
(``CleansFieldsDirectly``), and never needs a copy; a form that is rendered or
has an error to describe gets its copy then.

``CleansFieldsDirectly``: ``full_clean`` without a BoundField per field (see the class).
"""

from __future__ import annotations

import copy
import copyreg

from django import forms
from django.core.exceptions import ValidationError
from django.forms import widgets

__all__ = ["CleansFieldsDirectly", "copies_fields_quickly", "fields_copied", "form_add_service_errors"]


def form_add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Each message on the field it names when the form has that field, else above the form."""
    if hasattr(error, "error_dict"):
        for field, field_errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, field_errors)
    else:
        form.add_error(None, error.error_list)


_FIELD_COPY = forms.Field.__deepcopy__
_MODEL_CHOICE_COPY = forms.ModelChoiceField.__deepcopy__
_WIDGET_COPY = widgets.Widget.__deepcopy__
_CHOICE_WIDGET_COPY = widgets.ChoiceWidget.__deepcopy__
_OBJECT_GETSTATE = getattr(object, "__getstate__", None)  # Python 3.11+

_plain_classes: dict[type, bool] = {}


def _plain(cls: type) -> bool:
    """Whether ``copy.copy`` of an instance is just a new instance with a copy of its ``__dict__``."""
    plain = _plain_classes.get(cls)
    if plain is None:
        plain = _plain_classes[cls] = (
            getattr(cls, "__copy__", None) is None
            and cls.__reduce_ex__ is object.__reduce_ex__
            and cls.__reduce__ is object.__reduce__
            and getattr(cls, "__getstate__", None) is _OBJECT_GETSTATE
            and getattr(cls, "__setstate__", None) is None
            and copyreg.dispatch_table.get(cls) is None
            and not any("__slots__" in vars(klass) for klass in cls.__mro__)
        )
    return plain


def _shallow(obj):
    cls = type(obj)
    new = cls.__new__(cls)
    new.__dict__.update(obj.__dict__)
    return new


def _widget_copy(widget, memo, *, choices=True):
    """``copy.deepcopy(widget, memo)`` (Widget's and ChoiceWidget's ``__deepcopy__``); ``choices=False``
    when the caller gives the widget new choices at once (a ModelChoiceField's queryset setter)."""
    done = memo.get(id(widget))
    if done is not None:
        return done
    copier = type(widget).__deepcopy__
    if (copier is not _WIDGET_COPY and copier is not _CHOICE_WIDGET_COPY) or not _plain(type(widget)):
        return copy.deepcopy(widget, memo)
    new = _shallow(widget)
    new.attrs = widget.attrs.copy()
    if copier is _CHOICE_WIDGET_COPY and choices:
        new.choices = copy.copy(widget.choices)
    memo[id(widget)] = new
    return new


def _field_copy(field, memo):
    """``copy.deepcopy(field, memo)`` (Field's and ModelChoiceField's ``__deepcopy__``)."""
    done = memo.get(id(field))
    if done is not None:
        return done
    copier = type(field).__deepcopy__
    if (copier is not _FIELD_COPY and copier is not _MODEL_CHOICE_COPY) or not _plain(type(field)):
        return copy.deepcopy(field, memo)
    new = _shallow(field)
    memo[id(field)] = new
    new_queryset = copier is _MODEL_CHOICE_COPY and field.queryset is not None
    new.widget = _widget_copy(field.widget, memo, choices=not new_queryset)
    new.error_messages = field.error_messages.copy()
    new.validators = field.validators[:]
    if new_queryset:
        # The setter clones it (``.all()``) and gives the widget choices of its own, as Django's copy does.
        new.queryset = field.queryset
    return new


def _copy_fields(fields, memo) -> dict:
    return {name: _field_copy(field, memo) for name, field in fields.items()}


class _QuicklyCopiedFields(dict):
    def __deepcopy__(self, memo):
        return _FieldsCopiedOnUse(self, memo)


class _FieldsCopiedOnUse(dict):
    """A deep copy of a class's fields (``_copy_fields``), made the first time it is used at all.

    Until then it is empty and holds the class's fields as ``source``. Every way of reading or
    changing it as a dict — an item, ``in``, ``len``, iteration, ``keys``/``values``/``items``,
    ``get``, ``pop``, ``update``, comparison, ``copy``, pickling — first makes the copy, so whoever
    uses it has the form's own fields, as with Django's deepcopy. (Iteration is overridden too, so
    CPython's ``dict(…)``, ``{**…}`` and ``update`` read it through ``keys`` and items, not its
    storage.) Only ``CleansFieldsDirectly`` reads ``source`` instead, and changes nothing in it.
    """

    __slots__ = ("source", "_memo")

    def __init__(self, source, memo):
        super().__init__()
        self.source = source
        # What a larger deep copy has copied so far, for its fields to share; a form's own copy starts
        # empty, and is not kept (deepcopy adds this dict to it: a cycle for the garbage collector).
        self._memo = memo or None

    def own(self) -> _FieldsCopiedOnUse:
        source = self.source
        if source is not None:
            self.source = None
            dict.update(self, _copy_fields(source, {} if self._memo is None else self._memo))
            self._memo = None
        return self

    def __eq__(self, other):
        if isinstance(other, _FieldsCopiedOnUse):
            other.own()
        return dict.__eq__(self.own(), other)

    def __ne__(self, other):
        if isinstance(other, _FieldsCopiedOnUse):
            other.own()
        return dict.__ne__(self.own(), other)

    __hash__ = None

    def __reduce_ex__(self, protocol):
        return (dict, (dict.copy(self.own()),))


def _copied_first(name):
    method = getattr(dict, name)

    def copied_first(self, *args, **kwargs):
        return method(self.own(), *args, **kwargs)

    copied_first.__name__ = copied_first.__qualname__ = name
    return copied_first


for _name in (
    "__getitem__",
    "__setitem__",
    "__delitem__",
    "__contains__",
    "__iter__",
    "__reversed__",
    "__len__",
    "__repr__",
    "__or__",
    "__ror__",
    "__ior__",
    "__sizeof__",
    "clear",
    "copy",
    "get",
    "items",
    "keys",
    "pop",
    "popitem",
    "setdefault",
    "update",
    "values",
):
    setattr(_FieldsCopiedOnUse, _name, _copied_first(_name))


def fields_copied(form: forms.BaseForm) -> bool:
    """Whether the form has its own copy of its fields yet (always, unless ``copies_fields_quickly``)."""
    fields = form.fields
    return type(fields) is not _FieldsCopiedOnUse or fields.source is None


def copies_fields_quickly(form_class):
    """Class decorator: each instance's copy of the fields is made as above, when first used (see the module).

    A subclass gets plain ``base_fields`` again from Django's metaclass (copied as usual)
    unless it is decorated too.
    """
    form_class.base_fields = _QuicklyCopiedFields(form_class.base_fields)
    return form_class


class CleansFieldsDirectly:
    """Form mixin: ``full_clean`` reads a field's value from the data without building its BoundField.

    Django's ``_clean_fields`` makes a BoundField for every field (its names, ids, label and
    help text, the latter translated) only to ask it for the field's value: ``bf.data``, which
    is ``form._widget_data_value(field.widget, form.add_prefix(name))``, and for a FileField
    also ``bf.initial``, ``form.get_initial_for_field(field, name)``. For a field cleaned by
    Django's own ``Field._clean_bound_field`` or ``FileField._clean_bound_field``, not disabled
    and with the default BoundField, they are read that way here and passed to ``field.clean``
    as those methods pass them; any other field (a disabled one, a custom BoundField, an initial
    value that is a callable, which a BoundField would call once for cleaning and rendering
    alike) goes through its BoundField as usual. The order, ``cleaned_data``, the
    ``clean_<name>`` hooks and the errors are Django's; BoundFields are made when the form is
    rendered.

    With ``copies_fields_quickly``, a form whose fields have not been copied yet is cleaned
    with the class's fields (cleaning reads a field, never changes it): a valid form that is
    not rendered never copies them. Once anything — a hook, an error — makes the copy, the
    following fields are the form's own. (The names are those of the class's fields, as the
    copy has them: a hook that adds a field to the form does not add it to this round.)
    """

    def _clean_fields(self):
        fields = self.fields
        source = fields.source if type(fields) is _FieldsCopiedOnUse else None
        direct = getattr(self, "bound_field_class", None) is None
        for name in fields if source is None else source:
            if source is not None and fields.source is None:
                source = None  # copied meanwhile
            field = fields[name] if source is None else source[name]
            try:
                how = _how_cleaned(field) if direct else None
                if how is _FROM_DATA:
                    value = field.clean(self._widget_data_value(field.widget, self.add_prefix(name)))
                elif how is _FILE and not callable(self.initial.get(name, field.initial)):
                    data = self._widget_data_value(field.widget, self.add_prefix(name))
                    value = field.clean(data, self.get_initial_for_field(field, name))
                else:
                    value = field._clean_bound_field(self[name])
                self.cleaned_data[name] = value
                if hasattr(self, f"clean_{name}"):
                    value = getattr(self, f"clean_{name}")()
                    self.cleaned_data[name] = value
            except ValidationError as e:
                self.add_error(name, e)


_FROM_DATA, _FILE = "data", "file"
_cleaned_how: dict[type, str | None] = {}


def _how_cleaned(field: forms.Field) -> str | None:
    cls = type(field)
    how = _cleaned_how.get(cls, False)
    if how is False:
        how = None
        if cls.get_bound_field is forms.Field.get_bound_field:
            if cls._clean_bound_field is forms.Field._clean_bound_field:
                how = _FROM_DATA
            elif cls._clean_bound_field is forms.FileField._clean_bound_field:
                how = _FILE
        _cleaned_how[cls] = how
    if how is None or field.disabled or getattr(field, "bound_field_class", None) is not None:
        return None
    return how
