"""``accord pki init|import|import-seal|show|revoke|renew-timestamp``: the platform PKI from the shell.

Keys are protected with ``ACCORD_KEY_PASSPHRASE`` (or ``ACCORD_KEY_PASSPHRASE_FILE``); in
development a generated passphrase in the data directory's secrets is used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from signing.pades import SigningError, renew_archive_timestamp
from signing.pki import PKIError, PlatformPKI
from signing.seals import SealRegistry
from signing.tsa import InProcessTimeStamper, TimeStampAuthority, external_timestamper

from ..api.pki import pki_directory, pki_passphrase
from . import settings_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pki", help="platform certificate authority, TSA and organisation seals")
    inner = p.add_subparsers(dest="pki_command", required=True)
    init = inner.add_parser("init", help="create a development PKI (root, signing CA, TSA)")
    init.add_argument("--org-name", required=True, help="mediation organisation, e.g. 朝阳区人民调解委员会")
    init.add_argument("--base-url", help="public URL certificates point to (default: the server's)")
    init.set_defaults(func=run_init)
    imp = inner.add_parser("import", help="use an existing root and issuing CA (production)")
    imp.add_argument("--org-name", required=True)
    imp.add_argument("--base-url")
    imp.add_argument("--root", type=Path, required=True, help="root CA certificate (PEM)")
    imp.add_argument("--ca", type=Path, required=True, help="issuing CA certificate (PEM)")
    imp.add_argument("--ca-key", type=Path, required=True, help="issuing CA private key (PEM)")
    imp.add_argument("--ca-key-passphrase-env", metavar="VAR",
                     help="environment variable holding the CA key file's own passphrase")
    imp.add_argument("--root-crl", type=Path, help="the root's current CRL (DER or PEM)")
    imp.set_defaults(func=run_import)
    seal = inner.add_parser("import-seal", help="use an organisation's seal from an e-seal provider")
    seal.add_argument("--organisation", required=True, metavar="ID",
                      help="the organisation's id (its unified social credit code for agreements that name no id)")
    seal.add_argument("--cert", type=Path, required=True,
                      help="seal certificate (PEM), followed by the provider's chain up to its root")
    seal.add_argument("--key", type=Path, required=True, help="the seal's private key (PEM)")
    seal.add_argument("--key-passphrase-env", metavar="VAR",
                      help="environment variable holding the key file's own passphrase")
    seal.add_argument("--crl", type=Path, action="append", default=[],
                      help="the provider's current CRL (DER or PEM); repeat for each CA")
    seal.set_defaults(func=run_import_seal)
    show = inner.add_parser("show", help="certificates, CRL and revocations")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=run_show)
    revoke = inner.add_parser("revoke", help="revoke a certificate by serial number (hex)")
    revoke.add_argument("serial", help="serial number in hex, as `accord verify` prints it")
    revoke.add_argument("--reason", default="unspecified", help="RFC 5280 reason, e.g. keyCompromise")
    revoke.set_defaults(func=run_revoke)
    renew = inner.add_parser("renew-timestamp", help="add a new archive timestamp to a signed agreement")
    renew.add_argument("pdf", type=Path)
    renew.add_argument("-o", "--output", type=Path, required=True)
    renew.set_defaults(func=run_renew)


def _fail(exc: Exception) -> int:
    print(f"accord pki: {exc}", file=sys.stderr)
    return 2


def _load(args: argparse.Namespace) -> PlatformPKI:
    settings = settings_from(args)
    return PlatformPKI.load(pki_directory(settings), pki_passphrase(settings))


def run_init(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    try:
        pki = PlatformPKI.init(pki_directory(settings), pki_passphrase(settings), args.base_url or settings.base_url,
                               args.org_name)
    except PKIError as exc:
        return _fail(exc)
    print(f"created {pki.directory}; root certificate fingerprint (SHA-256): "
          f"{pki.root_cert.fingerprint(hashes.SHA256()).hex()}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    key_passphrase = os.environ[args.ca_key_passphrase_env].encode() if args.ca_key_passphrase_env else None
    try:
        ca_key = serialization.load_pem_private_key(args.ca_key.read_bytes(), key_passphrase)
        root_crl = None
        if args.root_crl:
            raw = args.root_crl.read_bytes()
            root_crl = x509.load_pem_x509_crl(raw) if raw.startswith(b"-----") else x509.load_der_x509_crl(raw)
        pki = PlatformPKI.import_ca(
            pki_directory(settings), pki_passphrase(settings), args.base_url or settings.base_url, args.org_name,
            root_cert=x509.load_pem_x509_certificate(args.root.read_bytes()),
            ca_cert=x509.load_pem_x509_certificate(args.ca.read_bytes()), ca_key=ca_key, root_crl=root_crl)
    except (PKIError, ValueError, TypeError) as exc:
        return _fail(exc)
    print(f"imported into {pki.directory}; TSA certificate issued by {pki.signing_ca_cert.subject.rfc4514_string()}")
    return 0


def _crl_der(raw: bytes) -> bytes:
    crl = x509.load_pem_x509_crl(raw) if raw.lstrip().startswith(b"-----") else x509.load_der_x509_crl(raw)
    return crl.public_bytes(serialization.Encoding.DER)


def run_import_seal(args: argparse.Namespace) -> int:
    key_passphrase = os.environ[args.key_passphrase_env].encode() if args.key_passphrase_env else None
    try:
        key = serialization.load_pem_private_key(args.key.read_bytes(), key_passphrase)
        seal = SealRegistry(_load(args)).import_seal(args.organisation, args.cert.read_bytes(), key,
                                                     [_crl_der(path.read_bytes()) for path in args.crl])
    except (PKIError, ValueError, TypeError, OSError) as exc:
        return _fail(exc)
    root = seal.provider_root
    print(f"imported the seal of {seal.holder.name} ({seal.holder.credit_code or 'no credit code'}), "
          f"serial {seal.cert.serial_number:x}, valid until {seal.cert.not_valid_after_utc:%Y-%m-%d}"
          + (f"; verifiers must trust the provider's root {root.subject.rfc4514_string()}" if root else ""))
    return 0


def _describe(cert: x509.Certificate) -> dict[str, str]:
    return {"subject": cert.subject.rfc4514_string(), "serial": f"{cert.serial_number:x}",
            "not_after": cert.not_valid_after_utc.isoformat(),
            "sha256": cert.fingerprint(hashes.SHA256()).hex()}


def run_show(args: argparse.Namespace) -> int:
    try:
        pki = _load(args)
        crl = pki.current_crl()
        seals = SealRegistry(pki).holders()
    except PKIError as exc:
        return _fail(exc)
    info = {
        "directory": str(pki.directory), "base_url": pki.base_url, "organisation": pki.org_name,
        "root_key_on_server": pki.has_root_key,
        "certificates": {name: _describe(cert) for name, cert in (
            ("root", pki.root_cert), ("signing_ca", pki.signing_ca_cert), ("tsa", pki.tsa_cert))},
        "seals": [{"kind": holder.kind, "holder_id": holder.holder_id, "name": holder.name,
                   "credit_code": holder.credit_code, "imported": imported, **_describe(cert)}
                  for holder, cert, imported in seals],
        "crl": {"this_update": crl.last_update_utc.isoformat(), "next_update": crl.next_update_utc.isoformat(),
                "url": f"{pki.base_url}/pki/signing-ca.crl"},
        "revoked": [{"serial": f"{r.serial:x}", "reason": r.reason, "at": r.revoked_at.isoformat()}
                    for r in pki.revocations()],
    }
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=2))
        return 0
    print(f"PKI in {info['directory']} for {pki.org_name} ({pki.base_url})")
    for name, cert in info["certificates"].items():
        print(f"  {name:10} {cert['subject']}  serial {cert['serial']}  until {cert['not_after']}")
    for seal in info["seals"]:
        origin = "imported" if seal["imported"] else "issued here"
        print(f"  {seal['kind']:12} {seal['name']} ({seal['credit_code'] or 'no credit code'}, {origin})  "
              f"serial {seal['serial']}  until {seal['not_after']}")
    print(f"  CRL        next update {info['crl']['next_update']}, {len(info['revoked'])} revoked")
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    try:
        revocation = _load(args).revoke(int(args.serial, 16), args.reason)
    except (PKIError, ValueError) as exc:
        return _fail(exc)
    state = "revoked" if revocation.newly_revoked else "was already revoked"
    print(f"{revocation.serial:x} {state} ({revocation.reason}) at {revocation.revoked_at.isoformat()}")
    return 0


def run_renew(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    try:
        pki = _load(args)
        stamper = external_timestamper(settings.tsa_url) if settings.tsa_url else \
            InProcessTimeStamper(TimeStampAuthority(pki))
        renewed = asyncio.run(renew_archive_timestamp(args.pdf.read_bytes(), stamper,
                                                      SealRegistry(pki).validation_context()))
    except (PKIError, SigningError, OSError) as exc:
        return _fail(exc)
    args.output.write_bytes(renewed)
    print(f"wrote {args.output} with a new archive timestamp")
    return 0
