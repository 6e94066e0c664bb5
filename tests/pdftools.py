"""Independent PDF tools for the tests: poppler's pdfsig (with an NSS database that trusts one
root; it judges certificates at the machine's own time), pdftotext and pdfinfo, and qpdf."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import IN_CI

TOOLS = all(shutil.which(t) for t in ("pdfsig", "pdftotext", "pdfinfo", "qpdf", "certutil"))


def need_tools() -> None:
    if not TOOLS:
        if IN_CI:
            pytest.fail("poppler-utils, qpdf or libnss3-tools missing")
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


def pdf_text(pdf: bytes, workdir: Path) -> str:
    """The text poppler reads from a PDF, in reading order with wrapped lines joined."""
    need_tools()
    path = workdir / "text.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(text.split())


def page_size(pdf: bytes, workdir: Path) -> str:
    path = workdir / "info.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return next(line for line in info.splitlines() if line.startswith("Page size")).split(":", 1)[1].strip()
