"""How late another process hears that a dossier changed (PostgreSQL's dossier_changed notice).

    DATABASE_URL=postgres://… .venv/bin/python bench/notice_latency.py [--changes 400]

On a migrated, loaded portal database (``portal migrate && portal seed && portal load``): one
connection listens as a server process does (app/db/row_cache.py), another changes a
dossier's status back and forth; for each change, the time from the writer's COMMIT returning
to the listener's callback running (negative: the notice came first). Until then another
worker may answer that dossier's public look-up from memory. The dossier is left as it was.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

import asyncpg
import uvloop


async def measure(url: str, changes: int) -> list[float]:
    listener, writer = await asyncpg.connect(url), await asyncpg.connect(url)
    try:
        code, status = await writer.fetchrow("SELECT code, status FROM dossier ORDER BY id LIMIT 1")
        heard, at = asyncio.Event(), [0.0]

        def notified(*_) -> None:
            at[0] = time.perf_counter()
            heard.set()

        await listener.add_listener("dossier_changed", notified)
        delays = []
        for n in range(changes):
            heard.clear()
            await writer.execute(
                "UPDATE dossier SET status = $1 WHERE code = $2", status if n % 2 else (status % 10) + 1, code
            )
            committed = time.perf_counter()
            await asyncio.wait_for(heard.wait(), 5)
            delays.append((at[0] - committed) * 1e6)
        await writer.execute("UPDATE dossier SET status = $1 WHERE code = $2", status, code)
        return delays
    finally:
        await listener.close()
        await writer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=400)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        parser.error("DATABASE_URL must name a migrated PostgreSQL portal database")
    delays = sorted(uvloop.run(measure(url, args.changes)))
    print(
        f"{len(delays)} changes: the notice {statistics.median(delays):.0f} µs after COMMIT returned"
        f" (median), p99 {delays[int(len(delays) * 0.99)]:.0f} µs, max {delays[-1]:.0f} µs;"
        f" before COMMIT returned: {sum(d < 0 for d in delays)}"
    )


if __name__ == "__main__":
    main()
