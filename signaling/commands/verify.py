"""``accord verify agreement.pdf``: the court's check, offline. Exit 0 only for a valid agreement
(1: verified and not valid, 2: not verifiable at all). A court's ruling PDF is recognised and
checked the same way (its court's seal). A case package (the zip of ``GET /api/cases/{id}/package``)
is checked as a whole (:mod:`mediation.package_check`): manifest, audit trail, every signed
document, the identity attestation each signature cites (``attestations/<sha256>.p7s``: printed
per signature with its status, methods, verdict, scores and challenges), and that each ruling is
for the package's agreement; exit 0 only if all of it passes.

``--platform URL`` also sends the file to that server's ``POST /api/verify`` and prints how it
matches the agreement's case there. The verdict stays the offline one: the platform can only
turn a pass into 1 (no such case, superseded version, another revision, evidence not printed);
an unreachable platform or a refused upload is 2, since the check asked for could not be made.

Start-up is kept small: only the report types and the child-process runner are imported here
(:mod:`signing.verification_sandbox`); the verifier itself loads in the fork server.
By default the platform's root is trusted, and the roots of e-seal providers whose seals were
imported (``accord pki import-seal``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509

from signing.verification_sandbox import AgreementReport, VerificationError, verify_agreement_bytes_safely

from ..config import pki_directory
from . import settings_from

if TYPE_CHECKING:
    from identity.attestation_review import AttestationSummary
    from mediation.package_check import PackageReport

#: How a zip file (a case package) starts.
ZIP_MAGIC = b"PK\x03\x04"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="verify a signed agreement, a court's ruling or a case package (offline)")
    p.add_argument("file", type=Path, help="a signed PDF, or a case package (.zip)")
    p.add_argument("--trust", type=Path, action="append", default=[],
                   help="trusted root certificate (PEM or DER); default: this platform's root and the "
                        "providers' roots of imported seals")
    p.add_argument("--crl", type=Path, action="append", default=[],
                   help="a current CRL (DER), e.g. downloaded from {server}/pki/signing-ca.crl")
    p.add_argument("--expected-fields", help="comma-separated field names (default: the list in the PDF)")
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds before giving up")
    p.add_argument("--platform", metavar="URL",
                   help="also match the file to its case on this Accord server (it receives the file)")
    p.set_defaults(func=run)


def _load_cert(path: Path) -> x509.Certificate:
    raw = path.read_bytes()
    return x509.load_pem_x509_certificate(raw) if raw.lstrip().startswith(b"-----") else \
        x509.load_der_x509_certificate(raw)


def _platform_roots(args: argparse.Namespace) -> list[x509.Certificate]:
    directory = pki_directory(settings_from(args))
    roots = [_load_cert(directory / "root.crt")]
    if any((directory / "seals").glob("*/chain.pem")):  # imported e-seals (loading the module costs ~1 s)
        from signing.seals import provider_roots

        roots += provider_roots(directory)
    return roots


def _print_human(report: AgreementReport, indent: str = "") -> None:
    print(indent + ("VALID" if report.valid else "NOT VALID"), f"(judged at {report.judged_at})")
    if report.ruling is not None:
        r = report.ruling
        print(f"{indent}  ruling {r['court_case_number']} of {r['court']}: {r['kind']} {r['decision']}, "
              f"judge {r['judge']}, {r['ruled_at']}; agreement {r['agreement_id'] or '-'} "
              f"(SHA-256 {r['agreement_sha256'] or 'not stated'})")
    for reason in report.reasons:
        print(f"{indent}  ! {reason.code}: {reason.message}")
    for note in report.notes:
        print(f"{indent}  note: {note}")
    for s in report.signatures:
        mark = "ok " if s.ok else "BAD"
        print(f"{indent}  [{mark}] {s.field}: {s.signer.name} ({s.signer.role}"
              f"{', ' + s.signer.side if s.signer.side else ''}) case {s.signer.case_number or '-'}, "
              f"signed {s.signing_time or '?'}, revocation {s.revocation}, modifications {s.modification_level}")
        print(f"{indent}        key custody {s.key_custody or 'not stated'}; identity check {s.identity_check or '-'}")
        for attestation in s.attestations:
            _print_attestation(attestation, indent + "        ")
        for reason in s.reasons:
            print(f"{indent}        ! {reason.code}: {reason.message}")
    for t in report.document_timestamps:
        print(f"{indent}  [{'ok ' if t.ok else 'BAD'}] document timestamp {t.time} by {t.tsa}")
        for reason in t.reasons:
            print(f"{indent}        ! {reason.code}: {reason.message}")


def _print_attestation(a: AttestationSummary, indent: str) -> None:
    """One signature's identity attestation: status, then what it attests (if it could be read)."""
    print(f"{indent}identity attestation {a.sha256}: {a.status.upper()}")
    if a.verdict is not None:
        scores = "; ".join(f"{method} " + ", ".join(f"{k}={v}" for k, v in values.items())
                           for method, values in a.scores.items())
        print(f"{indent}  {'+'.join(a.methods)} {a.verdict}{' (' + a.verdict_reason + ')' if a.verdict_reason else ''}"
              f" at {a.checked_at}; {scores or 'no scores'}"
              + (f"; challenges {' → '.join(a.challenges)}" if a.challenges else ""))
    compared = a.recorded_session
    if compared is not None:
        print(f"{indent}  recorded session {compared['session_id']} seat {compared['seat']}: {compared['verdict']} "
              f"(median {compared['score']}, best {compared['best']}, threshold {compared['threshold']}; "
              f"{compared['frames_used']} frames of {compared['segments']} segments; "
              f"{'required' if compared['required'] else 'reported only'})")
    for reason in a.reasons:
        print(f"{indent}  ! {reason.code}: {reason.message}")


