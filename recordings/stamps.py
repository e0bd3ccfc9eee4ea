"""RFC 3161 time stamps over chain heads: obtaining them (off the event loop) and checking them
offline. A token proves that the chain head — and so every segment before it — existed at the
token's ``genTime``; its message imprint is the chain head itself (a SHA-256 digest)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms, tsp
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko_certvalidator import ValidationContext

from signing.pades import off_loop


async def stamp_head(timestamper: TimeStamper, chain_head: str) -> tuple[bytes, datetime]:
    """A token over ``chain_head``: its DER and its ``genTime``. pyHanko's time-stampers do their
    work (an HTTP call, or signing and an fsync for the platform TSA) on the calling loop, so they
    get a loop of their own in a worker thread."""
    token: cms.ContentInfo = await off_loop(timestamper.async_timestamp(bytes.fromhex(chain_head), "sha256"))
    return token.dump(), gen_time(token)


def gen_time(token: cms.ContentInfo) -> datetime:
    info = token["content"]["encap_content_info"]["content"].parsed
    assert isinstance(info, tsp.TSTInfo)
    return info["gen_time"].native  # type: ignore[no-any-return]


@dataclass(frozen=True)
class TokenCheck:
    ok: bool
    time: datetime | None
    tsa: str | None
    reason: str | None = None


async def check_token(token_der: bytes, chain_head: str, trust_roots: list[asn1_x509.Certificate]) -> TokenCheck:
    """Offline: the token is intact, its imprint is ``chain_head``, its signer chains to a trust root
    (pyHanko validates on the calling loop: it gets one of its own in a worker thread)."""
    try:
        token = cms.ContentInfo.load(token_der)
        signed_data = token["content"]
        moment = gen_time(token)
        context = ValidationContext(trust_roots=trust_roots, allow_fetching=False, revocation_mode="soft-fail",
                                    moment=moment)
        status = await off_loop(validate_tst_signed_data(signed_data, context,
                                                         lambda _algorithm: bytes.fromhex(chain_head)))
    except Exception as exc:  # an unreadable or malformed token is a finding, not a crash
        return TokenCheck(False, None, None, f"the time-stamp token cannot be read: {exc}")
    signer = status.get("signing_cert")
    tsa = signer.subject.human_friendly if signer is not None else None
    if not status.get("intact"):
        return TokenCheck(False, moment, tsa, "the time stamp does not cover this chain head (the chain was changed "
                                              "after it was stamped)")
    if not status.get("valid"):
        return TokenCheck(False, moment, tsa, "the time-stamp token's signature is not valid")
    if status.get("trust_problem_indic") is not None or status.get("validation_path") is None:
        return TokenCheck(False, moment, tsa, "the time-stamp authority does not chain to a trusted root")
    return TokenCheck(True, moment, tsa)
