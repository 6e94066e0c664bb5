"""Verify every signature of a PDF and say, in the ETSI EN 319 102-1 vocabulary, what holds.

For each signature: the signer and its identifiers, the chain up to a trusted root, the
claimed signing time and the time-stamp, the revocation status at the signing time (from
the data embedded in the document, PAdES B-LT) and now (from the data the caller hands
in), what the signature covers and what changed after it (pyHanko's difference
analysis), the PAdES level reached, and one verdict: TOTAL_PASSED, INDETERMINATE or
TOTAL_FAILED with a sub-indication. Bad input (not a PDF, encrypted, broken, no
signature) is an answer too, never an exception.
"""

from __future__ import annotations

import enum
import hashlib
import io
from dataclasses import dataclass, field
from datetime import datetime

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature, async_validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator import ValidationContext

from signing.pades import asn1_cert

MAX_BYTES = 20 * 1024 * 1024
UID_OID = "0.9.2342.19200300.100.1.1"


class Indication(enum.IntEnum):
    """Graded so that ``min`` of several gives the document's verdict."""

    TOTAL_FAILED = 0
    INDETERMINATE = 1
    TOTAL_PASSED = 2


@dataclass
class SignatureReport:
    field_name: str
    signer: str
    identifiers: list[str]
    is_seal: bool
    chain: list[str]
    signing_time: str | None
    timestamp_time: str | None
    timestamp_ok: bool | None
    intact: bool
    valid: bool
    trusted: bool
    revocation_at_signing: str
    revocation_now: str
    coverage: str
    modification: str
    pades_level: str
    indication: Indication
    sub_indication: str | None
    messages: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        data = dict(self.__dict__)
        data["indication"] = self.indication.name
        return data


@dataclass
class Report:
    indication: Indication
    sub_indication: str | None
    signatures: list[SignatureReport]
    problem: str | None = None
    sha256: str = ""
    #: Document time-stamps (PAdES B-LTA): when, and whether each holds.
    document_timestamps: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "indication": self.indication.name,
            "sub_indication": self.sub_indication,
            "problem": self.problem,
            "sha256": self.sha256,
            "signatures": [s.as_dict() for s in self.signatures],
            "document_timestamps": self.document_timestamps,
        }


def _fail(
    problem: str, sub: str = "FORMAT_FAILURE", indication: Indication = Indication.TOTAL_FAILED
) -> Report:
    return Report(indication, sub, [], problem)


def _name(cert: asn1_x509.Certificate) -> str:
    return cert.subject.native.get("common_name", cert.subject.human_friendly)


def _identifiers(cert: asn1_x509.Certificate) -> list[str]:
    values = []
    for rdn in cert.subject.chosen:
        for attribute in rdn:
            if attribute["type"].dotted == UID_OID:
                values.append(attribute["value"].native)
    return values


async def verify_pdf(
    data: bytes,
    trust_roots: list[x509.Certificate],
    *,
    now: datetime | None = None,
    current_crls: list[bytes] = (),
    current_ocsps: list[bytes] = (),
) -> Report:
    if len(data) > MAX_BYTES:
        return _fail(f"Tệp vượt quá {MAX_BYTES // (1024 * 1024)} MB.")
    if not data.lstrip()[:5].startswith(b"%PDF-"):
        return _fail("Tệp không phải PDF.")
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        if reader.encrypted:
            return _fail("PDF được mã hóa; không thể kiểm tra chữ ký.")
        signatures = list(reader.embedded_regular_signatures)
        doc_timestamps = list(reader.embedded_timestamp_signatures)
    except Exception as exc:  # noqa: BLE001 - any parse failure is a malformed document
        return _fail(f"PDF bị hỏng, không đọc được: {type(exc).__name__}.")
    if not signatures:
        return Report(
            Indication.INDETERMINATE,
            "NO_SIGNATURE_FOUND",
            [],
            "PDF không có chữ ký số.",
            hashlib.sha256(data).hexdigest(),
        )
    roots = [asn1_cert(c) for c in trust_roots]
    dss = DocumentSecurityStore.read_dss(reader) if reader.root.get("/DSS") else None
    stamps = [await _verify_document_timestamp(ts, roots, dss, now) for ts in doc_timestamps]
    archived = bool(stamps) and all(s["ok"] for s in stamps)
    reports = []
    for sig in signatures:
        reports.append(
            await _verify_one(sig, roots, dss, now, list(current_crls), list(current_ocsps), archived)
        )
    worst = min(reports, key=lambda r: r.indication)
    indication, sub = worst.indication, worst.sub_indication
    if stamps and not archived and indication is Indication.TOTAL_PASSED:
        # A broken archive time-stamp: the document changed after it, or it does not verify.
        indication, sub = Indication.TOTAL_FAILED, "HASH_FAILURE"
    return Report(indication, sub, reports, None, hashlib.sha256(data).hexdigest(), stamps)


