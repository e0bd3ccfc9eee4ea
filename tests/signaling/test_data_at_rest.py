"""Data at rest: the data directory 0700 and every file in it 0600 (created so, tightened at
start when looser), and in production no PKI passphrase beside the keys."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from signaling.api.pki import open_platform_pki
from signaling.api.rooms import SETTINGS_KEY
from signaling.config import ensure_secret, load_settings
from signaling.data_dir import prepare_data_dir

from .conftest import RunningServer

ROOT = Path(__file__).resolve().parents[2]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _loose(tree: Path) -> list[str]:
    """Everything under ``tree`` that group or others may read, write or enter."""
    found = [str(tree)] if _mode(tree) & 0o077 else []
    for folder, dirs, files in os.walk(tree):
        found += [str(Path(folder) / n) for n in dirs + files
                  if not (Path(folder) / n).is_symlink() and _mode(Path(folder) / n) & 0o077]
    return found


def test_a_loose_data_directory_is_tightened_at_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "case-files" / "ab").mkdir(parents=True)
    (data / "case-files" / "ab" / "ab12").write_bytes(b"evidence")
    (data / "accord.sqlite3").write_bytes(b"")
    (data / "accord.sqlite3-wal").write_bytes(b"")
    for path in (data, data / "case-files", data / "case-files" / "ab"):
        path.chmod(0o755)
    for path in (data / "case-files" / "ab" / "ab12", data / "accord.sqlite3", data / "accord.sqlite3-wal"):
        path.chmod(0o644)
    prepare_data_dir(load_settings(data_dir=data))
    assert _loose(data) == []
    assert _mode(data) == 0o700 and _mode(data / "accord.sqlite3") == 0o600


def test_a_database_outside_the_data_directory_is_created_private(tmp_path: Path) -> None:
    database = tmp_path / "db" / "cases.sqlite3"
    prepare_data_dir(load_settings(data_dir=tmp_path / "data", database_url=f"sqlite+aiosqlite:///{database}"))
    assert _mode(database) == 0o600 and _mode(database.parent) == 0o700


async def test_the_running_server_keeps_everything_private(server: RunningServer) -> None:
    data = server.app[SETTINGS_KEY].data_dir
    assert (data / "accord.sqlite3").exists() and (data / "secrets").is_dir() and (data / "pki").is_dir()
    assert _loose(data) == []


def test_a_command_creates_the_data_directory_private(tmp_path: Path) -> None:
    data = tmp_path / "fresh"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "signaling.cli", "apikey", "create", "court", "--scope", "court",
                    "--data-dir", str(data)], check=True, capture_output=True, env=env, cwd=tmp_path)
    assert (data / "accord.sqlite3").exists()
    assert _loose(data) == []


def test_production_refuses_a_passphrase_beside_the_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    development = load_settings(data_dir=data)
    ensure_secret(development, "pki-passphrase")  # what a development start left
    open_platform_pki(development)
    monkeypatch.setenv("ACCORD_ENVIRONMENT", "production")
    monkeypatch.setenv("ACCORD_KEY_PASSPHRASE", "from the environment")
    with pytest.raises(ValueError, match="beside the keys"):
        load_settings(data_dir=data)
    development.secret_file("pki-passphrase").unlink()
    assert load_settings(data_dir=data).key_passphrase == "from the environment"


def test_production_refuses_a_passphrase_file_inside_the_data_directory(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    inside, outside = tmp_path / "data" / "passphrase", tmp_path / "etc" / "passphrase"
    for path in (inside, outside):
        path.parent.mkdir(parents=True)
        path.write_text("a long passphrase\n")
    monkeypatch.setenv("ACCORD_ENVIRONMENT", "production")
    monkeypatch.setenv("ACCORD_KEY_PASSPHRASE_FILE", str(inside))
    with pytest.raises(ValueError, match="inside the data directory"):
        load_settings(data_dir=tmp_path / "data")
    monkeypatch.setenv("ACCORD_KEY_PASSPHRASE_FILE", str(outside))
    assert load_settings(data_dir=tmp_path / "data").key_passphrase == "a long passphrase"
    monkeypatch.setenv("ACCORD_ENVIRONMENT", "development")
    monkeypatch.setenv("ACCORD_KEY_PASSPHRASE_FILE", str(inside))
    assert load_settings(data_dir=tmp_path / "data").key_passphrase == "a long passphrase"
