"""Checking a case package offline, as the court receiving it does (``accord verify CASE-PACKAGE.zip``).

One report for the whole package: every member's SHA-256 against the manifest (and nothing
unlisted), the audit trail recomputed from its first entry to the head the case recorded, every
signed document (the agreement, the rulings) through the verifier, and the links between them:
each ruling is for this case, names the SHA-256 of the agreement in the package, states an audit
head the package's trail contains, and is itself named by its ruling's audit entry. Each signature
of the agreement that cites an identity attestation (``attestation-sha256=``) finds it under
``attestations/<sha256>.p7s``, verified against the trust roots and tied to its signature
(:mod:`identity.attestation_review`); a missing, altered or foreign one fails the agreement. Each recording
session the package cites has its manifest in the package with the SHA-256 the newest
``recording.manifest`` audit entry of that session names (the media is checked against the
manifest by the recording package's own verifier, ``accord recordings verify --package``).

Why the links matter: the manifest and the audit trail are plain hashes anyone can recompute
after swapping a file; what a forger cannot redo is a court-signed ruling, and the ruling fixes
the agreement's hash and the trail up to the ruling. The PDFs are judged by ``verify_pdf``
(``accord verify`` runs each in its sandboxed child); this module only reads the zip.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Sequence

from cryptography import x509

from signing.verification_sandbox import AgreementReport, Reason, VerificationError

from .audit import AuditVerification, canonical_json, check_chain

FORMAT = "accord-case-package/1"
MANIFEST = "manifest.json"
CASE_FILE = "case.json"
#: Where the signed identity attestations sit (``<sha256>.p7s``) with the certificates that signed them.
ATTESTATIONS = "attestations/"
ATTESTATION_CHAIN = "attestations/chain.pem"
#: An attestation blob is a few kB (:data:`identity.attestation.MAX_BLOB_BYTES`).
MAX_ATTESTATION_BYTES = 256 * 1024
_SHA256_HEX = frozenset("0123456789abcdef")
#: Bounds for a zip read from outside: members, bytes in all (streamed), bytes of the JSON files.
MAX_MEMBERS = 10_000
MAX_TOTAL_BYTES = 4 * 1024**3
MAX_JSON_BYTES = 64 * 1024 * 1024
_CHUNK = 1024 * 1024


class PackageError(Exception):
    """The file is not a case package that can be checked at all (not a zip, no manifest, too big)."""


@dataclass
class PackageDocument:
    """A signed document of the package and its verifier report (``None`` if it could not be verified)."""

    path: str
    kind: str  # "agreement" | "ruling"
    sha256: str | None
    report: AgreementReport | None
    ok: bool = False
    reasons: list[Reason] = field(default_factory=list)


@dataclass
class PackageReport:
    valid: bool
    case_id: str | None
    members: int
    audit: AuditVerification | None
    documents: list[PackageDocument]
    reasons: list[Reason] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "case_package", **asdict(self)}

    def failure_codes(self) -> set[str]:
        """Every reason code of the package and its documents (their signatures included)."""
        codes = {r.code for r in self.reasons}
        for document in self.documents:
            codes.update(r.code for r in document.reasons)
            if document.report is not None:
                codes.update(document.report.failure_codes())
        return codes


@dataclass(frozen=True)
class _Link:
    seq: int
    at: str
    actor: str
    action: str
    payload: str
    prev_hash: str
    hash: str


def _open(data: bytes) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise PackageError(f"not a zip file: {exc}") from None
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise PackageError(f"the package has {len(infos)} members; at most {MAX_MEMBERS} are read")
    if sum(i.file_size for i in infos) > MAX_TOTAL_BYTES:
        raise PackageError(f"the package unpacks to more than {MAX_TOTAL_BYTES} bytes")
    if any(i.flag_bits & 0x1 for i in infos):
        raise PackageError("the package has encrypted members")
    return archive


def _digest(archive: zipfile.ZipFile, name: str) -> str:
    digest = hashlib.sha256()
    with archive.open(name) as member:
        while chunk := member.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _json(archive: zipfile.ZipFile, name: str) -> Any:
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise PackageError(f"the package has no {name}: not an Accord case package") from None
    if info.file_size > MAX_JSON_BYTES:
        raise PackageError(f"{name} is larger than {MAX_JSON_BYTES} bytes")
    try:
        value = json.loads(archive.read(info))
    except (ValueError, zipfile.BadZipFile) as exc:
        raise PackageError(f"{name} cannot be read: {exc}") from None
    if not isinstance(value, dict):
        raise PackageError(f"{name} is not a JSON object")
    return value


def _check_members(archive: zipfile.ZipFile, manifest: dict[str, Any]) -> tuple[int, list[Reason]]:
    listed = manifest.get("members")
    if not isinstance(listed, dict) or not all(isinstance(v, str) for v in listed.values()):
        raise PackageError("the manifest lists no members with their SHA-256")
    reasons = []
    names = archive.namelist()
    for name, count in Counter(names).items():
        if count > 1:
            reasons.append(Reason("member_duplicate", f"{name} is in the package {count} times"))
    for name in sorted(set(names) - set(listed) - {MANIFEST}):
        reasons.append(Reason("member_unlisted", f"{name} is in the package but not in its manifest"))
    for name, expected in sorted(listed.items()):
        if name not in names:
            reasons.append(Reason("member_missing", f"the manifest lists {name}, which is not in the package"))
            continue
        try:
            actual = _digest(archive, name)
        except (zipfile.BadZipFile, OSError) as exc:
            reasons.append(Reason("member_unreadable", f"{name} cannot be read from the zip: {exc}"))
            continue
        if actual != expected:
            reasons.append(Reason("member_hash_mismatch", f"{name} has SHA-256 {actual}; the manifest says {expected} "
                                                          f"(the file was changed or swapped)"))
    return len(listed), reasons


def _links(entries: list[Any]) -> list[_Link]:
    """The package's entries as stored links: each one's previous hash is the entry before it."""
    links, prev = [], None
    for entry in entries:
        links.append(_Link(int(entry["seq"]), str(entry["at"]), str(entry["actor"]), str(entry["action"]),
                           canonical_json(entry["payload"]), prev if prev is not None else "0" * 64,
                           str(entry["hash"])))
        prev = str(entry["hash"])
    return links


def _check_audit(case_id: str, audit: Any) -> tuple[AuditVerification | None, list[Reason], list[_Link]]:
    entries = audit.get("entries") if isinstance(audit, dict) else None
    head = audit.get("head") if isinstance(audit, dict) else None
    if not entries or not isinstance(head, dict):
        return None, [Reason("audit_missing", "the package carries no audit trail with the head the case records")], []
    try:
        links = _links(entries)
        verification = check_chain(case_id, links, int(head["seq"]), str(head["hash"]))
    except (KeyError, TypeError, ValueError) as exc:
        return None, [Reason("audit_malformed", f"the audit trail cannot be read: {exc}")], []
    if verification.ok:
        return verification, [], links
    code = "audit_entry_altered" if verification.reason == "entry content does not match its hash" else \
        "audit_chain_broken"
    return verification, [Reason(code, f"audit entry {verification.first_bad_seq}: {verification.reason}")], links


def _attestation_blobs(archive: zipfile.ZipFile) -> dict[str, bytes]:
    """``attestations/<sha256>.p7s`` by the hash its name states (the review sees whether the
    bytes are what a signature cites); oversized members are left out, so reported missing."""
    out = {}
    for info in archive.infolist():
        name = info.filename
        if not (name.startswith(ATTESTATIONS) and name.endswith(".p7s")):
            continue
        digest = name[len(ATTESTATIONS):-len(".p7s")]
        if len(digest) == 64 and set(digest) <= _SHA256_HEX and info.file_size <= MAX_ATTESTATION_BYTES:
            try:
                out[digest] = archive.read(info)
            except (zipfile.BadZipFile, OSError):
                continue
    return out


def _review_attestations(report: AgreementReport, blobs: dict[str, bytes],
                         trust_roots: Sequence[x509.Certificate], case_id: str | None) -> None:
    import asyncio

    from identity.attestation_review import review_attestations  # loads OpenCV: only for a signed agreement

    async def fetch(hashes: set[str]) -> dict[str, bytes]:
        return {h: blobs[h] for h in hashes if h in blobs}

    asyncio.run(review_attestations(report, fetch, trust_roots, required=True, case_id=case_id))


def _document(archive: zipfile.ZipFile, entry: Any, kind: str,
              verify_pdf: Callable[[bytes], AgreementReport],
              trust_roots: Sequence[x509.Certificate] = (), case_id: str | None = None) -> PackageDocument:
    path, stated = str(entry.get("path")), entry.get("sha256")
    document = PackageDocument(path, kind, stated, None)
    try:
        pdf = archive.read(path)
    except (KeyError, zipfile.BadZipFile, OSError) as exc:
        document.reasons.append(Reason("document_missing", f"case.json names the {kind} {path}, which cannot be "
                                                           f"read from the package ({exc})"))
        return document
    actual = hashlib.sha256(pdf).hexdigest()
    if actual != stated:
        document.reasons.append(Reason("document_hash_mismatch", f"the {kind} {path} has SHA-256 {actual}; "
                                                                 f"case.json says {stated}"))
    document.sha256 = actual
    try:
        document.report = verify_pdf(pdf)
    except VerificationError as exc:
        document.reasons.append(Reason("document_unverifiable", f"the {kind} {path} cannot be verified: {exc}"))
        return document
    if kind == "agreement":
        _review_attestations(document.report, _attestation_blobs(archive), trust_roots, case_id)
    if document.report.document_kind != kind:
        document.reasons.append(Reason("document_kind_mismatch", f"{path} is listed as the {kind} but is "
                                                                 f"a {document.report.document_kind}"))
    if not document.report.valid:
        document.reasons.append(Reason("document_not_valid", f"the {kind} {path} is not valid (see its report)"))
    return document


def _records_ruling(link: _Link, application_id: str, sha256: str | None) -> bool:
    """Is this the audit entry of the ruling on ``application_id`` whose document has ``sha256``?"""
    if not link.action.endswith(".ruled"):
        return False
    payload = json.loads(link.payload)
    document = payload.get("document") if isinstance(payload, dict) else None
    return isinstance(document, dict) and payload.get("application_id") == application_id \
        and document.get("sha256") == sha256


def _ruling_links(ruling: PackageDocument, case_id: str, agreements: list[PackageDocument],
                  links: list[_Link]) -> list[Reason]:
    """What ties a court-signed ruling to the rest of the package."""
    statement = ruling.report.ruling if ruling.report is not None else None
    if not statement:
        return []
    out = []
    if statement["case_id"] != case_id:
        out.append(Reason("ruling_other_case", f"the ruling {ruling.path} is for case {statement['case_id']}, "
                                               f"not for {case_id}"))
    stated = statement["agreement_sha256"]
    in_package = {a.sha256 for a in agreements}
    if stated is None:
        out.append(Reason("ruling_agreement_unstated", f"the ruling {ruling.path} names no agreement file (SHA-256): "
                                                       f"it cannot be tied to the agreement in the package"))
    elif not in_package:
        out.append(Reason("ruling_agreement_missing", f"the ruling {ruling.path} is for the agreement file {stated}, "
                                                      f"and the package has no agreement"))
    elif stated not in in_package:
        out.append(Reason("ruling_other_agreement", f"the ruling {ruling.path} is for the agreement file {stated}, "
                                                    f"not for the agreement in the package "
                                                    f"({', '.join(sorted(h for h in in_package if h))})"))
    by_seq = {link.seq: link for link in links}
    anchored = by_seq.get(statement["audit_seq"])
    if anchored is None or anchored.hash != statement["audit_head"]:
        out.append(Reason("ruling_audit_mismatch", f"the ruling {ruling.path} states audit entry "
                                                   f"{statement['audit_seq']} as {statement['audit_head']}; the "
                                                   f"package's trail {'differs there' if anchored else 'lacks it'}"))
    if not any(_records_ruling(link, statement["application_id"], ruling.sha256) for link in links):
        out.append(Reason("ruling_not_in_audit", f"no ruling entry of the audit trail names {ruling.path} "
                                                 f"(SHA-256 {ruling.sha256})"))
    return out


def _check_recordings(archive: zipfile.ZipFile, entries: Any, links: list[_Link]) -> list[Reason]:
    """Each cited session's manifest against the package and against the audit trail."""
    audited: dict[str, str] = {}  # session -> the manifest hash of its newest audit entry
    for link in links:
        if link.action == "recording.manifest":
            payload = json.loads(link.payload)
            if isinstance(payload, dict):
                audited[str(payload.get("session"))] = str(payload.get("sha256"))
    out = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        session, stated, path = str(entry.get("session_id")), entry.get("manifest_sha256"), entry.get("path")
        try:
            actual = _digest(archive, str(path)) if path else None
        except (KeyError, zipfile.BadZipFile, OSError):
            actual = None
        if actual is None:
            out.append(Reason("recording_manifest_missing", f"case.json cites recording {session}, whose manifest "
                                                            f"({path}) is not in the package"))
        elif actual != stated:
            out.append(Reason("recording_manifest_mismatch", f"the manifest of recording {session} ({path}) has "
                                                             f"SHA-256 {actual}; case.json cites {stated}"))
        if session not in audited:
            out.append(Reason("recording_not_in_audit", f"no recording.manifest entry of the audit trail names "
                                                        f"recording {session}"))
        elif audited[session] != stated:
            out.append(Reason("recording_audit_mismatch", f"the audit trail records the manifest of recording "
                                                          f"{session} as {audited[session]}; case.json cites {stated}"))
    return out


