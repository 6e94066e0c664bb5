"""Locks for coroutines: of one process, and across the server's processes."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
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


@contextlib.asynccontextmanager
async def file_lock(path: str):
    """An exclusive ``flock`` on ``path``, for coroutines of different processes. Taken on
    the spot when free; otherwise waited for in a worker thread, so the event loop goes on,
    and handed over by the kernel, which wakes the waiter as soon as the holder lets go.
    Each holder opens the file anew, so two holders in one process exclude each other too;
    closing the file releases the lock."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    owned = True
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            waiting = asyncio.ensure_future(asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX))
            try:
                await asyncio.shield(waiting)
            except asyncio.CancelledError:
                # The thread still takes the lock; the file is closed (the lock let go) then.
                waiting.add_done_callback(lambda _: os.close(fd))
                owned = False
                raise
        yield
    finally:
        if owned:
            os.close(fd)
