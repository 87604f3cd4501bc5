"""core.cache: the database cache, and Redis failing over to it (a real Redis, really stopped)."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
import redis
import time_machine
from django.core.cache import caches
from django.db import connection
from django.utils import timezone

from core.cache import DatabaseCache, FailoverCache
from core.models import CacheEntry
from tests import factories
from tests.redis_server import RedisServer

PASSWORD = "pw-Secret-123"


@pytest.fixture
def dbcache(db):
    return DatabaseCache(None, {"TIMEOUT": 300})


# --- DatabaseCache ---------------------------------------------------------------------------


def test_values_and_counters_round_trip(dbcache):
    dbcache.set("n", 41)
    dbcache.set("obj", {"a": [1, 2], "b": True})
    dbcache.set("flag", True)
    assert dbcache.get("n") == 41
    assert dbcache.get("obj") == {"a": [1, 2], "b": True}
    assert dbcache.get("flag") is True  # a bool is not stored as the counter 1
    assert dbcache.get("missing", "default") == "default"
    assert CacheEntry.objects.get(key=":1:n").number == 41
    assert CacheEntry.objects.get(key=":1:flag").number is None
    assert dbcache.get_many(["n", "obj", "missing"]) == {"n": 41, "obj": {"a": [1, 2], "b": True}}
    assert dbcache.has_key("n") and not dbcache.has_key("missing")


def test_incr_decr_and_missing_keys(dbcache):
    dbcache.set("n", 1)
    assert dbcache.incr("n") == 2
    assert dbcache.incr("n", 10) == 12
    assert dbcache.decr("n", 2) == 10
    with pytest.raises(ValueError):
        dbcache.incr("missing")
    dbcache.set("text", "not a number")
    with pytest.raises(ValueError):
        dbcache.incr("text")


def test_add_only_when_absent_or_expired(dbcache):
    assert dbcache.add("k", 0, timeout=60) is True
    assert dbcache.add("k", 5, timeout=60) is False
    assert dbcache.get("k") == 0
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert dbcache.get("k") is None
        assert dbcache.add("k", 7, timeout=60) is True
        assert dbcache.get("k") == 7
        with pytest.raises(ValueError):
            dbcache.incr("gone")


def test_expiry_touch_forever_and_zero(dbcache):
    dbcache.set("short", "x", timeout=10)
    dbcache.set("forever", "y", timeout=None)
    dbcache.set("zero", "z", timeout=0)
    assert dbcache.get("zero") is None
    assert dbcache.touch("short", timeout=1000) is True
    with time_machine.travel(timezone.now() + timedelta(days=365 * 50)):
        assert dbcache.get("forever") == "y"
    with time_machine.travel(timezone.now() + timedelta(seconds=500)):
        assert dbcache.get("short") == "x"
    with time_machine.travel(timezone.now() + timedelta(seconds=1001)):
        assert dbcache.get("short") is None
        assert dbcache.touch("short") is False


def test_delete_and_clear(dbcache):
    dbcache.set_many({"a": 1, "b": 2, "c": 3})
    assert dbcache.delete("a") is True
    assert dbcache.delete("a") is False
    dbcache.delete_many(["b"])
    assert dbcache.get_many(["a", "b", "c"]) == {"c": 3}
    dbcache.clear()
    assert not CacheEntry.objects.exists()


def test_a_key_longer_than_the_column_is_stored_under_its_digest(dbcache):
    key = "throttle_" + "x" * 400
    dbcache.set(key, 3)
    assert dbcache.incr(key) == 4
    (stored,) = CacheEntry.objects.values_list("key", flat=True)
    assert stored.startswith("sha256:") and len(stored) < 80


@pytest.mark.django_db(transaction=True)
def test_incr_is_exact_under_concurrent_processes_of_the_same_counter():
    cache = DatabaseCache(None, {})
    cache.add("hits", 0, timeout=600)
    errors = []

    def hammer():
        try:
            for _ in range(40):
                cache.incr("hits")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=hammer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert cache.get("hits") == 240


# --- FailoverCache with a real Redis that stops ----------------------------------------------


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.fixture
def failover(settings, own_redis):
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.FailoverCache",
            "LOCATION": own_redis.url(),
            "OPTIONS": {"RETRY_SECONDS": 0.2},
        }
    }
    cache = caches["default"]
    assert isinstance(cache, FailoverCache)
    yield cache
    cache.close()


def _wait_for_retry(cache):
    deadline = timezone.now() + timedelta(seconds=5)
    while cache.primary_is_down() and timezone.now() < deadline:
        threading.Event().wait(0.05)


def test_redis_up_keeps_everything_in_redis(db, failover, own_redis):
    failover.set("k", {"x": 1})
    failover.add("n", 0, 60)
    assert failover.incr("n") == 1
    assert failover.get("k") == {"x": 1}
    assert not CacheEntry.objects.exists()
    assert redis.Redis.from_url(own_redis.url()).exists(":1:n")


def test_redis_down_counts_in_the_database_and_hands_back_on_return(db, failover, own_redis, caplog):
    failover.add("before", 0, 60)
    failover.incr("before")
    own_redis.stop()
    with caplog.at_level(logging.WARNING, logger="commonground.cache"):
        assert failover.get("before") is None  # out of reach while Redis is down
        assert failover.add("count", 0, 600) is True
        for _ in range(4):
            failover.incr("count")
        failover.set("lock", 1234.5, timeout=600)
        assert failover.get("count") == 4
        assert failover.get("lock") == 1234.5
    warnings = [r for r in caplog.records if r.name == "commonground.cache"]
    assert len(warnings) == 1, "one warning per outage, not one per call"
    assert "ConnectionError" in warnings[0].getMessage()
    assert CacheEntry.objects.filter(key=":1:count", number=4).exists()

    own_redis.start()
    _wait_for_retry(failover)
    direct = redis.Redis.from_url(own_redis.url())
    direct.set(":1:count", 2, ex=600)  # Redis counted two more since it came back
    with caplog.at_level(logging.WARNING, logger="commonground.cache"):
        assert failover.get("count") is not None
    assert failover.get("count") == 6, "the outage's four are added to what Redis counted since"
    assert failover.get("lock") == 1234.5
    assert 0 < direct.ttl(":1:lock") <= 600
    assert not CacheEntry.objects.exists(), "handed over, then removed from the table"
    assert any("handed back" in r.getMessage() for r in caplog.records)


def test_a_hanging_redis_costs_one_short_timeout_per_retry_period(db, settings, tmp_path):
    # A port that accepts and never answers: connects, then the read times out.
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.FailoverCache",
            "LOCATION": f"redis://127.0.0.1:{listener.getsockname()[1]}/0",
            "OPTIONS": {"RETRY_SECONDS": 60},
        }
    }
    cache = caches["default"]
    import time

    started = time.monotonic()
    cache.set("k", 1)
    first = time.monotonic() - started
    started = time.monotonic()
    for _ in range(50):
        cache.incr("k")
    rest = time.monotonic() - started
    listener.close()
    assert cache.get("k") == 51
    assert first < 5
    assert rest < first + 2, "later calls go straight to the database while Redis is marked down"


# --- what the fallback is for: the limits keep holding ---------------------------------------


def test_sign_in_lockout_holds_while_redis_is_down(client, failover, own_redis, officer):
    own_redis.stop()
    for _ in range(5):
        response = client.post(
            "/accounts/login/", {"username": officer.username, "password": "wrong"}, REMOTE_ADDR="10.1.1.1"
        )
        assert response.status_code in (200, 429)
    locked = client.post(
        "/accounts/login/", {"username": officer.username, "password": PASSWORD}, REMOTE_ADDR="10.1.1.1"
    )
    assert locked.status_code == 429, "the right password is refused during the lockout"
    assert "_auth_user_id" not in client.session
    # Staff can still sign in and work.
    other = client.post(
        "/accounts/login/", {"username": officer.username, "password": PASSWORD}, REMOTE_ADDR="10.1.1.2"
    )
    assert other.status_code == 302
    assert client.get("/queue/").status_code == 200


def test_report_rate_limit_holds_while_redis_is_down(db, client, failover, own_redis, settings):
    from cases.models import Report

    settings.REPORT_RATE_LIMIT = "2/h"
    place = factories.NeighborhoodFactory()
    category = factories.CategoryFactory()
    own_redis.stop()
    data = {
        "category": category.pk,
        "description": "Tires dumped behind the corner store",
        "neighborhood": place.pk,
        "same_issue": "new",
        "anonymous": "on",
    }
    assert [client.post("/report/", data, REMOTE_ADDR="10.2.2.2").status_code for _ in range(3)] == [302, 302, 429]
    assert Report.objects.count() == 2
    assert client.post("/report/", data, REMOTE_ADDR="10.2.2.3").status_code == 302
