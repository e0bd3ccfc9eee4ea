"""The verifier's report, and the child process that produces it.

Why a module of its own: :func:`verify_agreement_bytes_safely` runs the verifier
(:mod:`signing.verification`, which loads pyHanko: about a second) in a fork-server child with a
time and memory budget, and gets the report back pickled. The parent — ``accord verify``, the
web server — needs only the report types and this runner, so a command-line check starts
without loading pyHanko twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import re
import resource
import sys
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from cryptography import x509
from cryptography.hazmat.primitives import serialization

if TYPE_CHECKING:
    from identity.attestation_review import AttestationSummary

    from .case_match import CaseMatch

#: Largest file the verifier reads (an agreement with a few signatures is well under 1 MB).
MAX_PDF_BYTES = 20 * 1024 * 1024
#: Wall-clock budget and address-space cap for :func:`verify_agreement_bytes_safely`.
DEFAULT_TIMEOUT_SECONDS = 30.0
CHILD_MEMORY_BYTES = 1536 * 1024 * 1024
#: ``%%EOF`` markers the verifier accepts. Each revision of an agreement ends with one (the locked
#: PDF, each signature, validation data, each document timestamp): a few dozen, even after years
#: of archive timestamp renewals.
MAX_REVISIONS = 200
#: A revision ends after ``%%EOF`` and its line end (none, CR, LF or CRLF).
EOF_MARKER = re.compile(rb"%%EOF[\r\n]{0,2}")


class VerificationError(Exception):
    """The input cannot be verified at all (not a PDF, too large, malformed, too costly)."""


@dataclass(frozen=True)
class Reason:
    code: str
    message: str


@dataclass
class SignerInfo:
    """Who signed, as the event certificate's subject says."""

    name: str | None
    role: str | None
    case_number: str | None
    side: str | None
    id_number_digest: str | None
    organisation: str | None


@dataclass
class SignatureReport:
    field: str
    signer: SignerInfo
    certificate_serial: str
    chain: list[str]
    intact: bool
    valid: bool
    trusted: bool
    signing_time: str | None
    timestamp_ok: bool
    revocation: str
    coverage: str | None
    modification_level: str | None
    docmdp_ok: bool | None
    bottom_line: bool
    ades_indication: str
    ades_subindication: str | None
    ok: bool
    reasons: list[Reason] = field(default_factory=list)
    #: From the signed ``/Reason`` (:class:`signing.evidence.SignatureEvidence`): ``browser`` or
    #: ``server``, and the identity check that allowed the signature; ``None`` if not stated.
    key_custody: str | None = None
    identity_check: str | None = None
    #: The agreement field the signer's certificate was issued for (event certificates), or
    #: whose seal it is (seal certificates); ``None`` if it states neither.
    binding: dict[str, Any] | None = None
    #: The identity attestations the signature cites (one per check that allowed it), checked by
    #: whoever holds them (the platform's database, a case package: :mod:`identity.attestation_review`);
    #: empty if none is cited or they were not checked.
    attestations: list[AttestationSummary] = field(default_factory=list)


@dataclass
class DocumentTimestampReport:
    field: str
    time: str | None
    tsa: str | None
    intact: bool
    valid: bool
    trusted: bool
    coverage: str | None
    modification_level: str | None
    ok: bool
    reasons: list[Reason] = field(default_factory=list)


@dataclass
class AgreementReport:
    valid: bool
    expected_fields: list[str]
    signed_fields: list[str]
    signatures: list[SignatureReport]
    document_timestamps: list[DocumentTimestampReport]
    judged_at: str
    notes: list[str] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)
    #: The agreement's case on the platform that verified it (:mod:`signing.case_match`); ``None`` offline.
    platform: CaseMatch | None = None
    #: The agreement id and who must sign each field, as the document's first revision states them.
    agreement_id: str | None = None
    signer_slots: list[dict[str, Any]] = field(default_factory=list)
    #: ``agreement``, or ``ruling`` for a court's ruling, whose statement (court, case number,
    #: application, the agreement's SHA-256, ...) is then in ``ruling``.
    document_kind: str = "agreement"
    ruling: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def failure_codes(self) -> set[str]:
        """Every reason code in the report (document and signatures), for quick checks."""
        codes = {r.code for r in self.reasons}
        for item in [*self.signatures, *self.document_timestamps]:
            codes.update(r.code for r in item.reasons)
        return codes



def revision_prefix_hashes(pdf: bytes, max_revisions: int = MAX_REVISIONS) -> list[str]:
    """SHA-256 of the bytes up to each ``%%EOF``, first revision first, in one pass over the file.

    Where a revision ends among the line-end bytes after ``%%EOF`` is not marked (the next update
    may start with one), so each cut in the first two of them counts: at most three hashes per
    marker, each of a different prefix. Past ``max_revisions`` markers the file is refused: no
    agreement has that many revisions, and the platform lookup takes a bounded list.
    """
    view = memoryview(pdf)
    hashes: list[str] = []
    running, fed = hashlib.sha256(), 0
    for count, marker in enumerate(EOF_MARKER.finditer(pdf), start=1):
        if count > max_revisions:
            raise VerificationError(f"the PDF has more than {max_revisions} end-of-file markers; an agreement "
                                    f"has one per revision, a few dozen at most")
        for end in range(marker.start() + 5, marker.end() + 1):
            running.update(view[fed:end])
            fed = end
            hashes.append(running.copy().hexdigest())
    return hashes


