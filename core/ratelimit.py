"""Per-address rate limits for the public forms, counted in Django's cache.

A fixed window per client: ``REPORT_RATE_LIMIT = "10/h"`` lets one address
file ten reports an hour. The counter lives in the cache (Redis in full mode
and in tests, where ``incr`` is atomic across web processes; a file cache in
embedded mode). The address is never stored or logged: the key holds a keyed
hash of it, useless without the server's secret.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import math
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*$")


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int


def rate_parse(value: str) -> Rate:
    """'10/h' → 10 per 3600 s; also '5/15min', '100/d'."""
    match = _RATE.match((value or "").lower())
    if not match or match.group(3) not in _UNITS:
        raise ImproperlyConfigured(f"Rate {value!r} is not like '10/h' (units: s, m, h, d).")
    count = int(match.group(1))
    seconds = int(match.group(2) or 1) * _UNITS[match.group(3)]
    if seconds <= 0:
        raise ImproperlyConfigured(f"Rate {value!r} has an empty period.")
    return Rate(count=count, seconds=seconds)


def client_address(request) -> str:
    """The client's address; behind N trusted proxies, the N-th address from the right of X-Forwarded-For."""
    hops = settings.RATE_LIMIT_TRUSTED_PROXIES
    if hops > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def client_fingerprint(request) -> str:
    """A keyed hash of the client's address: stable for counting, not reversible without SECRET_KEY."""
    digest = hmac.new(settings.SECRET_KEY.encode(), client_address(request).encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def _key(request, scope: str, rate: Rate, now: float) -> str:
    window = int(now // rate.seconds)
    return f"ratelimit:{scope}:{rate.count}/{rate.seconds}:{client_fingerprint(request)}:{window}"


def _rate_for(rate: str | None) -> Rate:
    return rate_parse(rate or settings.REPORT_RATE_LIMIT)


def rate_limit_retry_after(*, rate: str | None = None, now: float | None = None) -> int:
    """Seconds until the current window ends and a refused client may try again (``Retry-After``).

    Windows are fixed slices of the clock (see ``_key``), the same for every client,
    so this needs no cache read and holds when the cache is down.
    """
    parsed = _rate_for(rate)
    now = time.time() if now is None else now
    window_end = (int(now // parsed.seconds) + 1) * parsed.seconds
    return max(1, math.ceil(window_end - now))


def _count(key: str, timeout: int) -> int:
    """Add one to the window's counter, creating it (with its expiry) at the window's first use."""
    count = getattr(cache, "count", None)
    if count is not None:
        return count(key, timeout)  # core.cache: one atomic call
    try:
        return cache.incr(key)
    except ValueError:  # the window's first use: of two racing requests one creates it, the other counts on it
        if cache.add(key, 1, timeout=timeout):
            return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=timeout)
        return 1


def rate_limit_exceeded(request, *, scope: str, rate: str | None = None) -> bool:
    """True when this client has used up its allowance (does not count this request)."""
    parsed = _rate_for(rate)
    used = cache.get(_key(request, scope, parsed, time.time()), 0)
    return used >= parsed.count


def rate_limit_consume(request, *, scope: str, rate: str | None = None) -> bool:
    """Count one use; False when it goes over the allowance (the caller then refuses the write).

    Racing requests of one client are all counted: the cache counts atomically.
    """
    parsed = _rate_for(rate)
    key = _key(request, scope, parsed, time.time())
    used = _count(key, parsed.seconds + 60)
    if used > parsed.count:
        logger.warning("rate limit %s reached by client %s", scope, client_fingerprint(request)[:12])
        return False
    return True


@dataclass(frozen=True)
class Reservation:
    """A use counted ahead by ``rate_limit_reserve``; true when it was within the allowance."""

    key: str
    granted: bool

    def __bool__(self) -> bool:
        return self.granted

    def release(self) -> None:
        """Give the use back: this request turned out not to be one the limit counts."""
        if self.granted:
            # ValueError: the window's counter has expired, so there is nothing to give back.
            with contextlib.suppress(ValueError):
                cache.decr(self.key)


def rate_limit_reserve(request, *, scope: str, rate: str | None = None) -> Reservation:
    """Count this request at once; refused, and not counted, when that goes over the allowance.

    ``rate_limit_exceeded`` before the work and ``rate_limit_consume`` after it take
    two cache calls on every request that is accepted. A form that counts only what
    it accepts can instead reserve one use up front — one call — and ``release`` it
    when it sends the form back unsaved (for corrections, or to ask a question).
    """
    parsed = _rate_for(rate)
    key = _key(request, scope, parsed, time.time())
    if _count(key, parsed.seconds + 60) > parsed.count:
        Reservation(key, granted=True).release()
        logger.warning("rate limit %s reached by client %s", scope, client_fingerprint(request)[:12])
        return Reservation(key, granted=False)
    return Reservation(key, granted=True)


def rate_limit_reserve_shared(*, scope: str, rate: str, identity: str = "all") -> Reservation:
    """``rate_limit_reserve`` for a count that is not one client's.

    ``identity="all"`` counts every client together (a global ceiling that holds
    however many addresses a guesser spreads over); another identity counts per
    thing, e.g. the messages sent under one report's key. The identity is part of
    the cache key only, never logged.
    """
    parsed = rate_parse(rate)
    key = f"ratelimit:{scope}:{parsed.count}/{parsed.seconds}:{identity}:{int(time.time() // parsed.seconds)}"
    if _count(key, parsed.seconds + 60) > parsed.count:
        Reservation(key, granted=True).release()
        logger.warning("rate limit %s reached", scope)
        return Reservation(key, granted=False)
    return Reservation(key, granted=True)
