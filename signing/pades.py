"""PAdES signatures with pyHanko: each signature an incremental update, SHA-256, a signed
time-stamp, and the revocation data embedded (B-LT; B-LTA adds a document time-stamp).

Two fixes from stack-measurements.md are applied: the private key is parsed once per
signer (pyHanko's ``SimpleSigner`` re-parses it for every signature, ~38 ms for RSA), and
the time-stamper likewise. The caller hands in the time (a simulated clock works).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms, core
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from pyhanko.pdf_utils.content import ImportedPdfPage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, general, signers
from pyhanko.sign.general import simple_cms_attribute
from pyhanko.sign.timestamps import DummyTimeStamper
from pyhanko.stamp import StaticStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from signing.pki import Issued

# The revocation data is handed to pyHanko (fetched from our own PKI beforehand), so fetching
# is off on purpose; pyHanko warns about that on every signature.
logging.getLogger("pyhanko.sign.signers.pdf_signer").addFilter(
    lambda record: "fetching is not allowed" not in record.getMessage()
)


def asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _key_info(key: RSAPrivateKey) -> asn1_keys.PrivateKeyInfo:
    return asn1_keys.PrivateKeyInfo.load(
        key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


class CachedKeySigner(signers.SimpleSigner):
    """A ``SimpleSigner`` that keeps the parsed key (RSA PKCS#1 v1.5, SHA-256)."""

    def __init__(self, issued: Issued, chain: list[x509.Certificate]) -> None:
        super().__init__(
            signing_cert=asn1_cert(issued.certificate),
            signing_key=_key_info(issued.private_key),
            cert_registry=SimpleCertificateStore.from_certs([asn1_cert(c) for c in chain]),
        )
        self._key = issued.private_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        return self._key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))


class CachedKeyTimeStamper(DummyTimeStamper):
    """The portal's own RFC 3161 authority, in process, at the time the caller gives."""

    def __init__(self, tsa: Issued, chain: list[x509.Certificate], at: datetime) -> None:
        super().__init__(
            tsa_cert=asn1_cert(tsa.certificate),
            tsa_key=_key_info(tsa.private_key),
            certs_to_embed=SimpleCertificateStore.from_certs([asn1_cert(c) for c in chain]),
            fixed_dt=at,
        )
        self._key = tsa.private_key

    def _sign_tst_info(self, tst_info_data: bytes, md_algorithm: str, dt: datetime):
        digest = hashes.Hash(get_pyca_cryptography_hash(md_algorithm))
        digest.update(tst_info_data)
        signed_attrs = cms.CMSAttributes(
            [
                simple_cms_attribute("content_type", "tst_info"),
                simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
                simple_cms_attribute("signing_certificate", general.as_signing_certificate(self.tsa_cert)),
                simple_cms_attribute("message_digest", digest.finalize()),
            ]
        )
        signature = self._key.sign(
            signed_attrs.dump(), PKCS1v15(), get_pyca_cryptography_hash(md_algorithm.upper())
        )
        return signature, signed_attrs


@dataclass(frozen=True)
class Appearance:
    """A visible signature: where, and the artwork (a one-page PDF) drawn in the box."""

    page: int
    box: tuple[float, float, float, float]
    artwork_pdf: str  # path to a PDF whose first page is the image (signature or seal)


@dataclass(frozen=True)
class SignatureSpec:
    field_name: str
    reason: str
    location: str
    appearance: Appearance | None = None
    lta: bool = False
    #: Embed certificates, CRLs and OCSP answers (B-LT). Off only to model careless signers.
    embed_revocation: bool = True


@dataclass(frozen=True)
class Revocation:
    """What the signer embeds so the signature validates later without fetching (B-LT)."""

    trust_roots: tuple[x509.Certificate, ...]
    other_certs: tuple[x509.Certificate, ...] = ()
    crls: tuple[bytes, ...] = ()
    ocsps: tuple[bytes, ...] = ()

    def __reduce__(self):
        # Certificates do not pickle (for a signing process): they travel as DER.
        return _revocation_from_der, (
            to_der(self.trust_roots),
            to_der(self.other_certs),
            self.crls,
            self.ocsps,
        )

    def context(self, moment: datetime | None = None) -> ValidationContext:
        return ValidationContext(
            trust_roots=[asn1_cert(c) for c in self.trust_roots],
            other_certs=[asn1_cert(c) for c in self.other_certs],
            crls=list(self.crls),
            ocsps=list(self.ocsps),
            allow_fetching=False,
            moment=moment,
            revocation_mode="hard-fail",
        )


def to_der(certificates) -> tuple[bytes, ...]:
    return tuple(c.public_bytes(serialization.Encoding.DER) for c in certificates)


def from_der(ders: tuple[bytes, ...]) -> tuple[x509.Certificate, ...]:
    return tuple(x509.load_der_x509_certificate(d) for d in ders)


def _revocation_from_der(
    roots: tuple[bytes, ...], others: tuple[bytes, ...], crls: tuple[bytes, ...], ocsps: tuple[bytes, ...]
) -> Revocation:
    return Revocation(from_der(roots), from_der(others), crls, ocsps)


async def sign_pdf(
    pdf: bytes,
    spec: SignatureSpec,
    signer: CachedKeySigner,
    timestamper: CachedKeyTimeStamper,
    revocation: Revocation,
    at: datetime,
) -> bytes:
    """Add one signature as an incremental update and return the new file."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    field_spec = None
    style = None
    if spec.appearance:
        field_spec = fields.SigFieldSpec(
            spec.field_name, on_page=spec.appearance.page, box=spec.appearance.box
        )
        style = StaticStampStyle(
            background=ImportedPdfPage(spec.appearance.artwork_pdf), border_width=0, background_opacity=1
        )
    metadata = signers.PdfSignatureMetadata(
        field_name=spec.field_name,
        reason=spec.reason,
        location=spec.location,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        embed_validation_info=spec.embed_revocation,
        use_pades_lta=spec.lta,
        # pyHanko checks the signer against this context before signing; a careless
        # signer (embed_revocation=False) checks nothing, as tools outside the portal may.
        validation_context=revocation.context(at) if spec.embed_revocation else None,
    )
    pdf_signer = signers.PdfSigner(
        metadata, signer=signer, timestamper=timestamper, stamp_style=style, new_field_spec=field_spec
    )
    out = io.BytesIO()
    await pdf_signer.async_sign_pdf(writer, output=out)
    return out.getvalue()
