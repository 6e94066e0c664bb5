"""Locks for coroutines of one process."""

from __future__ import annotations

import asyncio
import weakref


class LoopLock:
    """One ``asyncio.Lock`` per running event loop, made on first use: a lock belongs to the
    loop it was first awaited on, and the tests, the simulator's writer and the CLI each run
    their own loops in one process."""

    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def __call__(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock
