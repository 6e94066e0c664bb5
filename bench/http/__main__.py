"""The portal's HTTP paths under load, as ratios to a bare Litestar app measured in the same run.

    .venv/bin/python bench/http [--duration 10] [--connections 64] [--workers 1,2]
        [--databases sqlite,postgres] [--dossiers 10000[,1000000]] [--paths lookup,search,...]

For each number of dossiers × database × number of workers: a fresh database (a SQLite file in a temporary
directory; the PostgreSQL database ``bench_http``, dropped and recreated, on --pg-server),
``portal migrate``, ``portal seed`` and ``portal load --dossiers N``. Then the bare app
(bench/bare_app.py: GET /json, POST /json) and the portal, each served by uvicorn with the
settings of ``portal serve`` and the same number of workers, are loaded one after the other
by ``wrk`` at the same concurrency: a warm-up run, then a timed run per path (the --few-paths
again at --few-connections, default 4: the latency a few users at once see, beside the
throughput under load). Paths:

  lookup     GET /api/v1/dossiers/{code}, anonymous, over 2,000 codes of the database (after
             the warm-up each is answered from the server's memory: app/db/row_cache.py)
  lookup_fresh  the same with "Cache-Control: no-cache": every request reads the row
  search     GET /api/v1/procedures?q=…, rotating search words
  procedure  GET /thu-tuc/{code} (HTML), every procedure in turn
  submit     POST /api/v1/dossiers as citizens (bearer): procedure 2.000635 at a district's
             communes in turn (a unit gives 9,999 codes a day at most), multipart with the
             form and one small PDF (one dossier, one audit row, one notification each)
  queue      GET /api/v1/dossiers as the first commune's one-stop officer: the first page,
             most urgent first (the queue holds what the submission run put there)
  detail     GET /api/v1/dossiers/{code} as that officer (the full view and its audit row)
  action     POST /api/v1/dossiers/{code}/actions {"action": "receive"}: each request a
             different submitted dossier, so each is a real transition (wrk stops when they
             are used up)

It prints one table: requests/s, p50, p99 and errors (non-2xx/3xx responses + socket errors)
per path, and each portal path's throughput as a ratio of the bare GET or POST; with several
sizes (``--dossiers 10000,1000000``), a second table of how each path's p99 and throughput
grow with the number of dossiers in the database; then the RSS
of every uvicorn worker after its runs (from /proc), how many times the server logged
"database is locked", and the outbox (with the submission path): the messages the runs wrote,
those still waiting when the server stopped, and how fast ``portal tick`` hands them on.
Targets (issue 7) are reported, not asserted. ``wrk`` is installed with apt-get when missing.
Servers are stopped on exit, also on Ctrl+C and errors.
"""

from __future__ import annotations

import sys
from pathlib import Path

# A directory run as ``python bench/http`` (a bench/http.py would shadow the standard
# library's ``http`` for every script in bench/).
import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import sqlite3  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.error  # noqa: E402
import urllib.parse  # noqa: E402
import urllib.request  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LUA = ROOT / "bench" / "wrk" / "rotate.lua"
PROTECTED_DATABASES = {"test", "postgres", "root"}

ADMIN_PASSWORD = "bench-Admin-2021"
DEMO_PASSWORD = "bench-Demo-2021"
#: A small, well-formed PDF (what the integration tests upload).
PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)
#: Procedure 2.000635 (trích lục hộ tịch): received at every commune, one required document.
SUBMIT_PROCEDURE = "2.000635"
SUBMIT_FORM = {
    "loai_trich_luc": "Trích lục khai sinh",
    "ho_ten_nguoi_duoc_cap": "Nguyễn Văn An",
    "so_ban": 1,
    "ho_ten": "Nguyễn Văn An",
    "ngay_sinh": "1985-06-15",
    "so_cccd": "015085063742",
    "dien_thoai": "0912345678",
}
SEARCH_WORDS = [
    "khai sinh",
    "chung thuc",
    "ket hon",
    "tạm trú",
    "giấy phép",
    "hộ kinh doanh",
    "trích lục",
    "đăng ký",
]

