"""The client's reading of the URL fragment (web_client/js/invitation.js), run under Node.

The fragment is whatever a person pastes: it must never throw, and a genuine token's claims
(Chinese names included) must come out intact.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signaling.tokens import TokenIssuer

MODULE = (Path(__file__).resolve().parents[2] / "web_client" / "js" / "invitation.js").as_uri()
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="node is installed by scripts/setup.sh")


def read_invitations(hashes: list[str]) -> list[dict[str, Any]]:
    script = (
        f"import {{ readInvitation }} from {json.dumps(MODULE)};\n"
        "let input = ''; process.stdin.on('data', (d) => (input += d));\n"
        "process.stdin.on('end', () => {\n"
        "  const out = JSON.parse(input).map((h) => readInvitation(h));\n"
        "  process.stdout.write(JSON.stringify(out));\n"
        "});\n"
    )
    done = subprocess.run([NODE, "--input-type=module", "-e", script], input=json.dumps(hashes),
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_genuine_token_is_read_with_its_claims() -> None:
    token, claims = TokenIssuer(b"k" * 32).issue("r_1", "party", "张三（申请人）", "applicant")
    [result] = read_invitations([f"#{token}"])
    assert result["errorCode"] is None and result["token"] == token
    assert result["claims"]["name"] == "张三（申请人）"
    assert result["claims"]["role"] == "party" and result["claims"]["side"] == "applicant"
    assert result["claims"]["seat"] == claims.seat


def test_missing_and_malformed_fragments() -> None:
    results = read_invitations(["", "#", "#abc", "#.sig", "#%%%.x", "#bm90IGpzb24.sig"])
    assert [r["errorCode"] for r in results] == [
        "noToken", "noToken", "token_invalid", "token_invalid", "token_invalid", "token_invalid",
    ]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.text(max_size=300), min_size=1, max_size=40))
def test_any_fragment_gives_claims_or_an_error_code(hashes: list[str]) -> None:
    for result in read_invitations(hashes):
        assert (result["claims"] is None) != (result["errorCode"] is None)
        if result["claims"] is not None:
            assert isinstance(result["claims"]["name"], str)
