"""core.heap: the process's lasting objects leave the garbage collector's walks once, after the
first request, and never again."""

import gc

import pytest
from django.core.signals import request_finished

from core import heap

# The signal's other receivers (Django closes old database connections) run too.
pytestmark = pytest.mark.django_db


def test_the_first_request_freezes_the_heap_once_and_the_receiver_leaves(monkeypatch):
    monkeypatch.setattr(heap, "_done", False)
    gc.unfreeze()
    heap.freeze_after_first_request()
    try:
        assert gc.get_freeze_count() == 0
        request_finished.send(sender=None)
        frozen = gc.get_freeze_count()
        assert frozen > 0
        garbage = [[] for _ in range(1000)]  # tracked objects a second freeze would take
        request_finished.send(sender=None)  # a later request freezes nothing more
        # (The count can fall: a frozen object whose last reference goes is still freed.)
        assert gc.get_freeze_count() <= frozen
        assert request_finished.disconnect(heap._freeze) is False  # the receiver left after its one run
        del garbage
    finally:
        request_finished.disconnect(heap._freeze)
        gc.unfreeze()
