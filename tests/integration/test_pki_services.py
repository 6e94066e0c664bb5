"""The PKI's HTTP services: certificates and CRLs in DER, OCSP (RFC 6960) and time-stamps
(RFC 3161); malformed requests get the protocol's own error, never a 500."""

import os
from datetime import timedelta

from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from app.db.tables import PkiCertificate, User
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


async def _commune_keys(client):
    from tests.integration.test_dossier_journey import _commune

    commune = await _commune(client)
    return commune["code"], commune["key"]


async def test_the_admin_issues_and_renews_certificates_through_the_api(client, clock):
    from tests.conftest import ADMIN_PASSWORD, bearer

    admin = await bearer(client, "admin", ADMIN_PASSWORD)
    unit_code, key = await _commune_keys(client)
    seal = await client.post("/api/v1/admin/pki/issue", headers=admin, json={"unit_code": unit_code})
    assert seal.status_code == 201 and seal.json()["kind"] == "seal" and "MNS:" in seal.json()["subject"]
    personal = await client.post(
        "/api/v1/admin/pki/issue", headers=admin, json={"username": f"lanhdao.{key}"}
    )
    assert personal.status_code == 201, personal.text
    assert personal.json()["kind"] == "personal" and "CCCD:" in personal.json()["subject"]
    citizen = await User.select(User.username).where(User.role == "citizen").first()
    for bad, field in (
        ({"username": citizen["username"]}, "username"),  # a citizen signs no results
        ({"username": "nobody.here"}, "username"),
        ({"unit_code": "H63.99.99"}, "unit_code"),
        ({"unit_code": unit_code, "username": f"lanhdao.{key}"}, "unit_code"),
        ({}, "unit_code"),
    ):
        answer = await client.post("/api/v1/admin/pki/issue", headers=admin, json=bad)
        assert answer.status_code == 422 and field in answer.json()["errors"], (bad, answer.text)
    wrong_type = await client.post("/api/v1/admin/pki/issue", headers=admin, json={"unit_code": 7})
    assert wrong_type.status_code == 400

    clock.advance(timedelta(minutes=5))
    old = personal.json()["serial"]
    renewed = await client.post("/api/v1/admin/pki/renew", headers=admin, json={"serial": old})
    assert renewed.status_code == 201 and renewed.json()["serial"] != old
    assert renewed.json()["subject"] == personal.json()["subject"]
    again = await client.post("/api/v1/admin/pki/renew", headers=admin, json={"serial": old})
    assert again.status_code == 409  # a second click: the old one is already superseded
    certs = {
        c["serial"]: c for c in (await client.get("/api/v1/admin/pki/certificates", headers=admin)).json()
    }
    assert (
        certs[old]["revocation_reason"] == "superseded"
        and certs[renewed.json()["serial"]]["revoked_at"] is None
    )
    assert (
        await client.post("/api/v1/admin/pki/renew", headers=admin, json={"serial": "abc"})
    ).status_code == 404

    events = (await client.get("/api/v1/audit/events", headers=admin)).json()
    actions = [(e["action"], e["object_id"]) for e in events]
    assert ("pki.renew", renewed.json()["serial"]) in actions and ("pki.issue", old) in actions

    # The renewed certificate is the one the leader signs with from now on.
    from tests.integration.test_signatures import (
        test_the_leader_signs_and_the_clerk_seals_the_result as sign_one,
    )

    await sign_one(client, clock)
    clerk = await bearer(client, "chuyenvien.tu-phap")
    assert (
        await client.post("/api/v1/admin/pki/renew", headers=clerk, json={"serial": old})
    ).status_code == 403


async def test_the_admin_page_issues_renews_and_revokes(client, clock):
    from tests.conftest import ADMIN_PASSWORD, browser_login

    assert (await browser_login(client, "admin", ADMIN_PASSWORD)).status_code == 303
    unit_code, _ = await _commune_keys(client)
    page = await client.get("/quan-tri/chung-thu")
    assert page.status_code == 200 and "Cấp chứng thư số" in page.text
    token = client.cookies.get("portal_csrf")

    forged = await client.post("/quan-tri/chung-thu", data={"unit_code": unit_code})
    assert forged.status_code == 403  # no CSRF token

    issued = await client.post(
        "/quan-tri/chung-thu", data={"unit_code": unit_code, "_csrf_token": token}, follow_redirects=False
    )
    assert issued.status_code == 303
    listing = await client.get(issued.headers["location"])
    assert "Đã cấp chứng thư số" in listing.text
    serial = listing.text.split('id="cert-', 1)[1].split('"', 1)[0]

    empty = await client.post("/quan-tri/chung-thu", data={"_csrf_token": token})
    assert empty.status_code == 422 and "error-summary" in empty.text

    future = (clock.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    refused = await client.post(
        f"/quan-tri/chung-thu/{serial}/thu-hoi",
        data={"reason": "key_compromise", "at": future, "_csrf_token": token},
    )
    assert refused.status_code == 422 and "tương lai" in refused.text

    renewed = await client.post(
        f"/quan-tri/chung-thu/{serial}/gia-han", data={"_csrf_token": token}, follow_redirects=False
    )
    assert renewed.status_code == 303
    new_serial = (
        (await client.get(renewed.headers["location"])).text.split("chứng thư mới ", 1)[1].split(" ")[0]
    )

    earlier = (clock.now() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    revoked = await client.post(
        f"/quan-tri/chung-thu/{new_serial}/thu-hoi",
        data={"reason": "key_compromise", "at": earlier, "_csrf_token": token},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    row = (await client.get("/quan-tri/chung-thu", params={"unit": unit_code})).text
    row = row.split(f'id="cert-{new_serial}"', 1)[1].split("</tr>", 1)[0]
    assert "Đã thu hồi" in row and "Lộ khóa bí mật" in row
    clock.advance(timedelta(hours=1))
    crl = x509.load_der_x509_crl((await client.get("/pki/intermediate.crl")).content)
    entry = crl.get_revoked_certificate_by_serial_number(int(new_serial, 16))
    assert entry is not None and entry.revocation_date_utc == (clock.now() - timedelta(hours=3)).replace(
        second=0, microsecond=0
    )


async def test_a_seal_needed_by_many_requests_at_once_is_issued_once(backend, clock):
    """The first receipts of a morning all need the unit's seal: one certificate, not one each."""
    import asyncio

    from app.domain.clock import ManualClock
    from app.services.directory import load_directory
    from app.services.pki import PkiService
    from tests.conftest import KEK

    directory = await load_directory()
    taken = {r["unit_code"] for r in await PkiCertificate.select(PkiCertificate.unit_code)}
    unit = next(u for u in reversed(directory.units) if u.kind == "commune" and u.code not in taken)
    pki = PkiService(ManualClock(clock.now()), "http://testserver", KEK)
    seals = await asyncio.gather(*(pki.seal_of(unit) for _ in range(8)))
    assert len({s.serial for s in seals}) == 1
    assert await PkiCertificate.count().where(PkiCertificate.unit_code == unit.code) == 1