#: name → (label, method); the bare paths are always measured.
PATHS = {
    "bare_get": ("bare Litestar GET /json", "GET"),
    "bare_post": ("bare Litestar POST /json", "POST"),
    "lookup": ("look-up by code (anonymous)", "GET"),
    "lookup_fresh": ("look-up, Cache-Control: no-cache", "GET"),
    "search": ("catalogue search", "GET"),
    "procedure": ("procedure page (HTML)", "GET"),
    "submit": ("submission (multipart, 1 PDF)", "POST"),
    "queue": ("officer queue, first page", "GET"),
    "detail": ("dossier detail (officer)", "GET"),
    "action": ("status change (receive)", "POST"),
}
PORTAL_PATHS = [p for p in PATHS if not p.startswith("bare_")]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- servers ------------------------------------------------------------------------------

LIVE: list[Server] = []


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def rss_mib(pid: int) -> float:
    for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Server:
    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    workers: int
    log_path: Path
    ready_path: str
    process: subprocess.Popen | None = None

    def start(self, timeout: float = 180) -> None:
        log(f"  start {self.name} ({self.workers} worker(s)) on :{self.port}")
        self.process = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=ROOT,
            stdout=self.log_path.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: Ctrl+C reaches us, we stop it
        )
        LIVE.append(self)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log_tail()}")
            started = self.log_path.read_text(errors="replace").count("Application startup complete")
            if started >= self.workers and _get(f"http://127.0.0.1:{self.port}{self.ready_path}") == 200:
                return
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} not ready after {timeout} s: {self.log_tail()}")

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        if self.workers == 1:
            return [self.process.pid]
        return sorted(p for p in _children(self.process.pid) if "spawn_main" in _cmdline(p))

    def rss(self) -> list[float]:
        return [rss_mib(p) for p in self.worker_pids()]

    def helper_rss(self) -> list[float]:
        """The workers' own spawned processes (the portal's signing process, once it has signed)."""
        return [rss_mib(c) for p in self.worker_pids() for c in _children(p) if "spawn_main" in _cmdline(c)]

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        process, self.process = self.process, None
        if self in LIVE:
            LIVE.remove(self)
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGINT)  # uvicorn's graceful shutdown, workers included
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
        except ProcessLookupError:
            pass


def stop_all() -> None:
    for server in list(LIVE):
        server.stop()


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def call(base: str, method: str, path: str, body=None, token: str | None = None):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


# --- wrk ------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    log("wrk is missing: apt-get install wrk")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "update", "-q"], check=True)
    subprocess.run([*sudo, "apt-get", "install", "-y", "-q", "wrk"], check=True)
    return shutil.which("wrk") or sys.exit("wrk could not be installed")


@dataclass
class Load:
    method: str = "GET"
    paths: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    #: The request bodies, sent in turn (none: no body).
    bodies: list[bytes] = field(default_factory=list)
    content_type: str | None = None
    once: bool = False
    #: One more request header, "Name: value".
    header: str | None = None


@dataclass
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    statuses: str = ""
    first_error: str = ""

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


