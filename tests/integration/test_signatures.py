"""Signed PDFs: leader then seal, PAdES B-LT, checked by our verifier (ETSI vocabulary) and
independently by poppler's pdfsig (trusting the simulated root through an NSS database)
and qpdf; tampering, appending, revocation and untrusted roots each give their verdict."""

import asyncio
import re
from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from reportlab.lib.colors import HexColor
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from app.documents.forms import Agency, ResultData, render_result
from signing.pades import (
    Appearance,
    CachedKeySigner,
    CachedKeyTimeStamper,
    Revocation,
    SignatureSpec,
    sign_pdf,
)
from signing.pki import (
    CertStatus,
    Endpoints,
    Issued,
    Kind,
    RevocationReason,
    Revoked,
    StatusAnswer,
    SubjectSpec,
    create_intermediate,
    create_root,
    create_service,
    issue_end_entity,
    make_crl,
    ocsp_respond,
)
from signing.verify import Indication, verify_pdf
from tests.pdftools import nss_trusting, pdf_text, pdfsig, qpdf_ok

SIGNED_AT = datetime(2021, 3, 15, 3, 0, tzinfo=timezone.utc)  # 10:00 in Hà Nội
ENDPOINTS = Endpoints("http://127.0.0.1:8000")
# pdfsig judges certificates at the machine's own time, so the test PKI spans 2021 to today.
VALID_DAYS = 3600


@pytest.fixture(scope="module")
def pki():
    root = create_root(SIGNED_AT - timedelta(days=30))
    ca = create_intermediate(root, ENDPOINTS, SIGNED_AT - timedelta(days=30))
    made = {
        "root": root,
        "ca": ca,
        "tsa": create_service(ca, Kind.TSA, ENDPOINTS, SIGNED_AT - timedelta(days=30), days=VALID_DAYS),
        "responder": create_service(ca, Kind.OCSP, ENDPOINTS, SIGNED_AT - timedelta(days=30)),
        "leader": issue_end_entity(
            ca,
            Kind.PERSONAL,
            SubjectSpec(
                "Hà Văn Bình",
                organization="Ủy ban nhân dân xã Tuy Lộc",
                title="Chủ tịch",
                uids=("CCCD:015085001122",),
            ),
            ENDPOINTS,
            SIGNED_AT - timedelta(days=20),
            days=VALID_DAYS,
        ),
        "seal": issue_end_entity(
            ca,
            Kind.SEAL,
            SubjectSpec(
                "Ủy ban nhân dân xã Tuy Lộc",
                organization="Ủy ban nhân dân thành phố Yên Bái",
                uids=("MNS:1122334",),
            ),
            ENDPOINTS,
            SIGNED_AT - timedelta(days=20),
            days=VALID_DAYS,
        ),
    }
    return made


def revinfo(pki, revoked=(), at=SIGNED_AT):
    known = {
        pki[k].serial: StatusAnswer(CertStatus.GOOD, pki[k].certificate) for k in ("leader", "seal", "tsa")
    }
    for r in revoked:
        for k in ("leader", "seal"):
            if pki[k].serial == r.serial:
                known[r.serial] = StatusAnswer(CertStatus.REVOKED, pki[k].certificate, r)
    lookup = lambda s: known.get(s, StatusAnswer(CertStatus.UNKNOWN))  # noqa: E731
    ocsps = []
    for k in ("leader", "seal", "tsa"):
        request = ocsp.OCSPRequestBuilder().add_certificate(
            pki[k].certificate, pki["ca"].certificate, hashes.SHA1()
        )
        der = request.build().public_bytes(serialization.Encoding.DER)
        ocsps.append(ocsp_respond(der, pki["ca"], pki["responder"], lookup, at))
    crls = [
        make_crl(pki["ca"], list(revoked), at, at + timedelta(days=7), 1),
        make_crl(pki["root"], [], at, at + timedelta(days=7), 1),
    ]
    return Revocation(
        (pki["root"].certificate,),
        (pki["ca"].certificate, pki["responder"].certificate),
        tuple(crls),
        tuple(ocsps),
    )


