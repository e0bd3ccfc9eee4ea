"""Object identifiers the platform defines for itself.

We have no registered enterprise number, so the arc is a UUID-derived OID under ``2.25``
(ITU-T X.667): globally unique without registration. Every platform OID hangs off
:data:`ACCORD_ARC` so that a certificate or timestamp can always be traced back to us.
"""

from __future__ import annotations

from cryptography.x509 import ObjectIdentifier

#: The platform's own arc (2.25.<uuid as integer>).
ACCORD_ARC = "2.25.304421296880843554270423277363217070026"

#: Policy under which the platform TSA issues RFC 3161 time-stamp tokens.
TSA_POLICY = f"{ACCORD_ARC}.1.1"
#: Certificate policy of short-lived event certificates (one signing event, one identity check).
EVENT_CERTIFICATE_POLICY = f"{ACCORD_ARC}.1.2"
#: Certificate policy of an organisation's seal certificate (one per mediation organisation).
SEAL_CERTIFICATE_POLICY = f"{ACCORD_ARC}.1.3"
#: Certificate policy of a court's certificate (signs rulings).
COURT_CERTIFICATE_POLICY = f"{ACCORD_ARC}.1.4"
#: Certificate policy of the platform's identity-attestation certificate (signs the record of
#: each identity check: :mod:`identity.attestation`).
IDENTITY_ATTESTATION_POLICY = f"{ACCORD_ARC}.1.5"
#: Extended key usage: signing mediation agreements on the platform.
DOCUMENT_SIGNING_EKU = f"{ACCORD_ARC}.2.1"
#: Extended key usage: signing identity attestations (and nothing else: a verifier refuses an
#: attestation signed by any certificate without it, e.g. a signer's event certificate).
IDENTITY_ATTESTATION_EKU = f"{ACCORD_ARC}.2.2"
#: Subject attribute carrying the signer's side in the case (``applicant`` / ``respondent``).
SIDE_ATTRIBUTE = f"{ACCORD_ARC}.3.1"
#: Private extension of an event certificate: the agreement field it was issued for
#: (:class:`signing.binding.SignerBinding`, a UTF8String holding canonical JSON).
SIGNER_BINDING_EXTENSION = f"{ACCORD_ARC}.4.1"
#: Private extension of a seal or court certificate: whose seal it is
#: (:class:`signing.binding.SealHolder`, a UTF8String holding canonical JSON).
SEAL_HOLDER_EXTENSION = f"{ACCORD_ARC}.4.2"


def oid(dotted: str) -> ObjectIdentifier:
    """The ``cryptography`` object for one of the dotted strings above."""
    return ObjectIdentifier(dotted)
