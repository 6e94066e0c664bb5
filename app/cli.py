"""The `portal` command (DESIGN.md, "CLI")."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys

import click

import app.db  # noqa: F401  (PICCOLO_CONF before any table import)
from app.settings import get_settings, kept_in_var

#: How uvicorn serves the portal (``serve``, ``demo``; bench/bare_app.py serves its baseline
#: the same way). asyncio's own event loop, not uvloop: under 64 connections uvloop let a few
#: requests wait in their sockets, unread, for up to two seconds while the loop went round
#: every ~0.1 s (those that never wait on a query: SQLite's queue page, read on the event
#: loop's thread), and gave the submission on PostgreSQL a p99 of 235-242 ms against 160-168
#: with asyncio's, at the same throughput (bench/README.md, stop 23).
SERVING = {"loop": "asyncio", "http": "httptools", "proxy_headers": False, "access_log": False}


def _run(coro):
    return asyncio.run(coro)


def _with_database(call):
    """Run the coroutine function ``call`` with the database's connections started."""

    async def run():
        from app.db import engine

        await engine.start()
        try:
            return await call()
        finally:
            await engine.stop()

    return _run(run())


def _pki_service():
    from app.domain.clock import clock_from
    from app.services.pki import PkiService

    settings = get_settings()
    return PkiService.for_settings(clock_from(settings.clock_start), settings)


async def _migrate() -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    result = await run_forwards("portal")
    if not result.success:
        raise click.ClickException(f"migration failed: {result.message}")


def _demo_password() -> str:
    """PORTAL_DEMO_PASSWORD, else one kept in var/ so re-running demo keeps the same accounts."""
    value = os.environ.get("PORTAL_DEMO_PASSWORD", "").strip()
    return value or kept_in_var("demo_password", lambda: "demo-" + secrets.token_hex(3) + "9")


def _seed(province: str, admin_password: str, demo_password: str):
    from app.services.seeding import seed

    pki = _pki_service()
    return _with_database(
        lambda: seed(
            pki.clock, province=province, admin_password=admin_password, demo_password=demo_password, pki=pki
        )
    )


#: Which seeded accounts the demo prints: one example per (role, kind of unit).
SHOWCASE = [
    ("reception", "center"),
    ("specialist", "department"),
    ("leader", "department"),
    ("clerk", "department"),
    ("reception", "district"),
    ("specialist", "district_office"),
    ("leader", "district"),
    ("reception", "commune"),
    ("specialist", "commune"),
    ("leader", "commune"),
    ("clerk", "commune"),
    ("auditor", ""),
    ("citizen", ""),
]


def _print_accounts(report, admin_password: str, demo_password: str, generated_admin: bool) -> None:
    click.echo(f"\n{report.province}: {report.units} đơn vị, {report.officers} cán bộ.")
    click.echo("\nTài khoản thử nghiệm / demo accounts:")
    rows = [
        ("admin", admin_password, "Quản trị hệ thống" + (" (mật khẩu vừa tạo)" if generated_admin else ""))
    ]
    for role, kind in SHOWCASE:
        account = next(
            (a for a in report.accounts if a.role.value == role and (not kind or a.unit_kind == kind)), None
        )
        if account:
            rows.append(
                (
                    account.username,
                    demo_password,
                    f"{account.role.label} — {account.unit_name or account.full_name}",
                )
            )
    width = max(len(r[0]) for r in rows)
    for username, password, what in rows:
        click.echo(f"  {username.ljust(width)}  {password:<18} {what}")
    click.echo(
        f"\nMọi cán bộ và công dân mẫu dùng chung mật khẩu {demo_password}; "
        "tên đăng nhập cán bộ: <vai trò>.<mã đơn vị>, xem trang Quản trị."
    )


@click.group()
def main() -> None:
    """Cổng Dịch vụ công — a simulated Vietnamese provincial public-service portal."""


@main.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    _with_database(_migrate)
    click.echo(f"Database ready: {get_settings().database_url}")


