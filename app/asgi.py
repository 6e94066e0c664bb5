"""The ASGI entry point: `uvicorn app.asgi:app`."""

from __future__ import annotations

from litestar import Litestar

import app.db  # noqa: F401  (points Piccolo at app.db.piccolo_conf before any table loads)
from app.domain.clock import Clock
from app.settings import Settings
from app.web.plugin import PortalPlugin


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> Litestar:
    return Litestar(plugins=[PortalPlugin(settings, clock)])


app = create_app()
