"""What a process keeps in memory about dossiers, and how it learns that one has changed.

The anonymous look-up by code is the portal's busiest path (citizens asking again and again
where their dossier is), and what it shows changes only when an officer acts. Reading the row
each time was half of the look-up's cost on PostgreSQL (bench/README.md, stop 19). A value
derived from a dossier's row is kept here until the database says the dossier changed,
whichever process or tool changed it:

- PostgreSQL: a trigger (migration 0014) sends ``NOTIFY dossier_changed, '<code>'`` when a
  row's code, procedure, status or appointment changes or goes (an empty payload for a
  TRUNCATE); each process LISTENs on a connection of its own and forgets that code. Until it
  listens, and whenever that connection is lost, nothing is kept.
- SQLite: ``PRAGMA data_version`` on the connection that reads rows by key changes whenever
  another connection commits; a change forgets everything (SQLite has one writer at a time,
  so a busy writer empties the cache, and the look-ups read the file as before). It is asked
  at most once a millisecond.

A read races a change: it may fetch the row before a commit and offer it after the commit's
notice came. So a value is offered with the ``generation`` seen before its read, and refused
if any change was noticed since. The process that made a change forgets the code itself right
after its commit (``forget``), so its own next look-up never waits for the notice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

CHANNEL = "dossier_changed"
#: The trigger migration 0014 creates (checked before listening: without it nothing is told).
TRIGGER = "dossier_changed"
#: Dossiers kept per process; the oldest kept goes first. A public view is ~0.55 KiB: 11 MiB full.
CAPACITY = 20_000
#: Seconds for which SQLite's data_version, once asked, is taken as still true.
CHECK_SECONDS = 0.001
#: Seconds between two attempts to listen again after the connection was lost or refused.
RETRY_SECONDS = 2.0

log = logging.getLogger("portal.cache")


class DossierCache:
    """Values by dossier code, each valid until the dossier changes. The base keeps nothing:
    an engine that cannot tell when a dossier changed gets this one."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self.entries: dict[str, Any] = {}
        #: Changes noticed so far: a value read before one of them may be stale.
        self.generation = 0

    def current(self) -> bool:
        """Whether what is kept may be used now (and kept from now on)."""
        return False

    def get(self, code: str) -> Any | None:
        return self.entries.get(code) if self.current() else None

    def put(self, code: str, value: Any, generation: int) -> None:
        """Keep ``value``, read after ``generation`` was seen, unless a change came since."""
        # current() first: it may notice a change (SQLite) and move the generation on
        if self.capacity <= 0 or not self.current() or generation != self.generation:
            return
        entries = self.entries
        if code not in entries and len(entries) >= self.capacity:
            del entries[next(iter(entries))]  # dicts keep insertion order: the oldest
        entries[code] = value

    def forget(self, code: str) -> None:
        self.generation += 1
        self.entries.pop(code, None)

    def forget_all(self) -> None:
        self.generation += 1
        self.entries.clear()

    async def close(self) -> None:
        self.forget_all()


class SQLiteDossierCache(DossierCache):
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


class PostgresDossierCache(DossierCache):
    """Valid while this process listens to the trigger's notices."""

    def __init__(self, engine: PostgresEngine, capacity: int = CAPACITY) -> None:
        super().__init__(capacity)
        self.engine = engine
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
            if not await connection.fetchval("SELECT 1 FROM pg_trigger WHERE tgname = $1", TRIGGER):
                log.warning("no %s trigger (migrations not run?): dossiers are not cached", TRIGGER)
                await connection.close()
                return
            await connection.add_listener(CHANNEL, self._notified)
            connection.add_termination_listener(self._lost)
        except BaseException as exc:  # noqa: BLE001 - the look-ups go on reading the database
            if connection is not None:
                connection.terminate()
            if not isinstance(exc, Exception):  # cancelled: the pool is closing
                raise
            log.warning("cannot listen for dossier changes (%s); retrying", exc)
            return
        finally:
            self._starting = None
            self._next_attempt = time.monotonic() + RETRY_SECONDS
        self.forget_all()  # whatever was read before listening may have changed unseen
        self.listener = connection

    def _notified(self, _connection: Any, _pid: int, _channel: str, code: str) -> None:
        if code:
            self.forget(code)
        else:
            self.forget_all()

    def _lost(self, _connection: Any) -> None:
        log.warning("lost the connection listening for dossier changes; retrying")
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


#: Each engine's cache by the engine's id, the engine kept beside it so that the id stays its
#: own (Piccolo's engines have __slots__: no attribute of ours, no weak reference).
_caches: dict[int, tuple[Engine, DossierCache]] = {}


def dossier_cache(engine: Engine) -> DossierCache:
    """The engine's cache, made on first use."""
    kept = _caches.get(id(engine))
    if kept is None:
        from app.db.engine import KeptConnectionsSQLiteEngine

        if isinstance(engine, PostgresEngine):
            cache: DossierCache = PostgresDossierCache(engine)
        elif isinstance(engine, KeptConnectionsSQLiteEngine):
            cache = SQLiteDossierCache(engine)
        else:
            cache = DossierCache()
        kept = _caches[id(engine)] = (engine, cache)
    return kept[1]


async def close_dossier_cache(engine: Engine) -> None:
    """Stop listening and forget everything (the engine's pool is closing)."""
    kept = _caches.pop(id(engine), None)
    if kept is not None:
        await kept[1].close()