def artwork(path, colour, seal: bool) -> str:
    c = canvas.Canvas(str(path), pagesize=(40 * mm, 40 * mm) if seal else (50 * mm, 20 * mm))
    c.setStrokeColor(HexColor(colour))
    c.setLineWidth(2)
    if seal:
        c.circle(20 * mm, 20 * mm, 18 * mm)
        c.circle(20 * mm, 20 * mm, 12 * mm)
    else:
        c.bezier(3 * mm, 5 * mm, 15 * mm, 25 * mm, 30 * mm, -5 * mm, 47 * mm, 12 * mm)
    c.save()
    return str(path)


def document() -> bytes:
    agency = Agency("Ủy ban nhân dân thành phố Yên Bái", "Ủy ban nhân dân xã Tuy Lộc", "Yên Bái")
    return render_result(
        ResultData(
            agency,
            "000.01.60.H63-210315-0001",
            "Số: 01/GKS-UBND",
            "Giấy khai sinh",
            (("Họ và tên", "Lò Thị Mai"),),
            "TM. Ủy ban nhân dân xã Chủ tịch",
            "Hà Văn Bình",
            SIGNED_AT,
            ("Bà Lò Thị Hoa",),
        )
    )


async def sign_both(pki, tmp_path, revocation=None) -> bytes:
    revocation = revocation or revinfo(pki)
    chain = [pki["ca"].certificate, pki["root"].certificate]
    tsa = CachedKeyTimeStamper(pki["tsa"], chain, SIGNED_AT)
    leader = await sign_pdf(
        document(),
        SignatureSpec(
            "ChuKyLanhDao",
            "Phê duyệt",
            "Yên Bái",
            Appearance(0, (340, 190, 480, 246), artwork(tmp_path / "sig.pdf", "#1f3fbf", False)),
        ),
        CachedKeySigner(pki["leader"], chain),
        tsa,
        revocation,
        SIGNED_AT,
    )
    return await sign_pdf(
        leader,
        SignatureSpec(
            "ChuKyCoQuan",
            "Đóng dấu",
            "Yên Bái",
            Appearance(0, (300, 170, 413, 283), artwork(tmp_path / "seal.pdf", "#d4161c", True)),
        ),
        CachedKeySigner(pki["seal"], chain),
        tsa,
        revocation,
        SIGNED_AT + timedelta(minutes=1),
    )


@pytest.fixture(scope="module")
def signed(pki, tmp_path_factory):
    return asyncio.run(sign_both(pki, tmp_path_factory.mktemp("sign")))


def verify(pki, data, roots=None, **kw):
    return asyncio.run(
        verify_pdf(data, roots or [pki["root"].certificate], now=SIGNED_AT + timedelta(days=1), **kw)
    )


def test_leader_and_seal_signatures_pass_at_b_lt(pki, signed):
    report = verify(pki, signed)
    assert report.indication is Indication.TOTAL_PASSED, report.as_dict()
    leader, seal = report.signatures
    assert (leader.signer, seal.signer) == ("Hà Văn Bình", "Ủy ban nhân dân xã Tuy Lộc")
    assert leader.identifiers == ["CCCD:015085001122"] and not leader.is_seal and seal.is_seal
    assert leader.pades_level == seal.pades_level == "B-LT"
    assert (
        leader.timestamp_ok
        and leader.chain[0].startswith("Root CA Chính phủ")
        and leader.chain[-1] == leader.signer
    )
    # The last signature covers its revision; after it only validation data (DSS) was added.
    assert seal.coverage in ("ENTIRE_FILE", "ENTIRE_REVISION") and seal.modification in (
        "NONE",
        "LTA_UPDATES",
    )
    assert leader.modification in ("NONE", "LTA_UPDATES", "FORM_FILLING")


@pytest.fixture(scope="module")
def nssdb(pki, tmp_path_factory):
    return nss_trusting(pki["root"].pem, tmp_path_factory.mktemp("nssdb"))


def test_pdfsig_and_qpdf_agree(signed, nssdb, tmp_path):
    """poppler checks both signatures' digests and CMS and, trusting only the simulated root
    through its NSS database, both chains; qpdf the structure.

    NSS verifies for certificateUsageEmailSigner, so the leader's and the seal's certificates
    carry the emailProtection EKU: without any EKU, NSS's successful verification leaves
    SEC_ERROR_EXTENSION_NOT_FOUND set, which pdfsig (22.x reads PORT_GetError(), not the
    result) reported as "Unknown issue with Certificate or corrupted data".
    """
    out = pdfsig(signed, nssdb, tmp_path)
    assert out.count("Signature Validation: Signature is Valid.") == 2, out
    assert out.count("Signature Type: ETSI.CAdES.detached") == 2, out
    assert out.count("Certificate Validation: Certificate is Trusted.") == 2, out
    assert "Digest Mismatch" not in out
    assert qpdf_ok(signed, tmp_path)


