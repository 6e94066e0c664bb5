"""The signing process ends with the process that started it, however that one ends."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Starts the signing process, prints its pid and dies of SIGTERM as `portal serve` does
# (uvicorn raises the signal again once its shutdown is done): no exit handlers run.
PARENT = f"""
import os, signal, sys
sys.path.insert(0, {str(ROOT)!r})
from signing import process

if __name__ == "__main__":
    print(process._executor().submit(os.getpid).result(timeout=120), flush=True)
    signal.raise_signal(signal.SIGTERM)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has ended; only its parent's wait is missing


def test_the_signing_process_ends_when_its_parent_dies_of_sigterm(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    out = tmp_path / "out.txt"
    with out.open("w") as sink:  # not a pipe: an orphan would hold it open
        parent = subprocess.run([sys.executable, str(script)], stdout=sink, stderr=sink, timeout=180)
    assert parent.returncode == -15, out.read_text()
    child = int(out.read_text().split()[0])
    assert child != os.getpid()
    deadline = time.monotonic() + 30
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child), f"the signing process {child} outlived its parent"
