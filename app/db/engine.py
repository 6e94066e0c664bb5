"""Build the Piccolo engine from DATABASE_URL and hand it to every table.

SQLite (default, a file under var/) runs in WAL mode with a busy timeout, and
write transactions are BEGIN IMMEDIATE so that concurrent writers queue for the
lock instead of failing with "database is locked" when a reader upgrades.
PostgreSQL gets a connection pool, started by the app on startup.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import weakref
from pathlib import Path
from urllib.parse import unquote, urlparse

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.table import Table

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
        return SQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT)
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
_sqlite_writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


@contextlib.asynccontextmanager
async def _sqlite_write_transaction(engine: SQLiteEngine):
    if engine.current_transaction.get() is not None:  # nested: the outer one holds the lock
        async with engine.transaction(transaction_type=TransactionType.immediate) as transaction:
            yield transaction
        return
    loop = asyncio.get_running_loop()
    lock = _sqlite_writers.get(loop)
    if lock is None:
        lock = _sqlite_writers[loop] = asyncio.Lock()
    async with lock, engine.transaction(transaction_type=TransactionType.immediate) as transaction:
        yield transaction


def write_transaction():
    """One state change = one transaction (its audit row inside it)."""
    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        return _sqlite_write_transaction(engine)
    return engine.transaction()


def engine_name(engine: Engine | None = None) -> str:
    return "sqlite" if isinstance(engine or current_engine(), SQLiteEngine) else "postgres"


async def start(engine: Engine | None = None) -> bool:
    """Start the PostgreSQL pool unless one runs already; True if this call started it."""
    engine = engine or current_engine()
    if isinstance(engine, PostgresEngine) and engine.pool is None:
        await engine.start_connection_pool(min_size=2, max_size=16)
        return True
    return False


async def stop(engine: Engine | None = None) -> None:
    engine = engine or current_engine()
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        await engine.close_connection_pool()
