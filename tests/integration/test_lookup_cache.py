"""The public look-up answers from memory, and never with what the database no longer says:
an officer's action shows at once, a change made by another process or tool shows as soon as
the database tells (PostgreSQL's notice; SQLite's data_version at the next look-up)."""

import asyncio
import contextlib
import inspect
import sqlite3
import pytest

from app.db.row_cache import DOSSIERS, dossier_cache
from app.db.engine import engine_name
from app.db.tables import Dossier
from tests.conftest import bearer
from tests.integration.test_dossier_journey import _citizen, _commune, submit_birth

#: Seconds a notice may take to reach this process before a test gives up on it.
NOTICE_WAIT = 5.0


async def _submitted(client):
    _, citizen = await _citizen(client)
    commune = await _commune(client)
    submitted = await submit_birth(client, citizen, commune["code"])
    assert submitted.status_code == 201, submitted.text
    return submitted.json()["code"], commune


async def _look_up(client, code, **headers):
    response = await client.get(f"/api/v1/dossiers/{code}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def eventually(probe, done):
    """``probe()`` (awaited if need be) every 50 ms until ``done`` of its value, for NOTICE_WAIT
    at most: the last value."""
    for _ in range(int(NOTICE_WAIT / 0.05)):
        value = probe()
        if inspect.isawaitable(value):
            value = await value
        if done(value):
            break
        await asyncio.sleep(0.05)
    return value


async def _listening(engine, cache=None):
    """Until the engine's cache (of dossiers unless told) listens (PostgreSQL starts listening
    on first use)."""
    cache = cache or dossier_cache(engine)
    if await eventually(cache.current, bool):
        return cache
    pytest.fail("the cache never began listening for changes")


async def _elsewhere(engine, sql: str, *values):
    """A statement run by another connection, as another process or psql would."""
    if engine_name(engine) == "postgres":
        import asyncpg

        connection = await asyncpg.connect(**engine.config)
        try:
            await connection.execute(sql.replace("?", "$1", 1).replace("?", "$2", 1), *values)
        finally:
            await connection.close()
    else:
        with sqlite3.connect(engine.path) as connection:
            connection.execute(sql, values)


@contextlib.asynccontextmanager
async def _unannounced(engine, table: str = "dossier", trigger: str = DOSSIERS.trigger):
    """PostgreSQL's notices off meanwhile (SQLite has none to turn off)."""
    if engine_name(engine) != "postgres":
        yield
        return
    await engine.run_ddl(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
    try:
        yield
    finally:
        await engine.run_ddl(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")


@contextlib.asynccontextmanager
async def _not_received_elsewhere(engine, code, *, announced: bool = True):
    """The submitted dossier marked "not received" by another connection (told of, or not),
    then put back as it was, told of, whatever the test found."""
    try:
        if announced:
            await _elsewhere(engine, "UPDATE dossier SET status = ? WHERE code = ?", 3, code)
        else:
            async with _unannounced(engine):
                await _elsewhere(engine, "UPDATE dossier SET status = ? WHERE code = ?", 3, code)
        yield
    finally:
        await Dossier.update({Dossier.status: 1}).where(Dossier.code == code)


async def test_an_officers_action_shows_at_once_in_the_public_look_up(client):
    code, commune = await _submitted(client)
    await _listening(Dossier._meta.db)
    first = await _look_up(client, code)
    assert first["status"] == 1
    assert dossier_cache(Dossier._meta.db).get(code) == first  # kept

    reception = await bearer(client, f"motcua.{commune['key']}")
    async with _unannounced(Dossier._meta.db):
        acted = await client.post(
            f"/api/v1/dossiers/{code}/actions", headers=reception, json={"action": "receive"}
        )
        assert acted.status_code == 200, acted.text
        # no notice needed: the process that acted forgot the dossier when it committed
        after = await _look_up(client, code)
    assert after["status"] == 2 and after["status_name"] == "Được tiếp nhận"
    assert after["appointment_at"] == acted.json()["appointment_at"]


async def test_a_change_made_by_another_process_reaches_the_look_up(client):
    engine = Dossier._meta.db
    code, _ = await _submitted(client)
    await _listening(engine)
    assert (await _look_up(client, code))["status"] == 1

    async with _not_received_elsewhere(engine, code):
        seen = await eventually(lambda: _look_up(client, code), lambda seen: seen["status"] != 1)
        assert seen["status"] == 3 and seen["status_name"] == "Không được tiếp nhận"


async def test_a_kept_answer_is_given_until_the_database_tells_and_no_cache_reads_it(client, backend):
    if backend[0] != "postgres":
        pytest.skip("SQLite cannot change a row unseen: its data_version moves with every commit")
    engine = Dossier._meta.db
    code, _ = await _submitted(client)
    await _listening(engine)
    before = await _look_up(client, code)

    async with _not_received_elsewhere(engine, code, announced=False):
        await asyncio.sleep(0.2)
        # told nothing, the look-up answers from memory: proof that it does not read the row
        assert (await _look_up(client, code)) == before
        # a client asking for a fresh answer gets the row as it is
        fresh = await _look_up(client, code, **{"Cache-Control": "no-cache"})
        assert fresh["status"] == 3


async def test_a_lost_listener_keeps_nothing_and_listens_again(client, backend):
    if backend[0] != "postgres":
        pytest.skip("only PostgreSQL's cache has a connection to lose")
    engine = Dossier._meta.db
    code, _ = await _submitted(client)
    cache = await _listening(engine)
    assert (await _look_up(client, code))["status"] == 1  # kept
    pid = cache.listener.get_server_pid()

    async with _unannounced(engine):  # a change nobody is told of
        await Dossier.update({Dossier.status: 3}).where(Dossier.code == code)
    await _elsewhere(engine, "SELECT pg_terminate_backend(?)", pid)
    try:
        await eventually(lambda: cache.listener, lambda listener: listener is None)
        assert cache.listener is None and not cache.current()
        # what was kept is gone with the connection: the change made unseen shows
        assert (await _look_up(client, code))["status"] == 3
        again = await _listening(engine)
        assert again.listener.get_server_pid() != pid
    finally:
        await Dossier.update({Dossier.status: 1}).where(Dossier.code == code)
