"""Agreements as the former JSON-file store left them in a data directory, for the import tests."""

from __future__ import annotations

import json
from pathlib import Path

from signing.agreement import AgreementData
from signing.agreement_pdf import EvidenceAppendix, render_agreement

from .doubles import START


def write_legacy_agreement(root: Path, agreement_id: str, data: AgreementData) -> str:
    """An agreement as the former JSON-file store left it: v1 locked, v2 a draft; returns v1's hash."""
    rendered = render_agreement(data, EvidenceAppendix(), agreement_id=agreement_id, version=1)
    now = START.isoformat()
    base = {"agreement_id": agreement_id, "data": data.model_dump(mode="json"),
            "evidence": EvidenceAppendix().model_dump(mode="json"), "created_at": now, "created_by": "apikey:court",
            "signatures": [], "effective_at": None, "completed_at": None, "final_sha256": None}
    slots = [{k: v for k, v in s.model_dump(mode="json").items() if k not in ("participant_id", "organisation_id")}
             for s in rendered.slots]
    v1 = {**base, "version": 1, "status": "superseded", "locked_at": now, "locked_sha256": rendered.sha256,
          "slots": slots, "superseded_at": now}
    v2 = {**base, "version": 2, "status": "draft", "locked_at": None, "locked_sha256": None, "slots": slots,
          "superseded_at": None}
    directory = root / "agreements" / agreement_id
    for version, state in ((1, v1), (2, v2)):
        (directory / f"v{version}").mkdir(parents=True)
        (directory / f"v{version}" / "state.json").write_text(json.dumps(state))
    (directory / "v1" / "rev-00.pdf").write_bytes(rendered.pdf)
    (directory / "agreement.json").write_text(json.dumps({"agreement_id": agreement_id, "current_version": 2,
                                                          "created_at": now}))
    return rendered.sha256