@main.command()
def tick() -> None:
    """Run the server's housekeeping once: raise overdue flags, hand pending messages on."""
    from app.domain.clock import clock_from
    from app.domain.text import vn_number
    from app.services import notifications
    from app.services.worker import tick as housekeeping

    settings = get_settings()
    clock = clock_from(settings.clock_start)
    flagged, delivered = _with_database(
        lambda: housekeeping(clock, settings, notifications.RecordingSender())
    )
    click.echo(f"Đã đánh dấu quá hạn {vn_number(flagged)} hồ sơ; đã gửi {vn_number(delivered)} tin nhắn.")


@main.command()
@click.option("--rebuild", is_flag=True, help="Recompute it from the dossiers (the portal idle).")
def rollup(rebuild: bool) -> None:
    """Check the statistics' rollup against the dossiers (or rebuild it)."""
    from app.domain.text import vn_number
    from app.services import rollup as kept

    if rebuild:
        rows = _with_database(kept.rebuild)
        units, officers = (vn_number(rows[t]) for t in ("stats_month", "stats_officer_month"))
        click.echo(f"Đã tính lại số liệu thống kê: {units} dòng theo đơn vị, {officers} dòng theo cán bộ.")
        return
    wrong = _with_database(kept.differences)
    if any(wrong.values()):
        raise click.ClickException(
            f"Số liệu thống kê lệch với hồ sơ ({sum(wrong.values())} dòng): chạy `portal rollup --rebuild`."
        )
    click.echo("Số liệu thống kê khớp với hồ sơ.")


