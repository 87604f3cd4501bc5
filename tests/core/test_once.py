"""core.once.cached_once: a figure recomputed by one request at a time, on the real cache (Redis)."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.cache import cache

from core.once import cached_once

KEY = "test:once"


@pytest.fixture(autouse=True)
def _clean():
    cache.delete_many([KEY, f"{KEY}:computing"])
    yield
    cache.delete_many([KEY, f"{KEY}:computing"])


def run_together(n, call):
    """n threads released at the same instant; their answers in order."""
    barrier = threading.Barrier(n)
    answers = [None] * n

    def one(i):
        barrier.wait()
        answers[i] = call()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return answers


class SlowFigures:
    def __init__(self, seconds=0.3):
        self.calls = 0
        self.seconds = seconds
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            self.calls += 1
            n = self.calls
        time.sleep(self.seconds)
        return {"figures": n}


def test_a_cold_cache_is_computed_once_while_the_others_wait():
    compute = SlowFigures()
    answers = run_together(8, lambda: cached_once(KEY, compute, fresh_seconds=60, stale_seconds=60))
    assert compute.calls == 1
    assert answers == [{"figures": 1}] * 8


def test_a_stale_entry_is_recomputed_once_and_the_others_answer_with_the_stale_copy():
    compute = SlowFigures()
    cache.set(KEY, {"value": {"figures": "old"}, "fresh_until": time.time() - 1}, 60)
    answers = run_together(8, lambda: cached_once(KEY, compute, fresh_seconds=60, stale_seconds=60))
    assert compute.calls == 1
    assert sorted(map(str, answers)) == sorted(["{'figures': 1}"] + ["{'figures': 'old'}"] * 7)
    # Fresh again: nobody computes.
    assert cached_once(KEY, compute, fresh_seconds=60, stale_seconds=60) == {"figures": 1}
    assert compute.calls == 1


def test_a_fresh_entry_is_served_without_computing():
    compute = SlowFigures(0)
    assert cached_once(KEY, compute, fresh_seconds=60, stale_seconds=60) == {"figures": 1}
    assert cached_once(KEY, compute, fresh_seconds=60, stale_seconds=60) == {"figures": 1}
    assert compute.calls == 1


def test_when_recomputing_fails_the_stale_copy_answers_and_the_lock_is_released():
    cache.set(KEY, {"value": "old", "fresh_until": time.time() - 1}, 60)

    def broken():
        raise ConnectionError("database away")

    assert cached_once(KEY, broken, fresh_seconds=60, stale_seconds=60) == "old"
    assert cache.get(f"{KEY}:computing") is None
    # Cold and failing: the error reaches the caller (the view's 503), not a wrong answer.
    cache.delete(KEY)
    with pytest.raises(ConnectionError):
        cached_once(KEY, broken, fresh_seconds=60, stale_seconds=60)


def test_a_lock_left_by_a_dead_process_does_not_block_a_cold_page_for_good():
    cache.add(f"{KEY}:computing", 1, timeout=60)  # its holder died
    compute = SlowFigures(0)
    started = time.monotonic()
    assert cached_once(KEY, compute, fresh_seconds=60, stale_seconds=60, wait_seconds=0.3) == {"figures": 1}
    assert 0.3 <= time.monotonic() - started < 5


def test_a_value_stored_by_another_request_while_taking_the_lock_is_used_not_computed_again():
    """The other request stored its value and let its lock go between our first look and our lock."""
    compute = SlowFigures(seconds=0)
    lock = f"{KEY}:computing"

    class Racing:
        """The real cache; the other request finishes just before our lock is taken."""

        def __getattr__(self, name):
            return getattr(cache, name)

        def add(self, key, *args, **kwargs):
            if key == lock:
                cache.set(KEY, {"value": {"figures": "theirs"}, "fresh_until": time.time() + 60}, 60)
            return cache.add(key, *args, **kwargs)

    import core.once

    real = core.once.cache
    core.once.cache = Racing()
    try:
        assert cached_once(KEY, compute, fresh_seconds=60, stale_seconds=60) == {"figures": "theirs"}
    finally:
        core.once.cache = real
    assert compute.calls == 0
    assert cache.get(lock) is None  # and the lock is let go


def test_the_value_is_stored_before_the_lock_is_let_go():
    order = []

    class Watched:
        def __getattr__(self, name):
            return getattr(cache, name)

        def set(self, key, *args, **kwargs):
            order.append(("set", key))
            return cache.set(key, *args, **kwargs)

        def delete(self, key, *args, **kwargs):
            order.append(("delete", key))
            return cache.delete(key, *args, **kwargs)

    import core.once

    real = core.once.cache
    core.once.cache = Watched()
    try:
        cached_once(KEY, SlowFigures(seconds=0), fresh_seconds=60, stale_seconds=60)
    finally:
        core.once.cache = real
    assert order == [("set", KEY), ("delete", f"{KEY}:computing")]