class Wrk:
    def __init__(self, binary: str, workdir: Path, connections: int, threads: int) -> None:
        self.binary, self.workdir = binary, workdir
        self.connections, self.threads = connections, threads
        self.runs = 0

    def run(
        self, base: str, load: Load, seconds: float, statuses: bool = False, connections: int | None = None
    ) -> Result:
        self.runs += 1
        connections = connections or self.connections
        threads = min(self.threads, connections)
        env = dict(
            os.environ,
            BENCH_METHOD=load.method,
            BENCH_STATUSES="1" if statuses else "0",
            BENCH_THREADS=str(threads),
        )
        for name, lines in (("PATHS", load.paths), ("TOKENS", load.tokens)):
            if lines:
                path = self.workdir / f"wrk-{self.runs}-{name.lower()}.txt"
                path.write_text("\n".join(lines) + "\n")
                env[f"BENCH_{name}"] = str(path)
        if load.bodies:
            listed = []
            for n, body in enumerate(load.bodies):
                listed.append(self.workdir / f"wrk-{self.runs}-body-{n}.bin")
                listed[-1].write_bytes(body)
            path = self.workdir / f"wrk-{self.runs}-bodies.txt"
            path.write_text("".join(f"{p}\n" for p in listed))
            env["BENCH_BODIES"] = str(path)
        if load.content_type:
            env["BENCH_CONTENT_TYPE"] = load.content_type
        if load.once:
            env["BENCH_ONCE"] = "1"
        if load.header:
            env["BENCH_HEADER"] = load.header
        argv = [
            self.binary,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(LUA),
            base + (load.paths[0] if load.paths and not load.once else "/"),
        ]
        out = subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stdout
        values: dict[str, int] = {}
        statuses_line = first_error = ""
        exhausted = 0
        for line in out.splitlines():
            if line.startswith("BENCH "):
                values = {k: int(v) for k, v in (p.split("=") for p in line.split()[1:])}
            elif line.startswith("BENCH_STATUSES"):
                statuses_line = line.partition(" ")[2]
            elif line.startswith("BENCH_SENT"):
                exhausted = int(line.rsplit("=", 1)[1])
            elif line.startswith("BENCH_ERROR"):
                first_error = line.partition(" ")[2]
        if not values:
            raise RuntimeError(f"wrk printed no result:\n{out}")
        errors = sum(values[k] for k in ("status", "connect", "read", "write", "timeout"))
        return Result(
            # a "once" run ends each connection with one GET /health once the list is used up
            requests=max(0, values["requests"] - exhausted),
            seconds=values["duration_us"] / 1e6,
            p50_ms=values["p50_us"] / 1000,
            p99_ms=values["p99_us"] / 1000,
            errors=errors,
            statuses=statuses_line,
            first_error=first_error,
        )


# --- databases ------------------------------------------------------------------------------


