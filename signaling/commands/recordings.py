"""``accord recordings verify SESSION [--package ZIP]``: check a session recording — every segment
file against the manifest, the hash chain, every RFC 3161 time stamp (offline, against the
platform's root or ``--trust``) and, from the server's data, the manifest against the hash the
case's audit trail recorded. Exit 0 when everything checks out, 1 when something was missing or
altered (each finding is printed), 2 when the recording cannot be checked at all."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import async_sessionmaker

from ..config import Settings, pki_directory
from ..database import make_engine
from . import settings_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("recordings", help="session recordings")
    inner = p.add_subparsers(dest="recordings_command", required=True)
    verify = inner.add_parser("verify", help="check a recording's files, hash chain and time stamps")
    verify.add_argument("session_id", metavar="SESSION")
    verify.add_argument("--package", type=Path, help="a downloaded recording package (.zip) to check offline")
    verify.add_argument("--trust", type=Path, action="append", default=[],
                        help="trusted root certificate (PEM or DER) of the time-stamping authority; "
                             "default: this platform's root")
    verify.add_argument("--json", action="store_true", help="print the full report as JSON")
    verify.set_defaults(func=run_verify)


def _roots(args: argparse.Namespace, settings: Settings) -> list[asn1_x509.Certificate]:
    paths = args.trust or [pki_directory(settings) / "root.crt"]
    if not args.trust and not paths[0].exists():
        raise ValueError(f"this data directory has no platform PKI ({paths[0]}): give the TSA's root with --trust")
    roots = []
    for path in paths:
        raw = path.read_bytes()
        try:
            if pem.detect(raw):
                _type, _headers, raw = pem.unarmor(raw)
            cert = asn1_x509.Certificate.load(raw)
            cert.native  # asn1crypto parses lazily: force it, so a bad file fails here
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{path} is not a certificate (PEM or DER): {exc}") from None
        roots.append(cert)
    return roots


async def _verify_stored(settings: Settings, session_id: str, roots: list[asn1_x509.Certificate]):  # type: ignore[no-untyped-def]
    from mediation.clock import SystemClock
    from recordings.storage import LocalRecordingStorage
    from recordings.store import RecordingStore
    from recordings.verify import verify_session

    engine = make_engine(settings.effective_database_url)
    try:
        store = RecordingStore(async_sessionmaker(engine), SystemClock())
        return await verify_session(store, LocalRecordingStorage(settings.data_dir / "recordings"), session_id, roots)
    finally:
        await engine.dispose()


def run_verify(args: argparse.Namespace) -> int:
    from mediation.errors import InvalidInput, NotFound
    from recordings.verify import verify_package

    settings = settings_from(args)
    roots = _roots(args, settings)
    try:
        if args.package is not None:
            report = asyncio.run(verify_package(args.package, roots))
            if report.session_id != args.session_id:
                print(f"accord: the package holds recording {report.session_id}, not {args.session_id}",
                      file=sys.stderr)
                return 2
        else:
            report = asyncio.run(_verify_stored(settings, args.session_id, roots))
    except (NotFound, InvalidInput) as err:
        print(f"accord: {err.message}", file=sys.stderr)
        return 2
    except DBAPIError as err:
        print(f"accord: cannot read the recording tables: {err.orig}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        print(f"recording {report.session_id} ({report.state}): {'INTACT' if report.ok else 'NOT INTACT'}")
        print(f"  manifest SHA-256 {report.manifest_sha256}; {report.segments} segments; "
              f"chain of {report.chain_length}")
        for stamp in report.stamps:
            print(f"  time stamp over chain position {stamp.position}{' (final)' if stamp.final else ''}: "
                  f"{stamp.time} by {stamp.tsa}: {'ok' if stamp.ok else 'NOT OK'}")
        for finding in report.findings:
            print(f"  ! {finding.code} [{finding.where}]: {finding.message}")
    return 0 if report.ok else 1
