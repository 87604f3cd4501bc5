from django.db import models
from django.utils.encoding import force_str


class QuickChoiceDisplay:
    """``get_<field>_display()`` from a dict built once per field.

    Django's own rebuilds a dict of every choice on each call, hashing each (lazily
    translated) label, which translates it: some 20 µs a call, and a list page calls it
    a few times per row. Here the labels are looked up by value in a dict made the first
    time (values are plain strings; labels stay lazy, so each call still answers in the
    active language). A field whose choices are a callable, or a value that cannot be
    hashed, goes through Django's.
    """

    def _get_FIELD_display(self, field):  # noqa: N802 (Django's name)
        choices = field.choices
        value = getattr(self, field.attname)
        if isinstance(choices, list | tuple):
            labels = field.__dict__.get("_quick_labels")
            if labels is None:
                labels = field._quick_labels = dict(field.flatchoices)
            try:
                return force_str(labels.get(value, value), strings_only=True)
            except TypeError:  # an unhashable value
                pass
        return super()._get_FIELD_display(field)


class TrackedFields:
    """Remembers the values of ``TRACKED_FIELDS`` as last loaded or saved (``tracked_before``), so
    a ``post_save`` receiver can tell what a save changed without reading the row again.

    Loaded with any of them deferred, nothing is remembered (``tracked_before`` is None) and the
    receiver reads the stored values itself.
    """

    TRACKED_FIELDS: tuple[str, ...] = ()

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        if all(name in field_names for name in cls.TRACKED_FIELDS):
            instance.tracked_before = instance.tracked_state()
        return instance

    def tracked_state(self) -> tuple:
        return tuple(getattr(self, name) for name in self.TRACKED_FIELDS)


class CacheEntry(models.Model):
    """One key of the database cache (``core.cache``): the embedded mode's cache, and the
    store rate limits, sign-in lockouts and API throttles fall back to while Redis is down.

    Integers live in ``number`` so that ``incr`` is one atomic ``UPDATE … SET number =
    number + 1`` (a counter shared by every web process stays exact); any other value is
    pickled into ``value``.
    """

    key = models.CharField(max_length=255, primary_key=True)
    value = models.BinaryField(null=True)
    number = models.BigIntegerField(null=True)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [
            # The cull: DELETE … WHERE expires_at <= now.
            models.Index(fields=["expires_at"], name="cacheentry_expires_idx"),
        ]

    def __str__(self):
        return self.key
