"""Build the Piccolo engine from DATABASE_URL and hand it to every table.

SQLite (default, a file under var/) runs in WAL mode with a busy timeout, and
write transactions are BEGIN IMMEDIATE so that concurrent writers queue for the
lock instead of failing with "database is locked" when a reader upgrades; a query
outside a transaction runs on a connection kept by a few reader threads rather than
on a new one (a short read, and the server's write transactions, on the event loop's own
thread). PostgreSQL gets a connection pool, started by the app on startup.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import queue
import sqlite3
import threading
from typing import Any
from pathlib import Path
from urllib.parse import unquote, urlparse

import asyncpg
from piccolo.columns import Column
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory
from piccolo.table import Table

from app.concurrency import LoopLock, file_lock
from app.db.row_cache import close_row_caches

#: Seconds a SQLite connection waits for the write lock before giving up.
SQLITE_BUSY_TIMEOUT = 30.0


def sqlite_path(url: str) -> Path:
    # sqlite:///relative/path or sqlite:////absolute/path
    return Path(unquote(url.removeprefix("sqlite:///")))


def engine_from_url(url: str) -> Engine:
    if url.startswith("sqlite:"):
        path = sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(path) as conn:  # WAL persists in the file once set
            conn.execute("PRAGMA journal_mode=WAL")
        return KeptConnectionsSQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT)
    if url.startswith(("postgres://", "postgresql://")):
        parsed = urlparse(url)
        config = {
            "host": parsed.hostname or "127.0.0.1",
            "port": parsed.port or 5432,
            "user": unquote(parsed.username or "postgres"),
            "database": (parsed.path or "/postgres").lstrip("/") or "postgres",
        }
        if parsed.password:
            config["password"] = unquote(parsed.password)
        return PostgresEngine(config=config)
    raise ValueError(f"DATABASE_URL must start with sqlite:/// or postgres:// (got {url!r})")


class KeptConnectionsSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine, except that a query outside a transaction runs on a
    connection kept by one of a few reader threads. Piccolo opens a new connection for each
    such query — a thread, a file open and a PRAGMA, 73 % of an anonymous look-up under
    load (stack-measurements gotcha 10). A write transaction (``write_transaction``) runs on
    the one writing connection the process keeps (``kept_writer``), on the event loop's own
    thread but for its COMMIT (``_InlineWriter``): opening a connection for each, with its
    thread and the schema read again by its first statement, was most of a submission's CPU on
    SQLite (bench/README.md, stop 22), and a hop to that thread for each statement most of what
    was left (stop 23). Other transactions are Piccolo's own, on their own connection, as before.

    The readers take queries from one queue and settle an asyncio future through the loop
    (``call_soon_threadsafe``): ``run_in_executor``'s concurrent future (a lock and a
    condition each), work item and chained callbacks cost the look-up a tenth of its time.
    The threads are daemons, so an exit never waits for them; ``close_kept`` stops them and
    closes their connections (SQLite's journal keeps a write cut short at exit atomic).

    A short read (``read_here``, for ``queries.read_short``: a row by a unique key, a page along
    an index) skips the readers and runs on the calling thread: an index probe of a few
    microseconds, where the hop to a reader and back (the queue, the GIL passed twice, the loop
    woken from another thread) was half of an anonymous look-up's CPU (bench/README.md, stop
    18) and three quarters of an officer's queue page's (stop 23). Its connection never waits
    for a lock, so a busy database cannot stall the event loop: that read goes to a reader."""

    READERS = 4

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._jobs: queue.SimpleQueue | None = None
        self._readers: list[threading.Thread] = []
        self._opened: list[sqlite3.Connection] = []
        self._guard = threading.Lock()
        self._here: sqlite3.Connection | None = None
        self._writer: _InlineWriter | None = None

    def _connect(self, **settings: Any) -> sqlite3.Connection:
        # Piccolo's connection settings: autocommit, its type converters, the busy timeout.
        connection = sqlite3.connect(**{**self.connection_kwargs, **settings}, check_same_thread=False)
        connection.row_factory = dict_factory
        connection.execute("PRAGMA foreign_keys = 1")
        with self._guard:
            self._opened.append(connection)
        return connection

    def _read(self, jobs: queue.SimpleQueue) -> None:
        connection: sqlite3.Connection | None = None
        while (job := jobs.get()) is not None:
            loop, future, query, args = job
            try:
                connection = connection or self._connect()
                cursor = connection.execute(query, args)
                try:
                    rows, error = cursor.fetchall(), None
                finally:
                    cursor.close()
            except BaseException as e:  # noqa: BLE001 - handed to the awaiting coroutine
                rows, error = None, e
            try:
                loop.call_soon_threadsafe(_settle, future, rows, error)
            except RuntimeError:  # the loop is closed: nobody waits any more
                pass

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ):
        if query_type == "insert" and self.get_version_sync() < 3.35:  # no RETURNING: Piccolo's way
            return await super()._run_in_new_connection(query, args, query_type, table)
        with self._guard:
            if self._jobs is None:
                self._jobs = queue.SimpleQueue()
                self._readers = [
                    threading.Thread(
                        target=self._read, args=(self._jobs,), name=f"sqlite-reader-{i}", daemon=True
                    )
                    for i in range(self.READERS)
                ]
                for reader in self._readers:
                    reader.start()
            jobs = self._jobs
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        jobs.put((loop, future, query, args or []))
        return await future

    def read_here(self, query: str, args: tuple[Any, ...]) -> list[dict[str, Any]] | None:
        """The rows of a short read (``queries.read_short``), read on this thread; None when
        it must go Piccolo's way instead: inside a transaction (whose connection must read it),
        or when SQLite is busy (a lock held in exclusive mode, a WAL recovery) and a reader
        should wait for the lock."""
        if self.current_transaction.get() is not None:
            return None
        connection = self._here
        if connection is None:  # two threads racing here open two: both are closed with the rest
            connection = self._here = self._connect(timeout=0)  # never waits for a lock
        try:
            cursor = connection.execute(query, args)
            try:
                return cursor.fetchall()
            finally:
                cursor.close()
        except sqlite3.OperationalError as e:
            if (e.sqlite_errorcode & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):  # extended too
                return None
            raise

    def data_version(self) -> int | None:
        """``PRAGMA data_version`` of the connection ``read_here`` uses: it changes whenever
        another connection commits (app/db/row_cache.py). None inside a transaction or when
        SQLite is busy."""
        rows = self.read_here("PRAGMA data_version", ())
        return next(iter(rows[0].values())) if rows else None

    def kept_writer(self) -> _InlineWriter:
        """The process's writing connection, made on first use, and again if a transaction cut
        short (a cancelled request) left it inside one. Write transactions take it in turn:
        ``_sqlite_writers`` and the writer file lock let one in at a time."""
        writer = self._writer
        if writer is None or writer.in_transaction:
            self.drop_writer()
            # Never waits for a lock on the loop's thread: _KeptWriterTransaction.begin waits
            # asynchronously, and once its transaction has begun no statement of it waits.
            self._writer = writer = _InlineWriter(self._connect(timeout=0))
        return writer

    def drop_writer(self) -> None:
        """Close the writing connection (rolling back what it left open); the next write opens one."""
        writer, self._writer = self._writer, None
        if writer is not None:
            with self._guard:
                if writer.connection in self._opened:
                    self._opened.remove(writer.connection)
            writer.connection.close()

    def close_kept(self) -> None:
        """Stop the readers and close their connections (the app's shutdown; tests between
        databases). Queries already queued are answered first."""
        self.drop_writer()
        with self._guard:
            jobs, readers, self._jobs, self._readers = self._jobs, self._readers, None, []
        if jobs is not None:
            for _ in readers:
                jobs.put(None)
            for reader in readers:
                reader.join()
        with self._guard:
            opened, self._opened, self._here = self._opened, [], None
        for connection in opened:
            connection.close()


