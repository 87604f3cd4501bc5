"""core.cache ``count``: add one to a counter, creating it with its expiry, in one call (rate limits)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from core.cache import DatabaseCache


@pytest.fixture
def dbcache(db):
    return DatabaseCache(None, {"TIMEOUT": 300})


def test_the_database_cache_counts_from_one_and_starts_again_after_expiry(dbcache):
    assert [dbcache.count("window", 60) for _ in range(3)] == [1, 2, 3]
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert dbcache.count("window", 60) == 1
        assert dbcache.get("window") == 1


def test_redis_counts_in_one_call_and_keeps_the_first_expiry(db):
    redis = cache.primary._cache.get_client()
    key = cache.primary.make_and_validate_key("window")
    assert cache.count("window", 600) == 1
    assert 590 < redis.ttl(key) <= 600
    redis.expire(key, 100)  # later counts must not push the window's end back
    assert [cache.count("window", 600) for _ in range(2)] == [2, 3]
    assert 90 < redis.ttl(key) <= 100
    assert cache.get("window") == 3


def test_racing_counts_are_all_counted(db):
    def count():
        for _ in range(50):
            cache.count("race", 600)

    threads = [threading.Thread(target=count) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.get("race") == 200
