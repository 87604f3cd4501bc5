"""Serializers' ``to_representation`` without DRF's per-field lookups, for the API's read lists.

DRF draws each field of each row through ``Field.get_attribute`` (the source path walked
with its error handling, a callable check on every value) from a generator rebuilt per
row. A list of 50 issues of 33 fields is 1 650 such walks: about a third of
``/api/v1/issues/``. ``LeanRepresentation`` works out once per serializer instance
(the list's one child serializer serves every row) how to read each field, and then
reads rows with plain ``getattr``:

- a field whose source is one plain model attribute: ``getattr``, then the field's own
  ``to_representation`` (so dates, decimals and choices come out exactly as DRF writes
  them), ``None`` as ``None``;
- a ``DateTimeField`` written as ISO 8601 (the API's format): the aware value moved to the
  field's time zone, worked out once per list rather than per value, and ``isoformat()``
  with DRF's "Z" for UTC; a naive or unusual value goes to the field's own method;
- a single ``PrimaryKeyRelatedField``: the foreign key's column (``problem_id``), as DRF's
  "pk only" shortcut does;
- a ``SerializerMethodField`` or a ``source="*"`` field: the field with the row;
- anything else — dotted sources, many-to-many fields, nested lists, methods as
  sources — and any attribute that raises: DRF's own way, for that field.

The output is DRF's, key for key (tests/core/test_api_lean.py compares them row by row).
"""

from __future__ import annotations

import inspect

from rest_framework import ISO_8601, serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

__all__ = ["LeanRepresentation"]

_SKIP = object()
_PLAIN = (
    serializers.CharField,
    serializers.IntegerField,
    serializers.FloatField,
    serializers.BooleanField,
    serializers.DateTimeField,
    serializers.DateField,
    serializers.DecimalField,
    serializers.ChoiceField,
    serializers.JSONField,
    serializers.ListField,
)


def _drf(field):
    """DRF's own reading of one field (Serializer.to_representation's loop body)."""

    def read(instance):
        try:
            attribute = field.get_attribute(instance)
        except SkipField:
            return _SKIP
        check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
        return None if check_for_none is None else field.to_representation(attribute)

    return read


def _attribute(field, name: str, slow):
    to_representation = field.to_representation

    def read(instance):
        try:
            value = getattr(instance, name)
        except AttributeError:  # a missing related row, say: DRF decides (default, null, skip)
            return slow(instance)
        return None if value is None else to_representation(value)

    return read


def _datetime(field, name: str, slow):
    """A ``DateTimeField`` in ISO 8601 as DRF writes it (``enforce_timezone``, then ``isoformat``)."""
    output = getattr(field, "format", api_settings.DATETIME_FORMAT)
    zone = field.timezone if hasattr(field, "timezone") else field.default_timezone()
    if zone is None or not isinstance(output, str) or output.lower() != ISO_8601:
        return _attribute(field, name, slow)
    to_representation = field.to_representation

    def read(instance):
        try:
            value = getattr(instance, name)
        except AttributeError:
            return slow(instance)
        if not value:
            return None
        if isinstance(value, str) or value.tzinfo is None:
            return to_representation(value)
        try:
            text = value.astimezone(zone).isoformat()
        except OverflowError:  # DRF turns it into its own error
            return to_representation(value)
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return read


def _foreign_key(attname: str):
    def read(instance):
        return getattr(instance, attname)

    return read


def _reader(field, instance):
    slow = _drf(field)
    if isinstance(field, serializers.SerializerMethodField) or field.source == "*":
        return field.to_representation
    if len(field.source_attrs) != 1:
        return slow
    name = field.source_attrs[0]
    on_class = getattr(type(instance), name, None)
    if inspect.isfunction(on_class) or inspect.ismethod(on_class):
        return slow  # a method as the source: DRF calls it
    if type(field) is serializers.PrimaryKeyRelatedField and field.pk_field is None:
        try:
            model_field = instance._meta.get_field(name)
        except Exception:  # not a model field: let DRF find it
            return slow
        attname = getattr(model_field, "attname", None)
        return _foreign_key(attname) if attname and attname != name else slow
    if type(field) is serializers.DateTimeField:
        return _datetime(field, name, slow)
    nested = isinstance(field, serializers.BaseSerializer) and not isinstance(field, serializers.ListSerializer)
    if nested or isinstance(field, _PLAIN):
        return _attribute(field, name, slow)
    return slow


class LeanRepresentation:
    """Mixin for a (Model)Serializer: ``to_representation`` as DRF's, read as the module says."""

    def to_representation(self, instance):
        plan = self.__dict__.get("_lean_plan")
        if plan is None:
            plan = [(field.field_name, _reader(field, instance)) for field in self._readable_fields]
            self._lean_plan = plan
        out = {}
        for name, read in plan:
            value = read(instance)
            if value is not _SKIP:
                out[name] = value
        return out
