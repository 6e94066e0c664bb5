"""The bare Litestar app that bench/http.py measures the portal against.

    .venv/bin/python bench/bare_app.py [--port 18001] [--workers 1]

GET /json answers a small JSON object; POST /json parses a small JSON body into a msgspec
Struct and answers it (200). No middleware, no database: what Litestar and uvicorn cost by
themselves. Served with the uvicorn settings of ``portal serve`` (app/cli.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = str(Path(__file__).resolve().parent)
# Run as a script, this directory would be first on sys.path and bench/http.py would shadow
# the standard library's ``http`` package (which uvicorn imports).
sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != HERE]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import msgspec  # noqa: E402
from litestar import Litestar, get, post  # noqa: E402


class Item(msgspec.Struct):
    name: str
    qty: int


@get("/json")
async def read_json() -> dict[str, object]:
    return {"code": "000.00.05.H63-210315-0001", "status": 2, "status_name": "Đã tiếp nhận"}


@post("/json", status_code=200)
async def echo_json(data: Item) -> Item:
    return data


app = Litestar(route_handlers=[read_json, echo_json])


def serve(host: str, port: int, workers: int) -> None:
    """The same uvicorn.run call as ``portal serve``."""
    import uvicorn

    from app.cli import SERVING

    uvicorn.run("bench.bare_app:app", host=host, port=port, workers=workers, log_level="info", **SERVING)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18001)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    serve(args.host, args.port, args.workers)
