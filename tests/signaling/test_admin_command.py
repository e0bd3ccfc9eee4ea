"""``accord admin create``: the first platform administrator, on the configured database, with a
password that never travels as an argument."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
from pathlib import Path

import pytest

from mediation.accounts import Channel, Role
from mediation.errors import Unauthenticated
from signaling.api.cases import create_case_services
from signaling.commands import admin, settings_from
from signaling.database import make_engine

PASSWORD = "correct horse battery"


def _parser() -> argparse.ArgumentParser:
    """The same shape as ``signaling.cli.build_parser``, with only this command registered."""
    parser = argparse.ArgumentParser(prog="accord")
    parser.add_argument("--config", type=Path)
    parser.add_argument("--data-dir", type=Path)
    admin.register(parser.add_subparsers(dest="command", required=True))
    return parser


def _run(data: Path, *argv: str) -> int:
    args = _parser().parse_args(["--data-dir", str(data), "admin", "create", *argv])
    return args.func(args)


def _sign_in(data: Path, login: str, password: str) -> str:
    async def go() -> str:
        settings = settings_from(argparse.Namespace(config=None, data_dir=data))
        engine = make_engine(settings.effective_database_url)
        try:
            issued = await create_case_services(settings, engine, rooms=None).accounts.login_password(
                Channel.ADMIN, login, password)
        finally:
            await engine.dispose()
        assert issued.session.account.role == Role.PLATFORM_ADMIN
        return issued.session.account.login

    return asyncio.run(go())


def test_creates_an_administrator_who_can_sign_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(admin.PASSWORD_VARIABLE, PASSWORD)
    assert _run(tmp_path, "--login", "root", "--name", "Platform Admin", "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["login"] == "root" and out["role"] == "platform_admin"
    assert PASSWORD not in json.dumps(out)
    assert _sign_in(tmp_path, "root", PASSWORD) == "root"
    with pytest.raises(Unauthenticated):
        _sign_in(tmp_path, "root", "not the password")


def test_password_is_prompted_twice_without_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(admin.PASSWORD_VARIABLE, raising=False)
    answers = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr(admin.getpass, "getpass", lambda prompt="": next(answers))
    monkeypatch.setattr(admin.sys, "stdin", _Tty())
    assert _run(tmp_path, "--login", "chief", "--name", "Chief") == 0
    assert _sign_in(tmp_path, "chief", PASSWORD) == "chief"


def test_mismatched_prompt_and_missing_terminal_are_clear_errors(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(admin.PASSWORD_VARIABLE, raising=False)
    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr(admin.getpass, "getpass", lambda prompt="": next(answers))
    monkeypatch.setattr(admin.sys, "stdin", _Tty())
    with pytest.raises(ValueError, match="differ"):
        _run(tmp_path, "--login", "chief", "--name", "Chief")
    monkeypatch.setattr(admin.sys, "stdin", io.StringIO(""))
    with pytest.raises(ValueError, match=admin.PASSWORD_VARIABLE):
        _run(tmp_path, "--login", "chief", "--name", "Chief")


def test_password_is_not_an_argument(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["--data-dir", str(tmp_path), "admin", "create", "--login", "x1x", "--name", "X",
                              "--password", PASSWORD])


def test_weak_password_and_taken_login_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(admin.PASSWORD_VARIABLE, "short")
    assert _run(tmp_path, "--login", "root", "--name", "Root") == 2
    assert "weak_password" in capsys.readouterr().err
    monkeypatch.setenv(admin.PASSWORD_VARIABLE, PASSWORD)
    assert _run(tmp_path, "--login", "root", "--name", "Root") == 0
    assert _run(tmp_path, "--login", "root", "--name", "Root again") == 2
    assert "login_taken" in capsys.readouterr().err


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True
