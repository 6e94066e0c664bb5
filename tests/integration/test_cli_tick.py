"""`portal tick` runs the server's housekeeping once, from the command line (bench/http runs it
after loading, so that the server's first tick does not raise the loaded dossiers' flags while
the paths are measured)."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

PORTAL = str(Path(sys.executable).parent / "portal")


def test_portal_tick_raises_the_flags_once(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'tick.sqlite3'}",
        "PORTAL_ADMIN_PASSWORD": "Admin-pass-2021",
        "PORTAL_DEMO_PASSWORD": "Demo-pass-2021",
        "PORTAL_KEY_ENCRYPTION_KEY": "test-key-encryption-key",
        "PORTAL_UPLOADS_DIR": str(tmp_path / "uploads"),
        # a year after the loaded dossiers' last day: every open one is past its appointment
        "PORTAL_CLOCK_START": "2022-12-31T08:00:00+07:00",
    }

    def portal(*args: str) -> str:
        done = subprocess.run([PORTAL, *args], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    def counts() -> tuple[int, int]:
        with sqlite3.connect(tmp_path / "tick.sqlite3") as db:
            [(marked,)] = db.execute("SELECT COUNT(*) FROM dossier WHERE overdue").fetchall()
            [(events,)] = db.execute(
                "SELECT COUNT(*) FROM audit_event WHERE action = 'dossier.overdue'"
            ).fetchall()
        return marked, events

    portal("migrate")
    portal("seed")
    portal("load", "--dossiers", "300")  # flags what is late by the loaded year's last day
    before = counts()
    first = portal("tick")
    flagged = int(first.split("Đã đánh dấu quá hạn ")[1].split(" hồ sơ")[0].replace(".", ""))
    assert flagged > 0, first
    after = counts()
    assert after == (before[0] + flagged, before[1] + flagged)  # each flag an audited event
    assert "Đã đánh dấu quá hạn 0 hồ sơ" in portal("tick")  # nothing left to raise
    assert counts() == after