def test_bytes_altered_after_signing_fail_the_hash(pki, signed):
    # A byte every signature covers: the middle of the first signature's first byte range. (The
    # first "L\xf2" of the file, which keys made afresh put anywhere, was at times in the
    # validation data that B-LT appends after the last signature, which no signature covers.)
    first = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)", signed)
    assert first, "no signature in the document"
    position = int(first[1]) + int(first[2]) // 2
    tampered = bytearray(signed)
    tampered[position] ^= 0x01
    report = verify(pki, bytes(tampered))
    assert report.indication is Indication.TOTAL_FAILED
    assert {s.sub_indication for s in report.signatures} & {
        "HASH_FAILURE",
        "FORMAT_FAILURE",
        "SIG_CRYPTO_FAILURE",
    }


def test_content_appended_after_signing_is_detected(pki, signed):
    from io import BytesIO

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(BytesIO(signed))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    stream = generic.StreamObject(stream_data=b"BT /F1 24 Tf 100 100 Td (Sua doi) Tj ET")
    page["/Contents"] = writer.add_object(stream)
    writer.update_container(page)
    out = BytesIO()
    writer.write(out)
    report = verify(pki, out.getvalue())
    assert report.indication is not Indication.TOTAL_PASSED
    assert all(s.coverage != "ENTIRE_FILE" for s in report.signatures)
    assert {s.modification for s in report.signatures} == {"OTHER"}


def test_an_untrusted_root_gives_no_certificate_chain(pki, signed):
    stranger = create_root(SIGNED_AT - timedelta(days=30), name="Root khác")
    report = verify(pki, signed, roots=[stranger.certificate])
    assert report.indication is Indication.INDETERMINATE
    assert report.sub_indication == "NO_CERTIFICATE_CHAIN_FOUND"


def test_revoked_after_signing_still_passes_with_b_lt(pki, signed):
    later = Revoked(pki["leader"].serial, SIGNED_AT + timedelta(days=2), RevocationReason.KEY_COMPROMISE)
    now_info = revinfo(pki, [later], at=SIGNED_AT + timedelta(days=3))
    report = asyncio.run(
        verify_pdf(
            signed,
            [pki["root"].certificate],
            now=SIGNED_AT + timedelta(days=3),
            current_crls=list(now_info.crls),
        )
    )
    assert report.indication is Indication.TOTAL_PASSED, report.as_dict()
    assert report.signatures[0].revocation_now == "revoked"


def careless_signature(pki, signer: Issued) -> bytes:
    """A time-stamped signature from a tool that checks and embeds nothing (no B-LT)."""
    chain = [pki["ca"].certificate, pki["root"].certificate]
    return asyncio.run(
        sign_pdf(
            document(),
            SignatureSpec("ChuKy", "Ký", "Yên Bái", embed_revocation=False),
            CachedKeySigner(signer, chain),
            CachedKeyTimeStamper(pki["tsa"], chain, SIGNED_AT),
            revinfo(pki),
            SIGNED_AT,
        )
    )


@pytest.mark.parametrize("source", ["crl", "ocsp"])
def test_revoked_before_signing_is_total_failed_revoked(pki, source):
    signed = careless_signature(pki, pki["leader"])
    # The verifier learns of the revocation now, dated a day before the time-stamp.
    earlier = Revoked(pki["leader"].serial, SIGNED_AT - timedelta(days=1), RevocationReason.KEY_COMPROMISE)
    later = SIGNED_AT + timedelta(days=3)
    now_info = revinfo(pki, [earlier], at=later)
    current = {"current_crls": list(now_info.crls)}
    if source == "ocsp":  # the CRLs as they were, the OCSP answer as it is now
        current = {"current_crls": list(revinfo(pki).crls), "current_ocsps": list(now_info.ocsps)}
    report = asyncio.run(verify_pdf(signed, [pki["root"].certificate], now=later, **current))
    assert report.indication is Indication.TOTAL_FAILED and report.sub_indication == "REVOKED", (
        report.as_dict()
    )
    assert report.signatures[0].revocation_at_signing == "revoked"
    assert "keyCompromise" in report.signatures[0].messages[0]


