"""The database engines' own behaviour under the app: SQLite queries outside a transaction on
kept connections, PostgreSQL connections back in the pool without a session reset."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest

from app.db import engine as db
from app.db.queries import one_by
from app.db.tables import Setting


async def test_sqlite_queries_outside_a_transaction_reuse_a_few_connections(backend):
    if backend[0] != "sqlite":
        pytest.skip("SQLite only")
    engine = db.current_engine()
    assert isinstance(engine, db.KeptConnectionsSQLiteEngine)
    await db.stop(engine)  # start from none kept
    assert engine._opened == []

    async def province() -> str:
        row = await Setting.select(Setting.value).where(Setting.key == "province").first()
        return row["value"]

    answers = [await province() for _ in range(20)]
    answers += await asyncio.gather(*(province() for _ in range(50)))
    assert set(answers) == {"yen-bai-2021"}
    assert 1 <= len(engine._opened) <= engine.READERS  # not one connection per query

    # A failing statement raises and leaves its connection usable, with nothing half-done.
    await Setting.insert(Setting(key="engine-test", value="1"))
    with pytest.raises(sqlite3.IntegrityError):
        await Setting.insert(Setting(key="engine-test", value="2"))
    value = Setting.select(Setting.value).where(Setting.key == "engine-test")
    for _ in range(engine.READERS * 2):
        assert await value.first() == {"value": "1"}
    # What was written outside a transaction is there for a transaction (another connection).
    async with db.write_transaction():
        await Setting.update({Setting.value: "3"}).where(Setting.key == "engine-test")
    assert await value.first() == {"value": "3"}
    await Setting.delete().where(Setting.key == "engine-test")

    # Stopping closes what was kept; the next query opens again.
    kept = list(engine._opened)
    await db.stop(engine)
    assert engine._opened == []
    with pytest.raises(sqlite3.ProgrammingError):  # closed for real
        kept[0].execute("SELECT 1")
    assert await province() == "yen-bai-2021"


async def test_sqlite_write_transactions_take_one_kept_connection_in_turn(backend):
    """Each write transaction runs on the connection the process keeps for writing, not on one
    opened for it; one that failed leaves nothing half-done on it, and one left inside its
    transaction (a request cancelled mid-way) is replaced by a fresh connection."""
    if backend[0] != "sqlite":
        pytest.skip("SQLite only")
    engine = db.current_engine()
    await db.stop(engine)
    assert engine._writer is None

    async def write(value: str, key: str = "writer-test") -> object:
        async with db.write_transaction() as transaction:
            await Setting.insert(Setting(key=key, value=value))
            return transaction.connection.connection

    first = await write("1")
    with pytest.raises(sqlite3.IntegrityError):
        await write("2")  # the key is taken: rolled back
    await Setting.delete().where(Setting.key == "writer-test")
    assert await write("3") is first  # the same connection, each time
    assert not first.in_transaction
    value = Setting.select(Setting.value).where(Setting.key == "writer-test")
    assert await value.first() == {"value": "3"}

    # Left inside a transaction: the next write takes another connection, and the first closes.
    first.execute("BEGIN IMMEDIATE")
    first.execute("DELETE FROM portal_setting WHERE key = 'writer-test'")  # never committed
    second = await write("4", key="writer-test-2")
    assert second is not first
    assert await value.first() == {"value": "3"}  # the first's half-done delete was rolled back
    with pytest.raises(sqlite3.ProgrammingError):
        first.execute("SELECT 1")  # closed
    await Setting.delete().where(Setting.key == "writer-test-2")
    await Setting.delete().where(Setting.key == "writer-test")
    await db.stop(engine)
    assert engine._writer is None


async def test_sqlite_write_transaction_runs_on_the_loop_and_waits_for_the_lock_off_it(backend):
    """A write transaction's statements run on the event loop's thread, no other thread asked
    (Piccolo's hop to aiosqlite's thread fails the test); while another connection holds
    SQLite's write lock, its BEGIN waits without holding the loop, which goes on running, and
    it writes once the lock is let go."""
    if backend[0] != "sqlite":
        pytest.skip("SQLite only")
    engine = db.current_engine()
    holder = sqlite3.connect(engine.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # SQLite's write lock, held outside the server's locks
    turns = 0

    async def loop_turns() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0.005)

    async def write() -> None:
        async with db.write_transaction():
            await Setting.insert(Setting(key="inline-test", value="1"))

    ticking = asyncio.create_task(loop_turns())
    writing = asyncio.create_task(write())
    try:
        await asyncio.sleep(0.2)
        assert not writing.done()  # waiting for the lock
        assert turns >= 10  # and the loop went on meanwhile
        holder.execute("COMMIT")
        await asyncio.wait_for(writing, 5)
    finally:
        ticking.cancel()
        holder.close()
    assert await Setting.select(Setting.value).where(Setting.key == "inline-test").first() == {"value": "1"}

    # Every statement of a write transaction on this thread.
    seen: set[int] = set()

    class Watched(db._InlineWriter):
        __slots__ = ()

        def execute(self, sql, parameters=()):
            seen.add(threading.get_ident())
            return super().execute(sql, parameters)

    engine._writer = Watched(engine.kept_writer().connection)
    async with db.write_transaction():
        await Setting.update({Setting.value: "2"}).where(Setting.key == "inline-test")
        await Setting.delete().where(Setting.key == "inline-test")
    engine._writer = db._InlineWriter(engine._writer.connection)
    assert seen == {threading.get_ident()}
    assert await Setting.select().where(Setting.key == "inline-test").first() is None


async def test_sqlite_read_by_key_runs_on_the_loop_and_never_waits_there_for_a_lock(backend, tmp_path):
    """``one_by`` (``read_short``) reads its row on the calling thread, no reader asked. While another
    connection holds the database that read does not wait on the event loop's thread: the loop
    keeps running, a reader waits for the lock and answers once it is free. (Waiting on the
    loop with the busy timeout, or failing at once, would fail this.) The file is in rollback
    journal mode, where a writer's exclusive lock keeps readers out: in WAL mode, the app's,
    only a recovery or an exclusive locking mode does."""
    if backend[0] != "sqlite":
        pytest.skip("SQLite only")
    path = tmp_path / "locked.sqlite3"
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute('CREATE TABLE portal_setting (id INTEGER PRIMARY KEY, "key" TEXT UNIQUE, "value" TEXT)')
    setup.execute("INSERT INTO portal_setting (key, value) VALUES ('province', 'yen-bai-2021')")
    setup.close()
    engine = db.KeptConnectionsSQLiteEngine(path=str(path), timeout=db.SQLITE_BUSY_TIMEOUT)
    used = db.current_engine()
    db.use_engine(engine)
    province = {"value": "yen-bai-2021"}
    try:
        assert await one_by(Setting, Setting.key, "province", (Setting.value,)) == province
        assert engine._jobs is None and engine._here is not None  # no reader was asked

        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticking = asyncio.create_task(ticker())
        try:
            read = asyncio.create_task(one_by(Setting, Setting.key, "province", (Setting.value,)))
            await asyncio.sleep(0.3)
            assert not read.done()  # waiting for the lock, in a reader
            assert ticks >= 10  # while the loop went on
        finally:
            holder.close()
            ticking.cancel()
        assert await asyncio.wait_for(read, 10) == province
        assert engine._jobs is not None  # a reader took it
    finally:
        db.use_engine(used)
        await db.stop(engine)


async def test_postgres_connection_back_in_the_pool_is_rolled_back_but_not_reset(backend):
    if backend[0] != "postgres":
        pytest.skip("PostgreSQL only")
    pool = db.current_engine().pool
    # A connection released in the middle of a transaction (a cancelled request) comes back
    # rolled back: asyncpg's own clean-up still runs without the session reset.
    connection = await pool.acquire()
    try:
        await connection.execute("BEGIN")
        await connection.execute("INSERT INTO portal_setting (key, value) VALUES ('engine-test', 'x')")
    finally:
        await pool.release(connection)
    async with pool.acquire() as again:
        assert not again.is_in_transaction()
        assert await again.fetchval("SELECT count(*) FROM portal_setting WHERE key = 'engine-test'") == 0
    # No RESET ALL round trip on release: a session setting made on a connection survives
    # it (the app makes none; this is what the skipped reset saves).
    async with pool.acquire() as connection:
        await connection.execute("SET application_name = 'engine-test'")
    every = []
    try:
        for _ in range(pool.get_size()):  # every connection of the pool: the one set is among them
            every.append(await asyncio.wait_for(pool.acquire(), 10))
        names = [await c.fetchval("SHOW application_name") for c in every]
        assert names.count("engine-test") == 1
    finally:
        for c in every:
            await c.execute("RESET application_name")
            await pool.release(c)


async def test_postgres_pool_serves_its_waiters_in_their_order_of_arrival(backend):
    """A request arriving while a connection comes back queues behind the requests already
    waiting, instead of taking the connection before the waiter woken for it runs (asyncpg's
    own pool lets it: MagicStack/asyncpg#1247; this test fails on it)."""
    if backend[0] != "postgres":
        pytest.skip("PostgreSQL only")
    pool = db.current_engine().pool
    assert isinstance(pool, db.FairPool)
    served: list[str] = []

    async def query(name: str) -> None:
        async with pool.acquire() as connection:
            served.append(name)
            await connection.fetchval("SELECT 1")

    held = [await asyncio.wait_for(pool.acquire(), 10) for _ in range(db.POOL_SIZE)]
    try:
        waiters = [asyncio.create_task(query(f"waiter {i}")) for i in range(3)]
        await asyncio.sleep(0.05)  # all three wait for a connection
        assert served == []
        release = asyncio.create_task(pool.release(held.pop()))
        newcomers = []
        for i in range(4):  # arriving at each turn of the event loop while the connection comes back
            newcomers.append(asyncio.create_task(query(f"newcomer {i}")))
            await asyncio.sleep(0)
        await asyncio.wait_for(asyncio.gather(release, *waiters, *newcomers), 10)
    finally:
        for connection in held:
            await pool.release(connection)
    assert served == [f"waiter {i}" for i in range(3)] + [f"newcomer {i}" for i in range(4)]
    # Every connection is back: as many can be had at once again.
    again = [await asyncio.wait_for(pool.acquire(), 10) for _ in range(db.POOL_SIZE)]
    for connection in again:
        await pool.release(connection)


async def test_written_inserts_store_what_piccolo_inserts_store(backend):
    """``insert_rows`` sends what ``Table.insert(Table(...))`` sends: the defaults of the
    columns not given (a per-row one such as ``created_at``'s now included), JSON given as a
    dict dumped, and rows read back equal, on both databases."""
    from datetime import datetime, timedelta, timezone

    from app.db.queries import insert_rows
    from app.db.tables import AuditEvent, Notification

    at = datetime(2021, 3, 15, 8, 30, tzinfo=timezone(timedelta(hours=7)))
    given = {"seq": -1, "at": at, "action": "test.written", "prev_hash": "0" * 64, "hash": "1" * 64}
    async with db.write_transaction():
        (piccolo,) = await AuditEvent.insert(AuditEvent(**given, details={"a": [1, "Đ"]})).returning(
            AuditEvent.id
        )
        (written,) = await insert_rows(
            AuditEvent, {**given, "seq": -2, "details": {"a": [1, "Đ"]}}, returning=(AuditEvent.id,)
        )
        # Several rows in one statement; a column left out takes its per-row default (now).
        before = datetime.now(timezone.utc)
        both = await insert_rows(
            Notification,
            {"dossier_code": "T-1", "channel": "email", "recipient": "a@b.vn", "body": "x"},
            {"dossier_code": "T-1", "channel": "sms", "recipient": "0912345678", "body": "y"},
            returning=(Notification.id, Notification.created_at, Notification.status),
        )
        rows = {
            r["seq"]: r
            for r in await AuditEvent.select().where(AuditEvent.id.is_in([piccolo["id"], written["id"]]))
        }
        await AuditEvent.delete().where(AuditEvent.action == "test.written")
        await Notification.delete().where(Notification.dossier_code == "T-1")
    assert set(rows) == {-1, -2}
    one, two = ({k: v for k, v in rows[s].items() if k not in ("id", "seq")} for s in (-1, -2))
    assert one == two
    assert one["actor"] == "" and one["dossier_code"] is None and one["at"] == at
    assert [r["status"] for r in both] == ["pending", "pending"]
    assert all(abs(r["created_at"] - before) < timedelta(minutes=1) for r in both)
    assert both[0]["id"] < both[1]["id"]

    with pytest.raises(TypeError, match="no column actions"):
        await insert_rows(AuditEvent, {**given, "actions": "x"})
    assert await insert_rows(Notification) == []


async def test_a_running_app_keeps_startup_objects_out_of_collections(clock):
    """While an app runs, what existed at its startup is frozen and young objects are
    collected every YOUNG_COLLECTION_EVERY allocations; both are undone when it stops."""
    import gc

    from app.asgi import create_app
    from app.web.plugin import YOUNG_COLLECTION_EVERY, PortalPlugin
    from tests.conftest import app_settings

    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    app = create_app(settings=app_settings(), clock=clock)
    plugin = app.plugins.get(PortalPlugin)
    # Its last startup hook and first shutdown hook. (Not the whole lifespan: that would start
    # the housekeeping loop on the shared test database.)
    assert app.on_startup[-1] == plugin._settle_heap and app.on_shutdown[0] == plugin._unsettle_heap
    plugin._settle_heap()
    try:
        assert gc.get_threshold()[0] == YOUNG_COLLECTION_EVERY
        assert gc.get_freeze_count() > 10_000
    finally:
        plugin._unsettle_heap()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


async def test_postgres_pool_keeps_a_quiet_connection_for_the_next_task(backend):
    """A connection given back outside a transaction is handed to the next task as it is,
    without the round of asyncpg's release and acquire (a new proxy each time: this test fails
    on asyncpg's pool); one given back in the middle of a transaction goes back to asyncpg,
    which rolls it back, and is not kept."""
    if backend[0] != "postgres":
        pytest.skip("PostgreSQL only")
    pool = db.current_engine().pool
    async with pool.acquire() as first:
        await first.fetchval("SELECT 1")
    async with pool.acquire() as second:
        assert second is first
        assert await second.fetchval("SELECT 2") == 2
    busy = await pool.acquire()
    await busy.execute("BEGIN")
    await pool.release(busy)
    assert busy not in pool.idle
    async with pool.acquire() as third:
        assert not third.is_in_transaction()


async def test_postgres_pool_closes_with_connections_kept(backend):
    """Closing gives the kept connections back to asyncpg first: its close waits for every
    connection to come back, and would otherwise wait for ever."""
    if backend[0] != "postgres":
        pytest.skip("PostgreSQL only")
    import asyncpg

    engine = db.current_engine()
    fair = db.FairPool(await asyncpg.create_pool(**engine.config, min_size=1, max_size=2), 2)
    held = [await fair.acquire() for _ in range(2)]
    for connection in held:
        await fair.release(connection)
    assert len(fair.idle) == 2
    await asyncio.wait_for(fair.close(), 10)
    assert fair.pool._closed and fair.idle == []


async def test_postgres_pool_closes_while_a_connection_is_still_out(backend):
    """A connection given back quiet after closing has begun (a request or the housekeeping
    tick finishing during shutdown) goes back to asyncpg, whose close is waiting for it: kept
    here, it would never come back and the close would wait for ever."""
    if backend[0] != "postgres":
        pytest.skip("PostgreSQL only")
    import asyncpg

    engine = db.current_engine()
    fair = db.FairPool(await asyncpg.create_pool(**engine.config, min_size=1, max_size=2), 2)
    out = await fair.acquire()
    closing = asyncio.create_task(fair.close())
    await asyncio.sleep(0.05)
    assert not closing.done()  # asyncpg waits for the connection still out
    await out.fetchval("SELECT 1")
    await fair.release(out)
    await asyncio.wait_for(closing, 10)
    assert fair.pool._closed and fair.idle == []


async def test_written_statements_run_inside_the_transaction_under_way(backend):
    """``queries.run`` (straight to asyncpg on PostgreSQL) uses the connection of the
    transaction under way: a row it writes there is seen there, and goes with a rollback."""
    from app.db.queries import run

    count = "SELECT count(*) AS n FROM portal_setting WHERE key = {}"
    with pytest.raises(RuntimeError):
        async with db.write_transaction():
            await run(Setting, "INSERT INTO portal_setting (key, value) VALUES ({}, {})", "run-test", "x")
            assert (await run(Setting, count, "run-test"))[0]["n"] == 1
            raise RuntimeError("roll back")
    assert (await run(Setting, count, "run-test"))[0]["n"] == 0
