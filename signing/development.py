"""Playing a signer's browser in Python, for development: ``accord demo load`` and the tests sign
with a P-256 key made here, through exactly the ceremony steps the signing page takes — ``begin``,
``enroll`` with a proof of possession, ``prepare``, checking that the digest to sign is the
SHA-256 of the prepared PDF, ``complete``. The ceremony cannot tell it from a browser, which is
the point: demo agreements are made by the real ceremony and verify like any other.

Not a way for people to sign: the key is made and held by this process, not by the signer (the
signature's evidence still says ``browser`` custody, as the ceremony records it), so only
development tools use it, and only with the test identity gate, which production refuses.
"""

from __future__ import annotations

from asn1crypto import cms
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from .agreement_versions import VersionState
from .ceremony import Signer, SigningCeremony
from .pades import SigningError, document_digest


def browser_sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """What WebCrypto's ECDSA P-256/SHA-256 returns: raw r||s, 64 bytes."""
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def spki_of(key: ec.EllipticCurvePrivateKey) -> bytes:
    """The DER SubjectPublicKeyInfo a browser exports for its key."""
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


async def sign_as_browser(ceremony: SigningCeremony, agreement_id: str, version: int, signer: Signer,
                          field_name: str, key: ec.EllipticCurvePrivateKey | None = None) -> VersionState:
    """Enroll a fresh key (or ``key``) for ``signer``'s field, prepare, check and sign it. The
    ceremony's rules apply unchanged: the signer's turn and a passed identity check come first."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    spki = spki_of(key)
    challenge = await ceremony.begin(agreement_id, version, signer, field_name)
    await ceremony.enroll(agreement_id, version, signer, field_name, spki, browser_sign(key, challenge.nonce + spki))
    prep = await ceremony.prepare(agreement_id, version, signer, field_name)
    pdf = ceremony.prepared_pdf(agreement_id, version, signer, field_name)
    attrs = cms.CMSAttributes.load(prep.signed_attrs_der)
    message_digest = next(a["values"][0].native for a in attrs if a["type"].native == "message_digest")
    if not message_digest == document_digest(pdf, prep.byte_range) == prep.document_digest:
        raise SigningError("the signed attributes do not cover the prepared PDF")  # what the signing page refuses
    return await ceremony.complete(agreement_id, version, signer, field_name, browser_sign(key, prep.signed_attrs_der))
