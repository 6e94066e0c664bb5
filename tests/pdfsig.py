"""poppler's pdfsig as an independent validator: an NSS database that trusts one root, and
the tool's verdict on a PDF (it judges certificates at the machine's own time)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import IN_CI

TOOLS = all(shutil.which(t) for t in ("pdfsig", "qpdf", "certutil"))


def need_tools() -> None:
    if not TOOLS:
        if IN_CI:
            pytest.fail("pdfsig, qpdf or certutil missing")
        pytest.skip("poppler-utils, qpdf and libnss3-tools are needed; `make test` installs them")


def nss_trusting(root_pem: bytes, directory: Path) -> Path:
    """A fresh NSS database in ``directory`` whose only trust anchor is ``root_pem``."""
    need_tools()
    (directory / "root.pem").write_bytes(root_pem)
    env = {"HOME": str(directory)}
    subprocess.run(["certutil", "-N", "-d", f"sql:{directory}", "--empty-password"], check=True, env=env)
    subprocess.run(
        [
            "certutil",
            "-A",
            "-d",
            f"sql:{directory}",
            "-n",
            "Root mo phong",
            "-t",
            "C,C,C",
            "-i",
            str(directory / "root.pem"),
        ],
        check=True,
        env=env,
    )
    return directory


def pdfsig(pdf: bytes, nssdb: Path, workdir: Path, name: str = "signed.pdf") -> str:
    path = workdir / name
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdfsig", "-nssdir", str(nssdb), "-no-ocsp", str(path)],
        capture_output=True,
        text=True,
        env={"HOME": str(nssdb)},
        check=False,
    ).stdout


def qpdf_ok(pdf: bytes, workdir: Path) -> bool:
    path = workdir / "check.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["qpdf", "--check", str(path)], capture_output=True, check=False).returncode == 0
