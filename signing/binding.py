"""What ties a signature to its field: the certificate's statement and the document's slot table.

Why: PAdES validity says nothing about *who* filled *which* field — pyHanko, ``adesverify`` and
``pdfsig`` all accept a file in which one genuine platform certificate signed every field. So
the CA writes into every event certificate the one field it was issued for
(:class:`SignerBinding`, with the SHA-256 of the locked PDF), and into every seal or court
certificate whose seal it is (:class:`SealHolder`); the locked PDF — revision 0, covered by every
signature — lists in its catalog who must sign each field (:class:`SignerTable`). The verifier
(:mod:`signing.verification`) compares the two.

A court's ruling names its one court-seal field and what it rules on (:class:`RulingStatement`,
catalog key :data:`RULING_KEY`): the verifier then requires that court's certificate there.

The statements are canonical JSON: inside a certificate extension as a DER UTF8String, in the
catalog as PDF text strings. Everything read back is hostile input and validated here.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Iterable, Literal

from asn1crypto import core
from asn1crypto import x509 as asn1_x509
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from . import oids

#: Catalog key holding the JSON list of signature fields the agreement must carry.
EXPECTED_FIELDS_KEY = "/AccordExpectedFields"
#: Catalog keys of the slot table.
AGREEMENT_ID_KEY = "/AccordAgreementId"
AGREEMENT_VERSION_KEY = "/AccordAgreementVersion"
CASE_NUMBER_KEY = "/AccordCaseNumber"
SIGNER_SLOTS_KEY = "/AccordSignerSlots"
#: The slot role whose field carries the organisation's seal (``SignerRole.ORGANISATION``).
SEAL_ROLE = "organisation"
#: Catalog key of a court ruling's statement (:class:`RulingStatement`); its presence makes the
#: document a ruling for the verifier.
RULING_KEY = "/AccordRuling"

#: A unified social credit code (GB 32100-2015): 18 characters from 0-9 and A-Y without I, O, S, V, Z.
CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")

Text = Annotated[str, Field(min_length=1, max_length=200)]
Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class BindingError(ValueError):
    """A binding or slot table that is missing or malformed; the message says which."""


class _Statement(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def to_der(self) -> bytes:
        """The extension value: a DER UTF8String holding this statement as JSON."""
        return core.UTF8String(self.model_dump_json()).dump()

    @classmethod
    def from_der(cls, der: bytes) -> Any:
        try:
            return cls.model_validate_json(core.UTF8String.load(der).native)
        except (ValueError, TypeError) as exc:
            raise BindingError(f"the certificate's {cls.__name__} extension is malformed: {exc}") from None


class SignerBinding(_Statement):
    """The one agreement field an event certificate was issued for."""

    agreement_id: Text
    version: int = Field(ge=1)
    #: SHA-256 of the locked PDF (revision 0) of that version.
    version_sha256: Sha256Hex
    field_name: Text
    role: Text
    side: str | None
    #: The case participant holding the slot (``None`` while slots are not yet keyed by participant).
    participant_id: str | None
    case_number: Text


class SealHolder(_Statement):
    """Whose seal a seal certificate is: a mediation organisation's, or a court's."""

    kind: Literal["organisation", "court"]
    holder_id: str | None
    name: Text
    credit_code: str | None = None


class SlotOrganisation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Text
    credit_code: str | None = None


class SlotEntry(BaseModel):
    """One field of the slot table: who must sign it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field_name: Text
    role: Text
    side: str | None
    name: Text
    participant_id: str | None
    #: Only on the seal field: the organisation whose seal closes the agreement.
    organisation: SlotOrganisation | None = None


