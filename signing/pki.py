"""A simulated PKI modelled on the government one (reference §6): a root CA, an intermediate
CA for state agencies, an OCSP responder and a time-stamping authority; certificates for
agencies (seal / organisation) and for the people who sign (personal).

Everything here is clearly named as simulated. Conventions follow what Vietnamese
certificates carry (reference §6.2): ``UID=MNS:<budget code>`` and ``UID=MST:<tax code>``
for agencies, ``UID=CCCD:<12 digits>`` for persons, C=VN, with key usage for signatures,
a CRL distribution point and AIA/OCSP pointing at the running portal.

Private keys are kept encrypted (PKCS#8, AES-256 via ``BestAvailableEncryption``) under a
key-encryption key from configuration; nothing here logs or returns a key in clear.
This module never imports ``app``.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

UID = x509.ObjectIdentifier("0.9.2342.19200300.100.1.1")
SIMULATED = "(MÔ PHỎNG)"


class Kind(str, enum.Enum):
    ROOT = "root"
    INTERMEDIATE = "intermediate"
    OCSP = "ocsp"
    TSA = "tsa"
    SEAL = "seal"  # an agency's organisation certificate (the "con dấu" signature)
    PERSONAL = "personal"  # a leader's or clerk's own certificate


class RevocationReason(str, enum.Enum):
    UNSPECIFIED = "unspecified"
    KEY_COMPROMISE = "key_compromise"
    AFFILIATION_CHANGED = "affiliation_changed"
    SUPERSEDED = "superseded"
    CESSATION_OF_OPERATION = "cessation_of_operation"

    @property
    def x509(self) -> x509.ReasonFlags:
        return {
            "unspecified": x509.ReasonFlags.unspecified,
            "key_compromise": x509.ReasonFlags.key_compromise,
            "affiliation_changed": x509.ReasonFlags.affiliation_changed,
            "superseded": x509.ReasonFlags.superseded,
            "cessation_of_operation": x509.ReasonFlags.cessation_of_operation,
        }[self.value]


@dataclass(frozen=True)
class Endpoints:
    """Where relying parties fetch what they need; written into every issued certificate."""

    base_url: str

    def crt(self, ca: str) -> str:
        return f"{self.base_url}/pki/{ca}.crt"

    def crl(self, ca: str) -> str:
        return f"{self.base_url}/pki/{ca}.crl"

    @property
    def ocsp(self) -> str:
        return f"{self.base_url}/pki/ocsp"

    @property
    def tsa(self) -> str:
        return f"{self.base_url}/pki/tsa"


@dataclass(frozen=True)
class SubjectSpec:
    """Who a certificate names. Vietnamese text is kept as UTF-8 strings."""

    common_name: str
    organization: str = ""
    organizational_unit: str = ""
    locality: str = ""
    province: str = ""
    title: str = ""
    uids: tuple[str, ...] = ()  # e.g. ("MNS:1047665",) or ("CCCD:015085001122",)
    email: str = ""

    def name(self) -> x509.Name:
        attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
        if self.province:
            attributes.append(x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, self.province))
        if self.locality:
            attributes.append(x509.NameAttribute(NameOID.LOCALITY_NAME, self.locality))
        if self.organization:
            attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.organization))
        if self.organizational_unit:
            attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, self.organizational_unit))
        if self.title:
            attributes.append(x509.NameAttribute(NameOID.TITLE, self.title))
        attributes += [x509.NameAttribute(UID, uid) for uid in self.uids]
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, self.common_name))
        if self.email:
            attributes.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, self.email))
        return x509.Name(attributes)


@dataclass(frozen=True)
class Issued:
    kind: Kind
    certificate: x509.Certificate
    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = field(repr=False)

    @property
    def serial(self) -> int:
        return self.certificate.serial_number

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def encrypted_key(self, kek: bytes) -> bytes:
        return encrypt_key(self.private_key, kek)

    def __reduce__(self):
        # cryptography's keys and certificates do not pickle; a signing process gets DER bytes.
        key = self.private_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return _issued_from_der, (self.kind, self.der, key)


@functools.lru_cache(maxsize=64)
def _issued_from_der(kind: Kind, certificate: bytes, key: bytes) -> Issued:
    # Our own keys, checked when they were made: OpenSSL 3's RSA validation on load costs
    # ~50 ms a key, so it is skipped, and the result kept for the next signature.
    private_key = serialization.load_der_private_key(key, None, unsafe_skip_rsa_key_validation=True)
    return Issued(kind, x509.load_der_x509_certificate(certificate), private_key)  # type: ignore[arg-type]


def new_key(kind: Kind) -> rsa.RSAPrivateKey:
    # RSA, as the government CAs use; 3072 bits for CAs, 2048 for end entities (TT 16/2019 [U]).
    bits = 3072 if kind in (Kind.ROOT, Kind.INTERMEDIATE) else 2048
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def encrypt_key(key, kek: bytes) -> bytes:
    if len(kek) < 16:
        raise ValueError("the key-encryption key must have at least 16 bytes")
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(kek),
    )


def decrypt_key(pem: bytes, kek: bytes):
    # Skipping the RSA consistency check is safe for keys we generated and stored
    # ourselves, and is 10⁴× faster (stack-measurements gotcha 1).
    return serialization.load_pem_private_key(pem, password=kek, unsafe_skip_rsa_key_validation=True)


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key, not_before: datetime, days: int
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before - timedelta(minutes=5))
        .not_valid_after(not_before + timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _key_usage(**flags: bool) -> x509.KeyUsage:
    names = (
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
        "encipher_only",
        "decipher_only",
    )
    return x509.KeyUsage(**{n: flags.get(n, False) for n in names})


def create_root(now: datetime, name: str = f"Root CA Chính phủ {SIMULATED}", days: int = 7300) -> Issued:
    key = new_key(Kind.ROOT)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Ban Cơ yếu Chính phủ (mô phỏng)"),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    cert = (
        _builder(subject, subject, key.public_key(), now, days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .sign(key, hashes.SHA256())
    )
    return Issued(Kind.ROOT, cert, key)


def _issue(
    issuer: Issued,
    kind: Kind,
    subject: x509.Name,
    endpoints: Endpoints,
    issuer_slug: str,
    now: datetime,
    days: int,
    key=None,
) -> Issued:
    key = key or new_key(kind)
    builder = _builder(subject, issuer.certificate.subject, key.public_key(), now, days).add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.certificate.public_key()), critical=False
    )
    if kind is Kind.INTERMEDIATE:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=True, path_length=0), critical=True
        ).add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
    else:
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    if kind in (Kind.SEAL, Kind.PERSONAL):
        # emailProtection is what NSS (and so poppler's pdfsig) requires of a document
        # signer's certificate; without any EKU NSS leaves SEC_ERROR_EXTENSION_NOT_FOUND
        # behind a successful verification, which pdfsig 22.x reports as a generic error.
        builder = builder.add_extension(
            _key_usage(digital_signature=True, content_commitment=True), critical=True
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
    elif kind is Kind.OCSP:
        builder = (
            builder.add_extension(_key_usage(digital_signature=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
            .add_extension(x509.OCSPNoCheck(), critical=False)
        )
    elif kind is Kind.TSA:
        builder = builder.add_extension(_key_usage(digital_signature=True), critical=True).add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    if kind is not Kind.OCSP:
        builder = builder.add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        full_name=[x509.UniformResourceIdentifier(endpoints.crl(issuer_slug))],
                        relative_name=None,
                        reasons=None,
                        crl_issuer=None,
                    )
                ]
            ),
            critical=False,
        ).add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        x509.AuthorityInformationAccessOID.CA_ISSUERS,
                        x509.UniformResourceIdentifier(endpoints.crt(issuer_slug)),
                    ),
                    x509.AccessDescription(
                        x509.AuthorityInformationAccessOID.OCSP,
                        x509.UniformResourceIdentifier(endpoints.ocsp),
                    ),
                ]
            ),
            critical=False,
        )
    return Issued(kind, builder.sign(issuer.private_key, hashes.SHA256()), key)


def create_intermediate(root: Issued, endpoints: Endpoints, now: datetime, days: int = 3650) -> Issued:
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Ban Cơ yếu Chính phủ (mô phỏng)"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"CA phục vụ các cơ quan Nhà nước {SIMULATED}"),
        ]
    )
    return _issue(root, Kind.INTERMEDIATE, subject, endpoints, "root", now, days)


def create_service(ca: Issued, kind: Kind, endpoints: Endpoints, now: datetime, days: int = 1825) -> Issued:
    """The OCSP responder or the time-stamping authority, issued by the intermediate."""
    label = {Kind.OCSP: "Dịch vụ OCSP", Kind.TSA: "Dịch vụ cấp dấu thời gian"}[kind]
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Ban Cơ yếu Chính phủ (mô phỏng)"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{label} {SIMULATED}"),
        ]
    )
    return _issue(ca, kind, subject, endpoints, "intermediate", now, days)


def issue_end_entity(
    ca: Issued, kind: Kind, subject: SubjectSpec, endpoints: Endpoints, now: datetime, days: int = 1095
) -> Issued:
    if kind not in (Kind.SEAL, Kind.PERSONAL):
        raise ValueError("end-entity certificates are seal or personal")
    has_person_id = any(u.split(":")[0] in ("CCCD", "CMND", "HC") for u in subject.uids)
    if (kind is Kind.PERSONAL) != has_person_id:
        raise ValueError("a personal certificate carries UID=CCCD:…, a seal one does not")
    return _issue(ca, kind, subject.name(), endpoints, "intermediate", now, days)


def renew_end_entity(
    ca: Issued, kind: Kind, previous: x509.Certificate, endpoints: Endpoints, now: datetime, days: int = 1095
) -> Issued:
    """A new key and certificate for the same subject (the old one is then superseded)."""
    if kind not in (Kind.SEAL, Kind.PERSONAL):
        raise ValueError("end-entity certificates are seal or personal")
    return _issue(ca, kind, previous.subject, endpoints, "intermediate", now, days)


# --- revocation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Revoked:
    serial: int
    revoked_at: datetime
    reason: RevocationReason = RevocationReason.UNSPECIFIED


def make_crl(
    issuer: Issued, revoked: list[Revoked], this_update: datetime, next_update: datetime, number: int
) -> bytes:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.certificate.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.certificate.public_key()),
            critical=False,
        )
    )
    for r in revoked:
        entry = (
            x509.RevokedCertificateBuilder()
            .serial_number(r.serial)
            .revocation_date(r.revoked_at)
            .add_extension(x509.CRLReason(r.reason.x509), critical=False)
            .build()
        )
        builder = builder.add_revoked_certificate(entry)
    return builder.sign(issuer.private_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


class CertStatus(str, enum.Enum):
    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class StatusAnswer:
    status: CertStatus
    certificate: x509.Certificate | None = None
    revoked: Revoked | None = None


def ocsp_respond(
    request_der: bytes,
    issuer: Issued,
    responder: Issued,
    lookup,
    now: datetime,
    validity: timedelta = timedelta(hours=4),
) -> bytes:
    """Answer an RFC 6960 request. ``lookup(serial) -> StatusAnswer``. A malformed request gets
    the protocol's own ``malformedRequest`` answer, never an exception."""
    try:
        request = ocsp.load_der_ocsp_request(request_der)
        serial = request.serial_number
        issuer_key_hash = request.issuer_key_hash
    except Exception:  # noqa: BLE001 - any parse failure is the protocol's malformedRequest
        return ocsp.OCSPResponseBuilder.build_unsuccessful(
            ocsp.OCSPResponseStatus.MALFORMED_REQUEST
        ).public_bytes(serialization.Encoding.DER)
    expected = hashes.Hash(request.hash_algorithm)
    expected.update(
        issuer.certificate.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.PKCS1
        )
    )
    answer = lookup(serial) if issuer_key_hash == expected.finalize() else StatusAnswer(CertStatus.UNKNOWN)
    builder = ocsp.OCSPResponseBuilder().responder_id(ocsp.OCSPResponderEncoding.HASH, responder.certificate)
    builder = builder.certificates([responder.certificate])
    status = {
        CertStatus.GOOD: ocsp.OCSPCertStatus.GOOD,
        CertStatus.REVOKED: ocsp.OCSPCertStatus.REVOKED,
        CertStatus.UNKNOWN: ocsp.OCSPCertStatus.UNKNOWN,
    }[answer.status]
    if answer.certificate is not None:
        builder = builder.add_response(
            cert=answer.certificate,
            issuer=issuer.certificate,
            algorithm=request.hash_algorithm,
            cert_status=status,
            this_update=now,
            next_update=now + validity,
            revocation_time=answer.revoked.revoked_at if answer.revoked else None,
            revocation_reason=answer.revoked.reason.x509 if answer.revoked else None,
        )
    else:
        builder = builder.add_response_by_hash(
            issuer_name_hash=request.issuer_name_hash,
            issuer_key_hash=request.issuer_key_hash,
            serial_number=serial,
            algorithm=request.hash_algorithm,
            cert_status=ocsp.OCSPCertStatus.UNKNOWN,
            this_update=now,
            next_update=now + validity,
            revocation_time=None,
            revocation_reason=None,
        )
    for extension in request.extensions:
        if isinstance(extension.value, x509.OCSPNonce):
            builder = builder.add_extension(extension.value, critical=False)
    return builder.sign(responder.private_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)


def uids_of(certificate: x509.Certificate) -> list[str]:
    """The typed identifiers of a subject, e.g. ["MNS:1047665", "MST:5200123456"] (a multimap)."""
    return [a.value for a in certificate.subject.get_attributes_for_oid(UID)]


def is_seal(certificate: x509.Certificate) -> bool:
    """An organisation (eSeal) certificate carries no personal identifier (reference §6.2 hint)."""
    return not any(u.split(":")[0] in ("CCCD", "CMND", "HC", "BHXH") for u in uids_of(certificate))