def open_package(data: bytes) -> tuple[zipfile.ZipFile, dict[str, Any], dict[str, Any]]:
    """The zip with its manifest and ``case.json``, read within the bounds; :class:`PackageError`
    if this is no case package."""
    archive = _open(data)
    manifest, case = _json(archive, MANIFEST), _json(archive, CASE_FILE)
    if manifest.get("format") != FORMAT or case.get("format") != FORMAT:
        raise PackageError(f"not an {FORMAT} package (format {manifest.get('format')!r})")
    return archive, manifest, case


def _check_structure(archive: zipfile.ZipFile, manifest: dict[str, Any],
                     case: dict[str, Any]) -> tuple[str, PackageReport, list[_Link]]:
    view = case.get("case")
    case_id = str(view.get("id") if isinstance(view, dict) else manifest.get("case_id"))
    members, reasons = _check_members(archive, manifest)
    audit, audit_reasons, links = _check_audit(case_id, case.get("audit"))
    reasons += audit_reasons
    reasons += _check_recordings(archive, case.get("recordings"), links)
    return case_id, PackageReport(not reasons, case_id, members, audit, [], reasons), links


def check_structure(data: bytes) -> PackageReport:
    """The cheap part of the check (every member against the manifest, the audit chain, the
    recording citations), without judging the signed PDFs: what the case page shows beside the
    package's contents. Reads every byte: call it from a worker thread."""
    archive, manifest, case = open_package(data)
    return _check_structure(archive, manifest, case)[1]