@main.command()
@click.option(
    "--province", default=None, help="Province data under fixtures/provinces/ (default yen-bai-2021)."
)
def seed(province: str | None) -> None:
    """Load the province, its officers and demo accounts (idempotent)."""
    settings = get_settings()
    if not settings.admin_password:
        raise click.ClickException("PORTAL_ADMIN_PASSWORD is not set: `portal seed` will not invent one.")
    _with_database(_migrate)
    demo_password = _demo_password()
    report = _seed(province or settings.province, settings.admin_password, demo_password)
    _print_accounts(report, settings.admin_password, demo_password, False)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the portal with uvicorn."""
    import uvicorn

    uvicorn.run("app.asgi:app", host=host, port=port, workers=workers, log_level="info", **SERVING)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--province", default=None, help="Province data (default yen-bai-2021).")
@click.option("--no-serve", is_flag=True, help="Prepare everything but do not start the server.")
def demo(host: str, port: int, province: str | None, no_serve: bool) -> None:
    """Create the database, load the province, print the demo accounts and serve."""
    settings = get_settings()
    generated = not settings.admin_password
    admin_password = settings.admin_password or kept_in_var(
        "admin_password", lambda: "admin-" + secrets.token_urlsafe(9)
    )
    _with_database(_migrate)
    demo_password = _demo_password()
    report = _seed(province or settings.province, admin_password, demo_password)
    _print_accounts(report, admin_password, demo_password, generated)
    _demo_history(province or settings.province)
    click.echo(f"\nCổng Dịch vụ công: http://{host}:{port}/   (Ctrl+C để dừng)\n")
    sys.stdout.flush()
    if not no_serve:
        import uvicorn

        uvicorn.run("app.asgi:app", host=host, port=port, log_level="warning", **SERVING)


def _pct(value: float | None, half: float | None = None) -> str:
    from app.domain.text import vn_number

    if value is None:
        return "—"
    text = vn_number(round(value * 100, 2), 2) + "%"
    return text if half is None or half != half else f"{text} ± {vn_number(round(half * 100, 2), 2)}"


def _print_comparison(sides, province, seeds: list[int], start, days: int) -> None:
    from app.domain.text import vn_number
    from app.simulation.scenarios import busiest_units

    names = "AB"
    for letter, side in zip(names, sides, strict=False):
        click.echo(f"Kịch bản {letter}: {side.model.name}")
    click.echo(
        f"{days} ngày từ {start:%d/%m/%Y}, {len(seeds)} lần chạy (seed {seeds[0]}–{seeds[-1]}),"
        " cùng luồng ngẫu nhiên cho hai kịch bản; ± là nửa khoảng tin cậy 95 %.\n"
    )
    rows = [
        ("Hồ sơ tiếp nhận", lambda s: s.province(lambda c: c.received), "n"),
        ("Tỷ lệ đúng hạn (766, chỉ số 2.1)", lambda s: s.province(lambda c: c.in_time_rate), "%"),
        ("Tỷ lệ trực tuyến (766, chỉ số 3.3)", lambda s: s.province(lambda c: c.online_rate), "%"),
        ("Hài lòng (phiếu đánh giá)", lambda s: s.province(lambda c: c.satisfaction_rate), "%"),
        (
            "Hài lòng trong giải quyết (766, chỉ số 5.3)",
            lambda s: s.province(lambda c: c.processing_satisfaction),
            "%",
        ),
        ("Điểm 766 — chỉ số 2.1 (tối đa 20)", lambda s: s.points("2.1"), "p"),
        ("Điểm 766 — chỉ số 3.3 (tối đa 6)", lambda s: s.points("3.3"), "p"),
        ("Điểm 766 — chỉ số 5.3 (tối đa 6)", lambda s: s.points("5.3"), "p"),
    ]
    click.echo(f"{'Toàn tỉnh':44}" + "".join(f"{'Kịch bản ' + n:>24}" for n in names[: len(sides)]))
    for label, measure, kind in rows:
        cells = []
        for side in sides:
            mean, half = measure(side)
            if kind == "%":
                cells.append(_pct(mean, half))
            else:
                places = 0 if kind == "n" else 2
                tail = "" if half != half else f" ± {vn_number(round(half, places), places)}"
                cells.append(vn_number(round(mean, places), places) + tail)
        click.echo(f"{label:44}" + "".join(f"{c:>24}" for c in cells))
    click.echo(
        "\nĐơn vị bận nhất: hiệu suất cán bộ (vai trò bận nhất), chờ trung bình, hàng đợi dài nhất, đúng hạn"
    )
    for code in busiest_units(sides, province):
        unit = province.directory.get(code)
        lines = [side.unit(code, unit.name if unit else code) for side in sides]
        click.echo(f"  {lines[0].name}")
        for letter, line in zip(names, lines, strict=False):
            wait, queue = vn_number(line.wait_minutes[0], 0), vn_number(line.longest_queue[0], 0)
            click.echo(
                f"    {letter}: {_pct(*line.utilisation):>18}  chờ {wait:>6} phút"
                f"  hàng đợi {queue:>4}  đúng hạn {_pct(*line.in_time)}"
            )


@main.command()
@click.option("--from", "start", default="2021-01-01", show_default=True, help="First simulated day.")
@click.option("--days", default=365, show_default=True, type=click.IntRange(1, 3660))
@click.option("--seed", default=1, show_default=True, type=int)
@click.option(
    "--scenario", "model_name", default="base", show_default=True, help="Model file (fixtures/simulation)."
)
@click.option("--vs", "other", default=None, help="Compare with this model in memory (no database).")
@click.option(
    "--seeds", default=3, show_default=True, type=click.IntRange(1, 10), help="Runs per scenario for --vs."
)
@click.option("--in-memory", is_flag=True, help="Do not write the history; print the figures only.")
@click.option(
    "--sign",
    is_flag=True,
    help="Sign every approved result for real (leader + seal, ≈ 6 a second): for short runs.",
)
@click.option(
    "--processes",
    default=0,
    type=click.IntRange(0, 64),
    help="Processes simulating the province's districts at once (default: one per core);"
    " the history is the same whatever their number.",
)
@click.option("--schema", is_flag=True, help="Print the model files' JSON Schema and stop.")
def simulate(
    start: str,
    days: int,
    seed: int,
    model_name: str,
    other: str | None,
    seeds: int,
    in_memory: bool,
    sign: bool,
    processes: int,
    schema: bool,
) -> None:
    """Play the province forward: a history of dossiers through the portal's own rules."""
    import json as json_lib
    from datetime import date

    from app.services.calendar import default_calendar
    from app.simulation.engine import Province
    from app.domain.text import vn_number
    from app.simulation.model import load_model
    from app.simulation.model import schema as model_schema
    from app.simulation.scenarios import compare, run_in_memory
    from procedures.loader import default_catalogue

    if schema:
        click.echo(json_lib.dumps(model_schema(), ensure_ascii=False, indent=2))
        return
    try:
        first = date.fromisoformat(start)
        models = [load_model(model_name)] + ([load_model(other)] if other else [])
    except ValueError as error:  # a bad date or a bad model file (ModelError is a ValueError)
        raise click.BadParameter(str(error)) from None
    if len({m.province for m in models}) > 1:
        raise click.BadParameter("the two scenarios simulate different provinces")
    try:
        province = Province.from_fixtures(models[0].province, default_calendar(), default_catalogue())
    except Exception as error:  # noqa: BLE001 (a missing or broken province file)
        raise click.ClickException(str(error)) from None
    if other:
        runs = list(range(seed, seed + seeds))
        with click.progressbar(length=len(runs) * 2, label="Mô phỏng hai kịch bản", file=sys.stderr) as bar:
            sides = compare(models, province, runs, first, days, progress=lambda: bar.update(1))
        _print_comparison(sides, province, runs, first, days)
        return
    if in_memory:
        import time as time_lib

        began = time_lib.perf_counter()
        run = run_in_memory(models[0], province, seed, first, days, processes or _cores())
        elapsed = time_lib.perf_counter() - began
        c = run.tally.province
        click.echo(
            f"{models[0].name}: {days} ngày từ {first:%d/%m/%Y}, seed {seed} (trong bộ nhớ, không ghi CSDL)"
        )
        click.echo(
            f"  {vn_number(run.result.generated)} hồ sơ, {vn_number(run.tally.audits)} sự kiện nhật ký"
            f" trong {vn_number(elapsed, 1)} s ({vn_number(run.result.generated / elapsed, 0)} hồ sơ/s)"
        )
        click.echo(
            f"  Đúng hạn (766, 2.1): {_pct(c.in_time_rate)} · trực tuyến: {_pct(c.online_rate)}"
            f" · hài lòng: {_pct(c.satisfaction_rate)} · đang xử lý cuối kỳ: {vn_number(c.open)}"
        )
        return
    run, written, summary = _with_database(
        lambda: _simulate_into_database(models[0], province, seed, first, days, sign, processes or _cores())
    )
    _print_written(models[0], run, written, summary, first, days)


