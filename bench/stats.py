"""The dashboards' queries at scale, as ratios to a plain COUNT(*) over the same table.

    .venv/bin/python bench/stats.py [--dossiers 1000000] [--repeat 5] [--reuse]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/stats.py

Loads N synthetic dossiers with their steps, audit trail and ratings (app/services/bulk_load)
into a fresh database — a SQLite file under var/bench/ by default, the PostgreSQL database of
DATABASE_URL when it is set (its public schema is dropped first) — and prints the load rate.
Then times, median of ``--repeat`` runs each, ``SELECT COUNT(*) FROM dossier`` (the baseline,
through the same Piccolo engine) and what the statistics pages ask: the province's summary
for a quarter and for the year, grouped by unit and by level, the Circular 01/2018
evaluation and the Decision 766 indicators for the quarter. ``--reuse`` keeps a database
loaded by an earlier run (to time the queries again after a change). Absolute times drift
±30 % on shared machines; the ratios are what to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--from", dest="start", default="2021-01-01")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--quarter", default="2021-Q3")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--reuse", action="store_true", help="Keep the database an earlier run loaded.")
    return parser.parse_args()


ARGS = _arguments() if __name__ == "__main__" else None
if "DATABASE_URL" not in os.environ:
    os.environ["DATABASE_URL"] = f"sqlite:///{ROOT / 'var' / 'bench' / 'stats.sqlite3'}"
os.environ.setdefault("PORTAL_SECRET_KEY", "bench-secret-key")

import app.db  # noqa: E402,F401
from app.db import engine as db  # noqa: E402
from app.db.tables import Dossier  # noqa: E402
from app.domain.clock import VN_TZ, ManualClock  # noqa: E402
from app.domain.periods import parse_period, period_of  # noqa: E402
from app.services import directory as directory_service  # noqa: E402
from app.services.bulk_load import SynthesisSpec, load  # noqa: E402
from app.services.catalogue import CatalogueService  # noqa: E402
from app.services.stats import Scope, StatsService  # noqa: E402
from app.settings import get_settings  # noqa: E402
from procedures.loader import default_catalogue  # noqa: E402


async def _fresh(url: str) -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    from app.services.seeding import seed

    engine = db.current_engine()
    if db.engine_name(engine) == "postgres":
        await engine.run_ddl("DROP SCHEMA public CASCADE")
        await engine.run_ddl("CREATE SCHEMA public")
    result = await run_forwards("portal")
    assert result.success, result.message
    await seed(
        ManualClock(datetime(2020, 12, 31, 8, 0, tzinfo=VN_TZ)),
        province="yen-bai-2021",
        admin_password="bench-Admin-2021",
        demo_password="bench-Demo-2021",
    )
    directory_service.invalidate()


async def _median_ms(call, repeat: int) -> float:
    await call()  # warm: caches, the planner, the directory
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        await call()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


async def main(args: argparse.Namespace) -> None:
    url = get_settings().database_url
    if url.startswith("sqlite:") and not args.reuse:
        path = db.sqlite_path(url)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        db.use_engine(db.engine_from_url(url))
    engine = db.current_engine()
    await db.start(engine)
    spec = SynthesisSpec(args.dossiers, seed=args.seed, start=date.fromisoformat(args.start), days=args.days)
    print(f"{db.engine_name(engine)}: {url}")
    try:
        if args.reuse:
            present = (await Dossier.raw("SELECT COUNT(*) AS n FROM dossier"))[0]["n"]
            print(f"reusing the loaded database: {present:,} dossiers")
        else:
            await _fresh(url)
            began, shown = time.perf_counter(), [0]

            def progress(done: int) -> None:
                if done - shown[0] >= max(10_000, args.dossiers // 20) or done == args.dossiers:
                    shown[0] = done
                    rate = done / (time.perf_counter() - began)
                    print(f"  {done:>10,} dossiers  {rate:>8,.0f} /s", flush=True)

            result, writer = await load(spec, workers=args.workers, progress=progress)
            elapsed = time.perf_counter() - began
            w = writer.written
            print(
                f"loaded {w['dossiers']:,} dossiers, {w['steps']:,} steps, {w['audit']:,} audit events,"
                f" {w['ratings']:,} ratings in {elapsed:.1f} s: {w['dossiers'] / elapsed:,.0f} dossiers/s"
                f" ({(w['dossiers'] + w['steps'] + w['audit'] + w['ratings']) / elapsed:,.0f} rows/s)"
            )
        directory = await directory_service.load_directory(fresh=True)
        stats = StatsService(
            ManualClock(spec.until), directory, CatalogueService(default_catalogue(), directory)
        )
        quarter, year = parse_period(args.quarter), parse_period(args.start[:4])

        async def count() -> None:
            await Dossier.raw("SELECT COUNT(*) FROM dossier")

        baseline = await _median_ms(count, args.repeat)
        measures = [
            ("summary, province, quarter", lambda: stats.summary(quarter)),
            ("summary, province, year", lambda: stats.summary(year)),
            ("summary by unit, quarter", lambda: stats.summary(quarter, Scope(), "unit")),
            ("summary by level, quarter", lambda: stats.summary(quarter, Scope(), "level")),
            ("evaluation (Circular 01), quarter", lambda: stats.evaluation(quarter)),
            ("index 766, quarter", lambda: stats.index_766(quarter)),
        ]
        # The quarter still running ten days before the history ends: "open" and "overdue"
        # are read from the dossiers open then, the flows from the rollup.
        earlier = StatsService(
            ManualClock(spec.until - timedelta(days=10)),
            directory,
            CatalogueService(default_catalogue(), directory),
        )
        running = period_of(spec.until - timedelta(days=10))

        async def province_page() -> None:  # every query of the steering committee's page
            await stats.summary(quarter)
            await stats.trend(year)
            await stats.summary(quarter, Scope(), "level")
            await stats.evaluation(quarter)
            await stats.index_766(quarter)

        measures += [
            ("summary, running quarter (open now)", lambda: earlier.summary(running)),
            ("province page, all its queries", province_page),
        ]
        commune = next(u for u in directory.units if u.kind == "commune")
        measures.append(
            ("summary, one commune, quarter", lambda: stats.summary(quarter, Scope(unit=commune.code)))
        )
        print(f"\nmedian of {args.repeat} runs after one warm-up; baseline SELECT COUNT(*) FROM dossier")
        print(f"{'query':<40}{'ms':>10}{'× COUNT(*)':>12}")
        print(f"{'COUNT(*) (baseline)':<40}{baseline:>10.1f}{1:>12.2f}")
        for name, call in measures:
            ms = await _median_ms(call, args.repeat)
            print(f"{name:<40}{ms:>10.1f}{ms / baseline:>12.2f}", flush=True)
    finally:
        await db.stop(engine)


if __name__ == "__main__":
    asyncio.run(main(ARGS))
    sys.exit(0)
