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
``__setstate__`` or slots) is deep-copied as Django does.
"""

from __future__ import annotations

import copy
import copyreg

from django import forms
from django.core.exceptions import ValidationError
from django.forms import widgets

__all__ = ["copies_fields_quickly", "form_add_service_errors"]


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


class _QuicklyCopiedFields(dict):
    def __deepcopy__(self, memo):
        return {name: _field_copy(field, memo) for name, field in self.items()}


def copies_fields_quickly(form_class):
    """Class decorator: each instance's copy of the fields is made as above (see the module).

    A subclass gets plain ``base_fields`` again from Django's metaclass (copied as usual)
    unless it is decorated too.
    """
    form_class.base_fields = _QuicklyCopiedFields(form_class.base_fields)
    return form_class