def _cores() -> int:
    return os.cpu_count() or 1


async def _simulate_into_database(
    model, province, seed: int, first, days: int, sign: bool = False, processes: int = 1
):
    """Simulate into the configured database, then read the span's figures as the dashboards do."""
    from datetime import datetime, time, timedelta

    from app.domain.clock import VN_TZ, ManualClock
    from app.domain.periods import covering
    from app.services.catalogue import CatalogueService
    from app.services.directory import load_directory, seeded_province
    from app.services.stats import StatsService
    from app.simulation.runs import SimulationError, run_into_database
    from procedures.loader import default_catalogue

    await _migrate()
    if await seeded_province() != model.province:
        key = model.province
        raise click.ClickException(
            f"Cơ sở dữ liệu chưa có tỉnh {key}: chạy `portal seed --province {key}` trước."
        )
    try:
        with click.progressbar(length=days, label="Mô phỏng", file=sys.stderr) as bar:
            run, written = await run_into_database(
                model,
                province,
                seed,
                first,
                days,
                progress=lambda _: bar.update(1),
                sign=sign,
                processes=processes,
            )
    except SimulationError as error:
        raise click.ClickException(str(error)) from None
    start = datetime.combine(first, time(0), VN_TZ)
    end = start + timedelta(days=days)
    directory = await load_directory(fresh=True)
    stats = StatsService(ManualClock(end), directory, CatalogueService(default_catalogue(), directory))
    period = covering(start, end)  # the statistics are kept by month
    return run, written, {"period_label": period.label, **(await stats.total(period) or {})}


