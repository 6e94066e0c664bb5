"""Uploads are kept by content (app/services/dossiers.store_content): several server processes
storing the same file at the same instant must all succeed."""

from __future__ import annotations

import hashlib
import threading

from app.services.dossiers import store_content


def _at_once(writers: int, uploads: str, content: bytes) -> tuple[list, list]:
    """``writers`` threads storing ``content`` together; what each stored, and what failed."""
    start = threading.Barrier(writers)
    stored, failures = [], []

    def write():
        start.wait()
        try:
            stored.append(store_content(uploads, content, "pdf"))
        except Exception as error:  # noqa: BLE001 - every failure is the finding
            failures.append(error)

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return stored, failures


def test_writers_storing_the_same_content_at_once_all_succeed(tmp_path):
    for n in range(40):  # a new content each round: each round starts with no file
        content = b"%PDF-1.4\n% round " + str(n).encode()
        stored, failures = _at_once(8, str(tmp_path), content)
        assert not failures, failures
        (digest, path), *others = stored
        assert set(others) <= {(digest, path)}
        assert digest == hashlib.sha256(content).hexdigest()
        assert path.endswith(f"/{digest[:2]}/{digest}.pdf")
        with open(path, "rb") as kept:
            assert kept.read() == content
    assert not list(tmp_path.rglob("*.part")), "a temporary file was left behind"
