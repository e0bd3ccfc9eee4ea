"""Signing benchmark: JSON lines with median times (goal: each under 0.3 s).

* one browser-key signature with a CJK stamp (prepare + finish, B-LT), by phase too,
* the B-LTA finalisation of a five-signature agreement,
* full verification of that agreement, in process and as ``accord verify FILE`` from the
  command line (wall time of the whole command: start-up, the sandboxed verifier, the report),
* a court's ruling rendered and signed with the court's certificate (B-LTA), and
  ``accord verify CASE-PACKAGE.zip`` on a package with that agreement, the ruling and the audit trail.

Run from the repository root: ``.venv/bin/python bench/signing.py [--rounds N]``. The first run
builds the cached stamp font (about 10 s); it is excluded from the timings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Awaitable, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "signing")]

from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

from pades_samples import BROWSER_EVIDENCE, FIVE_SEATS, SEATS, Platform, blank_pdf, browser_sign  # noqa: E402
from ruling_samples import court_signer, package_members, package_zip, ruling_content, sha256  # noqa: E402
from signing.fonts import cjk_stamp_font  # noqa: E402
from signing.pades import StampText, finalize_lta, finish_external, prepare_external  # noqa: E402
from signing.verification import async_verify_agreement  # noqa: E402


def emit(metric: str, value: float, unit: str = "s") -> None:
    print(json.dumps({"metric": metric, "value": round(value, 4), "unit": unit}), flush=True)


async def measure(metric: str, rounds: int, step: Callable[[], Awaitable[None]]) -> None:
    """Median wall time, and median CPU time of the process (all threads): the machine is
    shared, so the CPU figure is the one comparable between runs."""
    wall, cpu = [], []
    for _ in range(rounds):
        start, start_cpu = time.perf_counter(), time.process_time()
        await step()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    emit(metric + "_median", statistics.median(wall))
    emit(metric + "_cpu_median", statistics.median(cpu))


async def main(rounds: int) -> None:
    cjk_stamp_font()
    data_dir = Path(tempfile.mkdtemp())
    platform = Platform.create(data_dir / "pki")
    seat = SEATS[0]
    blank = blank_pdf([s.field for s in FIVE_SEATS], seats=FIVE_SEATS)
    phases: dict[str, list[float]] = {"prepare": [], "finish": []}

    async def one_signature() -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = platform.certificate(seat, blank, key)
        t0 = time.perf_counter()
        context = platform.pki.validation_context()
        prepared = await prepare_external(blank, seat.field, cert, platform.pki.chain,
                                          StampText(seat.name, "申请人"), platform.timestamper,
                                          evidence=BROWSER_EVIDENCE, validation_context=context)
        t1 = time.perf_counter()
        await finish_external(prepared, browser_sign(key, prepared.signed_attrs_der), platform.timestamper, context)
        phases["prepare"].append(t1 - t0)
        phases["finish"].append(time.perf_counter() - t1)

    await measure("signature_cjk_stamp_b_lt", rounds, one_signature)
    emit("signature_prepare_median", statistics.median(phases["prepare"]))
    emit("signature_finish_median", statistics.median(phases["finish"]))

    signed = blank
    for s in FIVE_SEATS:
        signed = await (platform.seal(signed, s.field) if s.role == "organisation" else platform.sign_in_browser(signed, s))
    final = await finalize_lta(signed, platform.timestamper, platform.seals.validation_context())

    async def finalise() -> None:
        await finalize_lta(signed, platform.timestamper, platform.seals.validation_context())

    await measure("b_lta_finalisation", rounds, finalise)

    async def verify() -> None:
        report = await async_verify_agreement(final, [platform.pki.root_cert])
        if not report.valid:
            raise SystemExit(f"benchmark agreement does not verify: {sorted(report.failure_codes())}")

    await measure("verify_five_signatures", rounds, verify)
    emit("agreement_size", len(final), "bytes")

    agreement = data_dir / "agreement.pdf"
    agreement.write_bytes(final)
    emit("accord_verify_cli_five_signatures_median", cli_wall(data_dir, agreement, rounds))

    signer = court_signer(platform)
    content = ruling_content(sha256(final))

    async def ruling() -> None:
        await signer(content)

    await measure("ruling_render_and_sign_b_lta", rounds, ruling)
    package = data_dir / "case-package.zip"
    package.write_bytes(package_zip(await package_members(platform, final)))
    emit("accord_verify_cli_case_package_median", cli_wall(data_dir, package, rounds))


def cli_wall(data_dir: Path, path: Path, rounds: int) -> float:
    """Median wall time of ``accord verify PATH`` as a command (it must exit 0)."""
    command = [sys.executable, "-m", "signaling.cli", "--data-dir", str(data_dir), "verify", str(path)]
    walls = []
    for _ in range(rounds):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, cwd=ROOT, check=False)
        walls.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"accord verify exited {done.returncode}: {done.stdout.decode()}{done.stderr.decode()}")
    return statistics.median(walls)


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)  # pyHanko narrates every offline validation
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    asyncio.run(main(parser.parse_args().rounds))