@dataclass
class VerifiedUpload:
    """What the sandboxed verifier returns: the report, and the file's revision prefix hashes
    (:func:`revision_prefix_hashes`) for :func:`signing.case_match.match_to_platform`."""

    report: AgreementReport
    prefix_hashes: list[str]


#: Log lines one verification may write; what passes it is counted in one last line.
MAX_CHILD_LOG_LINES = 20
#: Longest message a child's log line carries.
MAX_LOG_MESSAGE = 300


class BoundedLogHandler(logging.Handler):
    """The verifier child's log: one JSON line per record on stderr, an exception as its type and
    message (never a traceback), at most :data:`MAX_CHILD_LOG_LINES` of them. pyHanko logs every
    validation failure with its traceback: a crafted file would otherwise write thousands of
    lines into the server's log for each upload."""

    def __init__(self, stream: TextIO, limit: int = MAX_CHILD_LOG_LINES):
        super().__init__(logging.WARNING)
        self.stream, self.limit, self.written, self.dropped = stream, limit, 0, 0

    def emit(self, record: logging.LogRecord) -> None:
        if self.written >= self.limit:
            self.dropped += 1
            return
        line: dict[str, Any] = {"level": record.levelname, "logger": record.name, "component": "verifier",
                                "message": _clip(record.getMessage())}
        if record.exc_info and record.exc_info[1] is not None:
            line["error"] = f"{type(record.exc_info[1]).__name__}: {_clip(str(record.exc_info[1]))}"
        self._write(line)

    def close(self) -> None:
        if self.dropped:
            self._write({"level": "WARNING", "logger": __name__, "component": "verifier",
                         "message": f"{self.dropped} more log lines of this verification suppressed"})
            self.dropped = 0
        super().close()

    def _write(self, line: dict[str, Any]) -> None:
        self.written += 1
        self.stream.write(json.dumps(line, ensure_ascii=False) + "\n")
        self.stream.flush()


def _clip(text: str) -> str:
    return text if len(text) <= MAX_LOG_MESSAGE else text[:MAX_LOG_MESSAGE] + "…"


def _child(conn: Any, pdf: bytes, roots_der: list[bytes], expected: list[str] | None,
           options: dict[str, Any], memory_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    handler = BoundedLogHandler(sys.stderr)
    logging.root.handlers[:] = [handler]
    logging.root.setLevel(logging.WARNING)
    try:
        prefix_hashes = revision_prefix_hashes(pdf)  # first: a flood of markers is refused before the parse
        from .verification import verify_agreement  # preloaded in the fork server: no import cost here
        roots = [x509.load_der_x509_certificate(der) for der in roots_der]
        conn.send(("ok", VerifiedUpload(verify_agreement(pdf, roots, expected, **options), prefix_hashes)))
    except VerificationError as exc:
        conn.send(("error", str(exc)))
    except MemoryError:
        conn.send(("error", "verifying this PDF needs more memory than allowed"))
    except RecursionError:
        conn.send(("error", "the PDF nests objects too deeply to be read safely"))
    except Exception as exc:  # a verifier bug on odd input: one line in the log, a refusal for the caller
        logging.getLogger(__name__).error("verification failed unexpectedly", exc_info=exc)
        conn.send(("error", "the verifier could not read this PDF"))
    finally:
        handler.close()
        conn.close()


_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(["signing.verification"])


def verify_upload_safely(pdf: bytes, trust_roots: list[x509.Certificate],
                         expected_fields: list[str] | None = None, *,
                         timeout: float = DEFAULT_TIMEOUT_SECONDS,
                         memory_bytes: int = CHILD_MEMORY_BYTES, **options: Any) -> VerifiedUpload:
    """:func:`signing.verification.verify_agreement` and :func:`revision_prefix_hashes` in a child
    process with a time and memory budget.

    Blocking: call it through an executor. The size check happens here first, so a huge upload
    never reaches the child. A hang or a crash becomes a :class:`VerificationError`.
    """
    max_bytes = options.get("max_bytes", MAX_PDF_BYTES)
    if len(pdf) > max_bytes:
        raise VerificationError(f"the file is {len(pdf)} bytes; the verifier accepts at most {max_bytes}")
    roots_der = [c.public_bytes(serialization.Encoding.DER) for c in trust_roots]
    receiver, sender = _context.Pipe(duplex=False)
    process = _context.Process(target=_child, args=(sender, pdf, roots_der, expected_fields, options, memory_bytes),
                               daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            raise VerificationError(f"verification took longer than {timeout:.0f} s and was stopped")
        try:
            outcome, payload = receiver.recv()
        except EOFError:
            raise VerificationError("the verifier process died on this input (resource limits)") from None
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join()
    if outcome == "error":
        raise VerificationError(payload)
    return payload


def verify_agreement_bytes_safely(pdf: bytes, trust_roots: list[x509.Certificate],
                                  expected_fields: list[str] | None = None, **options: Any) -> AgreementReport:
    """The report of :func:`verify_upload_safely` alone (offline checks, which match no case)."""
    return verify_upload_safely(pdf, trust_roots, expected_fields, **options).report