def test_a_revocation_list_from_another_authority_is_ignored(pki):
    signed = careless_signature(pki, pki["leader"])
    # Same issuer name as the real CA, another key: only the signature tells them apart.
    stranger = create_root(SIGNED_AT - timedelta(days=30), name="Kẻ giả mạo")
    impostor = Issued(Kind.INTERMEDIATE, pki["ca"].certificate, stranger.private_key)
    forged = make_crl(
        impostor,
        [Revoked(pki["leader"].serial, SIGNED_AT - timedelta(days=1), RevocationReason.KEY_COMPROMISE)],
        SIGNED_AT,
        SIGNED_AT + timedelta(days=7),
        2,
    )
    crls = [*revinfo(pki).crls, forged]
    report = verify(pki, signed, current_crls=crls)
    assert report.indication is Indication.TOTAL_PASSED, report.as_dict()


def test_a_signature_made_after_the_certificate_expired_is_total_failed_expired(pki):
    lapsed = issue_end_entity(
        pki["ca"],
        Kind.PERSONAL,
        SubjectSpec("Lương Văn Cũ", organization="Ủy ban nhân dân xã Tuy Lộc", uids=("CCCD:015085009999",)),
        ENDPOINTS,
        SIGNED_AT - timedelta(days=20),
        days=10,
    )
    signed = careless_signature(pki, lapsed)
    report = verify(pki, signed, current_crls=list(revinfo(pki).crls))
    assert (report.indication, report.sub_indication) == (Indication.TOTAL_FAILED, "EXPIRED"), (
        report.as_dict()
    )


def test_a_b_lt_signature_outlives_its_certificate(pki, tmp_path):
    """Valid when signed, expired when checked: the embedded data and time-stamp carry it."""
    brief = issue_end_entity(
        pki["ca"],
        Kind.PERSONAL,
        SubjectSpec("Lò Văn Ngắn", organization="Ủy ban nhân dân xã Tuy Lộc", uids=("CCCD:015085008888",)),
        ENDPOINTS,
        SIGNED_AT - timedelta(days=5),
        days=30,
    )
    chain = [pki["ca"].certificate, pki["root"].certificate]
    good = revinfo(pki)
    request = ocsp.OCSPRequestBuilder().add_certificate(
        brief.certificate, pki["ca"].certificate, hashes.SHA1()
    )
    answer = ocsp_respond(
        request.build().public_bytes(serialization.Encoding.DER),
        pki["ca"],
        pki["responder"],
        lambda s: StatusAnswer(CertStatus.GOOD, brief.certificate),
        SIGNED_AT,
    )
    signed = asyncio.run(
        sign_pdf(
            document(),
            SignatureSpec("ChuKy", "Ký", "Yên Bái"),
            CachedKeySigner(brief, chain),
            CachedKeyTimeStamper(pki["tsa"], chain, SIGNED_AT),
            Revocation(good.trust_roots, good.other_certs, good.crls, (*good.ocsps, answer)),
            SIGNED_AT,
        )
    )
    a_year_on = SIGNED_AT + timedelta(days=365)
    report = asyncio.run(verify_pdf(signed, [pki["root"].certificate], now=a_year_on))
    assert report.indication is Indication.TOTAL_PASSED, report.as_dict()
    assert report.signatures[0].pades_level == "B-LT"


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"MZ this is not a pdf", "FORMAT_FAILURE"),
        (b"%PDF-1.7\n garbage without structure", "FORMAT_FAILURE"),
    ],
)
def test_bad_input_is_an_answer(pki, data, expected):
    report = verify(pki, data)
    assert (
        report.indication is Indication.TOTAL_FAILED and report.sub_indication == expected and report.problem
    )


def test_a_pdf_without_signature(pki):
    report = verify(pki, document())
    assert report.indication is Indication.INDETERMINATE and report.sub_indication == "NO_SIGNATURE_FOUND"


# --- through the portal ------------------------------------------------------------------


