"""Housekeeping the clock drives: overdue flags and the outbox. Runs in the server process."""

from __future__ import annotations

import asyncio
import logging

from app.domain.clock import Clock
from app.services import notifications
from app.services.dossiers import DossierService

log = logging.getLogger("portal.worker")


async def tick(clock: Clock, settings, sender: notifications.Sender) -> tuple[int, int]:
    """One round: the overdue flags raised and the messages delivered (how many of each)."""
    service = await DossierService.for_settings(clock, settings)
    flagged = await service.raise_overdue_flags()
    delivered = await notifications.deliver_pending(sender, clock.now())
    if flagged or delivered:
        log.info("overdue flags raised: %d; messages delivered: %d", len(flagged), delivered)
    return len(flagged), delivered


async def run_forever(clock: Clock, settings, interval: float = 30.0) -> None:
    sender = notifications.RecordingSender()
    while True:
        try:
            await tick(clock, settings, sender)
        except Exception:  # noqa: BLE001 - housekeeping must not die; the next tick retries
            log.exception("housekeeping tick failed")
        await asyncio.sleep(interval)
