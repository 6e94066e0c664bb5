"""What a process keeps in memory about rows, and how it learns that one has changed.

Two kinds of row are read far more often than they change:

- a dossier's public facts: the anonymous look-up by code is the portal's busiest path
  (citizens asking again and again where their dossier is), and what it shows changes only
  when an officer acts. Reading the row each time was half of the look-up's cost on PostgreSQL
  (bench/README.md, stop 19);
- the account behind a request: every signed-in request (a bearer token or a session) is
  resolved to its user, and reading the row each time was 8 % of a submission's time in the
  worker (bench/README.md, stop 21).

A value derived from a row is kept here until the database says the row changed, whichever
process or tool changed it:

- PostgreSQL: a trigger (migration 0014 for dossiers, 0015 for accounts) sends
  ``NOTIFY <channel>, '<key>'`` when a row's watched columns change or the row goes (an empty
  payload for a TRUNCATE); each process LISTENs on a connection of its own per kind and forgets
  that key. Until it listens, and whenever that connection is lost, nothing is kept.
- SQLite: ``PRAGMA data_version`` on the connection that reads rows by key changes whenever
  another connection commits; a change forgets everything (SQLite has one writer at a time,
  so a busy writer empties the cache, and the readers read the file as before). It is asked
  at most once a millisecond.

A read races a change: it may fetch the row before a commit and offer it after the commit's
notice came. So a value is offered with the ``generation`` seen before its read, and refused
if any change was noticed since. The process that made a change forgets the key itself right
after its commit (``forget``), so its own next read never waits for the notice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from collections.abc import Awaitable, Callable
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine


@dataclass(frozen=True)
class Watched:
    """A kind of row kept: the channel its trigger notifies (payload: the row's key as text)
    and the trigger's name, looked for before listening."""

    channel: str
    trigger: str


DOSSIERS = Watched(channel="dossier_changed", trigger="dossier_changed")
USERS = Watched(channel="user_changed", trigger="user_changed")
#: Rows kept per kind and process; the oldest kept goes first. A dossier's public view is
#: ~0.55 KiB: 11 MiB full.
CAPACITY = 20_000
#: Seconds for which SQLite's data_version, once asked, is taken as still true.
CHECK_SECONDS = 0.001
#: Seconds between two attempts to listen again after the connection was lost or refused.
RETRY_SECONDS = 2.0

log = logging.getLogger("portal.cache")


class RowCache:
    """Values by key, each valid until its row changes. The base keeps nothing: an engine
    that cannot tell when a row changed gets this one."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self.entries: dict[str, Any] = {}
        #: Changes noticed so far: a value read before one of them may be stale.
        self.generation = 0

    def current(self) -> bool:
        """Whether what is kept may be used now (and kept from now on)."""
        return False

    def get(self, key: str) -> Any | None:
        return self.entries.get(key) if self.current() else None

    def put(self, key: str, value: Any, generation: int) -> None:
        """Keep ``value``, read after ``generation`` was seen, unless a change came since."""
        # current() first: it may notice a change (SQLite) and move the generation on
        if self.capacity <= 0 or not self.current() or generation != self.generation:
            return
        entries = self.entries
        if key not in entries and len(entries) >= self.capacity:
            del entries[next(iter(entries))]  # dicts keep insertion order: the oldest
        entries[key] = value

    async def kept(
        self, key: str, read: Callable[[], Awaitable[Any | None]], *, fresh: bool = False
    ) -> Any | None:
        """The value kept for ``key``, or else what ``read()`` gives, kept unless a change came
        while it read (or it gave None). ``fresh``: read even if one is kept."""
        if not fresh and (value := self.get(key)) is not None:
            return value
        generation = self.generation  # seen before the read: see the module's docstring
        value = await read()
        if value is not None:
            self.put(key, value, generation)
        return value

    def forget(self, key: str) -> None:
        self.generation += 1
        self.entries.pop(key, None)

    def forget_all(self) -> None:
        self.generation += 1
        self.entries.clear()

    async def close(self) -> None:
        self.forget_all()


class SQLiteRowCache(RowCache):
    """Valid while ``PRAGMA data_version`` stays the same on the engine's own connection,
    asked at most once a millisecond: the pragma begins and ends a read of the file (its locks
    are system calls), and asked for every look-up it was an eighth of the worker's time under
    load (py-spy, stop 19). Another process's commit thus shows within a millisecond, much as
    PostgreSQL's notice takes its time; this process's own changes are forgotten at once."""

    def __init__(self, engine: Any, capacity: int = CAPACITY, monotonic=time.monotonic) -> None:
        super().__init__(capacity)
        self.engine = engine
        self.version: int | None = None
        self.monotonic = monotonic
        self._asked_at = monotonic() - CHECK_SECONDS

    def current(self) -> bool:
        if self.engine.current_transaction.get() is not None:  # its connection must read
            return False
        now = self.monotonic()
        if now - self._asked_at < CHECK_SECONDS:
            return self.version is not None
        version = self.engine.data_version()
        self._asked_at = now
        if version != self.version:
            self.forget_all()
            self.version = version
        return version is not None  # None: SQLite busy, read the file


class PostgresRowCache(RowCache):
    """Valid while this process listens to the trigger's notices."""

    def __init__(self, engine: PostgresEngine, watched: Watched, capacity: int = CAPACITY) -> None:
        super().__init__(capacity)
        self.engine = engine
        self.watched = watched
        self.listener: Any = None  # the asyncpg connection, once it listens
        self._starting: asyncio.Task | None = None
        self._next_attempt = 0.0

    def current(self) -> bool:
        if self.listener is not None:
            return self.engine.current_transaction.get() is None
        if self._starting is None and self.engine.pool is not None and time.monotonic() >= self._next_attempt:
            self._starting = asyncio.get_running_loop().create_task(self._listen())
        return False

    async def _listen(self) -> None:
        import asyncpg

        connection = None
        try:
            connection = await asyncpg.connect(**self.engine.config)
            trigger = self.watched.trigger
            if not await connection.fetchval("SELECT 1 FROM pg_trigger WHERE tgname = $1", trigger):
                log.warning("no %s trigger (migrations not run?): nothing kept", trigger)
                await connection.close()
                return
            await connection.add_listener(self.watched.channel, self._notified)
            connection.add_termination_listener(self._lost)
        except BaseException as exc:  # noqa: BLE001 - the look-ups go on reading the database
            if connection is not None:
                connection.terminate()
            if not isinstance(exc, Exception):  # cancelled: the pool is closing
                raise
            log.warning("cannot listen on %s (%s); retrying", self.watched.channel, exc)
            return
        finally:
            self._starting = None
            self._next_attempt = time.monotonic() + RETRY_SECONDS
        self.forget_all()  # whatever was read before listening may have changed unseen
        self.listener = connection

    def _notified(self, _connection: Any, _pid: int, _channel: str, key: str) -> None:
        if key:
            self.forget(key)
        else:
            self.forget_all()

    def _lost(self, _connection: Any) -> None:
        log.warning("lost the connection listening on %s; retrying", self.watched.channel)
        self.listener = None
        self.forget_all()

    async def close(self) -> None:
        starting, self._starting = self._starting, None
        if starting is not None:
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
        listener, self.listener = self.listener, None
        self.forget_all()
        if listener is not None:
            listener.remove_termination_listener(self._lost)
            await listener.close()


#: Each engine's caches by the engine's id and the channel, the engine kept beside them so
#: that the id stays its own (Piccolo's engines have __slots__: no attribute of ours, no weak
#: reference).
_caches: dict[tuple[int, str], tuple[Engine, RowCache]] = {}


def row_cache(engine: Engine, watched: Watched) -> RowCache:
    """The engine's cache of ``watched`` rows, made on first use."""
    kept = _caches.get((id(engine), watched.channel))
    if kept is None:
        from app.db.engine import KeptConnectionsSQLiteEngine

        if isinstance(engine, PostgresEngine):
            cache: RowCache = PostgresRowCache(engine, watched)
        elif isinstance(engine, KeptConnectionsSQLiteEngine):
            cache = SQLiteRowCache(engine)
        else:
            cache = RowCache()
        kept = _caches[(id(engine), watched.channel)] = (engine, cache)
    return kept[1]


def dossier_cache(engine: Engine) -> RowCache:
    """Public views of dossiers by code."""
    return row_cache(engine, DOSSIERS)


def user_cache(engine: Engine) -> RowCache:
    """Active accounts by id (as text: what the notice carries)."""
    return row_cache(engine, USERS)


async def close_row_caches(engine: Engine) -> None:
    """Stop listening and forget everything (the engine's pool is closing)."""
    for key in [k for k in _caches if k[0] == id(engine)]:
        await _caches.pop(key)[1].close()
