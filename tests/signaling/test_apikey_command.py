"""``accord apikey create|list|revoke|import`` on the configured database: the key is printed once
and never listed, scopes and expiry are what was asked, and keys of the old JSON file stop the
server until the operator imports them with scopes."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import secrets
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from mediation.api_keys import ApiKeyInfo
from mediation.errors import Unauthenticated
from mediation.schema import upgrade_engine
from signaling.app import create_app
from signaling.auth import open_api_keys, refuse_legacy_key_file
from signaling.cli import build_parser
from signaling.commands import settings_from
from signaling.database import make_engine


def accord(data: Path, *argv: str) -> int:
    """The real parser, global options after the sub-command as people type them."""
    args = build_parser().parse_args([*argv, "--data-dir", str(data)])
    return args.func(args)


def resolve(data: Path, key: str) -> ApiKeyInfo:
    """What the server would make of ``key``, on the same database and secret."""
    async def go() -> ApiKeyInfo:
        settings = settings_from(argparse.Namespace(config=None, data_dir=data))
        engine = make_engine(settings.effective_database_url)
        try:
            await upgrade_engine(engine)
            return await open_api_keys(settings, async_sessionmaker(engine, expire_on_commit=False)).resolve(key)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_create_list_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert accord(tmp_path, "apikey", "create", "court-system", "--scope", "court", "--scope", "cases:read",
                  "--expires-in", "90d") == 0
    out = capsys.readouterr()
    key = out.out.strip()
    assert key.startswith("ak_") and "\n" not in key  # alone on stdout: KEY=$(accord apikey create ...)
    info = resolve(tmp_path, key)
    assert info.name == "court-system" and info.scopes == ("cases:read", "court")
    assert info.id in out.err and "only now" in out.err
    assert info.expires_at is not None
    assert abs(info.expires_at - (datetime.now(timezone.utc) + timedelta(days=90))) < timedelta(minutes=1)
    assert accord(tmp_path, "apikey", "create", "identity-service", "--scope", "identity-provider", "--json") == 0
    second = json.loads(capsys.readouterr().out)
    assert second["scopes"] == ["identity-provider"] and second["expires_at"] is None
    assert resolve(tmp_path, second["key"]).id == second["id"]

    assert accord(tmp_path, "apikey", "list") == 0
    table = capsys.readouterr().out
    assert accord(tmp_path, "apikey", "list", "--json") == 0
    listed = capsys.readouterr().out
    for shown in (table, listed):
        for secret in (key, second["key"]):
            assert secret.rsplit("_", 1)[1] not in shown
        assert "hash" not in shown and "hmac" not in shown
    assert "court-system" in table and "cases:read,court" in table
    records = json.loads(listed)
    assert [(r["name"], r["state"], r["last_used_at"] is not None) for r in records] == [
        ("court-system", "active", True), ("identity-service", "active", True)]

    assert accord(tmp_path, "apikey", "revoke", "court-system") == 0
    assert info.id in capsys.readouterr().out
    with pytest.raises(Unauthenticated) as refused:
        resolve(tmp_path, key)
    assert refused.value.code == "api_key_revoked"
    assert accord(tmp_path, "apikey", "revoke", "court-system") == 2
    assert "api_key_not_found" in capsys.readouterr().err
    assert accord(tmp_path, "apikey", "revoke", info.id) == 2
    assert "already_revoked" in capsys.readouterr().err
    assert accord(tmp_path, "apikey", "revoke", second["id"]) == 0  # by id
    with pytest.raises(Unauthenticated):
        resolve(tmp_path, second["key"])


@pytest.mark.parametrize("argv", [
    ("create", "x"),  # no scope: a key must be granted something
    ("create", "x", "--scope", "admin"),
    ("create", "x", "--scope", "rooms", "--expires-in", "90"),
    ("create", "x", "--scope", "rooms", "--expires-in", "0d"),
    ("revoke",),
])
def test_bad_arguments_are_usage_errors(tmp_path: Path, argv: tuple[str, ...],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        accord(tmp_path, "apikey", *argv)
    assert exited.value.code == 2


def test_refusals_of_the_store_are_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert accord(tmp_path, "apikey", "create", "court-system", "--scope", "court") == 0
    capsys.readouterr()
    assert accord(tmp_path, "apikey", "create", "court-system", "--scope", "rooms") == 2
    assert "name_taken" in capsys.readouterr().err
    assert accord(tmp_path, "apikey", "create", "court system", "--scope", "rooms") == 2
    assert "invalid_key_name" in capsys.readouterr().err


def test_keys_of_the_old_file_stop_the_server_until_imported(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    old_key = "ak_" + secrets.token_urlsafe(32)
    legacy = tmp_path / "secrets" / "api-keys.json"
    legacy.parent.mkdir(parents=True)
    legacy.write_text(json.dumps({hashlib.sha256(old_key.encode()).hexdigest(): {"name": "court-system"}}))
    settings = settings_from(argparse.Namespace(config=None, data_dir=tmp_path))
    with pytest.raises(ValueError, match="accord apikey import --scope"):
        create_app(settings)

    assert accord(tmp_path, "apikey", "import", "--scope", "rooms") == 0
    assert "court-system" in capsys.readouterr().out
    assert not legacy.exists() and legacy.with_name("api-keys.json.imported").exists()
    info = resolve(tmp_path, old_key)
    assert info.name == "court-system" and info.scopes == ("rooms",)
    refuse_legacy_key_file(settings)  # the server starts again
    with pytest.raises(FileNotFoundError):
        accord(tmp_path, "apikey", "import", "--scope", "rooms")


def test_a_file_that_is_no_key_file_is_not_imported(tmp_path: Path) -> None:
    legacy = tmp_path / "secrets" / "api-keys.json"
    legacy.parent.mkdir(parents=True)
    legacy.write_text(json.dumps(["not", "a", "key", "file"]))
    with pytest.raises(ValueError, match="not a key file"):
        accord(tmp_path, "apikey", "import", "--scope", "rooms")
    assert legacy.exists()
