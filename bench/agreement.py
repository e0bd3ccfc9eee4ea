"""Agreement benchmark: JSON lines with median times of the agreement-specific work.

* rendering the agreement PDF (reportlab + embedded CJK font + pyHanko fields),
* locking a version (render, content-addressed file, database rows; SQLite),
* one ceremony signature as the browser drives it (prepare, then complete), measured on the
  ceremony object so HTTP is excluded; pyHanko runs in a worker thread as on the server,
* the seal plus the B-LTA archive timestamp,
* rendering one page to PNG with pdftoppm (what the signing page shows).

Run from the repository root: ``.venv/bin/python bench/agreement.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "signing")]

from agreement_db import bound_agreement, create_agreement, open_store  # noqa: E402
from agreement_samples import sample_agreement  # noqa: E402
from pades_samples import ID_DIGEST_KEY  # noqa: E402
from identity.gate import TestIdentityGate  # noqa: E402
from mediation.agreement_store import SqlAgreementStore  # noqa: E402
from signing.agreement_pdf import EvidenceAppendix, render_agreement  # noqa: E402
from signing.ceremony import Signer, SigningCeremony, gate_key  # noqa: E402
from signing.development import browser_sign, spki_of  # noqa: E402
from signing.pki import PlatformPKI  # noqa: E402
from signing.tsa import InProcessTimeStamper, TimeStampAuthority  # noqa: E402


def emit(metric: str, value: float, unit: str = "ms") -> None:
    print(json.dumps({"metric": metric, "value": round(value, 2), "unit": unit}), flush=True)


async def one_agreement(ceremony: SigningCeremony, store: SqlAgreementStore, gate: TestIdentityGate,
                        timings: dict[str, list[float]]) -> None:
    agreement_id = await create_agreement(store, bound_agreement())
    t0 = time.perf_counter()
    state = await store.lock(agreement_id, 1)
    timings["agreement_lock"].append(time.perf_counter() - t0)
    for slot in state.slots[:-1]:
        key = ec.generate_private_key(ec.SECP256R1())
        spki = spki_of(key)
        signer = Signer(slot.signer_key, slot.participant_id)
        await gate.pass_now(gate_key(agreement_id, slot.signer_key))
        challenge = await ceremony.begin(agreement_id, 1, signer, slot.field_name)
        await ceremony.enroll(agreement_id, 1, signer, slot.field_name, spki, browser_sign(key, challenge.nonce + spki))
        t0 = time.perf_counter()
        prep = await ceremony.prepare(agreement_id, 1, signer, slot.field_name)
        t1 = time.perf_counter()
        await ceremony.complete(agreement_id, 1, signer, slot.field_name, browser_sign(key, prep.signed_attrs_der))
        t2 = time.perf_counter()
        timings["ceremony_prepare"].append(t1 - t0)
        timings["ceremony_complete"].append(t2 - t1)
    t0 = time.perf_counter()
    await ceremony.seal(agreement_id, 1)
    timings["ceremony_seal_and_lta"].append(time.perf_counter() - t0)


async def main(rounds: int) -> None:
    timings: dict[str, list[float]] = {k: [] for k in (
        "agreement_render", "agreement_lock", "ceremony_prepare", "ceremony_complete", "ceremony_seal_and_lta",
        "page_png")}
    agreement = sample_agreement()
    render_agreement(agreement, EvidenceAppendix(), agreement_id="ag_0000000000000000", version=1)  # warm fonts
    for _ in range(rounds):
        t0 = time.perf_counter()
        rendered = render_agreement(agreement, EvidenceAppendix(), agreement_id="ag_0000000000000000", version=1)
        timings["agreement_render"].append(time.perf_counter() - t0)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pdf = work / "a.pdf"
        pdf.write_bytes(rendered.pdf)
        for _ in range(rounds):
            t0 = time.perf_counter()
            subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", "80", "-png", "-singlefile", str(pdf),
                            str(work / "p")], check=True)
            timings["page_png"].append(time.perf_counter() - t0)
        pki = PlatformPKI.init(work / "pki", "bench-passphrase", "http://accord.bench", "朝阳区人民调解委员会")
        engine, store = await open_store(work)
        gate = TestIdentityGate()
        ceremony = SigningCeremony(store, pki, gate, InProcessTimeStamper(TimeStampAuthority(pki)),
                                   id_digest_key=ID_DIGEST_KEY)
        await one_agreement(ceremony, store, gate, {k: [] for k in timings})  # warm the stamp font cache
        for _ in range(rounds):
            await one_agreement(ceremony, store, gate, timings)
        await engine.dispose()
    for name, values in timings.items():
        emit(f"{name}_median", statistics.median(values) * 1000)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(main(parser.parse_args().rounds))
