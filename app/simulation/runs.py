"""Running a model: in memory (figures only) or into the configured database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from app.domain.clock import VN_TZ
from app.simulation.engine import Province, Result, Signed
from app.simulation.figures import Tally
from app.simulation.model import Model
from app.simulation.shards import Job, run_sharded, tally_in_parallel


@dataclass
class Run:
    seed: int
    result: Result
    tally: Tally


def _end(start: date, days: int) -> datetime:
    return datetime.combine(start + timedelta(days=days), time(0), VN_TZ)


def run_in_memory(
    model: Model, province: Province, seed: int, start: date, days: int, processes: int = 1
) -> Run:
    """The run's figures; its shards simulated by ``processes`` processes (the same figures
    whatever their number)."""
    job = Job(model, province, seed, start, days)
    result, tally = tally_in_parallel(job, _end(start, days), processes)
    return Run(seed, result, tally)


class _Both:
    """Write the history and keep the figures."""

    def __init__(self, writer, tally: Tally) -> None:
        self.writer, self.tally = writer, tally

    def audit(self, entry) -> None:
        self.writer.audit(entry)
        self.tally.audit(entry)

    def dossier(self, row, steps, rating) -> None:
        self.writer.dossier(row, steps, rating)
        self.tally.dossier(row, steps, rating)


async def run_into_database(
    model: Model,
    province: Province,
    seed: int,
    start: date,
    days: int,
    progress: Callable[[int], None] | None = None,
    sign: bool = False,
    settings=None,
    processes: int = 1,
) -> tuple[Run, dict[str, int]]:
    """Simulate and write the history into the configured database: the simulation runs in
    a thread feeding the bulk writer, which writes each full batch meanwhile; its shards are
    simulated by ``processes`` forked processes (the same history whatever their number).
    With ``sign`` every approved result is then rendered and signed for real (leader, then
    seal) at the times the simulation recorded."""
    from app.services.bulk_load import HistoryWriter

    if sign:
        await _check_signable(start, settings)
    writer = await HistoryWriter.open()
    tally = Tally(_end(start, days))
    counters = dict(writer.known_sequences)  # as they stood: what forked processes read
    job = Job(model, province, seed, start, days, writer.next_id, lambda key: counters.get(key, 0), sign)
    done = await writer.drive(lambda: run_sharded(job, _Both(writer, tally), processes, progress))
    await writer.finish(done.sequences_used)
    written = dict(writer.written)
    if sign:
        written["signed"] = await sign_results(done.signed, settings)
    return Run(seed, done.result, tally), written


class SimulationError(ValueError):
    """A run that cannot be made as asked; nothing has been written."""


async def _check_signable(start: date, settings) -> None:
    """Results can be signed only once the simulated PKI exists: refuse before writing."""
    from app.domain.clock import ManualClock
    from app.services.pki import PkiService
    from app.settings import get_settings

    first = _end(start, 0)
    pki = PkiService.for_settings(ManualClock(first), settings or get_settings())
    created = (await pki.authority("root")).certificate.not_valid_before_utc
    if created > first:
        raise SimulationError(
            f"Hạ tầng khóa công khai mô phỏng được tạo ngày {created.astimezone(VN_TZ):%d/%m/%Y}:"
            " không ký số được kết quả trước ngày đó. Chọn --from muộn hơn, hoặc bỏ --sign."
        )


async def sign_results(signed: list[Signed], settings=None) -> int:
    """Issue the simulated results as the live portal would: a PDF signed by the leader and
    sealed, each signature time-stamped at the simulated time (the PKI's clock follows)."""
    from app.domain.clock import ManualClock
    from app.services.accounts import AccountService, UserView
    from app.services.documents import DocumentService
    from app.services.dossiers import DossierService
    from app.services.pki import PkiService
    from app.services.signing import SigningService
    from app.settings import get_settings

    if not signed:
        return 0
    settings = settings or get_settings()
    clock = ManualClock(signed[0].signed_at)
    pki = PkiService.for_settings(clock, settings)
    documents = DocumentService(
        await DossierService.for_settings(clock, settings),
        SigningService(pki, settings.uploads_dir / "artwork", lta=settings.signature_level == "B-LTA"),
    )
    accounts = AccountService(clock, documents.dossiers.directory)
    leaders: dict[str, UserView] = {}
    for s in signed:
        if s.leader not in leaders:
            leaders[s.leader] = await accounts.officer_for(s.leader)
        await documents.issue_signed_result(s.code, leaders[s.leader], s.signed_at, s.sealed_at)
    return len(signed)