class SignerTable(BaseModel):
    """The slot table the locked PDF carries in its catalog."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agreement_id: Text
    version: int = Field(ge=1)
    case_number: Text
    slots: list[SlotEntry] = Field(min_length=1)

    def slot(self, field_name: str) -> SlotEntry | None:
        return next((s for s in self.slots if s.field_name == field_name), None)

    def catalog_entries(self) -> dict[str, str | int]:
        """Catalog key → value (text, or an integer for the version)."""
        return {
            AGREEMENT_ID_KEY: self.agreement_id,
            AGREEMENT_VERSION_KEY: self.version,
            CASE_NUMBER_KEY: self.case_number,
            SIGNER_SLOTS_KEY: json.dumps([s.model_dump() for s in self.slots], ensure_ascii=False,
                                         separators=(",", ":")),
        }

    @classmethod
    def from_catalog(cls, catalog: Any) -> SignerTable:
        """Read the table back from a PDF catalog (a mapping of PDF objects)."""
        raw = {key: _catalog_value(catalog, key) for key in (AGREEMENT_ID_KEY, AGREEMENT_VERSION_KEY,
                                                             CASE_NUMBER_KEY, SIGNER_SLOTS_KEY)}
        missing = [key for key, value in raw.items() if value is None]
        if missing:
            raise BindingError(f"the document's catalog lacks {', '.join(missing)}")
        version = raw[AGREEMENT_VERSION_KEY]
        if not isinstance(version, int) or isinstance(version, bool):
            raise BindingError(f"{AGREEMENT_VERSION_KEY} is not an integer")
        try:
            slots = json.loads(str(raw[SIGNER_SLOTS_KEY]))
            table = cls.model_validate({"agreement_id": str(raw[AGREEMENT_ID_KEY]), "version": int(version),
                                        "case_number": str(raw[CASE_NUMBER_KEY]), "slots": slots})
        except (ValueError, ValidationError) as exc:
            raise BindingError(f"the signer slot table is malformed: {exc}") from None
        names = [s.field_name for s in table.slots]
        if len(set(names)) != len(names):
            raise BindingError("the signer slot table names a field twice")
        return table


#: What a ruling decides, per kind of application: judicial confirmation (CPL art. 206,
#: interpretation art. 358) and payment order (CPL arts. 225-227).
RULING_DECISIONS = {"judicial_confirmation": ("valid", "rejected"), "payment_order": ("issued", "rejected")}


class RulingStatement(BaseModel):
    """What a court's ruling states in its catalog: which court rules, under which case number,
    on which application and agreement (by the SHA-256 of the agreement file the court received),
    and which one field carries the court's seal. Covered by that seal, like the slot table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    court: Text
    #: The court's own case number, e.g. ``(2026)川0104民特3号``.
    court_case_number: Text
    kind: Literal["judicial_confirmation", "payment_order"]
    decision: Literal["valid", "rejected", "issued"]
    application_id: Text
    case_id: Text
    agreement_id: Text | None
    #: SHA-256 of the signed agreement the application carried (``None`` if it carried none).
    agreement_sha256: Sha256Hex | None
    #: The case's audit trail as the court ruled: its last entry's number and hash.
    audit_seq: int = Field(ge=0)
    audit_head: Sha256Hex
    ruled_at: AwareDatetime
    judge: Text
    seal_field: Text

    @model_validator(mode="after")
    def _decision_fits_kind(self) -> RulingStatement:
        if self.decision not in RULING_DECISIONS[self.kind]:
            raise ValueError(f"a {self.kind} ruling is one of {', '.join(RULING_DECISIONS[self.kind])}")
        return self

    @classmethod
    def from_catalog(cls, catalog: Any) -> RulingStatement | None:
        """The statement a ruling's catalog carries; ``None`` if the document is not a ruling."""
        raw = _catalog_value(catalog, RULING_KEY)
        if raw is None:
            return None
        try:
            return cls.model_validate_json(str(raw))
        except (ValueError, ValidationError) as exc:
            raise BindingError(f"the ruling statement is malformed: {exc}") from None


def _catalog_value(catalog: Any, key: str) -> Any:
    """``catalog[key]`` (a PDF dictionary resolves indirect objects there, not in ``get``)."""
    try:
        return catalog[key]
    except KeyError:
        return None


def _extension_der(cert: asn1_x509.Certificate, dotted: str) -> bytes | None:
    for extension in cert["tbs_certificate"]["extensions"] or []:
        if extension["extn_id"].dotted == dotted:
            return extension["extn_value"].contents
    return None


def signer_binding(cert: asn1_x509.Certificate) -> SignerBinding | None:
    """The binding an event certificate carries; ``None`` if it carries none."""
    der = _extension_der(cert, oids.SIGNER_BINDING_EXTENSION)
    return None if der is None else SignerBinding.from_der(der)


def seal_holder(cert: asn1_x509.Certificate) -> SealHolder | None:
    """Whose seal a platform-issued seal certificate is; ``None`` for other certificates (and
    for seals imported from an e-seal provider, which name the organisation in the subject only)."""
    der = _extension_der(cert, oids.SEAL_HOLDER_EXTENSION)
    return None if der is None else SealHolder.from_der(der)


def credit_code_in(subject_values: Iterable[str]) -> str | None:
    """The credit code among a seal certificate's serialNumber and OU values (in that order):
    the platform states it as serialNumber, e-seal providers differ."""
    return next((v for v in subject_values if CREDIT_CODE.fullmatch(v)), None)


def certificate_policies(cert: asn1_x509.Certificate) -> set[str]:
    value = cert.certificate_policies_value
    return set() if value is None else {p["policy_identifier"].dotted for p in value}