def sql(url: str, query: str) -> list[tuple]:
    if url.startswith("sqlite:"):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=60)
        try:
            return connection.execute(query).fetchall()
        finally:
            connection.close()
    out = subprocess.run(
        ["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-d", url, "-c", query],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [tuple(line.split("\t")) for line in out.splitlines() if line]


def fresh_database(kind: str, pg_server: str, directory: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{directory / 'portal.sqlite3'}"
    name = "bench_http"
    assert name not in PROTECTED_DATABASES
    admin = f"{pg_server.rstrip('/')}/postgres"
    subprocess.run(
        ["psql", "-X", "-q", "-d", admin, "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=True
    )
    subprocess.run(["psql", "-X", "-q", "-d", admin, "-c", f"CREATE DATABASE {name}"], check=True)
    return f"{pg_server.rstrip('/')}/{name}"


def multipart(fields: dict[str, str], files: list[tuple[str, str, bytes, str]]) -> tuple[bytes, str]:
    boundary = "----benchhttp7f3a9c"
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    for name, filename, content, content_type in files:
        parts.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f"Content-Type: {content_type}\r\n\r\n"
            ).encode()
            + content
            + b"\r\n"
        )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


# --- one database × workers -----------------------------------------------------------------


@dataclass
class Row:
    database: str
    workers: int
    path: str
    result: Result
    note: str = ""
    #: Measured at this concurrency instead of --connections (no ratio: the bare app was not)
    connections: int | None = None


@dataclass
class ConfigReport:
    dossiers: int
    database: str
    workers: int
    rows: list[Row]
    bare_rss: list[float]
    portal_rss: list[float]
    signing_rss: list[float]
    locked: int
    tracebacks: int
    outbox: Outbox | None = None


@dataclass
class Outbox:
    """The messages the runs wrote and how fast the housekeeping hands them on."""

    written: int
    #: Still pending when the server stopped (its ticks come every 30 s).
    waiting: int
    #: ``portal tick`` delivering them, and again with nothing left (its process's start).
    seconds: float
    empty_seconds: float

    def line(self) -> str:
        work = self.seconds - self.empty_seconds
        rate = f", {self.waiting / work:,.0f} a second" if self.waiting and work > 0 else ""
        return (
            f"outbox: {self.written:,} messages written, {self.waiting:,} waiting when the server"
            f" stopped; `portal tick` handed them on in {self.seconds:.1f} s ({self.empty_seconds:.1f} s"
            f" with none waiting{rate})"
        )


def outbox(url: str, env: dict[str, str], log_path: Path) -> Outbox:
    count = lambda where: int(sql(url, f"SELECT COUNT(*) FROM notification{where}")[0][0])  # noqa: E731
    written, waiting = count(""), count(" WHERE status = 'pending'")
    times = []
    for _ in range(2):
        began = time.perf_counter()
        _portal(env, "tick", log_path=log_path)
        times.append(time.perf_counter() - began)
    if count(" WHERE status = 'pending'"):
        raise RuntimeError("messages still pending after `portal tick`")
    return Outbox(written, waiting, *times)


def _portal_env(url: str, directory: Path, port: int) -> dict[str, str]:
    return dict(
        os.environ,
        DATABASE_URL=url,
        PORTAL_ADMIN_PASSWORD=ADMIN_PASSWORD,
        PORTAL_DEMO_PASSWORD=DEMO_PASSWORD,
        PORTAL_SECRET_KEY="bench-http-secret-key-at-least-32-bytes",
        PORTAL_KEY_ENCRYPTION_KEY="bench-http-key-encryption-key",
        PORTAL_UPLOADS_DIR=str(directory / "uploads"),
        PORTAL_BASE_URL=f"http://127.0.0.1:{port}",
        PORTAL_LOGIN_RATE="100000",
    )


def _portal(env: dict[str, str], *args: str, log_path: Path) -> None:
    with log_path.open("ab") as out:
        subprocess.run([str(BIN / "portal"), *args], env=env, cwd=ROOT, stdout=out, stderr=out, check=True)


def run_config(
    dossiers: int, kind: str, workers: int, args: argparse.Namespace, wrk: Wrk, tmp: Path
) -> ConfigReport:
    directory = tmp / f"{dossiers}-{kind}-w{workers}"
    directory.mkdir()
    wrk.workdir = directory
    log(f"\n== {kind}, {workers} worker(s): fresh database, seed, {dossiers:,} dossiers")
    url = fresh_database(kind, args.pg_server, directory)
    env = _portal_env(url, directory, args.port)
    setup_log = directory / "setup.log"
    began = time.perf_counter()
    _portal(env, "migrate", log_path=setup_log)
    _portal(env, "seed", log_path=setup_log)
    _portal(env, "load", "--dossiers", str(dossiers), log_path=setup_log)
    # The loaded open dossiers past their appointment get their overdue flags now, untimed: the
    # server's first housekeeping tick would raise them during the first path's run (25,105 at
    # 10^6, each its own audited transaction, in the worker serving the look-ups: stop 19).
    _portal(env, "tick", log_path=setup_log)
    log(f"  database ready in {time.perf_counter() - began:.0f} s: {url}")
    rows: list[Row] = []

    def measure(
        name: str, base: str, load: Load, warm: bool = True, connections: int | None = None
    ) -> Result:
        if warm and args.warmup > 0:
            w = wrk.run(base, load, args.warmup, statuses=True, connections=connections)
            if w.errors:
                log(f"  ! warm-up {name}: {w.errors} errors ({w.statuses}) {w.first_error[:200]}")
        result = wrk.run(base, load, args.duration, connections=connections)
        log(
            f"  {name:<10} {result.rps:8.0f} req/s  p50 {result.p50_ms:7.1f} ms  p99 {result.p99_ms:7.1f} ms"
            f"  errors {result.errors}" + (f"  ({connections} connections)" if connections else "")
        )
        return result

    # The bare app first, on the same port, workers and concurrency.
    bare = Server(
        "bare app",
        [sys.executable, str(ROOT / "bench" / "bare_app.py"), "--port", str(args.port)]
        + ["--workers", str(workers)],
        dict(os.environ),
        args.port,
        workers,
        directory / "bare.log",
        "/json",
    )
    bare.start()
    try:
        base = f"http://127.0.0.1:{args.port}"
        rows.append(Row(kind, workers, "bare_get", measure("bare_get", base, Load(paths=["/json"]))))
        echo = json.dumps({"name": "Nguyễn Văn An", "qty": 3}, ensure_ascii=False).encode()
        post = Load("POST", ["/json"], bodies=[echo], content_type="application/json")
        rows.append(Row(kind, workers, "bare_post", measure("bare_post", base, post)))
        bare_rss = bare.rss()
    finally:
        bare.stop()

    portal = Server(
        "portal",
        [str(BIN / "portal"), "serve", "--port", str(args.port), "--workers", str(workers)],
        env,
        args.port,
        workers,
        directory / "portal.log",
        "/health",
    )
    portal.start()
    try:
        base = f"http://127.0.0.1:{args.port}"
        login = lambda user, password: call(  # noqa: E731
            base, "POST", "/api/v1/auth/token", {"username": user, "password": password}
        )["access_token"]
        admin = login("admin", ADMIN_PASSWORD)
        citizens = [
            u["username"] for u in call(base, "GET", "/api/v1/admin/users?role=citizen&limit=20", token=admin)
        ]
        citizen_tokens = [login(u, DEMO_PASSWORD) for u in citizens]
        tree = call(base, "GET", "/api/v1/units")
        district = next(c for c in tree[0]["children"] if c["kind"] == "district")
        communes = [c for c in district["children"] if c["kind"] == "commune"]
        commune = communes[0]
        officer = f"motcua.{commune['key']}"
        officer_token = [login(officer, DEMO_PASSWORD)]
        procedures = [p["code"] for p in call(base, "GET", "/api/v1/procedures")]
        codes = [r[0] for r in sql(url, "SELECT code FROM dossier ORDER BY random() LIMIT 2000")]
        # To the district's communes in turn: a unit gives at most 9,999 codes a day (Circular
        # 01/2018's four digits), which one commune alone would reach within this run.
        bodies = [
            multipart(
                {
                    "procedure_code": SUBMIT_PROCEDURE,
                    "unit_code": c["code"],
                    "form": json.dumps(SUBMIT_FORM, ensure_ascii=False),
                },
                [("to_khai", "to-khai.pdf", PDF, "application/pdf")],
            )
            for c in communes
        ]
        submit = Load("POST", ["/api/v1/dossiers"], citizen_tokens, [b for b, _ in bodies], bodies[0][1])

        def submitted() -> list[str]:
            return [
                r[0]
                for r in sql(
                    url,
                    "SELECT code FROM dossier WHERE receiving_unit = '{}' AND status = 1 "
                    "AND step_role = 'reception' ORDER BY id".format(commune["code"]),
                )
            ]

        loads = {
            "lookup": lambda: Load(paths=[f"/api/v1/dossiers/{c}" for c in codes]),
            "lookup_fresh": lambda: Load(
                paths=[f"/api/v1/dossiers/{c}" for c in codes], header="Cache-Control: no-cache"
            ),
            "search": lambda: Load(
                paths=[f"/api/v1/procedures?q={urllib.parse.quote(w)}" for w in SEARCH_WORDS]
            ),
            "procedure": lambda: Load(paths=[f"/thu-tuc/{c}" for c in procedures]),
            "submit": lambda: submit,
            "queue": lambda: Load(paths=["/api/v1/dossiers"], tokens=officer_token),
            "detail": lambda: Load(
                paths=[
                    f"/api/v1/dossiers/{r[0]}"
                    for r in sql(
                        url,
                        "SELECT code FROM dossier WHERE receiving_unit = '{}' "
                        "ORDER BY random() LIMIT 2000".format(commune["code"]),
                    )
                ],
                tokens=officer_token,
            ),
        }
        for name in args.paths:
            if name == "action":
                continue
            rows.append(Row(kind, workers, name, measure(name, base, loads[name]())))
            if name in args.few_paths:  # the latency a few users at once see, beside the load's
                few = measure(name, base, loads[name](), connections=args.few_connections)
                rows.append(
                    Row(kind, workers, name, few, f"{args.few_connections} connections", args.few_connections)
                )
        if "action" in args.paths:
            action_body = json.dumps({"action": "receive"}).encode()
            waiting = submitted()
            while len(waiting) < args.min_actions:  # untimed: put more dossiers in the queue
                log(f"  {len(waiting)} dossiers wait at {commune['code']}: submitting more (untimed)")
                wrk.run(base, submit, 5)
                waiting = submitted()
            # One receive first, alone: it issues the unit's seal certificate (an RSA key), which
            # 64 concurrent first receives would each do (the check-then-issue is not serialised)
            call(
                base,
                "POST",
                f"/api/v1/dossiers/{waiting[0]}/actions",
                {"action": "receive"},
                officer_token[0],
            )
            warm = waiting[1 : min(len(waiting) // 10, 4 * args.connections)]
            act = lambda c: Load(  # noqa: E731
                "POST",
                [f"/api/v1/dossiers/{x}/actions" for x in c],
                officer_token,
                [action_body],
                "application/json",
                once=True,
            )
            w = wrk.run(base, act(warm), args.warmup or 1, statuses=True)
            if w.errors:
                log(f"  ! warm-up action: {w.errors} errors ({w.statuses}) {w.first_error[:200]}")
            time.sleep(3)  # what the warm-up left in flight finishes before the timed run
            waiting = submitted()
            result = measure("action", base, act(waiting), warm=False)
            note = ""
            if result.requests >= len(waiting) - 1 and result.seconds < args.duration * 0.95:
                note = f"all {len(waiting)} waiting dossiers received in {result.seconds:.1f} s"
            rows.append(Row(kind, workers, "action", result, note))
        portal_rss, signing_rss = portal.rss(), portal.helper_rss()
    finally:
        portal.stop()
    text = portal.log_path.read_text(errors="replace")
    # "unhandled error": a 500 (wrk closing its connections at the end of a run is logged
    # as "error on …", not counted)
    tracebacks = text.count("unhandled error on")
    report = ConfigReport(
        dossiers,
        kind,
        workers,
        rows,
        bare_rss,
        portal_rss,
        signing_rss,
        text.count("database is locked"),
        tracebacks,
    )
    if report.locked or report.tracebacks:
        log(f"  ! server log: {report.locked} 'database is locked', {report.tracebacks} unhandled errors")
    if "submit" in args.paths:
        report.outbox = outbox(url, env, setup_log)
        log(f"  {report.outbox.line()}")
    return report


# --- report ---------------------------------------------------------------------------------


def table(reports: list[ConfigReport], args: argparse.Namespace) -> str:
    sizes = " / ".join(f"{n:,}" for n in args.dossiers)
    lines = [
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s, {sizes} dossiers loaded",
        "",
        "| dossiers | database | workers | path | req/s | p50 ms | p99 ms | errors | ratio to bare |",
        "|---:|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for report in reports:
        bare = {r.path: r.result.rps for r in report.rows if r.path.startswith("bare_")}
        for row in report.rows:
            label, method = PATHS[row.path]
            if row.path.startswith("bare_"):
                ratio = "1"
            elif row.connections:
                ratio = "—"
            else:
                reference = bare.get("bare_get" if method == "GET" else "bare_post")
                ratio = f"{row.result.rps / reference:.3f}" if reference else "—"
            note = f" ({row.note})" if row.note else ""
            lines.append(
                f"| {report.dossiers:,} | {report.database} | {report.workers} | {label}{note} |"
                f" {row.result.rps:,.0f} | {row.result.p50_ms:.1f} | {row.result.p99_ms:.1f} |"
                f" {row.result.errors} | {ratio} |"
            )
    if len(args.dossiers) > 1:
        lines += ["", *growth(reports, sorted(args.dossiers))]
    lines += ["", "RSS of each uvicorn worker after its runs (MiB), and the server log:", ""]
    for report in reports:
        lines.append(
            f"- {report.dossiers:,} dossiers, {report.database}, {report.workers} worker(s): bare "
            + ", ".join(f"{r:.0f}" for r in report.bare_rss)
            + "; portal "
            + ", ".join(f"{r:.0f}" for r in report.portal_rss)
            + (
                " + signing process " + ", ".join(f"{r:.0f}" for r in report.signing_rss)
                if report.signing_rss
                else ""
            )
            + f"; 'database is locked' ×{report.locked}, unhandled errors ×{report.tracebacks}"
            + (f"; {report.outbox.line()}" if report.outbox else "")
        )
    return "\n".join(lines)


def growth(reports: list[ConfigReport], sizes: list[int]) -> list[str]:
    """Each portal path's p99 (and requests/s) at each number of dossiers loaded, side by side:
    what an index range or a keyset page should keep flat, and an OFFSET scan or an N+1 would not."""
    measured: dict[tuple, dict[int, Result]] = {}
    for report in reports:
        for row in report.rows:
            if not row.path.startswith("bare_"):
                key = (report.database, report.workers, row.path, row.connections, row.note)
                measured.setdefault(key, {})[report.dossiers] = row.result
    lines = [
        "How the p99 grows with the dossiers loaded (p99 ms, and req/s in brackets):",
        "",
        "| database | workers | path | " + " | ".join(f"{n:,}" for n in sizes) + " |",
        "|---|---|---|" + "---:|" * len(sizes),
    ]
    for (database, workers, path, _, note), by_size in measured.items():
        cells = [f"{by_size[n].p99_ms:.1f} ({by_size[n].rps:,.0f})" if n in by_size else "—" for n in sizes]
        label = PATHS[path][0] + (f" ({note})" if note else "")
        lines.append(f"| {database} | {workers} | {label} | " + " | ".join(cells) + " |")
    return lines


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10, help="Seconds per timed run.")
    parser.add_argument("--warmup", type=float, default=2, help="Seconds of warm-up per path.")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads.")
    parser.add_argument("--workers", default="1,2", help="uvicorn worker counts, comma-separated.")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument(
        "--dossiers", default="10000", help="Dossiers loaded, comma-separated (several: the growth table)."
    )
    parser.add_argument("--paths", default=",".join(PORTAL_PATHS), help="Portal paths, comma-separated.")
    parser.add_argument(
        "--few-connections", type=int, default=4, help="The low concurrency of the --few-paths rows."
    )
    parser.add_argument(
        "--few-paths", default="queue,lookup", help="Paths measured again at --few-connections."
    )
    parser.add_argument("--min-actions", type=int, default=1000, help="Dossiers to receive, at least.")
    parser.add_argument("--port", type=int, default=18700)
    parser.add_argument("--pg-server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary directory (logs, SQLite).")
    args = parser.parse_args()
    args.workers = [int(w) for w in args.workers.split(",")]
    args.dossiers = [int(n) for n in args.dossiers.split(",")]
    args.databases = args.databases.split(",")
    args.paths = args.paths.split(",")
    args.few_paths = [p for p in args.few_paths.split(",") if p]
    unknown = set(args.paths) - set(PORTAL_PATHS) | set(args.databases) - {"sqlite", "postgres"}
    if unknown:
        parser.error(f"unknown: {', '.join(sorted(unknown))}")
    # the status changes use what the submission run left in the queue: keep that order
    args.paths = [p for p in PORTAL_PATHS if p in args.paths]
    return args


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


def main() -> None:
    args = _arguments()
    wrk_binary = ensure_wrk()
    signal.signal(signal.SIGTERM, _interrupt)
    tmp = Path(tempfile.mkdtemp(prefix="bench-http-"))
    wrk = Wrk(wrk_binary, tmp, args.connections, args.threads)
    reports: list[ConfigReport] = []
    try:
        for dossiers in args.dossiers:
            for kind in args.databases:
                for workers in args.workers:
                    reports.append(run_config(dossiers, kind, workers, args, wrk, tmp))
    except KeyboardInterrupt:
        log("interrupted")
    except Exception:  # noqa: BLE001 - print what was measured, then the error
        import traceback

        traceback.print_exc()
    finally:
        stop_all()
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if reports:
        print(table(reports, args))


if __name__ == "__main__":
    main()