def _print_written(model, run, written: dict[str, int], summary: dict, first, days: int) -> None:
    from app.domain.text import vn_number, vn_percent

    click.echo(f"{model.name}: {days} ngày từ {first:%d/%m/%Y}, seed {run.seed}, đã ghi vào cơ sở dữ liệu")
    click.echo(
        f"  {vn_number(written['dossiers'])} hồ sơ, {vn_number(written['steps'])} bước xử lý,"
        f" {vn_number(written['ratings'])} phiếu đánh giá, {vn_number(written['audit'])} sự kiện nhật ký"
    )
    if "signed" in written:
        click.echo(
            f"  {vn_number(written['signed'])} kết quả được ký số thật (lãnh đạo, rồi con dấu cơ quan;"
            " PAdES có dấu thời gian tại thời điểm mô phỏng)."
        )
    else:
        click.echo(
            "  Kết quả mô phỏng không ký số (không phát hành văn bản kết quả; dùng --sign để ký thật)."
        )
    n = lambda key: vn_number(summary.get(key, 0))  # noqa: E731
    pct = lambda key: vn_percent(summary.get(key))  # noqa: E731
    click.echo(
        f"  Như trang thống kê ({summary.get('period_label', '').lower()}): tiếp nhận {n('received')},"
        f" đã giải quyết {n('resolved')} (trước hạn"
        f" {pct('early_pct')}, đúng hạn {pct('on_time_pct')}, trễ hạn {pct('late_pct')}),"
        f" đúng hạn theo 766 {pct('in_time_pct')}, trực tuyến {pct('online_pct')},"
        f" hài lòng {pct('satisfaction_pct')}, đang xử lý {n('open')} (quá hạn {n('open_overdue')})"
    )


#: Weeks of simulated history `portal demo` puts behind today on an empty database.
DEMO_WEEKS = 4


def _demo_history(province_key: str) -> None:
    """A few weeks of the province's life before today, so that queues, dashboards and the
    audit trail have something in them (only on a database without dossiers)."""
    from datetime import timedelta

    from app.domain.clock import VN_TZ, clock_from
    from app.services.dossiers import has_dossiers
    from app.services.calendar import default_calendar
    from app.simulation.engine import Province
    from app.simulation.model import load_model
    from app.simulation.runs import run_into_database
    from procedures.loader import default_catalogue

    model = load_model("base")
    if model.province != province_key:
        return  # the models describe Yên Bái 2021; another province starts empty
    today = clock_from(get_settings().clock_start).now().astimezone(VN_TZ).date()
    first, days = today - timedelta(weeks=DEMO_WEEKS), 7 * DEMO_WEEKS
    province = Province.from_fixtures(province_key, default_calendar(), default_catalogue())

    async def fill():
        if await has_dossiers():
            return None
        click.echo(
            f"Mô phỏng {DEMO_WEEKS} tuần hoạt động của tỉnh trước hôm nay ({first:%d/%m/%Y} – hôm qua)…"
        )
        with click.progressbar(length=days, label="Mô phỏng", file=sys.stderr) as bar:
            return await run_into_database(
                model, province, 1, first, days, progress=lambda _: bar.update(1), processes=_cores()
            )

    done = _with_database(fill)
    if done is not None:
        from app.domain.text import vn_number

        run, written = done
        open_now = run.tally.province.open
        click.echo(
            f"Đã ghi {vn_number(written['dossiers'])} hồ sơ mô phỏng ({vn_number(open_now)} đang xử lý)."
        )


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the whole report as JSON.")
def verify(file: str, as_json: bool) -> None:
    """Verify the signatures of FILE.pdf; exit code 0 only for TOTAL_PASSED."""
    import json as json_lib
    from pathlib import Path

    from app.services.verification import VerificationService
    from app.web.format import vn_iso

    data = Path(file).read_bytes()
    report = _with_database(lambda: VerificationService(_pki_service()).verify(data))
    if as_json:
        click.echo(json_lib.dumps(report, ensure_ascii=False, indent=2))
    else:
        sub = f" / {report['sub_indication']}" if report.get("sub_indication") else ""
        click.echo(f"{file}: {report['indication']}{sub} — {report.get('indication_label', '')}")
        if report.get("problem"):
            click.echo(f"  {report['problem']}")
        for s in report["signatures"]:
            kind = "cơ quan" if s["is_seal"] else "cá nhân"
            click.echo(
                f"  · {s['signer']} ({kind}): {s['indication']}"
                f"{' / ' + s['sub_indication'] if s['sub_indication'] else ''}, {s['pades_level']},"
                f" ký lúc {vn_iso(s['signing_time']) or '—'}"
            )
        issued = report.get("issued_by_portal")
        if issued:
            click.echo(
                f"  Kết quả của hồ sơ {issued['dossier_code']}: "
                + ("trùng khớp bản đã phát hành." if issued["matches"] else "KHÁC bản đã phát hành.")
            )
    sys.exit(0 if report["indication"] == "TOTAL_PASSED" else 1)


