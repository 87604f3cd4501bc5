"""Cache backends that keep counting when Redis does not answer.

What the cache holds here is not only speed: per-address report limits, the staff
sign-in lockout and the API throttles are counters in it. Losing them with Redis
would switch those protections off exactly when something is already wrong, and an
unguarded cache call would turn a Redis outage into 500s on the resident form.

``DatabaseCache``
    The cache in a database table (``core.CacheEntry``), on whichever engine the
    project runs. Integers are a column of their own, so ``incr`` is one atomic
    ``UPDATE … SET number = number + delta`` and a counter shared by every web
    process stays exact (Django's own database cache reads, adds and writes back,
    which loses increments under concurrency). The embedded mode uses it as its
    only cache: one SQLite file for everything, no cache folder.

``FailoverCache``
    Redis first; the database when Redis refuses or times out. The first failure
    is logged once and Redis is left alone for ``RETRY_SECONDS`` (a circuit
    breaker: a Redis that hangs costs one short timeout per process, not one per
    call), then tried again. While it is down every call goes to the database, so
    limits and lockouts keep holding — counted afresh from the moment Redis went
    away, since what Redis held is out of reach. When Redis answers again, the
    keys written to the database meanwhile are handed back to Redis (counters
    added to whatever Redis counted since, other values only where Redis has none)
    and removed from the table, so a lockout that began during the outage does not
    end when Redis returns.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import random
import threading
import time
from datetime import UTC, datetime, timedelta

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

logger = logging.getLogger("commonground.cache")

# "No expiry" as a date every engine stores; far enough to mean never.
FOREVER = datetime(9999, 1, 1, tzinfo=UTC)
CULL_PROBABILITY = 0.01
HANDOVER_BATCH = 500
MAX_KEY_LENGTH = 250
HASHED_KEY_PREFIX = "sha256:"


def _is_counter(value) -> bool:
    # type(), not isinstance(): True is an int but must come back as True.
    return type(value) is int


class DatabaseCache(BaseCache):
    """Django's cache API over ``core.CacheEntry``; see the module docstring."""

    def __init__(self, location=None, params=None):
        super().__init__(params or {})

    # --- helpers -------------------------------------------------------------------------

    def make_key(self, key, version=None):
        made = super().make_key(key, version)
        # The column holds 255 characters; a longer key is stored under its digest.
        return made if len(made) <= MAX_KEY_LENGTH else HASHED_KEY_PREFIX + hashlib.sha256(made.encode()).hexdigest()

    def _model(self):
        from core.models import CacheEntry  # the cache is configured before apps are ready

        return CacheEntry

    def _expiry(self, timeout) -> datetime:
        if timeout is DEFAULT_TIMEOUT:
            timeout = self.default_timeout
        if timeout is None:
            return FOREVER
        return timezone.now() + timedelta(seconds=timeout)

    def _columns(self, value, timeout) -> dict:
        if _is_counter(value):
            return {"number": value, "value": None, "expires_at": self._expiry(timeout)}
        return {
            "number": None,
            "value": pickle.dumps(value, pickle.HIGHEST_PROTOCOL),
            "expires_at": self._expiry(timeout),
        }

    @staticmethod
    def _decode(value, number):
        return number if number is not None else pickle.loads(value)  # noqa: S301 (our own rows)

    def _live(self):
        return self._model().objects.filter(expires_at__gt=timezone.now())

    def _maybe_cull(self) -> None:
        if random.random() < CULL_PROBABILITY:
            self._model().objects.filter(expires_at__lte=timezone.now()).delete()

    # --- the cache API -------------------------------------------------------------------

    def get(self, key, default=None, version=None):
        key = self.make_and_validate_key(key, version=version)
        row = self._live().filter(key=key).values_list("value", "number").first()
        return default if row is None else self._decode(*row)

    def get_many(self, keys, version=None):
        made = {self.make_and_validate_key(key, version=version): key for key in keys}
        rows = self._live().filter(key__in=list(made)).values_list("key", "value", "number")
        return {made[key]: self._decode(value, number) for key, value, number in rows}

    def has_key(self, key, version=None):
        key = self.make_and_validate_key(key, version=version)
        return self._live().filter(key=key).exists()

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        self._store(key, value, timeout)

    def _store(self, key, value, timeout) -> None:
        model = self._model()
        columns = self._columns(value, timeout)
        # One statement, race-free on both engines: INSERT … ON CONFLICT (key) DO UPDATE.
        model.objects.bulk_create(
            [model(key=key, **columns)],
            update_conflicts=True,
            unique_fields=["key"],
            update_fields=list(columns),
        )
        self._maybe_cull()

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        for key, value in data.items():
            self.set(key, value, timeout, version=version)
        return []

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        model = self._model()
        columns = self._columns(value, timeout)
        try:
            with transaction.atomic():
                model.objects.create(key=key, **columns)
        except IntegrityError:
            # The key exists: it is ours only if the old entry has expired.
            replaced = model.objects.filter(key=key, expires_at__lte=timezone.now()).update(**columns)
            return replaced == 1
        self._maybe_cull()
        return True

    def incr(self, key, delta=1, version=None):
        key = self.make_and_validate_key(key, version=version)
        live = self._live().filter(key=key, number__isnull=False)
        if not live.update(number=F("number") + delta):
            raise ValueError(f"Key '{key}' not found.")
        number = live.values_list("number", flat=True).first()
        if number is None:  # expired between the two statements
            raise ValueError(f"Key '{key}' not found.")
        return number

    def decr(self, key, delta=1, version=None):
        return self.incr(key, -delta, version=version)

    def count(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        """Add one to a counter, creating it at 1 (expiring after ``timeout``) if there is none; the new count."""
        try:
            return self.incr(key, version=version)
        except ValueError:
            if self.add(key, 1, timeout, version=version):
                return 1
        try:
            return self.incr(key, version=version)
        except ValueError:  # expired between add and incr
            self.set(key, 1, timeout, version=version)
            return 1

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        return self._live().filter(key=key).update(expires_at=self._expiry(timeout)) == 1

    def delete(self, key, version=None):
        key = self.make_and_validate_key(key, version=version)
        deleted, _ = self._model().objects.filter(key=key).delete()
        return bool(deleted)

    def delete_many(self, keys, version=None):
        made = [self.make_and_validate_key(key, version=version) for key in keys]
        self._model().objects.filter(key__in=made).delete()

    def clear(self):
        self._model().objects.all().delete()

    # --- for FailoverCache's handover ------------------------------------------------------

    def take_live_entries(self, limit: int) -> list[tuple[str, object, bool, float | None]]:
        """Remove up to ``limit`` live entries and return them as (stored key, value, is counter,
        seconds left or None for no expiry). Expired entries are dropped on the way.

        Rows are locked with SKIP LOCKED where the engine has it, so two processes handing
        over at once never take the same entry.
        """
        model = self._model()
        now = timezone.now()
        with transaction.atomic():
            model.objects.filter(expires_at__lte=now).delete()
            rows = list(
                model.objects.select_for_update(skip_locked=True)
                .order_by("key")
                .values_list("key", "value", "number", "expires_at")[:limit]
            )
            if rows:
                model.objects.filter(key__in=[row[0] for row in rows]).delete()
        taken = []
        for key, value, number, expires_at in rows:
            left = None if expires_at >= FOREVER else max(1.0, (expires_at - now).total_seconds())
            taken.append((key, self._decode(value, number), number is not None, left))
        return taken


class _SharedClientRedisCacheClient(RedisCacheClient):
    """Django's Redis client, keeping one ``redis.Redis`` on one connection instead of a new one per call.

    Django builds a ``redis.Redis`` for every cache call, and each command then takes a connection
    from the pool and gives it back (a ``select`` on the socket every time): together most of what
    a call costs here, and the resident form makes one per report. Django's caches are per thread,
    so this client — and the connection it keeps — serves one thread; a broken connection is
    reconnected by the next command, and a Redis that is down fails the call as before (FailoverCache).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool, single_connection_client=True)
        return client


class _RedisCache(RedisCache):
    # INCR creates a missing counter at 1; the first use of it sets its expiry, in the same call.
    _COUNT_SCRIPT = (
        "local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end return n"
    )

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _SharedClientRedisCacheClient
        self._count_script = None

    def count(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        """``DatabaseCache.count`` in one atomic round trip (Django's ``add`` then ``incr`` take three)."""
        key = self.make_and_validate_key(key, version=version)
        client = self._cache.get_client(key, write=True)
        if self._count_script is None:
            self._count_script = client.register_script(self._COUNT_SCRIPT)
        seconds = self.get_backend_timeout(timeout)
        if seconds is None:  # no expiry
            return int(client.incr(key))
        return int(self._count_script(keys=[key], args=[max(1, int(seconds))], client=client))


class FailoverCache(BaseCache):
    """Redis (``LOCATION``), and ``DatabaseCache`` whenever Redis does not answer."""

    RETRY_SECONDS = 5.0

    def __init__(self, server, params):
        super().__init__(params)
        options = dict(params.get("OPTIONS") or {})
        self.retry_seconds = float(options.pop("RETRY_SECONDS", self.RETRY_SECONDS))
        # A Redis that hangs must cost a fraction of a second, not redis-py's default 5 s.
        options.setdefault("socket_connect_timeout", 0.5)
        options.setdefault("socket_timeout", 0.5)
        shared = {key: value for key, value in params.items() if key != "OPTIONS"}
        self.primary = _RedisCache(server, {**shared, "OPTIONS": options})
        self.fallback = DatabaseCache(None, shared)
        self._down_until = 0.0
        self._outage = False  # this process wrote to the fallback since Redis was last up
        self._lock = threading.Lock()
        import redis

        self._unreachable = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)

    # --- routing -------------------------------------------------------------------------

    def primary_is_down(self) -> bool:
        return time.monotonic() < self._down_until

    def _call(self, name, *args, **kwargs):
        if not self.primary_is_down():
            try:
                result = getattr(self.primary, name)(*args, **kwargs)
            except self._unreachable as exc:
                self._mark_down(exc)
            else:
                if self._outage:
                    self._recover()
                return result
        self._outage = True
        return getattr(self.fallback, name)(*args, **kwargs)

    def _mark_down(self, exc: Exception) -> None:
        with self._lock:
            first = not self._outage and not self.primary_is_down()
            self._down_until = time.monotonic() + self.retry_seconds
            self._outage = True
        if first:
            logger.warning(
                "cache: Redis does not answer (%s); rate limits, sign-in lockouts and throttles "
                "are kept in the database until it does",
                exc.__class__.__name__,
            )

    def _recover(self) -> None:
        """Redis answers again: hand what the database counted meanwhile back to it."""
        with self._lock:
            if not self._outage:
                return
            self._outage = False
        moved = 0
        try:
            while True:
                entries = self.fallback.take_live_entries(HANDOVER_BATCH)
                for key, value, is_counter, seconds_left in entries:
                    self._hand_over(key, value, is_counter, seconds_left)
                moved += len(entries)
                if len(entries) < HANDOVER_BATCH:
                    break
        except self._unreachable as exc:
            # Gone again mid-handover: what was taken and not yet written is lost for Redis,
            # but the entries still in the table stay and are handed over next time.
            self._mark_down(exc)
            return
        logger.warning("cache: Redis answers again; %d entries handed back from the database", moved)

    def _hand_over(self, key: str, value, is_counter: bool, seconds_left: float | None) -> None:
        if key.startswith(HASHED_KEY_PREFIX):
            return  # Redis knows this key by its full name, which the digest does not give back
        client = self.primary._cache.get_client(key, write=True)
        ttl = None if seconds_left is None else max(1, int(seconds_left + 0.999))
        if is_counter:
            # Add to what Redis counted since it came back; keep the earlier expiry if it has one.
            client.incrby(key, value)
            if ttl is not None and client.ttl(key) < 0:
                client.expire(key, ttl)
        else:
            client.set(key, self.primary._cache._serializer.dumps(value), ex=ttl, nx=True)

    # --- the cache API (keys are made by the backend that stores them) ---------------------

    def get(self, key, default=None, version=None):
        return self._call("get", key, default, version=version)

    def get_many(self, keys, version=None):
        return self._call("get_many", keys, version=version)

    def has_key(self, key, version=None):
        return self._call("has_key", key, version=version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", key, value, timeout, version=version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", data, timeout, version=version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", key, value, timeout, version=version)

    def incr(self, key, delta=1, version=None):
        return self._call("incr", key, delta, version=version)

    def decr(self, key, delta=1, version=None):
        return self._call("decr", key, delta, version=version)

    def count(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("count", key, timeout, version=version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", key, timeout, version=version)

    def delete(self, key, version=None):
        return self._call("delete", key, version=version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", keys, version=version)

    def clear(self):
        """Clears the store in use (Redis when it answers); the database's entries are
        short-lived and go back to Redis when it returns."""
        return self._call("clear")

    def close(self, **kwargs):
        self.primary.close(**kwargs)
