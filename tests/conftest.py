"""Shared fixtures: both databases, a seeded province, the real app over ASGI.

Environment first (settings are read once), then the app. Database tests take
the ``backend`` fixture and run once on SQLite and once on PostgreSQL. In CI
(CI=true) an unreachable PostgreSQL fails the run; elsewhere it is skipped with
the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from datetime import datetime
from pathlib import Path

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="portal-tests-"))
os.environ["DATABASE_URL"] = f"sqlite:///{_TMP / 'bootstrap.sqlite3'}"
os.environ["PORTAL_SECRET_KEY"] = "test-secret-key-not-for-production"
os.environ.setdefault("PORTAL_ADMIN_PASSWORD", "Admin-pass-2021")

import app.db  # noqa: E402,F401
from app.db import engine as db  # noqa: E402
from app.domain.clock import VN_TZ, ManualClock  # noqa: E402

POSTGRES_URL = os.environ.get("PORTAL_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
ADMIN_PASSWORD = os.environ["PORTAL_ADMIN_PASSWORD"]
DEMO_PASSWORD = "Demo-pass-2021"
KEK = "test-key-encryption-key"
SEED_TIME = datetime(2021, 3, 1, 8, 0, tzinfo=VN_TZ)
IN_CI = os.environ.get("CI", "").lower() == "true"
ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"


async def _postgres_unreachable() -> str | None:
    import asyncpg

    try:
        conn = await asyncio.wait_for(asyncpg.connect(POSTGRES_URL), timeout=5)
    except Exception as exc:  # noqa: BLE001 - any failure means "not here"
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return None


async def _reset_schema() -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    engine = db.current_engine()
    if db.engine_name(engine) == "postgres":
        await engine.run_ddl("DROP SCHEMA public CASCADE")
        await engine.run_ddl("CREATE SCHEMA public")
    result = await run_forwards("portal")
    assert result.success, result.message


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
async def backend(request):
    """A migrated, seeded database of the given kind, made current for all tables."""
    from app.services import directory
    from app.services.seeding import seed

    if request.param == "postgres":
        reason = await _postgres_unreachable()
        if reason:
            message = f"PostgreSQL not reachable at {POSTGRES_URL} ({reason})"
            if IN_CI:
                pytest.fail(message + " — CI requires it")
            pytest.skip(message + "; set PORTAL_TEST_POSTGRES_URL to run these tests")
        url = POSTGRES_URL
    else:
        url = f"sqlite:///{_TMP / 'portal-test.sqlite3'}"
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    engine = db.engine_from_url(url)
    db.use_engine(engine)
    await db.start(engine)
    directory.invalidate()
    await _reset_schema()
    from app.services.pki import PkiService

    report = await seed(
        ManualClock(SEED_TIME),
        province=os.environ.get("PORTAL_TEST_PROVINCE", "yen-bai-2021"),
        admin_password=ADMIN_PASSWORD,
        demo_password=DEMO_PASSWORD,
        pki=PkiService(ManualClock(SEED_TIME), "http://testserver", KEK),
    )
    yield request.param, report
    await db.stop(engine)
    directory.invalidate()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2021, 3, 15, 9, 0, tzinfo=VN_TZ))


@pytest.fixture
async def client(backend, clock):
    """The real app over ASGI, on the test's own event loop.

    (Litestar's AsyncTestClient runs the app on a second loop in a thread, where an
    asyncpg pool made on this loop cannot be used; the pool is started by ``backend``.)
    """
    async with app_client(clock) as test_client:
        yield test_client


def app_settings(**overrides):
    """The settings the test apps run with (and any overrides)."""
    from app.settings import Settings

    return Settings(
        secret_key=os.environ["PORTAL_SECRET_KEY"],
        admin_password=ADMIN_PASSWORD,
        base_url="http://testserver",
        key_encryption_key=KEK,
        **overrides,
    )


@contextlib.asynccontextmanager
async def app_client(clock, **settings_overrides):
    """An HTTP client of a real app built with the test settings (and any overrides)."""
    import httpx

    from app.asgi import create_app

    app = create_app(settings=app_settings(**settings_overrides), clock=clock)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as test_client:
        yield test_client


async def bearer(client, username: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
    response = await client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def browser_login(client, username: str, password: str = DEMO_PASSWORD):
    """Sign in like a browser: fetch the form (CSRF cookie), post it with the token."""
    page = await client.get("/dang-nhap")
    token = page.cookies.get("portal_csrf") or client.cookies.get("portal_csrf")
    return await client.post(
        "/dang-nhap",
        data={"username": username, "password": password, "next": "/tai-khoan", "_csrf_token": token},
        follow_redirects=False,
    )


async def private_database(kind: str, name: str):
    """A fresh database of the backend's kind for one module (an audit chain cannot be
    un-written, so tests that write whole histories keep them out of the shared one)."""
    if kind == "sqlite":
        path = _TMP / f"{name}.sqlite3"
        path.unlink(missing_ok=True)
        return db.engine_from_url(f"sqlite:///{path}")
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name}")
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    return db.engine_from_url(POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}")


@contextlib.asynccontextmanager
async def seeded_private_database(kind: str, name: str):
    """The province (and its PKI) seeded into a private database used meanwhile; the shared
    test database comes back after."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    from app.services import directory as directory_service
    from app.services.pki import PkiService
    from app.services.seeding import seed

    shared = db.current_engine()
    engine = await private_database(kind, name)
    db.use_engine(engine)
    await db.start(engine)
    directory_service.invalidate()
    try:
        assert (await run_forwards("portal")).success
        await seed(
            ManualClock(SEED_TIME),
            province="yen-bai-2021",
            admin_password="x-Admin-2021",
            demo_password=DEMO_PASSWORD,
            pki=PkiService(ManualClock(SEED_TIME), "http://testserver", KEK),
        )
        yield engine
    finally:
        await db.stop(engine)
        db.use_engine(shared)
        directory_service.invalidate()