async def test_the_leader_signs_and_the_clerk_seals_the_result(client, clock):
    from tests.conftest import bearer
    from tests.integration.test_dossier_journey import _citizen, _commune, act, submit_birth

    _, citizen = await _citizen(client)
    commune = await _commune(client)
    code = (await submit_birth(client, citizen, commune["code"])).json()["code"]
    key = commune["key"]
    reception = await bearer(client, f"motcua.{key}")
    await act(client, code, reception, "receive")
    await act(client, code, reception, "forward")
    await act(client, code, await bearer(client, f"chuyenvien.{key}"), "forward")
    leader = await bearer(client, f"lanhdao.{key}")
    await act(client, code, leader, "approve")
    clerk = await bearer(client, f"vanthu.{key}")
    too_early = await client.post(f"/api/v1/dossiers/{code}/actions", headers=clerk, json={"action": "sign"})
    assert too_early.status_code == 409  # the seal follows the leader's signature
    d = await act(client, code, leader, "sign")
    assert d["flags"]["signatures"] == ["leader"]
    d = await act(client, code, clerk, "sign")
    assert d["flags"]["signatures"] == ["leader", "seal"]
    docs = (await client.get(f"/api/v1/dossiers/{code}/documents", headers=citizen)).json()
    result = next(x for x in docs if x["kind"] == "result")
    assert result["signed"] is True
    pdf = (await client.get(result["url"], headers=citizen)).content
    root = x509.load_der_x509_certificate((await client.get("/pki/root.crt")).content)
    report = await verify_pdf(pdf, [root], now=clock.now())
    assert report.indication is Indication.TOTAL_PASSED, report.as_dict()
    leader_sig, seal_sig = report.signatures
    assert not leader_sig.is_seal and leader_sig.identifiers[0].startswith("CCCD:")
    assert seal_sig.is_seal and seal_sig.signer == commune["name"] and seal_sig.pades_level == "B-LT"


