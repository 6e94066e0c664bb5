"""The working calendar with the year-by-year override table from fixtures/."""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path

from app.domain.calendar import WorkingCalendar, overrides_from
from app.settings import FIXTURES_DIR, get_settings

OVERRIDES = FIXTURES_DIR / "calendar" / "overrides.toml"


def load_overrides(path: Path = OVERRIDES):
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return overrides_from(
        (int(year), entry.get("days_off", []), entry.get("working_days", [])) for year, entry in data.items()
    )


@functools.cache
def default_calendar() -> WorkingCalendar:
    from datetime import time

    return WorkingCalendar(load_overrides(), cutoff=time(get_settings().cutoff_hour, 0))
