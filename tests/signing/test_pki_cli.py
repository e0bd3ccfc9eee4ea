"""``accord pki ...`` and ``accord verify ...`` end to end through the real argument parser."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from signaling import cli
from signing.pki import PlatformPKI

from pades_samples import SEATS, Platform, provider_crls, provider_seal


@pytest.fixture
def accord(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    missing = tuple(name for name in ("pki", "verify") if name not in cli.COMMAND_MODULES)
    monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, *missing))
    monkeypatch.setenv("ACCORD_KEY_PASSPHRASE", "cli test passphrase")
    monkeypatch.chdir(tmp_path)

    def run(*argv: str) -> tuple[int, str, str]:
        code = cli.main(["--data-dir", str(tmp_path / "data"), *argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_init_show_revoke(accord, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = accord("pki", "init", "--org-name", "测试调解委员会", "--base-url", "https://accord.test")
    assert code == 0 and "fingerprint" in out
    code, _, err = accord("pki", "init", "--org-name", "again")
    assert code == 2 and "already exists" in err
    pki = PlatformPKI.load(tmp_path / "data" / "pki", "cli test passphrase")
    cert = pki.issue_event_certificate(ec.generate_private_key(ec.SECP256R1()).public_key(),
                                       Platform(pki).identity(SEATS[0]))
    code, out, _ = accord("pki", "revoke", f"{cert.serial_number:x}", "--reason", "keyCompromise")
    assert code == 0 and "revoked (keyCompromise)" in out
    code, out, _ = accord("pki", "show", "--json")
    info = json.loads(out)
    assert code == 0 and info["organisation"] == "测试调解委员会" and info["root_key_on_server"]
    assert [r["serial"] for r in info["revoked"]] == [f"{cert.serial_number:x}"]
    assert "cli test passphrase" not in out
    code, _, err = accord("pki", "revoke", "zz")
    assert code == 2


def test_show_without_pki_is_a_clear_error(accord) -> None:  # type: ignore[no-untyped-def]
    code, _, err = accord("pki", "show")
    assert code == 2 and "accord pki init" in err


def test_verify_exit_codes(accord, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert accord("pki", "init", "--org-name", "Org")[0] == 0
    platform = Platform(PlatformPKI.load(tmp_path / "data" / "pki", "cli test passphrase"))
    good = tmp_path / "good.pdf"
    good.write_bytes(asyncio.run(platform.full_agreement()))
    code, out, _ = accord("verify", str(good))
    assert code == 0 and out.startswith("VALID") and "张三 (party, applicant)" in out
    assert "key custody browser; identity check test " in out and "key custody server; identity check -" in out
    code, out, _ = accord("verify", str(good), "--json")
    assert code == 0 and json.loads(out)["valid"] is True
    code, out, _ = accord("verify", str(good), "--expected-fields", ",".join([s.field for s in SEATS] + ["extra"]))
    assert code == 1 and "field_not_signed" in out
    foreign = Platform.create(tmp_path / "foreign")
    (tmp_path / "foreign-root.pem").write_bytes(foreign.pki.root_cert.public_bytes(serialization.Encoding.PEM))
    code, out, _ = accord("verify", str(good), "--trust", str(tmp_path / "foreign-root.pem"))
    assert code == 1 and "untrusted" in out
    (tmp_path / "junk.pdf").write_bytes(b"not a pdf")
    code, _, err = accord("verify", str(tmp_path / "junk.pdf"))
    assert code == 2 and "not a PDF" in err


def test_import_seal_and_show(accord, tmp_path: Path,  # type: ignore[no-untyped-def]
                              monkeypatch: pytest.MonkeyPatch) -> None:
    """An organisation's seal from an e-seal provider, imported from PEM files; `show` lists the seals."""
    assert accord("pki", "init", "--org-name", "Org")[0] == 0
    provider = Platform.create(tmp_path / "provider", org_name="某电子认证服务有限公司")
    key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "seal.pem").write_bytes(provider_seal(provider, "通州区人民调解委员会", "53110112MJ0000005C", key))
    (tmp_path / "seal.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                          serialization.BestAvailableEncryption(b"provider pass")))
    crls = []
    for number, crl in enumerate(provider_crls(provider)):
        crls += ["--crl", str(tmp_path / f"{number}.crl")]
        (tmp_path / f"{number}.crl").write_bytes(crl)
    args = ["pki", "import-seal", "--organisation", "org-tz", "--cert", str(tmp_path / "seal.pem"),
            "--key", str(tmp_path / "seal.key")]
    code, _, err = accord(*args, *crls)
    assert code == 2 and "password" in err.lower()  # the key file's own passphrase is needed
    monkeypatch.setenv("PROVIDER_KEY_PASS", "provider pass")
    code, _, err = accord(*args, "--key-passphrase-env", "PROVIDER_KEY_PASS")
    assert code == 2 and "CRLs" in err
    code, out, err = accord(*args, "--key-passphrase-env", "PROVIDER_KEY_PASS", *crls)
    assert code == 0, err
    assert "通州区人民调解委员会 (53110112MJ0000005C)" in out and "某电子认证服务有限公司 Root CA" in out
    code, out, _ = accord("pki", "show", "--json")
    seals = json.loads(out)["seals"]
    assert [(s["holder_id"], s["name"], s["imported"]) for s in seals] == [("org-tz", "通州区人民调解委员会", True)]
    stored = next((tmp_path / "data" / "pki" / "seals").glob("*/seal.key")).read_bytes()
    assert stored.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert serialization.load_pem_private_key(stored, b"cli test passphrase")  # re-encrypted with the PKI's