class _Done:
    """aiosqlite's awaitable-or-context-manager result, already there: awaiting it does not
    suspend the coroutine."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self):
        return self.value
        yield  # a generator that returns at once: ``await`` never gives the loop a turn

    async def __aenter__(self) -> Any:
        return self.value

    async def __aexit__(self, *exc: object) -> None:
        await self.value.close()


class _InlineCursor:
    __slots__ = ("cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self.cursor = cursor

    @property
    def lastrowid(self) -> int | None:
        return self.cursor.lastrowid

    async def fetchall(self) -> list[Any]:
        return self.cursor.fetchall()

    async def fetchone(self) -> Any:
        return self.cursor.fetchone()

    async def close(self) -> None:
        self.cursor.close()


class _InlineWriter:
    """The kept writing connection behind the part of aiosqlite's interface that Piccolo's
    transaction and queries use, each call done on the calling thread before it returns.

    A write transaction hopped to aiosqlite's thread and back for each statement (and for the
    ``PRAGMA foreign_keys`` Piccolo sends before each): some fifteen hops for a submission, each
    a turn of the event loop, with the writers' lock held throughout. Under load each turn
    waited behind the other requests' work, and the lock's holders queued behind those turns
    (SQLite's submissions 80-97 a second, bench/README.md, stop 23). Run here, a transaction
    holds the loop for its statements and its commit (SQLite's own work, ~0.1 ms a statement
    and the WAL's fsync), which the process had to do anyway."""

    __slots__ = ("connection",)

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def execute(self, sql: str, parameters: Any = ()) -> _Done:
        return _Done(_InlineCursor(self.connection.execute(sql, parameters)))

    @property
    def in_transaction(self) -> bool:
        return self.connection.in_transaction

    @property
    def row_factory(self) -> Any:
        return self.connection.row_factory

    @row_factory.setter
    def row_factory(self, factory: Any) -> None:  # Piccolo sets its own before each statement
        self.connection.row_factory = factory

    async def close(self) -> None:  # a transaction's end: kept for the next one
        pass


class _KeptWriterTransaction(SQLiteTransaction):
    """Piccolo's transaction on ``KeptConnectionsSQLiteEngine.kept_writer``."""

    async def get_connection(self) -> _InlineWriter:
        return self.engine.kept_writer()

    async def begin(self) -> None:
        """``BEGIN``, waiting for SQLite's write lock without holding the loop: a writer of
        another kind (a statement outside any transaction, another program) may hold it. The
        server's own writers never do: they pass the writers' lock and file lock first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SQLITE_BUSY_TIMEOUT
        pause = 0.001
        while True:
            try:
                self.connection.connection.execute(f"BEGIN {self.transaction_type.value}")
                return
            except sqlite3.OperationalError as e:
                if (e.sqlite_errorcode & 0xFF) != sqlite3.SQLITE_BUSY or loop.time() > deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)

    async def commit(self) -> None:
        """``COMMIT`` on a worker thread: its fsync of the WAL (0.3-1.2 ms here) waits off the
        loop, which serves other requests meanwhile; the only hop of the transaction."""
        commit = functools.partial(self.connection.connection.execute, "COMMIT")
        await asyncio.get_running_loop().run_in_executor(None, commit)
        self._committed = True

    async def __aexit__(self, exception_type, exception, traceback) -> bool:
        try:
            return await super().__aexit__(exception_type, exception, traceback)
        finally:
            # A COMMIT or ROLLBACK that failed leaves it mid-transaction: the next write opens
            # another (kept_writer) once this one has had its say.
            if self._parent is None and self.connection.in_transaction:
                self.engine.drop_writer()


def _settle(future: asyncio.Future, rows: list[dict[str, Any]] | None, error: BaseException | None) -> None:
    if future.cancelled():  # the request went away meanwhile
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(rows)


def _all_tables(root: type[Table] = Table):
    for sub in root.__subclasses__():
        yield sub
        yield from _all_tables(sub)


def use_engine(engine: Engine) -> None:
    """Make ``engine`` the one every table and Piccolo's own machinery use."""
    from app.db import piccolo_conf

    piccolo_conf.DB = engine
    for table in _all_tables():
        table._meta.db = engine


def current_engine() -> Engine:
    from app.db import piccolo_conf

    return piccolo_conf.DB


#: SQLite has one writer at a time: a process's write transactions queue here, in order, rather
#: than in SQLite's busy handler, which polls with sleeps of up to 100 ms (the lock stays idle
#: meanwhile) and lets an unlucky waiter run out of its timeout under many concurrent writers.
#: Between the server's processes, the front writer of each then takes a file lock next to the
#: database (``file_lock``): the kernel hands it over at once, where the busy handler let one
#: process's back-to-back writers starve the other's (wrk timeouts with 2 workers, stop 13).
_sqlite_writers = LoopLock()


@contextlib.asynccontextmanager
async def _sqlite_write_transaction(engine: SQLiteEngine):
    if engine.current_transaction.get() is not None:  # nested: the outer one holds the lock
        async with engine.transaction(transaction_type=TransactionType.immediate) as transaction:
            yield transaction
        return
    immediate = TransactionType.immediate
    async with (
        _sqlite_writers(),
        file_lock(f"{engine.path}-writer.lock"),
        _KeptWriterTransaction(engine, immediate)
        if isinstance(engine, KeptConnectionsSQLiteEngine)
        else engine.transaction(transaction_type=immediate) as transaction,
    ):
        yield transaction


def write_transaction():
    """One state change = one transaction (its audit row inside it)."""
    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        return _sqlite_write_transaction(engine)
    return engine.transaction()


def violates_unique(error: BaseException, column: Column) -> bool:
    """``error`` is the database refusing a second row with the same value of ``column``
    (a UNIQUE column; PostgreSQL names its constraint ``<table>_<column>_key``)."""
    table, name = column._meta.table._meta.tablename, column._meta.db_column_name
    if isinstance(error, asyncpg.UniqueViolationError):
        return error.constraint_name == f"{table}_{name}_key"
    return isinstance(error, sqlite3.IntegrityError) and f"UNIQUE constraint failed: {table}.{name}" in str(
        error
    )


def violates_check(error: BaseException, constraint: str) -> bool:
    """``error`` is PostgreSQL refusing a row by the CHECK ``constraint``."""
    return isinstance(error, asyncpg.CheckViolationError) and error.constraint_name == constraint


def engine_name(engine: Engine | None = None) -> str:
    return "sqlite" if isinstance(engine or current_engine(), SQLiteEngine) else "postgres"


async def _keep_session(connection) -> None:
    """What a connection needs on its way back to the pool beyond asyncpg's own rollback of
    an open transaction: nothing. The default runs ``RESET ALL; CLOSE ALL; UNLISTEN *;
    SELECT pg_advisory_unlock_all()`` — a round trip after every query outside a transaction
    (11 % of a look-up under load) — for session state this app never makes: no SET, no
    cursors, no LISTEN, and only transaction-scoped advisory locks (pg_advisory_xact_lock)."""


def _quiet(connection: Any) -> bool:
    """What asyncpg's own release checks before it resets a connection for reuse: open, not
    in a transaction, no cancelled query still being cancelled, under ``max_queries``."""
    raw = connection._con
    return (
        raw is not None
        and not raw.is_closed()
        and not raw.is_in_transaction()
        and not raw._protocol._is_cancelling()
        and raw._protocol.queries_count < connection._holder._max_queries
    )


#: Connections per process (PostgreSQL's default max_connections is 100: a few workers,
#: the CLI and the tests fit).
POOL_SIZE = 16


class FairPool:
    """asyncpg's pool with the tasks waiting for a connection served in their order of arrival,
    and a quiet connection kept at hand between two queries.

    asyncpg gives a released connection to whichever task asks first, so a waiter woken for
    it can lose it to a newcomer and go back to the end of the line (MagicStack/asyncpg#1247).
    At 64 connections to one worker a look-up's p99 was ten times its median (bench/README.md,
    stop 16). A gate in front lets no more tasks at the pool than it has connections, and
    asyncio's Semaphore queues the rest first come, first served.

    Taking a connection from asyncpg's pool and giving it back costs more than the query it is
    for: a Task per release (``asyncio.shield``), a timeout scope, the reset, and the idle timer
    cancelled and set again (22 of 44 µs for a look-up's query, bench/README.md, stop 17). So a
    connection given back quiet (open, outside a transaction, no cancellation under way, within
    asyncpg's query budget) waits here for the next task past the gate; any other goes back to
    asyncpg, which resets or closes it. Connections, their health and their closing stay asyncpg's.
    """

    def __init__(self, pool: Any, size: int) -> None:
        self.pool = pool
        self.gate = asyncio.Semaphore(size)
        # Taken from asyncpg's pool and quiet. The gate lets at most `size` tasks hold a
        # connection, so a task past it finds one here or a free one in asyncpg's pool.
        self.idle: list[Any] = []
        self.closing = False

    def acquire(self, *, timeout: float | None = None) -> _FairAcquire:
        # Awaited (Piccolo's transactions) or used with `async with` (its queries), as asyncpg's.
        return _FairAcquire(self, timeout)

    async def release(self, connection: Any, *, timeout: float | None = None) -> None:
        try:
            if not self.closing and _quiet(connection):
                self.idle.append(connection)
            else:
                await self.pool.release(connection, timeout=timeout)
        finally:
            self.gate.release()

    async def close(self) -> None:
        # asyncpg's close waits for every connection to come back, those kept here included,
        # and those still out (a cancelled housekeeping tick rolling back): they must not be
        # kept here once closing has begun, or it waits for ever.
        self.closing = True
        idle, self.idle = self.idle, []
        for connection in idle:
            await self.pool.release(connection)
        await self.pool.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pool, name)


class _FairAcquire:
    __slots__ = ("fair", "timeout", "connection")

    def __init__(self, fair: FairPool, timeout: float | None) -> None:
        self.fair, self.timeout, self.connection = fair, timeout, None

    async def _acquire(self) -> Any:
        await self.fair.gate.acquire()
        if self.fair.idle:
            return self.fair.idle.pop()
        try:
            return await self.fair.pool.acquire(timeout=self.timeout)
        except BaseException:
            self.fair.gate.release()
            raise

    def __await__(self):
        return self._acquire().__await__()

    async def __aenter__(self) -> Any:
        self.connection = await self._acquire()
        return self.connection

    async def __aexit__(self, *exc: object) -> None:
        await self.fair.release(self.connection)


async def start(engine: Engine | None = None) -> bool:
    """Start the PostgreSQL pool unless one runs already; True if this call started it."""
    engine = engine or current_engine()
    if isinstance(engine, PostgresEngine) and engine.pool is None:
        await engine.start_connection_pool(min_size=2, max_size=POOL_SIZE, reset=_keep_session)
        engine.pool = FairPool(engine.pool, POOL_SIZE)
        return True
    return False


async def stop(engine: Engine | None = None) -> None:
    engine = engine or current_engine()
    await close_row_caches(engine)
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        await engine.close_connection_pool()  # FairPool passes close() on to asyncpg's
    elif isinstance(engine, KeptConnectionsSQLiteEngine):
        await asyncio.to_thread(engine.close_kept)