def check_package(data: bytes, verify_pdf: Callable[[bytes], AgreementReport],
                  trust_roots: Sequence[x509.Certificate] = ()) -> PackageReport:
    """The whole package's report. ``verify_pdf`` judges one signed PDF (raising
    :class:`VerificationError` if it cannot); ``trust_roots`` judge the identity attestations (the
    platform's root); :class:`PackageError` if this is no case package. Runs its own event loop for
    the attestations: call it from a worker thread."""
    archive, manifest, case = open_package(data)
    case_id, structure, links = _check_structure(archive, manifest, case)
    members, audit, reasons = structure.members, structure.audit, structure.reasons
    agreement = case.get("agreement")
    agreements = [_document(archive, agreement, "agreement", verify_pdf, trust_roots, case_id)] \
        if isinstance(agreement, dict) and agreement.get("path") else []
    rulings = [_document(archive, entry, "ruling", verify_pdf) for entry in case.get("rulings") or []
               if isinstance(entry, dict)]
    for ruling in rulings:
        ruling.reasons += _ruling_links(ruling, case_id, agreements, links)
    documents = agreements + rulings
    for document in documents:
        document.ok = not document.reasons
    valid = not reasons and all(d.ok for d in documents)
    return PackageReport(valid, case_id, members, audit, documents, reasons)
