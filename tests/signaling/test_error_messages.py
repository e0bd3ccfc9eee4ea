"""Every error code the server can send has plain Chinese and English words in the client's tables,
and every message table a page serves has the same keys in both languages.

The codes come from the server's source (:mod:`tests.support.error_codes`); the tables are read by
Node itself (``import()`` of each ``*messages.js``), so what is checked is what the browser loads.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess

from datetime import date

import pytest
from pydantic import BaseModel, Field, ValidationError

from mediation.court import PaymentOrderDeclarations, payment_order_checks
from mediation.next_actions import Action
from mediation.workflow import Step
from signaling.openapi import validation_details
from tests.support.error_codes import REPO, collect

CLIENT = REPO / "web_client" / "js"
TABLE_FILES = sorted(p for p in CLIENT.rglob("*messages.js") if "node_modules" not in p.parts)

_DUMP = """
const out = {};
for (const file of process.argv.slice(1)) {
  const module = await import(file);
  for (const [name, value] of Object.entries(module)) {
    if (value && typeof value === "object" && "zh" in value && "en" in value) out[`${file}#${name}`] = value;
  }
}
console.log(JSON.stringify(out));
"""


@pytest.fixture(scope="module")
def tables() -> dict[str, dict[str, dict[str, str]]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    done = subprocess.run([node, "--input-type=module", "-e", _DUMP, *map(str, TABLE_FILES)],
                          capture_output=True, text=True, check=True, timeout=60)
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def shared(tables: dict[str, dict[str, dict[str, str]]]) -> dict[str, dict[str, str]]:
    return tables[f"{CLIENT / 'error_messages.js'}#ERROR_MESSAGES"]


def test_the_collector_finds_codes_of_every_kind_of_error() -> None:
    found = collect()
    assert not found.unresolved, f"calls whose error code the collector cannot see: {found.unresolved}"
    # One of each way of making a code: ApiError, a MediationError kind, RoomError, TokenError,
    # a RefusalCode member, an rtc class attribute, an identity input code, a Socket.IO refuse(),
    # an error event written out as a dict.
    assert {"cross_origin", "missing_court", "not_in_lobby", "token_expired", "out_of_order", "glare",
            "several_faces", "bad_event", "identity_attempts_exhausted", "server_shutdown"} <= found.codes


def test_every_server_error_code_has_chinese_and_english_words(shared: dict[str, dict[str, str]]) -> None:
    codes = collect().codes
    for language in ("zh", "en"):
        missing = sorted(c for c in codes if not shared[language].get(f"error.{c}", "").strip())
        assert not missing, f"{language}: codes without words in web_client/js/error_messages.js: {missing}"


def test_chinese_words_are_chinese(shared: dict[str, dict[str, str]]) -> None:
    """The zh table is not an English copy: every entry has Chinese characters (or only placeholders)."""
    english = sorted(k for k, v in shared["zh"].items()
                     if not any("\u4e00" <= ch <= "\u9fff" for ch in v) and re.sub(r"\{\w+\}|\W", "", v))
    assert not english, english


def test_every_table_has_both_languages_with_the_same_keys(tables: dict[str, dict[str, dict[str, str]]]) -> None:
    assert len(tables) >= len(TABLE_FILES)  # every file exported a table
    for name, table in tables.items():
        zh, en = set(table["zh"]), set(table["en"])
        assert zh == en, (name, {"only zh": sorted(zh - en), "only en": sorted(en - zh)})


class _Sample(BaseModel):
    name: str = Field(min_length=1, max_length=10)
    count: int = Field(ge=1)
    kind: str = Field(pattern=r"^[a-z]+$")


def test_validation_problems_carry_a_type_and_limits_the_tables_word(shared: dict[str, dict[str, str]]) -> None:
    with pytest.raises(ValidationError) as caught:
        _Sample.model_validate({"name": "", "count": 0, "kind": "X"})
    problems = {p["field"]: p for p in validation_details(caught.value)}
    assert problems["name"]["type"] == "string_too_short" and problems["name"]["ctx"] == {"min_length": 1}
    assert problems["count"]["type"] == "greater_than_equal" and problems["count"]["ctx"] == {"ge": 1}
    assert problems["kind"]["type"] == "string_pattern_mismatch"
    for problem in problems.values():
        assert f"validation.{problem['type']}" in shared["zh"]
    assert "{min_length}" in shared["zh"]["validation.string_too_short"]


def test_pages_register_through_i18n_which_loads_the_shared_table() -> None:
    """The shared table reaches every page because i18n.js registers it and every page uses i18n.js."""
    assert 'from "./error_messages.js"' in (CLIENT / "i18n.js").read_text()
    for path in CLIENT.rglob("*.js"):
        if "node_modules" in path.parts:
            continue
        text = path.read_text()
        assert "tables[" not in text or path.name == "i18n.js", path  # no second translation mechanism


def _moderation_actions() -> set[str]:
    """The actions ``RoomHub._moderated`` is called with (a literal or ``"a" if x else "b"``)."""
    tree = ast.parse((REPO / "signaling" / "room_events.py").read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "_moderated":
            found |= {c.value for c in ast.walk(node.args[2]) if isinstance(c, ast.Constant) and isinstance(c.value, str)}
    return found


def _literal_audit_actions() -> set[str]:
    """Actions written as literals: ``audit.append(s, case, actor, "x.y", ...)`` and the case
    service's ``record(s, ctx, actor, "x.y", ...)`` (``"a" if ok else "b"`` counts both)."""
    found: set[str] = set()
    for package in ("signaling", "mediation", "recordings", "identity", "signing"):
        for path in (REPO / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr in ("append", "record") and len(node.args) > 3):
                    continue
                found |= {c.value for c in ast.walk(node.args[3]) if isinstance(c, ast.Constant)
                          and isinstance(c.value, str) and re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", c.value)}
    return found


def test_the_case_timeline_has_words_for_every_audit_action(tables: dict[str, dict[str, dict[str, str]]]) -> None:
    """A case's timeline shows each entry by ``log.<action>``, never the raw action
    (``judicial_confirmation.ruled``); the room's are made as ``room.<action>``."""
    moderation = _moderation_actions()
    assert {"admit", "mute", "unmute", "caucus_start", "caucus_end", "remove", "end"} <= moderation
    literal = _literal_audit_actions()
    assert {"case.created", "video.guest_link", "identity.check_failed"} <= literal  # the scan works
    actions = literal | {f"room.{a}" for a in moderation}
    # cases.html registers both tables (cases/app.js)
    page_tables = (tables[f"{CLIENT / 'cases' / 'messages.js'}#MESSAGES"],
                   tables[f"{CLIENT / 'cases' / 'application_messages.js'}#APPLICATION_MESSAGES"])
    cases = {language: {k: v for table in page_tables for k, v in table[language].items()} for language in ("zh", "en")}
    for language in ("zh", "en"):
        missing = sorted(a for a in actions if f"log.{a}" not in cases[language])
        assert not missing, (language, missing)


def test_the_statutory_conditions_have_words(tables: dict[str, dict[str, dict[str, str]]]) -> None:
    """A refused payment order lists its unmet conditions by code; the page words each and its basis."""
    declarations = PaymentOrderDeclarations(no_other_debt_dispute=False, debtor_reachable_in_china=False,
                                            no_pre_suit_preservation=False)
    checks = payment_order_checks(None, date(2026, 1, 1), declarations)
    assert len({c.code for c in checks}) == len(checks) == 8
    cases = tables[f"{CLIENT / 'cases' / 'messages.js'}#MESSAGES"]
    for language in ("zh", "en"):
        for check in checks:
            assert f"condition.{check.code}" in cases[language], (language, check.code)
            for part in check.basis.split(" / "):  # as cases/dom.js basisText makes the key
                assert "basis." + re.sub(r"[^a-z0-9]+", "_", part, flags=re.I).lower() in cases[language], part


def test_dates_and_times_go_through_the_one_formatter() -> None:
    """Only web_client/js/dates.js turns a time into text (24-hour, the page's language)."""
    formatting = re.compile(r"toLocaleDateString|toLocaleTimeString|Intl\.DateTimeFormat|new Date\([^)]*\)\.toLocaleString")
    offenders = [str(path.relative_to(REPO)) for path in CLIENT.rglob("*.js")
                 if "node_modules" not in path.parts and path.name != "dates.js" and formatting.search(path.read_text())]
    assert not offenders, offenders
    assert "hourCycle: \"h23\"" in (CLIENT / "dates.js").read_text()


def test_the_case_pages_word_every_step_and_next_action(tables: dict[str, dict[str, dict[str, str]]]) -> None:
    """The fixed codes the case pages show (a case's step, who acts next and how) have words, so
    no ``video_mediation`` or ``accept_assignment`` reaches the page."""
    actions = {v for k, v in vars(Action).items() if k.isupper() and isinstance(v, str)}
    assert {"consent", "rule", "seal"} <= actions
    cases = tables[f"{CLIENT / 'cases' / 'messages.js'}#MESSAGES"]
    for language in ("zh", "en"):
        missing = sorted(({f"step.{s}" for s in Step} | {f"next.{a}" for a in actions}) - set(cases[language]))
        assert not missing, (language, missing)