@main.command()
@click.option("--period", required=True, help="2021-Q3 (a quarter), 2021 (a year) or 2021-07 (a month).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="The sealed PDF (default bao-cao-PERIOD.pdf); the JSON is written beside it.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report's JSON instead of its summary.")
def report(period: str, out: str | None, as_json: bool) -> None:
    """The province's report for PERIOD: a PDF sealed by the provincial office, and its JSON."""
    import json as json_lib
    from pathlib import Path

    from app.domain.clock import clock_from
    from app.domain.periods import parse_period
    from app.domain.text import vn_number, vn_percent
    from app.services.reports import ReportService

    try:
        chosen = parse_period(period)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--period") from None
    settings = get_settings()

    async def make():
        service = await ReportService.for_settings(clock_from(settings.clock_start), settings)
        return await service.pdf(chosen)

    pdf, data = _with_database(make)
    pdf_path = Path(out or f"bao-cao-{chosen.key}.pdf")
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    pdf_path.write_bytes(pdf)
    text = json_lib.dumps(data, ensure_ascii=False, indent=2, default=str)
    pdf_path.with_suffix(".json").write_text(text, encoding="utf-8")
    if as_json:
        click.echo(text)
        return
    total = data["summary"] or {}
    click.echo(f"{data['title']} — {data['province']}")
    click.echo(
        f"  Tiếp nhận {vn_number(total.get('received', 0))} hồ sơ,"
        f" đã giải quyết {vn_number(total.get('resolved', 0))},"
        f" trước hạn và đúng hạn {vn_percent(total.get('in_time_pct'))},"
        f" hài lòng {vn_percent(total.get('satisfaction_pct'))}"
    )
    click.echo(f"  {pdf_path} (ký số bởi {data['sealed_by']}), {pdf_path.with_suffix('.json')}")


@main.group()
def pki() -> None:
    """The simulated PKI: list, issue, renew and revoke certificates (signers without one
    get one when they first sign)."""


@pki.command("list")
@click.option("--unit", default=None, help="Only the certificates of this unit code.")
def pki_list(unit: str | None) -> None:
    for c in _with_database(lambda: _pki_service().certificates(unit_code=unit)):
        state = f"thu hồi {c['revoked_at']} ({c['revocation_reason']})" if c["revoked_at"] else "còn hiệu lực"
        click.echo(f"{c['serial']}  {c['kind']:<8}  {c['subject']}  [{state}]")


@pki.command("revoke")
@click.argument("serial")
@click.option(
    "--reason",
    default="unspecified",
    show_default=True,
    help="unspecified, key_compromise, affiliation_changed, superseded, cessation_of_operation",
)
@click.option("--at", "at", default=None, help="ISO 8601 instant of the revocation (default now).")
def pki_revoke(serial: str, reason: str, at: str | None) -> None:
    from datetime import datetime

    from app.services.audit import Actor
    from app.services.errors import ServiceError

    when = datetime.fromisoformat(at) if at else None
    try:
        done = _with_database(
            lambda: _pki_service().revoke(serial, reason, Actor(username="cli", role="admin"), when)
        )
    except ServiceError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"Đã thu hồi {done['serial']} từ {done['revoked_at']} ({done['reason']}).")


