"""A cached figure recomputed by one request at a time, never by every request at once.

When a plain cache entry expires under load, every request that misses it recomputes the same
figures at the same moment (a stampede: issue 14 measured /transparency/'s p99 at 1.9 s). Here
the entry outlives its freshness by ``stale_seconds``: once it is stale, the first request to
take the short lock recomputes it while the others keep answering with the stale copy; on a
cold cache the others wait for that one (up to ``wait_seconds``) instead of computing too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache

__all__ = ["cached_once"]

T = TypeVar("T")


def _fresh(entry) -> bool:
    return isinstance(entry, dict) and entry.get("fresh_until", 0) > time.time()


def cached_once(
    key: str,
    compute: Callable[[], T],
    *,
    fresh_seconds: int,
    stale_seconds: int,
    wait_seconds: float = 5.0,
    poll_seconds: float = 0.05,
) -> T:
    entry = cache.get(key)
    if _fresh(entry):
        return entry["value"]
    lock = f"{key}:computing"
    # The lock outlives a slow computation but not a process that died holding it.
    if cache.add(lock, 1, timeout=int(max(30, 4 * wait_seconds))):
        try:
            # Another request may have stored it between our first look and the lock.
            entry = cache.get(key)
            if _fresh(entry):
                return entry["value"]
            value = compute()
            # Stored before the lock goes: a request coming now finds the value, not a free lock.
            cache.set(key, {"value": value, "fresh_until": time.time() + fresh_seconds}, fresh_seconds + stale_seconds)
        except Exception:
            if isinstance(entry, dict):
                return entry["value"]  # the database is away: the stale copy is better than an error
            raise
        finally:
            cache.delete(lock)
        return value
    if isinstance(entry, dict):
        return entry["value"]  # stale, while the lock holder recomputes it
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        time.sleep(poll_seconds)
        entry = cache.get(key)
        if isinstance(entry, dict):
            return entry["value"]
    # The request computing it is stuck or gone: answer anyway rather than fail the page.
    return compute()
