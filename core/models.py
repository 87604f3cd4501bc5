from django.db import models


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
