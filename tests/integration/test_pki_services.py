"""The PKI's HTTP services: certificates and CRLs in DER, OCSP (RFC 6960) and time-stamps
(RFC 3161); malformed requests get the protocol's own error, never a 500."""

import os

from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from app.db.tables import PkiCertificate
from app.services.pki import StatusOnlyTimeStampResp


async def test_the_authorities_are_published(client):
    listing = (await client.get("/pki/")).json()
    assert [a["name"] for a in listing] == ["root", "intermediate", "ocsp", "tsa"]
    root = x509.load_der_x509_certificate((await client.get("/pki/root.crt")).content)
    intermediate = x509.load_der_x509_certificate((await client.get("/pki/intermediate.crt")).content)
    intermediate.verify_directly_issued_by(root)
    assert "MÔ PHỎNG" in root.subject.rfc4514_string()
    missing = await client.get("/pki/nothing.crt")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith(
        "application/problem+json"
    )


async def test_the_private_keys_are_stored_encrypted(backend):
    rows = await PkiCertificate.select(PkiCertificate.key_pem)
    assert rows and all(
        bytes(r["key_pem"]).startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----") for r in rows
    )


async def test_crls_are_signed_and_fresh(client, clock):
    intermediate = x509.load_der_x509_certificate((await client.get("/pki/intermediate.crt")).content)
    response = await client.get("/pki/intermediate.crl")
    assert response.headers["content-type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(response.content)
    assert crl.is_signature_valid(intermediate.public_key())
    assert crl.last_update_utc <= clock.now() < crl.next_update_utc


async def test_ocsp_says_unknown_for_a_stranger_and_good_for_the_tsa(client):
    root = x509.load_der_x509_certificate((await client.get("/pki/root.crt")).content)
    intermediate = x509.load_der_x509_certificate((await client.get("/pki/intermediate.crt")).content)
    tsa = x509.load_der_x509_certificate((await client.get("/pki/tsa.crt")).content)
    good = ocsp.OCSPRequestBuilder().add_certificate(tsa, intermediate, hashes.SHA256()).build()
    answer = ocsp.load_der_ocsp_response(
        (
            await client.post(
                "/pki/ocsp",
                content=good.public_bytes(serialization.Encoding.DER),
                headers={"Content-Type": "application/ocsp-request"},
            )
        ).content
    )
    assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD
    stranger = ocsp.OCSPRequestBuilder().add_certificate(intermediate, root, hashes.SHA256()).build()
    unknown = ocsp.load_der_ocsp_response(
        (await client.post("/pki/ocsp", content=stranger.public_bytes(serialization.Encoding.DER))).content
    )
    assert unknown.certificate_status == ocsp.OCSPCertStatus.UNKNOWN
    garbage = await client.post("/pki/ocsp", content=b"not an ocsp request")
    assert garbage.status_code == 200
    assert (
        ocsp.load_der_ocsp_response(garbage.content).response_status
        == ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    )


async def test_the_tsa_grants_tokens_and_rejects_garbage(client, clock):
    digest = hashes.Hash(hashes.SHA256())
    digest.update(b"ho so 000.01.60.H63-210315-0001")
    request = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": digest.finalize(),
            },
            "nonce": int.from_bytes(os.urandom(8), "big"),
            "cert_req": True,
        }
    )
    response = await client.post(
        "/pki/tsa", content=request.dump(), headers={"Content-Type": "application/timestamp-query"}
    )
    assert response.headers["content-type"] == "application/timestamp-reply"
    reply = tsp.TimeStampResp.load(response.content)
    assert reply["status"]["status"].native == "granted"
    tst_info = reply["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
    assert tst_info["gen_time"].native == clock.now()  # the portal's clock, simulated or not
    assert tst_info["nonce"].native == request["nonce"].native
    # RFC 3161 omits the token when rejecting (asn1crypto's TimeStampResp cannot read that).
    rejected = StatusOnlyTimeStampResp.load((await client.post("/pki/tsa", content=b"\x30\x02\x01")).content)
    assert rejected["status"]["status"].native == "rejection"
    assert rejected["status"]["fail_info"].native == {"bad_data_format"}


async def test_the_admin_revokes_a_certificate_and_ocsp_and_the_crl_say_so(client, clock):
    from datetime import timedelta

    from tests.conftest import ADMIN_PASSWORD, bearer
    from tests.integration.test_signatures import (
        test_the_leader_signs_and_the_clerk_seals_the_result as sign_one,
    )

    await sign_one(client, clock)  # issues a personal and a seal certificate on the way
    admin = await bearer(client, "admin", ADMIN_PASSWORD)
    certs = (await client.get("/api/v1/admin/pki/certificates", headers=admin)).json()
    personal = next(c for c in certs if c["kind"] == "personal" and not c["revoked_at"])
    assert "CCCD:" in personal["subject"]
    revoked = await client.post(
        "/api/v1/admin/pki/revoke",
        headers=admin,
        json={"serial": personal["serial"], "reason": "key_compromise"},
    )
    assert revoked.status_code == 200 and revoked.json()["reason"] == "key_compromise"
    again = await client.post("/api/v1/admin/pki/revoke", headers=admin, json={"serial": personal["serial"]})
    assert again.status_code == 409
    wrong = await client.post(
        "/api/v1/admin/pki/revoke", headers=admin, json={"serial": personal["serial"], "reason": "bored"}
    )
    assert wrong.status_code == 422
    clock.advance(timedelta(hours=1))
    crl = x509.load_der_x509_crl((await client.get("/pki/intermediate.crl")).content)
    assert crl.get_revoked_certificate_by_serial_number(int(personal["serial"], 16)) is not None
    specialist = await bearer(client, "chuyenvien.tu-phap")
    assert (await client.get("/api/v1/admin/pki/certificates", headers=specialist)).status_code == 403
