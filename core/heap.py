"""After the first request a process answers, the objects it will keep for its whole life
(modules, settings, URL patterns, compiled templates, the schema) are moved out of the cyclic
garbage collector's reach (``gc.freeze``): a full collection, which comes every few dozen
requests, then walks only what requests made, not the whole framework — on the dashboard a
pause of tens of milliseconds every few dozen requests, most of its slowest answers.

Once per process, after a ``gc.collect()`` so nothing already garbage is kept for good.
"""

from __future__ import annotations

import gc
import threading

from django.core.signals import request_finished

__all__ = ["freeze_after_first_request"]

_lock = threading.Lock()
_done = False


def _freeze(**_kwargs) -> None:
    global _done
    with _lock:
        if _done:
            return
        _done = True
    request_finished.disconnect(_freeze)
    gc.collect()
    gc.freeze()


def freeze_after_first_request() -> None:
    request_finished.connect(_freeze, weak=False)
