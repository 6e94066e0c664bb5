"""The whole application's wiring in one place (litestar-fullstack's ApplicationCore)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import sys
from pathlib import Path

from litestar import Request
from litestar.config.app import AppConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.logging.config import LoggingConfig
from litestar.middleware import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig, RateLimitMiddleware
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin
from litestar.plugins import InitPluginProtocol
from litestar.plugins.htmx import HTMXConfig, HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.plugins.problem_details import ProblemDetailsPlugin
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import Receive, Scope, Send

from app.db import engine as db_engine
from app.domain.clock import Clock, clock_from
from app.heap import fewer_collections
from app.settings import STATIC_DIR, Settings, get_settings
from app.web.auth import AuthenticationMiddleware, cookie_sessions
from app.web.deps import DEPENDENCIES
from app.web.errors import EXCEPTION_HANDLERS
from app.web.format import FILTERS

TEMPLATES_DIR = Path(__file__).parent / "templates"


LOGIN_PATHS = frozenset({"/dang-nhap", "/api/v1/auth/token"})
#: Allocations between two collections of the youngest objects (Python's default: 700).
YOUNG_COLLECTION_EVERY = 10_000
#: Seconds a thread holds the GIL before another may take it (Python's default: 0.005).
SWITCH_INTERVAL = 0.0005


def shorten_gil_turns() -> None:
    """SQLite queries run in threads (the readers, aiosqlite's transactions): with the default
    5 ms switch interval a thread done with its query waited up to a full interval for the GIL
    while another thread ran Python — at stop 13 a signature computed in a worker thread
    (status changes on SQLite with seals behind them: 8-15 req/s, 17 with this; bench/README.md).
    Signatures now have a process of their own; the event loop's own Python still holds the
    GIL against the readers, hence the shorter turns."""
    sys.setswitchinterval(SWITCH_INTERVAL)


async def is_login_attempt(request: Request) -> bool:
    # Asked on the login paths only (LoginRateLimitMiddleware): posting the form or the token
    # request is an attempt, showing the page is not. A coroutine on purpose: Litestar runs a
    # plain function given as check_throttle_handler in a worker thread.
    return request.method == "POST"


class LoginRateLimitMiddleware(RateLimitMiddleware):
    """Litestar's rate limit, entered only on the login paths: any other request goes straight
    on instead of through the middleware to be told that it does not count."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] in LOGIN_PATHS:
            await super().__call__(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def login_rate_limit(settings: Settings) -> DefineMiddleware:
    """Per client address; only login attempts count (POSTs to the login paths)."""
    config = RateLimitConfig(
        rate_limit=("minute", settings.login_rate_per_minute), check_throttle_handler=is_login_attempt
    )
    return DefineMiddleware(LoginRateLimitMiddleware, config=config)


class PortalPlugin(InitPluginProtocol):
    def __init__(self, settings: Settings | None = None, clock: Clock | None = None) -> None:
        self.settings = settings or get_settings()
        self.clock = clock or clock_from(self.settings.clock_start)
        self._heap = contextlib.ExitStack()  # what _settle_heap changed, for _unsettle_heap

    async def _start_database(self) -> None:
        # The pool may already run (tests, the simulator): then it is not ours to close.
        self._owns_pool = await db_engine.start()
        from app.services.worker import run_forever

        self._worker = asyncio.create_task(run_forever(self.clock, self.settings))

    def _settle_heap(self) -> None:
        """Under load a worker ran a full garbage collection twice a second, 70-100 ms each:
        the objects of the requests in flight outlived the young collections and filled the
        oldest generation, which is collected whole, startup's 160,000 objects included. That
        was ~15 % of the worker's time and most of the look-up's p99 (bench/README.md, stop
        16). Startup's objects are set aside and young collections made rarer."""
        self._heap.enter_context(fewer_collections(YOUNG_COLLECTION_EVERY, 10, 10))

    async def _stop_database(self) -> None:
        worker = getattr(self, "_worker", None)
        if worker:
            # Let a tick under way roll back and give its connection back before the pool closes.
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        if getattr(self, "_owns_pool", False):
            await db_engine.stop()

    def _unsettle_heap(self) -> None:
        # The tests start and stop many apps in one process: let the collector see theirs.
        self._heap.close()

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        from app.web.controllers import CONTROLLERS

        settings = self.settings
        session_secret = hashlib.sha256(("session:" + settings.secret_key).encode()).digest()
        app_config.state = State({"settings": settings, "clock": self.clock})
        app_config.route_handlers.extend(CONTROLLERS)
        app_config.route_handlers.append(
            create_static_files_router(
                path="/static",
                directories=[STATIC_DIR],
                name="static",
                include_in_schema=False,
                send_as_attachment=False,
            )
        )
        app_config.dependencies.update(DEPENDENCIES)
        app_config.exception_handlers.update(EXCEPTION_HANDLERS)
        app_config.middleware[:0] = [
            cookie_sessions(
                CookieBackendConfig(
                    secret=session_secret,
                    key="portal_session",
                    httponly=True,
                    samesite="lax",
                    max_age=8 * 3600,
                )
            ),
            AuthenticationMiddleware(),
            login_rate_limit(settings),
        ]
        app_config.csrf_config = CSRFConfig(
            secret=hashlib.sha256(("csrf:" + settings.secret_key).encode()).hexdigest(),
            cookie_name="portal_csrf",
            header_name="x-csrftoken",
            exclude=["^/api/", "^/pki/"],
        )
        app_config.template_config = TemplateConfig(
            directory=TEMPLATES_DIR,
            engine=JinjaTemplateEngine,
            engine_callback=lambda engine: engine.engine.filters.update(FILTERS),
        )
        app_config.openapi_config = OpenAPIConfig(
            title="Cổng Dịch vụ công — API",
            version="1.0.0",
            description="API của Cổng Dịch vụ công mô phỏng. Lỗi trả về theo RFC 9457 (problem details).",
            path="/schema",
            render_plugins=[JsonRenderPlugin(), YamlRenderPlugin()],
        )
        # Only the public pages read htmx's headers (PublicController.request_class); every
        # other request is spared building HTMXRequest's details.
        app_config.plugins.extend(
            [HTMXPlugin(HTMXConfig(set_request_class_globally=False)), ProblemDetailsPlugin()]
        )
        app_config.logging_config = LoggingConfig(
            root={"level": "INFO", "handlers": ["queue_listener"]},
            loggers={"portal": {"level": "INFO"}},
            log_exceptions="debug",
        )
        app_config.debug = settings.debug
        app_config.on_startup.extend([shorten_gil_turns, self._start_database, self._settle_heap])
        app_config.on_shutdown.extend([self._unsettle_heap, self._stop_database])
        # 2 MiB is plenty for forms and JSON; uploads get their own limit per route.
        app_config.request_max_body_size = 2 * 1024 * 1024
        logging.getLogger("portal").setLevel(logging.INFO)
        return app_config
