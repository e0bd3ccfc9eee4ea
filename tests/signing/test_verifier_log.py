"""The verifier child's log: structured and bounded. pyHanko logs each validation failure with a
traceback; one crafted upload must not flood the server's log (issue 8, item 10)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: The child's entry point run in this process's own child (no fork server, so the verifier can
#: be replaced by one that logs 500 failures with tracebacks and then crashes on something new).
SCRIPT = r"""
import logging, multiprocessing, sys
import signing.verification as verification
from signing import verification_sandbox as sandbox

def noisy(*args, **kwargs):
    log = logging.getLogger("pyhanko.sign.validation")
    for i in range(500):
        try:
            raise ValueError("certificate path %d does not validate " % i + "x" * 2000)
        except ValueError:
            log.warning("Failed to validate signature %d", i, exc_info=True)
    raise KeyError("/ByteRange")

verification.verify_agreement = noisy
receiver, sender = multiprocessing.Pipe(duplex=False)
sandbox._child(sender, b"%PDF-1.7\n%%EOF\n", [], None, {}, 1 << 31)
print(receiver.recv(), file=sys.stdout)
"""


def test_a_failing_verification_writes_a_bounded_structured_log() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT)
    assert done.stdout.strip() == str(("error", "the verifier could not read this PDF"))
    lines = done.stderr.splitlines()
    assert "Traceback" not in done.stderr
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert len(records) == 21  # 20 lines, then how many more were suppressed
    assert all(len(r["message"]) <= 301 and r["component"] == "verifier" for r in records)
    assert records[0]["error"].startswith("ValueError: certificate path 0")
    assert records[-1]["message"] == "481 more log lines of this verification suppressed"
