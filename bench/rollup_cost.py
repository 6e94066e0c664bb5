"""What keeping the statistics' rollup adds to a state change, against the same transaction
without it (same run, same database).

    DATABASE_URL=sqlite:///var/portal.sqlite3 .venv/bin/python bench/rollup_cost.py

On a database with history (``portal demo`` or ``portal simulate``): for 200 open and 200
finished dossiers, the median of a write transaction that loads the dossier's row (the
baseline), and of the same wrapped in ``rollup.tracked`` — the two reads of the dossier's facts
(and its finished steps) a change now costs; a change that moves a figure adds one upsert per
rollup row it touches.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("PORTAL_SECRET_KEY", "bench-secret-key")

from app.db import engine as db  # noqa: E402
from app.db.engine import write_transaction  # noqa: E402
from app.db.tables import Dossier  # noqa: E402
from app.services import rollup  # noqa: E402


async def _median_ms(call, codes: list[str]) -> float:
    for code in codes[:20]:
        await call(code)  # warm
    times = []
    for code in codes:
        began = time.perf_counter()
        await call(code)
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


async def main() -> None:
    await db.start()
    try:
        picked = "SELECT code FROM dossier WHERE received_at IS NOT NULL AND finished_at IS {} NULL LIMIT 200"
        open_ = [r["code"] for r in await Dossier.raw(picked.format(""))]
        finished = [r["code"] for r in await Dossier.raw(picked.format("NOT"))]

        async def baseline(code: str) -> None:
            async with write_transaction():
                await Dossier.select().where(Dossier.code == code).first()

        async def tracked(code: str) -> None:
            async with write_transaction(), rollup.tracked(code):
                await Dossier.select().where(Dossier.code == code).first()

        base = await _median_ms(baseline, open_)
        print(f"{db.engine_name()}: median of {len(open_)} dossiers each")
        print(f"{'write transaction loading the row':<44}{base:>8.2f} ms  1.00")
        for name, codes in (
            ("the same, tracked (open dossier)", open_),
            ("the same, tracked (finished)", finished),
        ):
            ms = await _median_ms(tracked, codes)
            print(f"{name:<44}{ms:>8.2f} ms  {ms / base:.2f}")
    finally:
        await db.stop()


if __name__ == "__main__":
    asyncio.run(main())