async def _verify_document_timestamp(ts, roots, dss, now) -> dict:
    kwargs = {"trust_roots": roots, "allow_fetching": False, "moment": now, "revocation_mode": "soft-fail"}
    context = dss.as_validation_context(kwargs) if dss else ValidationContext(**kwargs)
    try:
        status = await async_validate_pdf_timestamp(ts, validation_context=context)
    except Exception as exc:  # noqa: BLE001 - a malformed token is a failed time-stamp
        return {"field_name": ts.field_name, "time": None, "ok": False, "problem": f"{type(exc).__name__}"}
    return {
        "field_name": ts.field_name,
        "time": status.timestamp.isoformat(),
        "ok": bool(status.intact and status.valid and status.trusted),
        "problem": None,
    }


async def _verify_one(sig, roots, dss, now, crls, ocsps, archived: bool = False) -> SignatureReport:
    # PAdES carries no signing-time attribute: the time-stamp is the proof of time.
    stamped_at = _timestamp_time(sig)
    signing_time = stamped_at or sig.self_reported_timestamp
    moment = signing_time or now
    try:
        ts_status = None
        # Point-in-time validation at the signing time: the embedded revocation data
        # (B-LT) and today's, which may say the certificate was revoked before it.
        kwargs = {
            "trust_roots": roots,
            "allow_fetching": False,
            "moment": moment,
            "revocation_mode": "hard-fail",
            "crls": list(crls),
            "ocsps": list(ocsps),
            "retroactive_revinfo": True,
        }
        context = dss.as_validation_context(kwargs) if dss else ValidationContext(**kwargs)
        # The time-stamp is judged at the verifier's "now" (the portal's clock).
        ts_kwargs = {**kwargs, "moment": now}
        ts_context = dss.as_validation_context(ts_kwargs) if dss else ValidationContext(**ts_kwargs)
        status = await async_validate_pdf_signature(
            sig, signer_validation_context=context, ts_validation_context=ts_context
        )
        ts_status = status.timestamp_validity
    except Exception as exc:  # noqa: BLE001 - report what went wrong rather than crash
        return SignatureReport(
            sig.field_name,
            "",
            [],
            False,
            [],
            None,
            None,
            None,
            False,
            False,
            False,
            "unknown",
            "unknown",
            "unknown",
            "unknown",
            "none",
            Indication.TOTAL_FAILED,
            "FORMAT_FAILURE",
            [f"{type(exc).__name__}: {exc}"],
        )
    cert = status.signing_cert
    chain = (
        [_name(c) for c in status.validation_path.iter_certs(include_root=True)]
        if status.validation_path
        else []
    )
    # Revocation now: the same chain checked against today's CRL/OCSP from the portal.
    now_state = "unknown"
    if status.validation_path and (crls or ocsps):
        now_context = ValidationContext(
            trust_roots=roots,
            allow_fetching=False,
            moment=now,
            crls=crls,
            ocsps=ocsps,
            revocation_mode="hard-fail",
            other_certs=list(status.validation_path.iter_certs(include_root=False)),
        )
        try:
            now_status = await async_validate_pdf_signature(
                sig, signer_validation_context=now_context, skip_diff=True
            )
            now_state = "revoked" if now_status.revoked else "good" if now_status.trusted else "unknown"
        except Exception as exc:  # noqa: BLE001 - certvalidator may raise instead of reporting
            now_state = "revoked" if "revoked" in str(exc).lower() else "unknown"
    sub = _sub(status)
    at_signing = "revoked" if sub == "REVOKED" else "good" if status.trusted else "unknown"
    # Revocation data issued after the signature may date a revocation before it (a
    # compromised key that went on signing): the time-stamp proves the signature came later.
    revoked_before = (
        _revoked_before(status.validation_path, signing_time, crls, ocsps)
        if status.validation_path and stamped_at
        else None
    )
    if revoked_before:
        at_signing = "revoked"
    modification = status.modification_level.name if status.modification_level is not None else "unknown"
    if not status.intact:
        indication, sub = Indication.TOTAL_FAILED, "HASH_FAILURE"
    elif not status.valid:
        indication, sub = Indication.TOTAL_FAILED, "SIG_CRYPTO_FAILURE"
    elif revoked_before:
        indication, sub = Indication.TOTAL_FAILED, "REVOKED"
    elif sub == "OUT_OF_BOUNDS_NO_POE" and stamped_at and _outside_validity(status.signing_cert, stamped_at):
        # The time-stamp proves when the signature existed: outside the certificate's life.
        indication, sub = Indication.TOTAL_FAILED, _outside_validity(status.signing_cert, stamped_at)
    elif status.trust_problem_indic is not None:
        indication = (
            Indication.TOTAL_FAILED
            if status.trust_problem_indic.status.name == "FAILED"
            else Indication.INDETERMINATE
        )
    elif modification == "OTHER" or status.docmdp_ok is False:
        indication, sub = Indication.INDETERMINATE, "SIG_CONSTRAINTS_FAILURE"
    else:
        indication, sub = Indication.TOTAL_PASSED, None
    level = "B-B"
    if ts_status is not None:
        level = "B-T"
        if dss is not None:
            level = "B-LT"
            if archived:
                level = "B-LTA"
    return SignatureReport(
        field_name=sig.field_name,
        signer=_name(cert),
        identifiers=_identifiers(cert),
        is_seal=not any(i.split(":")[0] in ("CCCD", "CMND", "HC") for i in _identifiers(cert)),
        chain=chain,
        signing_time=signing_time.isoformat() if signing_time else None,
        timestamp_time=ts_status.timestamp.isoformat() if ts_status else None,
        timestamp_ok=bool(ts_status.valid and ts_status.intact) if ts_status is not None else None,
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        revocation_at_signing=at_signing,
        revocation_now=now_state,
        coverage=status.coverage.name if status.coverage else "unknown",
        modification=modification,
        pades_level=level,
        indication=indication,
        sub_indication=sub,
        messages=[revoked_before] if revoked_before else [],
    )


def _outside_validity(cert: asn1_x509.Certificate, moment: datetime) -> str | None:
    validity = cert["tbs_certificate"]["validity"]
    if moment > validity["not_after"].native:
        return "EXPIRED"
    if moment < validity["not_before"].native:
        return "NOT_YET_VALID"
    return None


def _revoked_before(path, moment: datetime, crls: list[bytes], ocsps: list[bytes]) -> str | None:
    """Why a certificate of the path was already revoked at ``moment``, if current data says so.

    Only data signed by the certificate's issuer (a CRL) or by a responder that issuer
    certified (OCSP) counts; anything else handed in is ignored.
    """
    certs = [x509.load_der_x509_certificate(c.dump()) for c in path.iter_certs(include_root=True)]
    for issuer, cert in zip(certs, certs[1:], strict=False):
        for when, reason in _revocations(cert, issuer, crls, ocsps):
            if when <= moment:
                name = cert.subject.rfc4514_string()
                return f"{name} bị thu hồi từ {when.isoformat()} ({reason}), trước thời điểm ký."
    return None


def _revocations(cert: x509.Certificate, issuer: x509.Certificate, crls, ocsps):
    for der in crls:
        try:
            crl = x509.load_der_x509_crl(der)
        except ValueError:
            continue
        if crl.issuer != issuer.subject or not crl.is_signature_valid(issuer.public_key()):
            continue
        entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
        if entry is not None:
            try:
                reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.value
            except x509.ExtensionNotFound:
                reason = "unspecified"
            yield entry.revocation_date_utc, reason
    for der in ocsps:
        try:
            response = ocsp.load_der_ocsp_response(der)
        except ValueError:
            continue
        if response.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
            continue
        if response.serial_number != cert.serial_number or not _signed_for(response, issuer):
            continue
        if response.certificate_status is ocsp.OCSPCertStatus.REVOKED:
            reason = response.revocation_reason.value if response.revocation_reason else "unspecified"
            yield response.revocation_time_utc, reason


def _signed_for(response: ocsp.OCSPResponse, issuer: x509.Certificate) -> bool:
    """The response is signed by the issuer itself or by a responder it certified for OCSP."""
    candidates = [issuer]
    for responder in response.certificates:
        try:
            responder.verify_directly_issued_by(issuer)
            usage = responder.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
            continue
        if x509.ExtendedKeyUsageOID.OCSP_SIGNING in usage:
            candidates.append(responder)
    for signer in candidates:
        key = signer.public_key()
        try:
            if isinstance(key, rsa.RSAPublicKey):
                key.verify(
                    response.signature,
                    response.tbs_response_bytes,
                    padding.PKCS1v15(),
                    response.signature_hash_algorithm,
                )
            elif isinstance(key, ec.EllipticCurvePublicKey):
                key.verify(
                    response.signature,
                    response.tbs_response_bytes,
                    ec.ECDSA(response.signature_hash_algorithm),
                )
            else:
                continue
            return True
        except InvalidSignature:
            continue
    return False


def _sub(status) -> str | None:
    return status.trust_problem_indic.name if status.trust_problem_indic is not None else None


def _timestamp_time(sig) -> datetime | None:
    """The genTime of the signature's RFC 3161 time-stamp token, if it has one."""
    try:
        signer_info = sig.signed_data["signer_infos"][0]
        for attribute in signer_info["unsigned_attrs"]:
            if attribute["type"].native == "signature_time_stamp_token":
                token = attribute["values"][0]
                return token["content"]["encap_content_info"]["content"].parsed["gen_time"].native
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return None
