"""Loads the units from the database into a Directory, once per process and engine."""

from __future__ import annotations

import json

from app.db.engine import current_engine
from app.db.tables import Setting, Unit
from app.domain.directory import Directory, UnitRecord

_cache: dict[int, Directory] = {}


async def load_directory(*, fresh: bool = False) -> Directory:
    engine = current_engine()
    if not fresh and id(engine) in _cache:
        return _cache[id(engine)]
    rows = await Unit.select().order_by(Unit.position)
    settings = {r["key"]: r["value"] for r in await Setting.select()}
    directory = Directory(
        (
            UnitRecord(
                r["code"],
                r["key"],
                r["name"],
                r["kind"],
                r["level"],
                r["parent_code"],
                r["one_stop_name"],
                r["synthetic"],
            )
            for r in rows
        ),
        json.loads(settings.get("level_map") or "{}"),
        settings.get("place", ""),
    )
    _cache[id(engine)] = directory
    return directory


async def unit_count() -> int:
    """Counted in the database (the health check's proof that it answers)."""
    return await Unit.count()


async def seeded_province() -> str | None:
    """The key of the province `portal seed` loaded (None before any seed)."""
    row = await Setting.select(Setting.value).where(Setting.key == "province").first()
    return row["value"] if row and await Unit.count() else None


def invalidate() -> None:
    _cache.clear()
