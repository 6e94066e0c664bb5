"""Configuration from the environment, read once (see DESIGN.md, "CLI")."""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = ROOT / "var"
STATIC_DIR = ROOT / "static"
FIXTURES_DIR = ROOT / "fixtures"
DEFAULT_SQLITE = VAR_DIR / "portal.sqlite3"


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def kept_in_var(filename: str, make: Callable[[], str]) -> str:
    """A generated value kept in var/ (mode 600), so restarts and workers agree on it."""
    path = VAR_DIR / filename
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    value = make()
    # O_EXCL: when two processes race, the loser reads the winner's value.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(value)
    return value


def _secret_key(variable: str = "PORTAL_SECRET_KEY", filename: str = "secret_key") -> str:
    """The variable, else a value kept in var/."""
    return _env(variable) or kept_in_var(filename, lambda: secrets.token_urlsafe(48))


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=lambda: _env("DATABASE_URL", f"sqlite:///{DEFAULT_SQLITE}"))
    secret_key: str = field(default_factory=_secret_key)
    #: Encrypts the PKI's private keys at rest (PORTAL_KEY_ENCRYPTION_KEY).
    key_encryption_key: str = field(
        default_factory=lambda: _secret_key("PORTAL_KEY_ENCRYPTION_KEY", "key_encryption_key")
    )
    admin_password: str = field(default_factory=lambda: _env("PORTAL_ADMIN_PASSWORD"))
    base_url: str = field(default_factory=lambda: _env("PORTAL_BASE_URL", "http://127.0.0.1:8000"))
    clock_start: datetime | None = field(
        default_factory=lambda: datetime.fromisoformat(v) if (v := _env("PORTAL_CLOCK_START")) else None
    )
    province: str = field(default_factory=lambda: _env("PORTAL_PROVINCE", "yen-bai-2021"))
    #: Login attempts allowed per client address per minute.
    login_rate_per_minute: int = field(default_factory=lambda: int(_env("PORTAL_LOGIN_RATE", "10")))
    #: Lifetime of API bearer tokens, in seconds.
    token_ttl_seconds: int = 8 * 3600
    #: Receipts after this hour start counting the next working day (Decree 61 Art. 18) [U].
    cutoff_hour: int = 15
    #: PAdES level of signed results: B-LT, or B-LTA (adds a document time-stamp).
    signature_level: str = field(default_factory=lambda: _env("PORTAL_SIGNATURE_LEVEL", "B-LT").upper())
    debug: bool = field(default_factory=lambda: _env("PORTAL_DEBUG") == "1")
    #: Where uploaded and issued files live (content-addressed).
    uploads_dir: Path = field(
        default_factory=lambda: Path(_env("PORTAL_UPLOADS_DIR", str(VAR_DIR / "uploads")))
    )

    def __post_init__(self) -> None:
        if self.signature_level not in SIGNATURE_LEVELS:
            raise ValueError(f"PORTAL_SIGNATURE_LEVEL must be one of {', '.join(SIGNATURE_LEVELS)}")


SIGNATURE_LEVELS = ("B-LT", "B-LTA")


@functools.cache
def get_settings() -> Settings:
    return Settings()
