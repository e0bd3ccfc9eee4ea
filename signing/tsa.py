"""RFC 3161 time-stamping authority of the platform, and the pyHanko time-stampers that use it.

Why our own TSA: every signature and the closing document timestamp need a trusted time, and
courts must be able to check it offline. A configured external (accredited) TSA replaces it
through :func:`external_timestamper`.

Refusals are RFC 3161 responses with status ``rejection`` and a ``failInfo`` — never an
exception — so any client can tell what was wrong with its request.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.sign.general import as_signing_certificate_v2, simple_cms_attribute
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper, TimestampRequestError

from . import oids
from .pki import PlatformPKI, asn1_certificate

#: Accepted message-imprint algorithms and their digest sizes (SHA-1 is refused: RFC 5816 era).
ACCEPTED_DIGESTS = {"sha256": 32, "sha384": 48, "sha512": 64}
#: Accuracy the TSA promises, in milliseconds (host clock, assumed NTP-synchronised).
ACCURACY_MS = 500
#: Largest request accepted; a well-formed request is about 60-120 bytes.
MAX_REQUEST_BYTES = 4096


class TimeStampReply(core.Sequence):
    """``TimeStampResp`` as RFC 3161 defines it: asn1crypto's class wrongly requires the token,
    so it cannot even read a rejection."""

    _fields = [("status", tsp.PKIStatusInfo), ("time_stamp_token", cms.ContentInfo, {"optional": True})]


def raise_if_refused(reply_der: bytes) -> None:
    """Turn a non-granted reply into pyHanko's ``TimestampRequestError`` with the TSA's words."""
    try:
        status = TimeStampReply.load(reply_der)["status"].native
    except (ValueError, TypeError, KeyError) as exc:
        raise TimestampRequestError(f"the TSA sent an unreadable reply: {exc}") from None
    if status["status"] not in ("granted", "granted_with_mods"):
        text = "; ".join(status["status_string"] or ())
        fail = ", ".join(status["fail_info"] or ())
        raise TimestampRequestError(f"the TSA refused the request: {text} [{fail}]")


class TimeStampRejected(Exception):
    """Internal: carries the ``failInfo`` bit name and the human text of a rejection."""

    def __init__(self, fail_info: str, text: str):
        super().__init__(text)
        self.fail_info = fail_info
        self.text = text


@dataclass(frozen=True)
class _Request:
    imprint: tsp.MessageImprint
    digest_algorithm: str
    nonce: int | None
    cert_req: bool


class SerialCounter:
    """Monotonic serial numbers kept in a file, safe across threads and processes (flock)."""

    def __init__(self, path: Path):
        self.path = path

    def next(self) -> int:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            raw = os.read(fd, 64).strip()
            value = int(raw) + 1 if raw else 1
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, str(value).encode())
            os.fsync(fd)
            return value
        finally:
            os.close(fd)


class TimeStampAuthority:
    """Answers DER ``TimeStampReq`` bytes with DER ``TimeStampResp`` bytes."""

    def __init__(self, pki: PlatformPKI, clock: Callable[[], datetime] | None = None):
        self._pki = pki
        self._key: ec.EllipticCurvePrivateKey = pki.tsa_key
        self._cert = asn1_certificate(pki.tsa_cert)
        # the root is the relying party's trust anchor: sending it only costs bytes and parsing
        self._chain = [asn1_certificate(c) for c in pki.chain if c != pki.root_cert]
        self._serials = SerialCounter(pki.directory / "tsa.serial")
        self._clock = clock or (lambda: datetime.now(timezone.utc))

    def __repr__(self) -> str:
        return f"TimeStampAuthority(tsa={self._pki.tsa_cert.subject.rfc4514_string()!r})"

    def respond(self, request_der: bytes) -> bytes:
        try:
            request = self._parse(request_der)
            token = self._token(request)
        except TimeStampRejected as rejected:
            return self._rejection(rejected)
        return tsp.TimeStampResp({
            "status": tsp.PKIStatusInfo({"status": "granted"}),
            "time_stamp_token": token,
        }).dump()

    @staticmethod
    def _parse(request_der: bytes) -> _Request:
        if len(request_der) > MAX_REQUEST_BYTES:
            raise TimeStampRejected("bad_data_format", "request too large")
        try:
            req = tsp.TimeStampReq.load(request_der, strict=True)
            native = req.native  # forces a full parse: asn1crypto is lazy
        except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
            raise TimeStampRejected("bad_data_format", f"not a DER TimeStampReq: {exc}") from None
        if native["version"] != "v1":
            raise TimeStampRejected("bad_request", "only TimeStampReq version 1 is supported")
        algorithm = native["message_imprint"]["hash_algorithm"]["algorithm"]
        if algorithm not in ACCEPTED_DIGESTS:
            raise TimeStampRejected("bad_alg", f"hash algorithm {algorithm} is not accepted "
                                               f"(use one of {', '.join(ACCEPTED_DIGESTS)})")
        if len(native["message_imprint"]["hashed_message"]) != ACCEPTED_DIGESTS[algorithm]:
            raise TimeStampRejected("bad_data_format", f"the hashed message is not a {algorithm} digest")
        policy = native["req_policy"]
        if policy is not None and policy != oids.TSA_POLICY:
            raise TimeStampRejected("unaccepted_policy", f"this TSA only issues under policy {oids.TSA_POLICY}")
        if native["extensions"]:
            raise TimeStampRejected("unaccepted_extensions", "request extensions are not supported")
        return _Request(req["message_imprint"], algorithm, native["nonce"], bool(native["cert_req"]))

    @staticmethod
    def _rejection(rejected: TimeStampRejected) -> bytes:
        return TimeStampReply({
            "status": tsp.PKIStatusInfo({
                "status": "rejection",
                "status_string": [rejected.text],
                "fail_info": tsp.PKIFailureInfo({rejected.fail_info}),
            }),
        }).dump()

    def _next_serial(self) -> int:
        try:
            return self._serials.next()
        except OSError:
            raise TimeStampRejected("system_failure", "the TSA cannot record a serial number") from None

    def _token(self, request: _Request) -> cms.ContentInfo:
        gen_time = self._clock().astimezone(timezone.utc)
        gen_time = gen_time.replace(microsecond=gen_time.microsecond // 1000 * 1000)
        info: dict[str, object] = {
            "version": "v1",
            "policy": oids.TSA_POLICY,
            "message_imprint": request.imprint,
            "serial_number": self._next_serial(),
            "gen_time": gen_time,
            "accuracy": {"millis": ACCURACY_MS},
            "ordering": False,
            "tsa": asn1_x509.GeneralName(name="directory_name", value=self._cert.subject),
        }
        if request.nonce is not None:
            info["nonce"] = request.nonce
        tst_info = tsp.TSTInfo(info).dump()
        digest = hashes.Hash(hashes.SHA256())
        digest.update(tst_info)
        signed_attrs = cms.CMSAttributes([
            simple_cms_attribute("content_type", "tst_info"),
            simple_cms_attribute("signing_certificate_v2", as_signing_certificate_v2(self._cert)),
            simple_cms_attribute("message_digest", digest.finalize()),
        ])
        signature = self._key.sign(signed_attrs.dump(), ec.ECDSA(hashes.SHA256()))
        sha256 = algos.DigestAlgorithm({"algorithm": "sha256"})
        signer_info = cms.SignerInfo({
            "version": "v1",
            "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber(
                {"issuer": self._cert.issuer, "serial_number": self._cert.serial_number})}),
            "digest_algorithm": sha256,
            "signed_attrs": signed_attrs,
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
            "signature": signature,
        })
        signed_data: dict[str, object] = {
            "version": "v3",
            "digest_algorithms": [sha256],
            "encap_content_info": {"content_type": "tst_info", "content": cms.ParsableOctetString(tst_info)},
            "signer_infos": [signer_info],
        }
        if request.cert_req:
            signed_data["certificates"] = [self._cert, *self._chain]
        return cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData(signed_data)})


class InProcessTimeStamper(TimeStamper):
    """pyHanko time-stamper that asks the platform TSA directly, without an HTTP round trip."""

    def __init__(self, authority: TimeStampAuthority):
        super().__init__(include_nonce=True)
        self._authority = authority

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        reply = self._authority.respond(req.dump())
        raise_if_refused(reply)
        return tsp.TimeStampResp.load(reply)


class _ExternalTimeStamper(HTTPTimeStamper):
    """pyHanko's HTTP client, but a refusal becomes a clear error instead of an asn1crypto crash."""

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        response = await super().async_request_tsa_response(req)
        raise_if_refused(response.dump())
        return response


def external_timestamper(url: str, timeout: float = 10.0) -> TimeStamper:
    """pyHanko time-stamper for a configured external RFC 3161 TSA (``Settings.tsa_url``)."""
    return _ExternalTimeStamper(url, timeout=timeout)
