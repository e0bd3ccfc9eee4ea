"""Shared builders for the ruling and case-package tests (and bench/signing.py): a court's ruling
made and signed as the case system makes it, and a case package laid out as the exporter lays it
out, with a real signed agreement, a real audit chain and the ruling tied to both."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import date, datetime, timezone
from typing import Any

from mediation.audit import GENESIS, canonical_json, entry_hash
from mediation.package import zip_package
from mediation.package_check import FORMAT
from signing.binding import RulingStatement
from signing.ruling import COURT_SEAL_FIELD, CourtRulingSigner, PaymentDemand, RulingContent, RulingParty

from pades_samples import AGREEMENT_ID, Platform

COURT = "示例成都市锦江区人民法院"
CASE_ID = "C-PKG0000001"
APPLICATION_ID = "J-PKG0000001"
RULED_AT = datetime(2026, 3, 20, 2, 30, tzinfo=timezone.utc)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def ruling_content(agreement_sha256: str | None, *, audit_seq: int = 1, audit_head: str = GENESIS,
                   court: str = COURT, kind: str = "judicial_confirmation", decision: str = "valid",
                   reasons: str | None = None) -> RulingContent:
    statement = RulingStatement(court=court, court_case_number="(2026)川0104民特7号", kind=kind, decision=decision,
                                application_id=APPLICATION_ID, case_id=CASE_ID, agreement_id=AGREEMENT_ID,
                                agreement_sha256=agreement_sha256, audit_seq=audit_seq, audit_head=audit_head,
                                ruled_at=RULED_AT, judge="示例法官", seal_field=COURT_SEAL_FIELD)
    creditor_first = kind == "payment_order"
    return RulingContent(
        statement=statement,
        parties=[RulingParty(title="applicant", name="张三", id_number="110105********1234", address="北京市朝阳区示例路1号"),
                 RulingParty(title="respondent" if creditor_first else "applicant", name="李四",
                             address="上海市黄浦区示例路2号")],
        organisation="朝阳区人民调解委员会", agreement_effective_at=datetime(2026, 3, 2, 9, tzinfo=timezone.utc),
        filed_at=datetime(2026, 3, 5, 9, tzinfo=timezone.utc), reasons=reasons,
        payment=PaymentDemand(amount_fen=5_000_000, due_date=date(2026, 12, 31)) if creditor_first else None)


def court_signer(platform: Platform) -> CourtRulingSigner:
    return CourtRulingSigner(platform.seals, platform.timestamper)


def chain(actions: list[tuple[str, dict[str, Any]]], after: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Audit entries as the package carries them (``read_trail``), hashed as ``mediation.audit`` hashes them."""
    entries = list(after or [])
    for action, payload in actions:
        seq = len(entries) + 1
        at = datetime(2026, 3, 1, 8, tzinfo=timezone.utc).replace(minute=seq).isoformat(timespec="microseconds")
        prev = entries[-1]["hash"] if entries else GENESIS
        digest = entry_hash(CASE_ID, seq, at, "a_0000000000000001", action, canonical_json(payload), prev)
        entries.append({"seq": seq, "at": at, "actor": "a_0000000000000001", "action": action, "payload": payload,
                        "hash": digest})
    return entries


async def package_members(platform: Platform, agreement: bytes, *, ruled_agreement: bytes | None = None
                          ) -> dict[str, bytes]:
    """A settled case's package: the agreement, the court's ruling on it (or, with ``ruled_agreement``,
    on another agreement), and the audit trail the ruling anchors and records."""
    entries = chain([("case.created", {"origin": "application"}),
                     ("agreement.effective", {"agreement_id": AGREEMENT_ID}),
                     ("confirmation.filed", {"application_id": APPLICATION_ID, "side": "respondent"}),
                     ("court.accepted", {"application_id": APPLICATION_ID, "reasons": ""})])
    content = ruling_content(sha256(ruled_agreement or agreement), audit_seq=len(entries),
                             audit_head=entries[-1]["hash"])
    ruling = await court_signer(platform)(content)
    entries = chain([("judicial_confirmation.ruled", {
        "application_id": APPLICATION_ID, "ruling": "valid", "reasons": "", "court_case_number": "(2026)川0104民特7号",
        "document": {"file_id": "f_0000000000000001", "sha256": sha256(ruling)}})], after=entries)
    agreement_path, ruling_path = f"agreement/{AGREEMENT_ID}-v1.pdf", f"rulings/{APPLICATION_ID}.pdf"
    case = {
        "format": FORMAT, "case": {"id": CASE_ID}, "documents": [],
        "agreement": {"agreement_id": AGREEMENT_ID, "version": 1, "path": agreement_path, "sha256": sha256(agreement)},
        "rulings": [{"path": ruling_path, "application_id": APPLICATION_ID, "kind": "judicial_confirmation",
                     "ruling": "valid", "court": COURT, "sha256": sha256(ruling), "size": len(ruling)}],
        "audit": {"entries": entries, "head": {"seq": len(entries), "hash": entries[-1]["hash"]}},
    }
    return {agreement_path: agreement, ruling_path: ruling, "case.json": case_json(case)}


def case_json(case: dict[str, Any]) -> bytes:
    return json.dumps(case, ensure_ascii=False, indent=2).encode()


def package_zip(members: dict[str, bytes]) -> bytes:
    return zip_package(members, {"format": FORMAT, "case_id": CASE_ID, "exported_at": RULED_AT.isoformat()})


def swap_member(package: bytes, name: str, data: bytes) -> bytes:
    """The same zip, manifest untouched, with one member's bytes replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, data if info.filename == name else source.read(info))
    return out.getvalue()
