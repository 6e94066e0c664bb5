"""The simulated PKI: profiles modelled on the government hierarchy, keys encrypted at rest,
CRLs and OCSP answers (RFC 5280, RFC 6960), malformed requests answered by the protocol."""

from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from signing.pki import (
    CertStatus,
    Endpoints,
    Kind,
    RevocationReason,
    Revoked,
    StatusAnswer,
    SubjectSpec,
    create_intermediate,
    create_root,
    create_service,
    decrypt_key,
    is_seal,
    issue_end_entity,
    make_crl,
    ocsp_respond,
    uids_of,
)

NOW = datetime(2021, 3, 1, tzinfo=timezone.utc)
ENDPOINTS = Endpoints("http://127.0.0.1:8000")
KEK = b"0123456789abcdef-key-encryption-key"


@pytest.fixture(scope="module")
def pki():
    root = create_root(NOW)
    intermediate = create_intermediate(root, ENDPOINTS, NOW)
    responder = create_service(intermediate, Kind.OCSP, ENDPOINTS, NOW)
    tsa = create_service(intermediate, Kind.TSA, ENDPOINTS, NOW)
    seal = issue_end_entity(
        intermediate,
        Kind.SEAL,
        SubjectSpec(
            "Sở Tư pháp tỉnh Yên Bái",
            organization="Ủy ban nhân dân tỉnh Yên Bái",
            province="Yên Bái",
            uids=("MNS:1047665", "MST:5200123456"),
        ),
        ENDPOINTS,
        NOW,
    )
    leader = issue_end_entity(
        intermediate,
        Kind.PERSONAL,
        SubjectSpec(
            "Nguyễn Văn An",
            organization="Sở Tư pháp tỉnh Yên Bái",
            title="Giám đốc",
            province="Yên Bái",
            uids=("CCCD:015085001122",),
        ),
        ENDPOINTS,
        NOW,
    )
    return {
        "root": root,
        "intermediate": intermediate,
        "responder": responder,
        "tsa": tsa,
        "seal": seal,
        "leader": leader,
    }


def ext(cert, cls):
    return cert.extensions.get_extension_for_class(cls).value


def test_the_chain_goes_up_to_the_root(pki):
    pki["leader"].certificate.verify_directly_issued_by(pki["intermediate"].certificate)
    pki["intermediate"].certificate.verify_directly_issued_by(pki["root"].certificate)
    assert ext(pki["root"].certificate, x509.BasicConstraints).ca
    assert ext(pki["intermediate"].certificate, x509.BasicConstraints).path_length == 0
    assert "MÔ PHỎNG" in pki["root"].certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def test_signing_certificates_carry_vietnamese_identifiers_and_usage(pki):
    leader, seal = pki["leader"].certificate, pki["seal"].certificate
    assert uids_of(leader) == ["CCCD:015085001122"] and not is_seal(leader)
    assert uids_of(seal) == ["MNS:1047665", "MST:5200123456"] and is_seal(seal)
    assert leader.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Nguyễn Văn An"
    usage = ext(leader, x509.KeyUsage)
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    assert leader.signature_hash_algorithm.name == "sha256"


def test_certificates_point_at_the_portal_for_crl_ocsp_and_issuer(pki):
    cert = pki["seal"].certificate
    crl_urls = [n.value for dp in ext(cert, x509.CRLDistributionPoints) for n in dp.full_name]
    assert crl_urls == ["http://127.0.0.1:8000/pki/intermediate.crl"]
    aia = {d.access_method: d.access_location.value for d in ext(cert, x509.AuthorityInformationAccess)}
    assert aia[x509.AuthorityInformationAccessOID.OCSP] == "http://127.0.0.1:8000/pki/ocsp"
    assert aia[x509.AuthorityInformationAccessOID.CA_ISSUERS] == "http://127.0.0.1:8000/pki/intermediate.crt"


def test_service_certificates_have_their_purpose(pki):
    assert ExtendedKeyUsageOID.OCSP_SIGNING in ext(pki["responder"].certificate, x509.ExtendedKeyUsage)
    tsa_usage = pki["tsa"].certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert tsa_usage.critical and ExtendedKeyUsageOID.TIME_STAMPING in tsa_usage.value


