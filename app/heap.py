"""The cyclic garbage collector kept out of the way of long-running work."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def fewer_collections(young: int, *older: int) -> Iterator[None]:
    """Set aside the objects that exist now (``gc.freeze``: no collection scans them again)
    and collect young objects every ``young`` allocations; both undone on the way out.

    What a process builds once (modules, routes, the catalogue, the province: ~160,000
    objects in a worker) would otherwise be rescanned by every full collection, and short-lived
    objects that happen to be alive at a young collection get promoted and bring the next
    full one closer."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(young, *older)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()
