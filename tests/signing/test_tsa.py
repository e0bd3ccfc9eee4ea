"""The platform TSA: openssl accepts its tokens, bad requests get RFC 3161 rejections."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from asn1crypto import algos, tsp
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyhanko.sign.timestamps import TimestampRequestError

from signaling.api.pki import install_pki
from signaling.auth import make_auth_middleware
from signaling.errors import error_middleware
from signaling.openapi import api
from signing import oids
from signing.pki import PlatformPKI
from signing.tsa import InProcessTimeStamper, TimeStampAuthority, TimeStampReply, external_timestamper


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PlatformPKI:
    return PlatformPKI.init(tmp_path_factory.mktemp("tsa") / "pki", "pw", "http://accord.test", "TSA Test Org")


@pytest.fixture(scope="module")
def authority(pki: PlatformPKI) -> TimeStampAuthority:
    return TimeStampAuthority(pki)


def request_der(digest: bytes = hashlib.sha256(b"hello").digest(), algorithm: str = "sha256",
                nonce: int | None = 42, policy: str | None = None, cert_req: bool = True) -> bytes:
    fields: dict[str, object] = {
        "version": "v1",
        "message_imprint": {"hash_algorithm": algos.DigestAlgorithm({"algorithm": algorithm}),
                            "hashed_message": digest},
        "cert_req": cert_req,
    }
    if nonce is not None:
        fields["nonce"] = nonce
    if policy is not None:
        fields["req_policy"] = policy
    return tsp.TimeStampReq(fields).dump()


def status_of(reply: bytes) -> tuple[str, set[str], str]:
    status = TimeStampReply.load(reply)["status"]
    return (status["status"].native, set(status["fail_info"].native or ()),
            "; ".join(status["status_string"].native or ()))


def write_pem(path: Path, *certs: object) -> Path:
    path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs))  # type: ignore[attr-defined]
    return path


def test_openssl_verifies_a_token(pki: PlatformPKI, authority: TimeStampAuthority, tmp_path: Path) -> None:
    data = tmp_path / "data.txt"
    data.write_bytes(b"mediation agreement")
    subprocess.run(["openssl", "ts", "-query", "-data", str(data), "-sha256", "-cert", "-out",
                    str(tmp_path / "req.tsq")], check=True, capture_output=True)
    (tmp_path / "resp.tsr").write_bytes(authority.respond((tmp_path / "req.tsq").read_bytes()))
    root = write_pem(tmp_path / "root.pem", pki.root_cert)
    chain = write_pem(tmp_path / "chain.pem", pki.tsa_cert, pki.signing_ca_cert)
    verify = subprocess.run(["openssl", "ts", "-verify", "-in", str(tmp_path / "resp.tsr"), "-queryfile",
                             str(tmp_path / "req.tsq"), "-CAfile", str(root), "-untrusted", str(chain)],
                            capture_output=True, text=True)
    assert verify.returncode == 0, verify.stderr
    assert "Verification: OK" in verify.stdout
    text = subprocess.run(["openssl", "ts", "-reply", "-in", str(tmp_path / "resp.tsr"), "-text"],
                          capture_output=True, text=True, check=True).stdout
    assert f"Policy OID: {oids.TSA_POLICY}" in text and "0x01F4 millis" in text
    # a token for other data does not verify
    data.write_bytes(b"another agreement")
    subprocess.run(["openssl", "ts", "-query", "-data", str(data), "-sha256", "-out", str(tmp_path / "other.tsq")],
                   check=True, capture_output=True)
    mismatch = subprocess.run(["openssl", "ts", "-verify", "-in", str(tmp_path / "resp.tsr"), "-queryfile",
                               str(tmp_path / "other.tsq"), "-CAfile", str(root), "-untrusted", str(chain)],
                              capture_output=True, text=True)
    assert mismatch.returncode != 0


def test_token_fields(authority: TimeStampAuthority) -> None:
    reply = tsp.TimeStampResp.load(authority.respond(request_der(nonce=123456789)))
    assert reply["status"]["status"].native == "granted"
    info = reply["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
    assert info["nonce"].native == 123456789
    assert info["policy"].dotted == oids.TSA_POLICY
    assert info["message_imprint"]["hashed_message"].native == hashlib.sha256(b"hello").digest()
    assert info["accuracy"]["millis"].native == 500


def test_serials_are_monotonic_and_persisted(pki: PlatformPKI, authority: TimeStampAuthority) -> None:
    def serial(auth: TimeStampAuthority) -> int:
        reply = tsp.TimeStampResp.load(auth.respond(request_der()))
        return reply["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed["serial_number"].native

    first, second = serial(authority), serial(authority)
    restarted = TimeStampAuthority(PlatformPKI.load(pki.directory, "pw"))
    assert first < second < serial(restarted)


def test_certificates_only_on_request(authority: TimeStampAuthority) -> None:
    def certs(cert_req: bool) -> object:
        token = tsp.TimeStampResp.load(authority.respond(request_der(cert_req=cert_req)))["time_stamp_token"]
        return token["content"]["certificates"].native

    assert certs(False) is None
    assert len(certs(True)) == 2  # type: ignore[arg-type]  # TSA and signing CA; the root is the anchor


@pytest.mark.parametrize(("request_bytes", "fail_info", "text"), [
    (b"", "bad_data_format", "not a DER"),
    (b"\x30\x03\x02\x01\x01", "bad_data_format", "not a DER"),
    (b"garbage", "bad_data_format", "not a DER"),
    (b"\x30" + b"\x82\xff\xff" + b"\x00" * 100, "bad_data_format", "not a DER"),
    (b"\x30" * 5000, "bad_data_format", "too large"),
    (request_der(hashlib.sha1(b"x").digest(), "sha1"), "bad_alg", "not accepted"),
    (request_der(b"short"), "bad_data_format", "not a sha256 digest"),
    (request_der(policy="1.2.3.4"), "unaccepted_policy", oids.TSA_POLICY),
])
def test_bad_requests_are_rejected(authority: TimeStampAuthority, request_bytes: bytes, fail_info: str,
                                   text: str) -> None:
    status, infos, message = status_of(authority.respond(request_bytes))
    assert status == "rejection"
    assert infos == {fail_info}
    assert text in message


def test_request_with_our_policy_is_granted(authority: TimeStampAuthority) -> None:
    assert status_of(authority.respond(request_der(policy=oids.TSA_POLICY)))[0] == "granted"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_fuzzed_requests_never_raise(authority: TimeStampAuthority, junk: bytes) -> None:
    status, _, _ = status_of(authority.respond(junk))
    assert status in ("granted", "rejection")


async def test_in_process_timestamper(authority: TimeStampAuthority) -> None:
    stamper = InProcessTimeStamper(authority)
    token = await stamper.async_timestamp(hashlib.sha256(b"doc").digest(), "sha256")
    info = token["content"]["encap_content_info"]["content"].parsed
    assert info["message_imprint"]["hashed_message"].native == hashlib.sha256(b"doc").digest()


@pytest.fixture
async def client(pki: PlatformPKI, tmp_path: Path) -> TestClient:
    app = web.Application(middlewares=[error_middleware,
                                       make_auth_middleware(None, None)])
    install_pki(app, pki)
    api.install(app)
    async with TestClient(TestServer(app, port=0)) as test_client:
        yield test_client


async def test_http_endpoint_with_pyhanko_client(client: TestClient, pki: PlatformPKI) -> None:
    stamper = external_timestamper(str(client.make_url("/tsa")))
    token = await stamper.async_timestamp(hashlib.sha256(b"doc").digest(), "sha256")
    assert token["content"]["encap_content_info"]["content"].parsed["policy"].dotted == oids.TSA_POLICY
    bad = await client.post("/tsa", data=b"junk", headers={"Content-Type": "application/timestamp-query"})
    assert bad.status == 200 and bad.content_type == "application/timestamp-reply"
    assert status_of(await bad.read())[0] == "rejection"
    wrong_type = await client.post("/tsa", data=request_der(), headers={"Content-Type": "application/json"})
    assert wrong_type.status == 415


async def test_pki_downloads(client: TestClient, pki: PlatformPKI) -> None:
    crl = await client.get("/pki/signing-ca.crl")
    assert crl.status == 200 and crl.content_type == "application/pkix-crl"
    root = await client.get("/pki/root.crt")
    assert root.content_type == "application/pkix-cert"
    assert await root.read() == pki.published_file("root.crt")
    missing = await client.get("/pki/signing-ca.key")
    assert missing.status == 404


async def test_rejection_surfaces_in_pyhanko(client: TestClient) -> None:
    """A TSA refusing (here: SHA-1) makes pyHanko raise a clear error rather than embed nothing."""
    stamper = external_timestamper(str(client.make_url("/tsa")))
    with pytest.raises(TimestampRequestError, match="not accepted"):
        await stamper.async_timestamp(hashlib.sha1(b"doc").digest(), "sha1")


async def test_rejection_surfaces_in_process(authority: TimeStampAuthority) -> None:
    with pytest.raises(TimestampRequestError, match=r"not accepted.*bad_alg"):
        await InProcessTimeStamper(authority).async_timestamp(hashlib.sha1(b"doc").digest(), "sha1")