def test_a_personal_certificate_needs_a_cccd_and_a_seal_must_not_have_one(pki):
    with pytest.raises(ValueError):
        issue_end_entity(
            pki["intermediate"], Kind.PERSONAL, SubjectSpec("Ai Đó", uids=("MNS:1",)), ENDPOINTS, NOW
        )
    with pytest.raises(ValueError):
        issue_end_entity(
            pki["intermediate"], Kind.SEAL, SubjectSpec("X", uids=("CCCD:015085001122",)), ENDPOINTS, NOW
        )


def test_private_keys_are_encrypted_at_rest(pki):
    pem = pki["leader"].encrypted_key(KEK)
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    clear = pki["leader"].private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert clear[-64:] not in pem
    key = decrypt_key(pem, KEK)
    assert key.public_key().public_numbers() == pki["leader"].private_key.public_key().public_numbers()
    with pytest.raises(ValueError):
        decrypt_key(pem, b"the-wrong-key-encryption-key")


def test_the_crl_lists_revoked_certificates_with_reason_and_date(pki):
    revoked_at = NOW + timedelta(days=10)
    der = make_crl(
        pki["intermediate"],
        [Revoked(pki["leader"].serial, revoked_at, RevocationReason.KEY_COMPROMISE)],
        NOW + timedelta(days=11),
        NOW + timedelta(days=12),
        number=7,
    )
    crl = x509.load_der_x509_crl(der)
    assert crl.is_signature_valid(pki["intermediate"].certificate.public_key())
    entry = crl.get_revoked_certificate_by_serial_number(pki["leader"].serial)
    assert entry.revocation_date_utc == revoked_at
    assert (
        entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
        == x509.ReasonFlags.key_compromise
    )
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 7


def _request(cert, issuer, nonce: bytes | None = None) -> bytes:
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA256())
    if nonce:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


def test_ocsp_answers_good_revoked_and_unknown_signed_by_the_responder(pki):
    revoked = Revoked(pki["seal"].serial, NOW + timedelta(days=3), RevocationReason.AFFILIATION_CHANGED)
    known = {
        pki["leader"].serial: StatusAnswer(CertStatus.GOOD, pki["leader"].certificate),
        pki["seal"].serial: StatusAnswer(CertStatus.REVOKED, pki["seal"].certificate, revoked),
    }
    lookup = lambda serial: known.get(serial, StatusAnswer(CertStatus.UNKNOWN))  # noqa: E731
    at = NOW + timedelta(days=5)

    good = ocsp.load_der_ocsp_response(
        ocsp_respond(
            _request(pki["leader"].certificate, pki["intermediate"].certificate, b"nonce-123"),
            pki["intermediate"],
            pki["responder"],
            lookup,
            at,
        )
    )
    assert (
        good.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
        and good.certificate_status == ocsp.OCSPCertStatus.GOOD
    )
    assert good.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == b"nonce-123"
    pki["responder"].certificate.public_key().verify(
        good.signature,
        good.tbs_response_bytes,
        padding.PKCS1v15(),
        good.signature_hash_algorithm,
    )

    bad = ocsp.load_der_ocsp_response(
        ocsp_respond(
            _request(pki["seal"].certificate, pki["intermediate"].certificate),
            pki["intermediate"],
            pki["responder"],
            lookup,
            at,
        )
    )
    assert bad.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert (
        bad.revocation_time_utc == revoked.revoked_at
        and bad.revocation_reason == x509.ReasonFlags.affiliation_changed
    )

    stranger = create_root(NOW, name="Another root")
    other = ocsp.load_der_ocsp_response(
        ocsp_respond(
            _request(stranger.certificate, stranger.certificate),
            pki["intermediate"],
            pki["responder"],
            lookup,
            at,
        )
    )
    assert other.certificate_status == ocsp.OCSPCertStatus.UNKNOWN


def test_a_malformed_ocsp_request_gets_the_protocols_answer(pki):
    answer = ocsp.load_der_ocsp_response(
        ocsp_respond(
            b"\x30\x03not-der",
            pki["intermediate"],
            pki["responder"],
            lambda s: StatusAnswer(CertStatus.UNKNOWN),
            NOW,
        )
    )
    assert answer.response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST
