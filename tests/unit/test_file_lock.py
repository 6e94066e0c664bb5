"""app.concurrency.file_lock: what SQLite writers of different server processes queue on."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from app.concurrency import file_lock

HOLDER = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.readline()
"""


def hold(path) -> subprocess.Popen:
    """Another process holding the lock until a line is written to it."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "held"
    return holder


def let_go(holder: subprocess.Popen) -> None:
    holder.stdin.write("\n")
    holder.stdin.flush()
    holder.wait(timeout=10)


async def test_a_writer_waits_for_another_process_without_blocking_the_loop(tmp_path):
    path = tmp_path / "db-writer.lock"
    holder = hold(path)
    order: list[str] = []

    async def writer():
        async with file_lock(str(path)):
            order.append("writer")

    task = asyncio.create_task(writer())
    for _ in range(20):  # the loop keeps running while the writer waits
        await asyncio.sleep(0.01)
    order.append("loop ran")
    assert not task.done()
    let_go(holder)
    await asyncio.wait_for(task, 10)
    assert order == ["loop ran", "writer"]


async def test_two_holders_in_one_process_exclude_each_other(tmp_path):
    path = str(tmp_path / "db-writer.lock")
    inside = []

    async def writer(name):
        async with file_lock(path):
            inside.append(name)
            assert len(inside) == 1
            await asyncio.sleep(0.05)
            inside.remove(name)

    await asyncio.wait_for(asyncio.gather(writer("a"), writer("b"), writer("c")), 10)


async def test_a_writer_cancelled_while_waiting_does_not_keep_the_lock(tmp_path):
    path = tmp_path / "db-writer.lock"
    holder = hold(path)

    async def writer():
        async with file_lock(str(path)):
            raise AssertionError("never inside: cancelled while waiting")

    task = asyncio.create_task(writer())
    await asyncio.sleep(0.05)
    task.cancel()
    let_go(holder)
    try:
        await task
    except asyncio.CancelledError:
        pass
    # The waiting thread took the lock after the cancellation, then let it go:
    again = await asyncio.wait_for(asyncio.to_thread(hold, path), 10)  # the loop runs meanwhile
    let_go(again)
