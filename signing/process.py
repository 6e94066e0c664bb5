"""Signatures computed in a process of their own.

A PAdES B-LT signature is ~100 ms of mostly pure Python (pyHanko, asn1crypto). In a worker
thread it held the GIL against the event loop, so every other request of the server waited
behind it: on SQLite each query's thread hop did (status changes with seals behind them ran at
13-22 requests/s, 64 without; bench/README.md, stop 13). Here the signature runs in one
separate process per server process, fed over a pipe: the key, certificates and revocation
data go as DER bytes (``Issued`` and ``Revocation`` pickle that way) and the signed file
comes back. The process is started on first use ("spawn": the server's threads and event
loop are not forked) and started again if it dies. It belongs to the Python process, not to
an app: it ends at the process's exit (concurrent.futures lets the signature under way finish),
so apps started one after another (the tests) share it. It also ends when its parent ends
without that exit (killed, or stopped by SIGTERM: uvicorn raises it again after its shutdown,
and the process dies of it without running its exit handlers).

This module never imports ``app``.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime

from cryptography import x509
from pyhanko.sign.general import SigningError
from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError

from signing.pades import (
    CachedKeySigner,
    CachedKeyTimeStamper,
    Revocation,
    SignatureSpec,
    from_der,
    sign_pdf,
    to_der,
)
from signing.pki import Issued


class SignatureRefused(Exception):
    """pyHanko would not make the signature (a certificate or time-stamp that does not
    validate). Carries the reason as text: pyHanko's own errors do not all survive pickling."""


_pool: ProcessPoolExecutor | None = None
_guard = threading.Lock()


def _forget_parents_pool() -> None:
    # A forked child (the simulator's shards, the bulk loader's workers) inherits the parent's
    # executor object but not its threads or pipes' other ends: it starts its own if it signs.
    global _pool, _guard
    _pool, _guard = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_parents_pool)


def _executor() -> ProcessPoolExecutor:
    global _pool
    with _guard:
        if _pool is None:
            _pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_settle_in
            )
        return _pool


def _settle_in() -> None:
    """Run first in the signing process."""
    # Ctrl+C reaches the whole process group: the parent's exit lets the signature under way
    # finish and then stops this process, rather than having it cut short.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_end_with_parent, name="end-with-parent", daemon=True).start()


def _end_with_parent() -> None:
    # For a parent that dies of a signal (module docstring): `portal serve` stopped with
    # SIGTERM left a 66 MiB orphan per worker. Its sentinel is readable once it is gone.
    multiprocessing.connection.wait([multiprocessing.parent_process().sentinel])
    os._exit(0)


def shutdown() -> None:
    """Stop the signing process now (it also ends at the process's exit)."""
    global _pool
    with _guard:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


async def sign_elsewhere(
    pdf: bytes,
    spec: SignatureSpec,
    issued: Issued,
    chain: list[x509.Certificate],
    tsa: Issued,
    stamped_at: datetime,
    revocation: Revocation,
    at: datetime,
) -> bytes:
    """``sign_pdf`` with a ``CachedKeySigner`` and a ``CachedKeyTimeStamper``, in the signing
    process. Raises ``SignatureRefused`` when pyHanko refuses."""
    job = (pdf, spec, issued, to_der(chain), tsa, stamped_at, revocation, at)
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(_executor(), _sign, *job)
    except BrokenProcessPool:
        shutdown()  # the process died (killed, out of memory): a new one, once
        return await loop.run_in_executor(_executor(), _sign, *job)


def _sign(
    pdf: bytes,
    spec: SignatureSpec,
    issued: Issued,
    chain_der: tuple[bytes, ...],
    tsa: Issued,
    stamped_at: datetime,
    revocation: Revocation,
    at: datetime,
) -> bytes:
    chain = list(from_der(chain_der))
    signer = CachedKeySigner(issued, chain)
    stamper = CachedKeyTimeStamper(tsa, chain, stamped_at)
    try:
        return asyncio.run(sign_pdf(pdf, spec, signer, stamper, revocation, at))
    except (SigningError, PathValidationError, PathBuildingError) as exc:
        raise SignatureRefused(f"{type(exc).__name__}: {exc}") from None
