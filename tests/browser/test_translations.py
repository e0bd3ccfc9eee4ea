"""Every string the room page shows exists in Chinese and English, and every protocol error code
has its own message (no browser needed: reads web_client/ and docs/protocol.md)."""

from __future__ import annotations

import re
from pathlib import Path

from mediation.rooms import CASE_ROLES

REPO = Path(__file__).resolve().parents[2]
CLIENT = REPO / "web_client"


def catalogs() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {"zh": set(), "en": set()}
    key = re.compile(r'^\s+"([\w.]+)":', re.M)
    for name in ("room_messages.js", "error_messages.js"):
        body = (CLIENT / "js" / name).read_text()
        zh_start, en_start = body.index("\n  zh: {"), body.index("\n  en: {")
        found["zh"] |= set(key.findall(body[zh_start:en_start]))
        found["en"] |= set(key.findall(body[en_start:]))
    return found


def used_keys() -> set[str]:
    keys: set[str] = set()
    for path in (CLIENT / "js").glob("*.js"):
        keys |= set(re.findall(r'\bt\(\s*"([\w.]+)"', path.read_text()))  # dynamic keys: tests below
    for page in ("room.html",):
        html = (CLIENT / page).read_text()
        keys |= set(re.findall(r'data-i18n(?:-placeholder|-title|-label)?="([\w.]+)"', html))
    return keys


def protocol_error_codes() -> set[str]:
    text = (REPO / "docs" / "protocol.md").read_text()
    section = text[text.index("## Error codes"):]
    section = section[:section.index("\n## ", 1)]
    return set(re.findall(r"`([a-z_]+)`", section))


def test_both_languages_have_the_same_keys() -> None:
    found = catalogs()
    assert found["zh"] == found["en"], {"only zh": found["zh"] - found["en"], "only en": found["en"] - found["zh"]}


def test_every_key_the_page_uses_is_translated() -> None:
    missing = used_keys() - catalogs()["zh"]
    assert not missing, f"keys used but not in room_messages.js or error_messages.js: {sorted(missing)}"


def test_every_protocol_error_code_has_a_message() -> None:
    codes = protocol_error_codes()
    assert {"token_expired", "token_invalid", "room_ended"} <= codes  # the parser found the list
    missing = {code for code in codes if f"error.{code}" not in catalogs()["zh"]}
    assert not missing, f"error codes without a message: {sorted(missing)}"


def test_keys_built_at_run_time_are_translated() -> None:
    """Keys the code assembles (`role.${role}`, `conn.${status}`, ...), which the scan above cannot see."""
    keys = catalogs()["zh"]
    for status in ("connecting", "connected", "reconnecting", "offline"):
        assert f"conn.{status}" in keys
    for change in ("muted", "unmuted"):
        for kind in ("Audio", "Video"):
            assert f"notice.{change}{kind}" in keys
    for role in ("mediator", "party", "agent", "observer"):
        assert f"role.{role}" in keys
    for side in ("applicant", "respondent"):
        assert f"side.{side}" in keys
    for mode in ("off", "joint", "joint_and_caucus"):  # the recording policy the room shows the mediator
        assert f"rec.policy.{mode}" in keys
    for answer in ("pending", "consented", "refused"):
        assert f"rec.answer.{answer}" in keys


def test_every_case_role_has_a_label_in_both_languages() -> None:
    """The room shows a case's people by their part in it ("申请人 张三"): every case role the case
    system seats (``mediation.rooms.CASE_ROLES``) has its label."""
    found = catalogs()
    for language in ("zh", "en"):
        missing = {role for role in CASE_ROLES if f"caseRole.{role}" not in found[language]}
        assert not missing, (language, missing)
