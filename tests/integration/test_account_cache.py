"""The account behind a signed-in request is kept in memory (app/db/row_cache.py), and never
used once the database says it changed: a deactivated account's token stops as soon as the
database tells (PostgreSQL's notice; SQLite's data_version within a millisecond)."""

import asyncio

import pytest

from app.db.queries import one_by
from app.db.row_cache import USERS, user_cache
from app.db.tables import User
from tests.conftest import bearer
from tests.integration.test_lookup_cache import _elsewhere, _listening, _unannounced, eventually


async def _citizen_row():
    return await User.select().where(User.role == "citizen").order_by(User.id).first()


RENAME = "UPDATE portal_user SET full_name = ? WHERE id = ?"


async def _me(client, headers):
    response = await client.get("/api/v1/me", headers=headers)
    return response.status_code, response.json()


async def test_a_deactivated_accounts_token_stops_once_the_database_tells(client):
    engine = User._meta.db
    row = await _citizen_row()
    # what the cache is filled from: the same dict as Piccolo's select()
    assert await one_by(User, User.id, row["id"]) == row
    assert await one_by(User, User.id, -1) is None
    headers = await bearer(client, row["username"])
    assert (await _me(client, headers))[0] == 200
    await _listening(engine, user_cache(engine))
    assert (await _me(client, headers))[0] == 200
    assert user_cache(engine).get(str(row["id"])).username == row["username"]  # kept

    await _elsewhere(engine, "UPDATE portal_user SET active = ? WHERE id = ?", False, row["id"])
    try:
        status, body = await eventually(lambda: _me(client, headers), lambda me: me[0] != 200)
        assert status == 401 and "không còn hoạt động" in body["detail"]
    finally:
        await User.update({User.active: True}).where(User.id == row["id"])


async def test_a_kept_account_is_used_until_the_database_tells(client, backend):
    if backend[0] != "postgres":
        pytest.skip("SQLite cannot change a row unseen: its data_version moves with every commit")
    engine = User._meta.db
    row = await _citizen_row()
    headers = await bearer(client, row["username"])
    await _me(client, headers)
    await _listening(engine, user_cache(engine))
    assert (await _me(client, headers))[1]["full_name"] == row["full_name"]
    try:
        async with _unannounced(engine, "portal_user", USERS.trigger):
            await _elsewhere(engine, RENAME, "Tên Mới", row["id"])
        await asyncio.sleep(0.2)
        # told nothing, the request's user comes from memory: proof that it does not read the row
        assert (await _me(client, headers))[1]["full_name"] == row["full_name"]
        await _elsewhere(engine, RENAME, "Tên Khác", row["id"])
        _, me = await eventually(
            lambda: _me(client, headers), lambda me: me[1]["full_name"] != row["full_name"]
        )
        assert me["full_name"] == "Tên Khác"
    finally:
        await User.update({User.full_name: row["full_name"]}).where(User.id == row["id"])


async def test_the_trigger_tells_what_a_request_reads_and_not_a_sign_in(backend):
    """Migration 0015: a change to the account's view or its removal notifies its id; a sign-in
    (last_login_at) or a new password notifies nothing."""
    if backend[0] != "postgres":
        pytest.skip("SQLite's caches need no trigger")
    import asyncpg

    engine = User._meta.db
    row = await _citizen_row()
    heard: list[str] = []
    listener = await asyncpg.connect(**engine.config)
    try:
        await listener.add_listener(USERS.channel, lambda *args: heard.append(args[-1]))
        for sql, value in (
            ("UPDATE portal_user SET last_login_at = now() WHERE id = ?", None),
            ("UPDATE portal_user SET password_hash = password_hash || '' WHERE id = ?", None),
            ("UPDATE portal_user SET role = ? WHERE id = ?", "reception"),
            ("UPDATE portal_user SET role = ? WHERE id = ?", "citizen"),
        ):
            await _elsewhere(engine, sql, *([value] if value else []), row["id"])
        await eventually(lambda: len(heard), lambda told: told >= 2)
        await asyncio.sleep(0.1)  # anything more would come by now
        assert heard == [str(row["id"])] * 2
    finally:
        await listener.close()