def _print_package(report: PackageReport) -> None:
    print(f"CASE PACKAGE {report.case_id}:", "VALID" if report.valid else "NOT VALID")
    for reason in report.reasons:
        print(f"  ! {reason.code}: {reason.message}")
    print(f"  {report.members} members checked against the manifest")
    if report.audit is not None:
        print(f"  audit trail: {report.audit.entries} entries, " + ("intact" if report.audit.ok else
              f"broken at entry {report.audit.first_bad_seq} ({report.audit.reason})"))
    for document in report.documents:
        print(f"  [{'ok ' if document.ok else 'BAD'}] {document.kind} {document.path} (SHA-256 {document.sha256})")
        for reason in document.reasons:
            print(f"      ! {reason.code}: {reason.message}")
        if document.report is not None:
            _print_human(document.report, indent="      ")


def _run_package(args: argparse.Namespace, data: bytes, roots: list[x509.Certificate], crls: list[bytes]) -> int:
    if args.platform or args.expected_fields:
        print("accord verify: --platform and --expected-fields apply to a PDF, not to a case package", file=sys.stderr)
        return 2
    from mediation.package_check import PackageError, check_package  # loads the audit chain's code: packages only

    try:
        report = check_package(data, lambda pdf: verify_agreement_bytes_safely(pdf, roots, timeout=args.timeout,
                                                                                current_crls=crls), roots)
    except PackageError as exc:
        print(f"accord verify: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        _print_package(report)
    return 0 if report.valid else 1


class PlatformUnavailable(Exception):
    """The platform could not be asked, or refused the file."""


def ask_platform(base_url: str, pdf: bytes, timeout: float) -> dict[str, Any]:
    """The ``platform`` section of the server's report on ``pdf``."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(base_url.rstrip("/") + "/api/verify", data=pdf, method="POST",
                                     headers={"Content-Type": "application/pdf", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            error = json.loads(exc.read())["error"]
            detail = f"{error['code']}: {error['message']}"
        except (ValueError, KeyError, TypeError):
            detail = exc.reason
        raise PlatformUnavailable(f"the platform refused the file (HTTP {exc.code}, {detail})") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise PlatformUnavailable(f"the platform cannot be reached: {exc}") from None
    section = body.get("platform") if isinstance(body, dict) else None
    if not isinstance(section, dict) or "found" not in section:
        raise PlatformUnavailable("the server's report has no platform section (not an Accord server, or too old)")
    return section


def _print_platform(match: dict[str, Any]) -> None:
    if not match["found"]:
        print("PLATFORM: no matching case")
    else:
        state = "current" if match["current"] else f"superseded by v{match['current_version']}"
        print(f"PLATFORM: {'consistent' if match['consistent'] else 'MISMATCH'} - case {match['case_number']}, "
              f"agreement {match['agreement_id']} v{match['version']} ({match['version_status']}, {state}), "
              f"revision {match['revision']} ({match['revision_number']} of {match['stored_revisions']} stored)")
        for item in match["evidence"]:
            print(f"  [{'ok ' if item['printed'] else 'BAD'}] {item['kind']} {item['sha256']}")
    for reason in match["reasons"]:
        print(f"  ! {reason['code']}: {reason['message']}")


def run(args: argparse.Namespace) -> int:
    try:
        data = args.file.read_bytes()
        roots = [_load_cert(p) for p in args.trust] if args.trust else _platform_roots(args)
        crls = [p.read_bytes() for p in args.crl]
        if data.startswith(ZIP_MAGIC):
            return _run_package(args, data, roots, crls)
        expected = [f.strip() for f in args.expected_fields.split(",")] if args.expected_fields else None
        report = verify_agreement_bytes_safely(data, roots, expected, timeout=args.timeout, current_crls=crls)
    except (VerificationError, OSError, ValueError) as exc:
        print(f"accord verify: {exc}", file=sys.stderr)
        return 2
    platform = None
    if args.platform:
        try:
            platform = ask_platform(args.platform, data, args.timeout)
        except (PlatformUnavailable, OSError) as exc:
            print(f"accord verify: {exc}", file=sys.stderr)
            return 2
    if args.json:
        print(json.dumps(report.to_dict() | {"platform": platform}, ensure_ascii=False, indent=2))
    else:
        _print_human(report)
        if platform is not None:
            _print_platform(platform)
    if not report.valid:
        return 1
    return 1 if platform is not None and not platform["consistent"] else 0
