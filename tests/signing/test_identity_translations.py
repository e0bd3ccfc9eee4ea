"""Every code the identity flow can answer with has its words in Chinese and English (no browser:
reads the sources and web_client/js/identity_messages.js)."""

from __future__ import annotations

import re
from pathlib import Path

from identity.checks import METHODS
from identity.errors import INPUT_ERROR_CODES
from identity.liveness import CHALLENGE_KINDS

REPO = Path(__file__).resolve().parents[2]
MESSAGES = REPO / "web_client" / "js" / "identity_messages.js"
SOURCES = ["identity/enrolment.py", "identity/checks.py", "identity/provider_client.py", "signaling/api/identity.py",
           "signaling/api/signing_identity.py", "signaling/identity_capture.py"]
#: Why a check failed (the session's and the code's ``reason``).
REASONS = {"no_face", "several_faces", "face_too_small", "no_match", "no_frames", "static", "planar", "too_slow",
           "out_of_order", "wrong_code", "no_code", "check_failed",
           "undecodable",
           # a real-name provider's answer refused (identity.provider, identity.provider_client)
           "provider_unavailable", "verdict_signature_invalid", "verdict_unsigned", "verdict_replayed",
           "verdict_other_signer", "verdict_malformed", "provider_untrusted", "provider_certificate_expired",
           "provider_certificate_invalid"}


def catalog(language: str) -> set[str]:
    body = MESSAGES.read_text()
    zh, en = body.index("\n  zh: {"), body.index("\n  en: {")
    part = body[zh:en] if language == "zh" else body[en:]
    return set(re.findall(r'^\s+"([\w.]+)":', part, re.M))


def refusal_codes() -> set[str]:
    codes: set[str] = set()
    for source in SOURCES:
        text = (REPO / source).read_text()
        codes |= set(re.findall(r'(?:InvalidInput|Forbidden|NotFound|Throttled|IdentityCheckRejected|ApiError)\(\s*(?:\d+,\s*)?"([a-z_]+)"', text))
    return codes


def test_both_languages_have_the_same_keys() -> None:
    assert catalog("zh") == catalog("en"), catalog("zh") ^ catalog("en")


def test_every_refusal_and_every_reason_is_worded() -> None:
    keys = catalog("zh")
    codes = refusal_codes() | set(INPUT_ERROR_CODES)
    assert {"not_enrolled", "consent_required", "id_number_mismatch", "checked_at_in_future"} <= codes
    shared = {"invalid_id_number", "bad_request", "checked_at_in_future", "checked_at_too_old", "invalid_checked_at",
              "simulation_disabled", "unknown_signer"}  # worded by the case pages, or never reach a person
    missing = {c for c in codes - shared if f"error.{c}" not in keys}
    assert not missing, sorted(missing)
    assert not {r for r in REASONS if f"reason.{r}" not in keys}
    assert all(f"prompt.{kind}" in keys for kind in CHALLENGE_KINDS)
    assert all(f"check.method.{method}" in keys for method in METHODS)
