from app.web.controllers.account import AccountController
from app.web.controllers.admin import AdminPagesController, CertificatePagesController
from app.web.controllers.api import AdminApiController, ApiController, AuditApiController, PkiAdminController
from app.web.controllers.dossier_pages import DossierPagesController
from app.web.controllers.dossiers import DossierApiController
from app.web.controllers.feedback_pages import FeedbackPagesController
from app.web.controllers.payments import GatewayController, PaymentApiController
from app.web.controllers.pki import PkiController
from app.web.controllers.public import PublicController, health
from app.web.controllers.stats import FeedbackApiController, RatingApiController, StatsApiController
from app.web.controllers.stats_pages import StatsPagesController
from app.web.controllers.verification import VerificationController

CONTROLLERS = [
    PublicController,
    AccountController,
    AdminPagesController,
    CertificatePagesController,
    DossierPagesController,
    ApiController,
    AdminApiController,
    AuditApiController,
    DossierApiController,
    PaymentApiController,
    GatewayController,
    PkiController,
    PkiAdminController,
    VerificationController,
    RatingApiController,
    FeedbackApiController,
    StatsApiController,
    StatsPagesController,
    FeedbackPagesController,
    health,
]
