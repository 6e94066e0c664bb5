"""Signing and verification throughput on one core, as ratios to same-run baselines.

    .venv/bin/python bench/signing.py [--seconds 5]

Prints: portal documents/s (leader + seal, PAdES B-LT, visible stamps, embedded CRL+OCSP)
beside raw pyHanko B-B signatures/s of the same file with the same key (stock SimpleSigner,
no time-stamp, no revocation data), and portal verifications/s beside pyHanko's plain
``validate_pdf_signature`` of a B-B file; plus ``openssl speed`` RSA-2048 signs/s.
Absolute figures drift ±30 % on shared machines; the ratios are what to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from asn1crypto import keys as asn1_keys  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.x509 import ocsp  # noqa: E402
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: E402
from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: E402
from pyhanko.sign import signers  # noqa: E402
from pyhanko.sign.validation import async_validate_pdf_signature  # noqa: E402
from pyhanko_certvalidator import ValidationContext  # noqa: E402
from pyhanko_certvalidator.registry import SimpleCertificateStore  # noqa: E402

from app.documents.forms import RESULT_LAYOUT, Agency, ResultData, render_artwork, render_result  # noqa: E402
from signing.pades import (  # noqa: E402
    Appearance,
    CachedKeySigner,
    CachedKeyTimeStamper,
    Revocation,
    SignatureSpec,
    asn1_cert,
    sign_pdf,
)
from signing.pki import (  # noqa: E402
    CertStatus,
    Endpoints,
    Kind,
    StatusAnswer,
    SubjectSpec,
    create_intermediate,
    create_root,
    create_service,
    issue_end_entity,
    make_crl,
    ocsp_respond,
)
from signing.verify import verify_pdf  # noqa: E402

NOW = datetime.now(timezone.utc)


def rate(fn, seconds: float) -> float:
    fn()  # warm up
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        count += 1
    return count / (time.perf_counter() - start)


def openssl_rsa2048() -> float | None:
    try:
        out = subprocess.run(
            ["openssl", "speed", "-seconds", "3", "rsa2048"], capture_output=True, text=True, timeout=60
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"rsa 2048 bits\s+\S+\s+\S+\s+([\d.]+)", out)
    return float(match.group(1)) if match else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    seconds = parser.parse_args().seconds
    endpoints = Endpoints("http://127.0.0.1:8000")
    root = create_root(NOW - timedelta(days=1))
    ca = create_intermediate(root, endpoints, NOW - timedelta(days=1))
    tsa = create_service(ca, Kind.TSA, endpoints, NOW - timedelta(days=1))
    responder = create_service(ca, Kind.OCSP, endpoints, NOW - timedelta(days=1))
    leader = issue_end_entity(
        ca, Kind.PERSONAL, SubjectSpec("Hà Văn Bình", uids=("CCCD:015085001122",)), endpoints, NOW
    )
    seal = issue_end_entity(
        ca, Kind.SEAL, SubjectSpec("Ủy ban nhân dân xã Tuy Lộc", uids=("MNS:1122334",)), endpoints, NOW
    )
    chain = [ca.certificate, root.certificate]
    known = {c.serial: StatusAnswer(CertStatus.GOOD, c.certificate) for c in (leader, seal, tsa)}
    answers = tuple(
        ocsp_respond(
            ocsp.OCSPRequestBuilder()
            .add_certificate(c.certificate, ca.certificate, hashes.SHA1())
            .build()
            .public_bytes(serialization.Encoding.DER),
            ca,
            responder,
            lambda s: known[s],
            NOW,
        )
        for c in (leader, seal, tsa)
    )
    revocation = Revocation(
        (root.certificate,),
        (ca.certificate, responder.certificate),
        (
            make_crl(ca, [], NOW, NOW + timedelta(days=1), 1),
            make_crl(root, [], NOW, NOW + timedelta(days=1), 1),
        ),
        answers,
    )
    agency = Agency("Ủy ban nhân dân thành phố Yên Bái", "Ủy ban nhân dân xã Tuy Lộc", "Yên Bái")
    document = render_result(
        ResultData(
            agency,
            "000.01.60.H63-210315-0001",
            "Số: 01/GKS-UBND",
            "Giấy khai sinh",
            (("Họ và tên", "Lò Thị Mai"),),
            "TM. Ủy ban nhân dân xã\nChủ tịch",
            "Hà Văn Bình",
            NOW,
            ("Bà Lò Thị Hoa",),
            unsigned_mark="",
        )
    )
    workdir = Path(tempfile.mkdtemp())
    (workdir / "sig.pdf").write_bytes(render_artwork("signature", "Hà Văn Bình"))
    (workdir / "seal.pdf").write_bytes(render_artwork("seal", "Ủy ban nhân dân xã Tuy Lộc"))
    leader_signer, seal_signer = CachedKeySigner(leader, chain), CachedKeySigner(seal, chain)

    async def portal_document() -> bytes:
        stamper = CachedKeyTimeStamper(tsa, chain, NOW)
        first = await sign_pdf(
            document,
            SignatureSpec(
                "ChuKyLanhDao",
                "Phê duyệt",
                "Yên Bái",
                Appearance(0, RESULT_LAYOUT.signature_box, str(workdir / "sig.pdf")),
            ),
            leader_signer,
            stamper,
            revocation,
            NOW,
        )
        return await sign_pdf(
            first,
            SignatureSpec(
                "ChuKyCoQuan",
                "Đóng dấu",
                "Yên Bái",
                Appearance(0, RESULT_LAYOUT.seal_box, str(workdir / "seal.pdf")),
            ),
            seal_signer,
            stamper,
            revocation,
            NOW,
        )

    stock = signers.SimpleSigner(
        signing_cert=asn1_cert(leader.certificate),
        signing_key=asn1_keys.PrivateKeyInfo.load(
            leader.private_key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        ),
        cert_registry=SimpleCertificateStore.from_certs([asn1_cert(c) for c in chain]),
    )

    async def raw_bb() -> bytes:
        out = io.BytesIO()
        await signers.PdfSigner(signers.PdfSignatureMetadata(field_name="S"), signer=stock).async_sign_pdf(
            IncrementalPdfFileWriter(io.BytesIO(document)), output=out
        )
        return out.getvalue()

    loop = asyncio.new_event_loop()
    signed = loop.run_until_complete(portal_document())
    plain = loop.run_until_complete(raw_bb())
    context = ValidationContext(
        trust_roots=[asn1_cert(root.certificate)], other_certs=[asn1_cert(ca.certificate)]
    )

    async def raw_validate() -> None:
        sig = PdfFileReader(io.BytesIO(plain)).embedded_signatures[0]
        await async_validate_pdf_signature(sig, signer_validation_context=context)

    print(f"measuring {seconds:g} s each, one process, one core …", flush=True)
    portal_docs = rate(lambda: loop.run_until_complete(portal_document()), seconds)
    raw_sigs = rate(lambda: loop.run_until_complete(raw_bb()), seconds)
    portal_verify = rate(
        lambda: loop.run_until_complete(verify_pdf(signed, [root.certificate], now=NOW)), seconds
    )
    raw_verify = rate(lambda: loop.run_until_complete(raw_validate()), seconds)
    openssl = openssl_rsa2048()
    rows = [
        (
            "portal: documents signed (leader + seal, B-LT, stamps)",
            portal_docs,
            "raw pyHanko B-B signatures",
            raw_sigs,
        ),
        ("portal: signatures in those documents", portal_docs * 2, "raw pyHanko B-B signatures", raw_sigs),
        (
            "portal: documents verified (2 signatures, ETSI report)",
            portal_verify,
            "raw pyHanko validations (B-B)",
            raw_verify,
        ),
    ]
    print(f"\n{'measure':<58}{'per s':>9}   {'baseline':<32}{'per s':>9}{'ratio':>8}")
    for name, value, base_name, base in rows:
        print(f"{name:<58}{value:>9.1f}   {base_name:<32}{base:>9.1f}{value / base:>8.2f}")
    if openssl:
        print(
            f"{'openssl speed rsa2048 (signs)':<58}{openssl:>9.0f}   "
            f"portal signatures are {100 * portal_docs * 2 / openssl:.2f} % of raw RSA signing"
        )


if __name__ == "__main__":
    main()
