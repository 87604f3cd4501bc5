from django.conf import settings
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


class ClientKey(models.Model):
    """A key a device made for one entry it sends (an outreach activity, a note), so that sending
    it again — a retry after a lost answer, a replay from the offline queue — never writes it twice.

    The key is the primary key: the database, not a check before the insert, decides which of two
    requests carrying it at once writes the entry (``core.client_keys.client_key_claim``). ``kind``
    names what the key made ("outreach.activity", "cases.note"), ``object_id`` its id; both are
    set in the transaction that writes the entry, so a key row never outlives a rolled-back entry.
    """

    key = models.UUIDField(primary_key=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40)
    object_id = models.BigIntegerField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # Deleting a user (CASCADE) finds their keys; nothing else reads them but by key.
            models.Index(fields=["actor"], name="clientkey_actor_idx"),
            # The nightly prune (core.client_keys.client_keys_prune): the keys older than a date.
            models.Index(fields=["created_at"], name="clientkey_created_idx"),
        ]

    def __str__(self):
        return f"{self.kind} {self.key}"
