"""Dependency providers: handlers ask for services by name and get them built per request.

The services of the busy API paths depend on at most one other named dependency each: for a
level of the dependency graph with two or more, Litestar resolves them in an anyio task group
per request (two tasks and a group for ``clock`` and ``directory``), which cost the anonymous
look-up a fifth of its time. So the clock is read from the app's state here and the directory
from its cache (``load_directory``) rather than injected. The app's state is reached through the
request: a ``state`` parameter is a new ``State`` (and lock) for each request."""

from __future__ import annotations

import hashlib

from litestar import Request
from litestar.di import NamedDependency, Provide

from app.domain.clock import Clock
from app.domain.directory import Directory
from app.services.accounts import AccountService
from app.services.catalogue import CatalogueService
from app.services.directory import load_directory
from app.services.documents import DocumentService
from app.services.dossiers import DossierService
from app.services.drafts import DraftService
from app.services.feedback import FeedbackService
from app.services.payments import PaymentService
from app.services.pki import PkiService
from app.services.ratings import RatingService
from app.services.reports import ReportService
from app.services.signing import SigningService
from app.services.stats import StatsService
from app.services.verification import VerificationService
from procedures.loader import default_catalogue

_catalogue_services: dict[int, CatalogueService] = {}


def provide_clock(request: Request) -> Clock:
    return request.app.state.clock


async def provide_directory() -> Directory:
    return await load_directory()


def provide_catalogue_service(directory: NamedDependency[Directory]) -> CatalogueService:
    # Built once per directory: the search keys and receiving units are precomputed.
    service = _catalogue_services.get(id(directory))
    if service is None:
        _catalogue_services.clear()
        service = _catalogue_services[id(directory)] = CatalogueService(default_catalogue(), directory)
    return service


async def provide_account_service(request: Request) -> AccountService:
    return AccountService(request.app.state.clock, await load_directory())


async def provide_dossier_service(request: Request) -> DossierService:
    # The service holds no request's state: the app keeps the one it built until the directory
    # is reloaded (a tenth of a cached look-up went to building it per request).
    state, directory = request.app.state, await load_directory()
    service = state.get("dossier_service")
    if service is None or service.directory is not directory:
        service = state["dossier_service"] = await DossierService.for_settings(
            state.clock, state.settings, directory
        )
    return service


def provide_document_service(request: Request, dossiers: NamedDependency[DossierService]) -> DocumentService:
    settings = request.app.state.settings
    return DocumentService(
        dossiers,
        SigningService(
            provide_pki_service(request),
            settings.uploads_dir / "artwork",
            lta=settings.signature_level == "B-LTA",
        ),
        settings.base_url,
    )


def provide_payment_service(request: Request, dossiers: NamedDependency[DossierService]) -> PaymentService:
    secret = hashlib.sha256(("payment-gateway:" + request.app.state.settings.secret_key).encode()).hexdigest()
    return PaymentService(dossiers, secret)


def provide_draft_service(dossiers: NamedDependency[DossierService]) -> DraftService:
    return DraftService(dossiers)


def provide_pki_service(request: Request) -> PkiService:
    return PkiService.for_settings(request.app.state.clock, request.app.state.settings)


def provide_rating_service(dossiers: NamedDependency[DossierService]) -> RatingService:
    return RatingService(dossiers)


def provide_feedback_service(dossiers: NamedDependency[DossierService]) -> FeedbackService:
    return FeedbackService(dossiers)


def provide_stats_service(request: Request, catalogue: NamedDependency[CatalogueService]) -> StatsService:
    return StatsService(request.app.state.clock, catalogue.directory, catalogue)


def provide_report_service(request: Request, stats: NamedDependency[StatsService]) -> ReportService:
    artwork = request.app.state.settings.uploads_dir / "artwork"
    return ReportService(stats, SigningService(provide_pki_service(request), artwork))


def provide_verification_service(request: Request) -> VerificationService:
    return VerificationService(provide_pki_service(request))


DEPENDENCIES = {
    "clock": Provide(provide_clock, sync_to_thread=False),
    "directory": Provide(provide_directory),
    "catalogue": Provide(provide_catalogue_service, sync_to_thread=False),
    "accounts": Provide(provide_account_service),
    "dossiers": Provide(provide_dossier_service),
    "documents": Provide(provide_document_service, sync_to_thread=False),
    "payments": Provide(provide_payment_service, sync_to_thread=False),
    "drafts": Provide(provide_draft_service, sync_to_thread=False),
    "pki": Provide(provide_pki_service, sync_to_thread=False),
    "verification": Provide(provide_verification_service, sync_to_thread=False),
    "ratings": Provide(provide_rating_service, sync_to_thread=False),
    "feedback": Provide(provide_feedback_service, sync_to_thread=False),
    "stats": Provide(provide_stats_service, sync_to_thread=False),
    "reports": Provide(provide_report_service, sync_to_thread=False),
}