async def test_anyone_verifies_an_issued_result_and_a_doctored_copy_is_recognised(client, clock):
    from tests.conftest import bearer
    from tests.integration.test_dossier_journey import _citizen, _commune, act, submit_birth

    _, citizen = await _citizen(client)
    commune = await _commune(client)
    code = (await submit_birth(client, citizen, commune["code"])).json()["code"]
    key = commune["key"]
    reception = await bearer(client, f"motcua.{key}")
    for who, action in (
        (reception, "receive"),
        (reception, "forward"),
        (await bearer(client, f"chuyenvien.{key}"), "forward"),
    ):
        await act(client, code, who, action)
    leader = await bearer(client, f"lanhdao.{key}")
    await act(client, code, leader, "approve")
    await act(client, code, leader, "sign")
    await act(client, code, await bearer(client, f"vanthu.{key}"), "sign")
    pdf = (await client.get(f"/api/v1/dossiers/{code}/documents/result", headers=citizen)).content

    report = (await client.post("/api/v1/verify", files={"file": ("kq.pdf", pdf, "application/pdf")})).json()
    assert report["indication"] == "TOTAL_PASSED" and report["indication_label"] == "Hợp lệ"
    assert report["issued_by_portal"] == {"dossier_code": code, "matches": True}
    assert [s["is_seal"] for s in report["signatures"]] == [False, True]

    doctored = bytearray(pdf)
    doctored[len(pdf) // 4] ^= 0x20
    bad = (
        await client.post("/api/v1/verify", files={"file": ("kq.pdf", bytes(doctored), "application/pdf")})
    ).json()
    assert bad["indication"] != "TOTAL_PASSED"
    assert bad["issued_by_portal"] == {"dossier_code": code, "matches": False}

    page = await client.get(f"/van-ban/{code}")
    assert page.status_code == 200 and code in page.text and "SHA-256" in page.text
    assert "Lò Thị Hoa" not in page.text  # no personal data behind the QR code
    assert (await client.get("/van-ban/000.01.60.H63-210101-9999")).status_code == 404


async def test_the_verify_endpoint_answers_bad_input_clearly(client):
    not_pdf = (
        await client.post("/api/v1/verify", files={"file": ("x.pdf", b"MZ\\x90", "application/pdf")})
    ).json()
    assert not_pdf["indication"] == "TOTAL_FAILED" and not_pdf["problem"] == "Tệp không phải PDF."
    unsigned = (
        await client.post("/api/v1/verify", files={"file": ("a.pdf", document(), "application/pdf")})
    ).json()
    assert unsigned["sub_indication"] == "NO_SIGNATURE_FOUND"
    missing = await client.post("/api/v1/verify", files={"other": ("a.pdf", b"%PDF-", "application/pdf")})
    assert missing.status_code == 422 and missing.json()["errors"] == {"file": "Thiếu tệp."}
    page = await client.get("/verify")
    assert page.status_code == 200 and "Kiểm tra chữ ký số" in page.text


async def test_portal_verify_exits_0_only_for_total_passed(client, backend, tmp_path):
    if backend[0] != "sqlite":
        pytest.skip("the command reads the SQLite test database through DATABASE_URL")
    import os
    import sys
    from pathlib import Path

    from tests.conftest import KEK, bearer
    from tests.integration.test_dossier_journey import _citizen, _commune, act, submit_birth

    _, citizen = await _citizen(client)
    commune = await _commune(client)
    code = (await submit_birth(client, citizen, commune["code"])).json()["code"]
    key = commune["key"]
    reception = await bearer(client, f"motcua.{key}")
    for who, action in (
        (reception, "receive"),
        (reception, "forward"),
        (await bearer(client, f"chuyenvien.{key}"), "forward"),
    ):
        await act(client, code, who, action)
    leader = await bearer(client, f"lanhdao.{key}")
    await act(client, code, leader, "approve")
    await act(client, code, leader, "sign")
    await act(client, code, await bearer(client, f"vanthu.{key}"), "sign")
    good = tmp_path / "ket-qua.pdf"
    good.write_bytes((await client.get(f"/api/v1/dossiers/{code}/documents/result", headers=citizen)).content)
    unsigned = tmp_path / "khong-ky.pdf"
    unsigned.write_bytes(document())

    from app.db.engine import current_engine

    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{current_engine().path}",
        "PORTAL_KEY_ENCRYPTION_KEY": KEK,
        "PORTAL_CLOCK_START": "2021-03-15T10:00:00+07:00",
    }
    portal = str(Path(sys.executable).parent / "portal")
    ok = await asyncio.create_subprocess_exec(
        portal, "verify", str(good), env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await ok.communicate()
    assert ok.returncode == 0, out.decode()
    assert "TOTAL_PASSED" in out.decode() and f"Kết quả của hồ sơ {code}: trùng khớp" in out.decode()
    no = await asyncio.create_subprocess_exec(
        portal, "verify", str(unsigned), env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await no.communicate()
    assert no.returncode == 1 and "NO_SIGNATURE_FOUND" in out.decode()


async def test_forms_are_sealed_by_the_receiving_unit(client, clock, tmp_path):
    from tests.conftest import bearer
    from tests.integration.test_dossier_journey import _citizen, _commune, act, submit_birth

    _, citizen = await _citizen(client)
    commune = await _commune(client)
    code = (await submit_birth(client, citizen, commune["code"])).json()["code"]
    await act(client, code, await bearer(client, f"motcua.{commune['key']}"), "receive")
    docs = {
        d["kind"]: d for d in (await client.get(f"/api/v1/dossiers/{code}/documents", headers=citizen)).json()
    }
    assert docs["receipt"]["signed"] is True and docs["control_sheet"]["signed"] is True
    first = (await client.get(docs["receipt"]["url"], headers=citizen)).content
    second = (await client.get(docs["receipt"]["url"], headers=citizen)).content
    assert first == second  # the issued file, not a new rendering
    root = x509.load_der_x509_certificate((await client.get("/pki/root.crt")).content)
    report = await verify_pdf(first, [root], now=clock.now())
    assert report.indication is Indication.TOTAL_PASSED, report.as_dict()
    assert [s.signer for s in report.signatures] == [commune["name"]] and report.signatures[0].is_seal
    # Form 05 grows with every hand-off: sealed as it stands when downloaded.
    control = (await client.get(docs["control_sheet"]["url"], headers=citizen)).content
    report = await verify_pdf(control, [root], now=clock.now())
    assert report.indication is Indication.TOTAL_PASSED and report.signatures[0].is_seal
    for pdf in (first, control):  # a sealed form carries no "unsigned copy" mark
        assert "chưa ký số" not in pdf_text(pdf, tmp_path)


async def test_the_form_an_action_issues_is_sealed_after_the_action(client, clock, tmp_path):
    """The action commits without waiting for the seal (the API schedules ``seal_after`` as
    a background task of its response): until then the receipt downloads unsigned, marked as
    such; then the same download is the sealed file. One seal at a time per process."""
    from app.services.accounts import AccountService
    from app.services.documents import DocumentService
    from app.services.dossiers import ActionRequest, DossierService
    from app.services.pki import PkiService
    from app.services.signing import SigningService
    from tests.conftest import app_settings
    from tests.integration.test_dossier_journey import _citizen, _commune, submit_birth

    _, citizen = await _citizen(client)
    commune = await _commune(client)
    codes = [(await submit_birth(client, citizen, commune["code"])).json()["code"] for _ in range(3)]
    settings = app_settings()
    dossiers = await DossierService.for_settings(clock, settings)
    documents = DocumentService(dossiers, SigningService(PkiService.for_settings(clock, settings), tmp_path))
    officer = await AccountService(clock, dossiers.directory).officer_for(f"motcua.{commune['key']}")
    for code in codes:
        assert (await documents.act(code, ActionRequest("receive"), officer))["status"] == 2
    before = {d["kind"]: d["signed"] for d in await documents.list(codes[0], officer)}
    assert before["receipt"] is False
    unsigned = await documents.pdf(codes[0], "receipt", officer)
    assert "chưa ký số" in pdf_text(unsigned, tmp_path)
    await asyncio.gather(*(documents.seal_after(code, "receive") for code in codes))  # queued, one by one
    root = x509.load_der_x509_certificate((await client.get("/pki/root.crt")).content)
    for code in codes:
        assert {d["kind"]: d["signed"] for d in await documents.list(code, officer)}["receipt"] is True
        sealed = await documents.pdf(code, "receipt", officer)
        assert (await verify_pdf(sealed, [root], now=clock.now())).indication is Indication.TOTAL_PASSED
    await documents.seal_after(codes[0], "forward")  # an action that issues no form: nothing to seal


async def test_b_lta_is_selectable(backend, clock):
    """PORTAL_SIGNATURE_LEVEL=B-LTA adds a document time-stamp after the seal."""
    from app.settings import Settings
    from tests.conftest import app_client
    from tests.integration.test_dossier_journey import _citizen, _commune, act, submit_birth

    with pytest.raises(ValueError):
        Settings(signature_level="B-LTX")
    async with app_client(clock, signature_level="B-LTA") as client:
        from tests.conftest import bearer

        _, citizen = await _citizen(client)
        commune = await _commune(client)
        code = (await submit_birth(client, citizen, commune["code"])).json()["code"]
        key = commune["key"]
        reception = await bearer(client, f"motcua.{key}")
        for who, action in (
            (reception, "receive"),
            (reception, "forward"),
            (await bearer(client, f"chuyenvien.{key}"), "forward"),
        ):
            await act(client, code, who, action)
        leader = await bearer(client, f"lanhdao.{key}")
        await act(client, code, leader, "approve")
        await act(client, code, leader, "sign")
        await act(client, code, await bearer(client, f"vanthu.{key}"), "sign")
        pdf = (await client.get(f"/api/v1/dossiers/{code}/documents/result", headers=citizen)).content
        root = x509.load_der_x509_certificate((await client.get("/pki/root.crt")).content)
    report = await verify_pdf(pdf, [root], now=clock.now())
    assert report.indication is Indication.TOTAL_PASSED, report.as_dict()
    assert [s.pades_level for s in report.signatures] == ["B-LTA", "B-LTA"]


async def test_pdfsig_trusts_every_kind_of_signed_output(backend, tmp_path):
    """Forms sealed at reception, the result signed by leader and seal, the province's
    report: each through the app, each checked by pdfsig trusting only the portal's root.
    pdfsig judges certificates at the machine's time, so this portal's clock is today."""
    from datetime import datetime

    from app.domain.clock import VN_TZ, ManualClock
    from tests.conftest import ADMIN_PASSWORD, app_client, bearer, browser_login
    from tests.integration.test_dossier_journey import _citizen, _commune, act, submit_birth

    clock = ManualClock(datetime.now(VN_TZ).replace(hour=9, minute=0, second=0, microsecond=0))
    while clock.now().weekday() >= 5:  # a working morning
        clock.advance(timedelta(days=1))
    async with app_client(clock, login_rate_per_minute=1000) as client:
        root = (await client.get("/pki/root.crt")).content
        nssdb = nss_trusting(
            x509.load_der_x509_certificate(root).public_bytes(serialization.Encoding.PEM), tmp_path
        )
        _, citizen = await _citizen(client)
        commune = await _commune(client)
        key = commune["key"]
        code = (await submit_birth(client, citizen, commune["code"])).json()["code"]
        reception = await bearer(client, f"motcua.{key}")
        for who, action in ((reception, "receive"), (reception, "forward")):
            await act(client, code, who, action)
        await act(client, code, await bearer(client, f"chuyenvien.{key}"), "forward")
        leader = await bearer(client, f"lanhdao.{key}")
        await act(client, code, leader, "approve")
        await act(client, code, leader, "sign")
        await act(client, code, await bearer(client, f"vanthu.{key}"), "sign")
        documents = {
            d["kind"]: d
            for d in (await client.get(f"/api/v1/dossiers/{code}/documents", headers=citizen)).json()
        }
        outputs = {
            "receipt (Form 01)": (
                (await client.get(documents["receipt"]["url"], headers=citizen)).content,
                1,
            ),
            "result": ((await client.get(documents["result"]["url"], headers=citizen)).content, 2),
        }
        assert (await browser_login(client, "admin", ADMIN_PASSWORD)).status_code == 303
        period = f"{clock.now().year}-Q{(clock.now().month - 1) // 3 + 1}"
        outputs["report"] = (
            (await client.get("/thong-ke/bao-cao.pdf", params={"period": period})).content,
            1,
        )
    for name, (pdf, signatures) in outputs.items():
        out = pdfsig(pdf, nssdb, tmp_path, f"{name.split()[0]}.pdf")
        assert out.count("Signature Validation: Signature is Valid.") == signatures, (name, out)
        assert out.count("Certificate Validation: Certificate is Trusted.") == signatures, (name, out)
        assert qpdf_ok(pdf, tmp_path), name


async def test_a_signature_pyhanko_refuses_is_a_clear_failure_and_the_signing_process_goes_on(
    client, clock, tmp_path
):
    """Signatures are computed in a process of their own (signing/process.py): what pyHanko
    refuses there — a seal certificate revoked before the signing time — comes back as the
    service's clear failure, and the same process signs the next document."""
    from app.services.audit import SYSTEM
    from app.services.directory import load_directory
    from app.services.errors import Unavailable
    from app.services.pki import PkiService
    from app.services.signing import SigningService
    from signing import process
    from tests.conftest import app_settings
    from tests.integration.test_dossier_journey import _commune

    pki_service = PkiService.for_settings(clock, app_settings())
    signing = SigningService(pki_service, tmp_path)
    unit = (await load_directory()).get((await _commune(client))["code"])
    form = document()
    issued = await signing.seal(unit)
    sealed = await signing.seal_form(form, issued=issued, place="Yên Bái", at=clock.now())
    assert sealed.startswith(form) and len(sealed) > len(form)
    pool = process._pool
    await pki_service.revoke(
        f"{issued.serial:x}", "key_compromise", SYSTEM, at=clock.now() - timedelta(hours=1)
    )
    with pytest.raises(Unavailable) as refused:
        await signing.seal_form(form, issued=issued, place="Yên Bái", at=clock.now())
    assert "Không ký số được" in refused.value.detail
    renewed = await signing.seal(unit)  # revoked: a new seal certificate is issued
    assert renewed.serial != issued.serial
    assert (await signing.seal_form(form, issued=renewed, place="Yên Bái", at=clock.now())).startswith(form)
    assert process._pool is pool  # the same signing process throughout


def test_a_forked_child_does_not_use_its_parents_signing_process():
    """The simulator and the bulk loader fork; a child that signs starts its own process."""
    import multiprocessing

    from signing import process

    process._executor()  # the parent's
    parent = process._pool
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply(_pool_is_unset) is True
    assert process._pool is parent


def _pool_is_unset() -> bool:
    from signing import process

    return process._pool is None