@pki.command("issue")
@click.option("--unit", "unit_code", default="", help="A seal certificate for this unit code.")
@click.option("--user", "username", default="", help="A personal certificate for this leader or clerk.")
def pki_issue(unit_code: str, username: str) -> None:
    from app.services.audit import Actor
    from app.services.directory import load_directory
    from app.services.errors import ServiceError

    async def issue():
        return await _pki_service().issue(
            await load_directory(),
            Actor(username="cli", role="admin"),
            unit_code=unit_code,
            username=username,
        )

    try:
        done = _with_database(issue)
    except ServiceError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"Đã cấp {done['serial']} ({done['kind']}): {done['subject']}, hết hạn {done['not_after']}.")


@pki.command("renew")
@click.argument("serial")
def pki_renew(serial: str) -> None:
    from app.services.audit import Actor
    from app.services.errors import ServiceError

    try:
        done = _with_database(lambda: _pki_service().renew(serial, Actor(username="cli", role="admin")))
    except ServiceError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(
        f"Đã gia hạn: chứng thư mới {done['serial']}, hết hạn {done['not_after']}; {serial} được thay thế."
    )


@main.command()
@click.option("--dossiers", required=True, type=click.IntRange(1, 20_000_000), help="How many dossiers.")
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--from", "start", default="2021-01-01", show_default=True, help="First day of the history.")
@click.option("--days", default=365, show_default=True, type=click.IntRange(1, 3660))
@click.option(
    "--workers", default=2, show_default=True, type=click.IntRange(1, 16), help="Processes making histories."
)
@click.option("--batch", default=50_000, show_default=True, type=click.IntRange(1000, 10_000_000))
def load(dossiers: int, seed: int, start: str, days: int, workers: int, batch: int) -> None:
    """Fill the database with N realistic dossier histories (bulk inserts; the province must be seeded)."""
    import time as time_lib
    from datetime import date

    from app.domain.text import vn_number
    from app.services.bulk_load import LoadError, SynthesisSpec
    from app.services.bulk_load import load as bulk_load

    try:
        spec = SynthesisSpec(dossiers, seed=seed, start=date.fromisoformat(start), days=days)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--from") from None
    began = time_lib.perf_counter()
    step = max(1000, dossiers // 50)
    shown = [0]

    def progress(done: int) -> None:
        if done - shown[0] >= step or done == dossiers:
            shown[0] = done
            rate = done / (time_lib.perf_counter() - began)
            click.echo(
                f"  {vn_number(done)} / {vn_number(dossiers)} hồ sơ ({vn_number(rate, 0)} hồ sơ/s)", err=True
            )

    async def run():
        await _migrate()
        return await bulk_load(spec, batch_size=batch, workers=workers, progress=progress)

    try:
        result, writer = _with_database(run)
    except LoadError as error:
        raise click.ClickException(str(error)) from None
    elapsed = time_lib.perf_counter() - began
    w = writer.written
    click.echo(
        f"Đã nạp {vn_number(w['dossiers'])} hồ sơ, {vn_number(w['steps'])} bước xử lý,"
        f" {vn_number(w['audit'])} sự kiện nhật ký, {vn_number(w['ratings'])} phiếu đánh giá"
        f" ({days} ngày từ {spec.start:%d/%m/%Y}, seed {seed}) trong {vn_number(elapsed, 1)} s:"
        f" {vn_number(w['dossiers'] / elapsed, 0)} hồ sơ/s — {get_settings().database_url}"
    )


if __name__ == "__main__":
    main()
