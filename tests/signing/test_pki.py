"""Platform PKI: certificate contents, key protection, revocation, proof of possession."""

from __future__ import annotations

import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from signing import oids
from signing.binding import SignerBinding, signer_binding
from signing.pki import (
    PUBLISHED_FILES,
    asn1_certificate,
    PKIError,
    PlatformPKI,
    PossessionError,
    SignerIdentity,
    id_number_digest,
    verify_possession,
)

from pades_samples import browser_sign

PASS = "correct horse battery staple"
ID_KEY = b"test-id-digest-key-of-32-bytes!!"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PlatformPKI:
    return PlatformPKI.init(tmp_path_factory.mktemp("pki") / "pki", PASS, "https://accord.test/", "测试调解委员会")


def identity(**changes: str) -> SignerIdentity:
    values = {"name": "张三", "id_number_digest": id_number_digest("110105198503121234", ID_KEY), "role": "party",
              "case_number": "（2026）京0105民调字第0042号", "side": "applicant"}
    values.update(changes)
    binding = SignerBinding(agreement_id="ag_00000000000000a1", version=1, version_sha256="ab" * 32,
                            field_name="sig_01_party_zhang", role=values["role"], side=values["side"],
                            participant_id="acc-zhang", case_number=values["case_number"])
    return SignerIdentity(**values, binding=binding)  # type: ignore[arg-type]


def test_key_files_are_encrypted_and_private(pki: PlatformPKI) -> None:
    for name in ("root.key", "signing-ca.key", "tsa.key"):
        path = pki.directory / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        data = path.read_bytes()
        assert data.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
        with pytest.raises(TypeError, match="encrypted"):
            serialization.load_pem_private_key(data, password=None)
        with pytest.raises(ValueError):
            serialization.load_pem_private_key(data, password=b"wrong")
    assert stat.S_IMODE(pki.directory.stat().st_mode) == 0o700


def test_load_needs_the_passphrase(pki: PlatformPKI) -> None:
    with pytest.raises(PKIError, match="wrong passphrase"):
        PlatformPKI.load(pki.directory, "not the passphrase")
    again = PlatformPKI.load(pki.directory, PASS)
    assert again.root_cert == pki.root_cert and again.tsa_cert == pki.tsa_cert
    assert not (pki.directory / "seal.crt").exists()  # no platform-wide seal: each organisation has its own


def test_repr_hides_secrets(pki: PlatformPKI) -> None:
    text = repr(pki) + str(pki)
    assert PASS not in text and "PRIVATE" not in text and "root_key_present=True" in text


def test_init_refuses_an_existing_pki_and_empty_passphrase(pki: PlatformPKI, tmp_path: Path) -> None:
    with pytest.raises(PKIError, match="already exists"):
        PlatformPKI.init(pki.directory, PASS, "https://x", "X")
    with pytest.raises(PKIError, match="passphrase"):
        PlatformPKI.init(tmp_path / "p", "", "https://x", "X")


def test_event_certificate_contents(pki: PlatformPKI) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = pki.issue_event_certificate(key.public_key(), identity())
    subject = cert.subject
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "张三"
    assert subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == id_number_digest("110105198503121234", ID_KEY)
    assert subject.get_attributes_for_oid(NameOID.TITLE)[0].value == "party"
    assert subject.get_attributes_for_oid(oids.oid(oids.SIDE_ATTRIBUTE))[0].value == "applicant"
    assert "110105198503121234" not in cert.public_bytes(serialization.Encoding.PEM).decode()
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and ku.value.content_commitment
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.EMAIL_PROTECTION in eku and oids.oid(oids.DOCUMENT_SIGNING_EKU) in eku
    dp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert dp[0].full_name[0].value == "https://accord.test/pki/signing-ca.crl"
    aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert aia[0].access_location.value == "https://accord.test/pki/signing-ca.crt"
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert timedelta(minutes=30) <= lifetime <= timedelta(minutes=31)
    cert.verify_directly_issued_by(pki.signing_ca_cert)
    pki.signing_ca_cert.verify_directly_issued_by(pki.root_cert)
    assert pki.issued_certificate(cert.serial_number) == cert
    # the one field it may sign, in a private extension
    assert signer_binding(asn1_certificate(cert)) == identity().binding
    policies = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    assert [p.policy_identifier.dotted_string for p in policies] == [oids.EVENT_CERTIFICATE_POLICY]


def test_tsa_certificate_has_critical_timestamping_eku(pki: PlatformPKI) -> None:
    eku = pki.tsa_cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]


@pytest.mark.parametrize("bad", [
    {"id_number_digest": "110105198503121234"},
    {"name": ""},
    {"side": "plaintiff"},
    {"case_number": "x" * 65},
    {"role": "mediator"},  # the subject would say mediator, the binding "party"
])
def test_bad_identities_are_refused(bad: dict[str, str]) -> None:
    binding = identity().binding
    values = {"name": "张三", "id_number_digest": id_number_digest("110105198503121234", ID_KEY), "role": "party",
              "case_number": binding.case_number, "side": "applicant"} | bad
    with pytest.raises(PKIError):
        SignerIdentity(**values, binding=binding)  # type: ignore[arg-type]


def test_weak_keys_and_long_validity_are_refused(pki: PlatformPKI) -> None:
    with pytest.raises(PKIError, match="curve"):
        pki.issue_event_certificate(ec.generate_private_key(ec.SECP256K1()).public_key(), identity())
    with pytest.raises(PKIError, match="2048"):
        pki.issue_event_certificate(rsa.generate_private_key(65537, 1024).public_key(), identity())
    with pytest.raises(PKIError, match="one day"):
        pki.issue_event_certificate(ec.generate_private_key(ec.SECP256R1()).public_key(), identity(),
                                    validity=timedelta(days=2))


def test_revocation_publishes_a_new_crl(pki: PlatformPKI) -> None:
    cert = pki.issue_event_certificate(ec.generate_private_key(ec.SECP256R1()).public_key(), identity())
    before = x509.load_der_x509_crl(pki.published_file("signing-ca.crl"))
    assert before.get_revoked_certificate_by_serial_number(cert.serial_number) is None
    first = pki.revoke(cert.serial_number, "keyCompromise")
    assert first.newly_revoked and first.reason == "keyCompromise"
    assert not pki.revoke(cert.serial_number).newly_revoked
    crl = x509.load_der_x509_crl(pki.published_file("signing-ca.crl"))
    entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == x509.ReasonFlags.key_compromise
    assert crl.is_signature_valid(pki.signing_ca_cert.public_key())
    number = lambda c: c.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number  # noqa: E731
    assert number(crl) > number(before)
    # revocations survive a reload
    assert cert.serial_number in {r.serial for r in PlatformPKI.load(pki.directory, PASS).revocations()}


def test_revoking_unknown_serial_or_reason_is_refused(pki: PlatformPKI) -> None:
    with pytest.raises(PKIError, match="no certificate"):
        pki.revoke(12345)
    with pytest.raises(PKIError, match="unknown revocation reason"):
        pki.revoke(pki.tsa_cert.serial_number, "because")


def test_published_files_are_der(pki: PlatformPKI) -> None:
    for name in PUBLISHED_FILES:
        data = pki.published_file(name)
        assert data[0] == 0x30
    assert x509.load_der_x509_certificate(pki.published_file("root.crt")) == pki.root_cert
    x509.load_der_x509_crl(pki.published_file("root.crl"))
    with pytest.raises(PKIError):
        pki.published_file("../pki.json")


def test_works_without_the_root_key(pki: PlatformPKI, tmp_path: Path) -> None:
    """Production keeps the root key offline: everything else still works."""
    copy = tmp_path / "pki"
    copy.mkdir()
    for item in pki.directory.iterdir():
        if item.is_file() and item.name != "root.key":
            (copy / item.name).write_bytes(item.read_bytes())
    (copy / "issued").mkdir()
    loaded = PlatformPKI.load(copy, PASS)
    assert not loaded.has_root_key
    cert = loaded.issue_event_certificate(ec.generate_private_key(ec.SECP256R1()).public_key(), identity())
    loaded.revoke(cert.serial_number)
    loaded.validation_context()
    with pytest.raises(PKIError, match="root key"):
        loaded.reissue_root_crl()


def test_import_existing_ca(pki: PlatformPKI, tmp_path: Path) -> None:
    """An existing CA (here: the dev one) is imported; the TSA is issued under it."""
    ca_key = serialization.load_pem_private_key((pki.directory / "signing-ca.key").read_bytes(), PASS.encode())
    root_crl = x509.load_der_x509_crl(pki.published_file("root.crl"))
    imported = PlatformPKI.import_ca(tmp_path / "prod", "other passphrase", "https://court.test", "Org",
                                     root_cert=pki.root_cert, ca_cert=pki.signing_ca_cert, ca_key=ca_key,
                                     root_crl=root_crl)
    assert not imported.has_root_key
    imported.tsa_cert.verify_directly_issued_by(pki.signing_ca_cert)
    with pytest.raises(PKIError, match="does not match"):
        PlatformPKI.import_ca(tmp_path / "bad", "p", "https://x", "Org", root_cert=pki.root_cert,
                              ca_cert=pki.signing_ca_cert, ca_key=ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(PKIError, match="not issued by"):
        PlatformPKI.import_ca(tmp_path / "bad2", "p", "https://x", "Org", root_cert=pki.signing_ca_cert,
                              ca_cert=pki.signing_ca_cert, ca_key=ca_key)


def test_proof_of_possession() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    spki = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    nonce = os.urandom(32)
    verify_possession(spki, nonce, browser_sign(key, nonce + spki))
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(PossessionError, match="does not verify"):
        verify_possession(spki, nonce, browser_sign(other, nonce + spki))
    with pytest.raises(PossessionError, match="does not verify"):
        verify_possession(spki, os.urandom(32), browser_sign(key, nonce + spki))
    der_signature = key.sign(nonce + spki, ec.ECDSA(hashes.SHA256()))
    with pytest.raises(PossessionError, match="64 bytes"):
        verify_possession(spki, nonce, der_signature)
    with pytest.raises(PossessionError, match="too short"):
        verify_possession(spki, b"x", browser_sign(key, b"x" + spki))


@settings(max_examples=60, deadline=None)
@given(spki=st.binary(max_size=200), nonce=st.binary(min_size=16, max_size=64), sig=st.binary(max_size=80))
def test_proof_of_possession_fuzz(spki: bytes, nonce: bytes, sig: bytes) -> None:
    with pytest.raises(PossessionError):
        verify_possession(spki, nonce, sig)


def test_revocation_by_another_process_is_not_lost(pki: PlatformPKI) -> None:
    """`accord pki revoke` runs beside the server: the server's next CRL must keep that revocation."""
    server = PlatformPKI.load(pki.directory, PASS)
    cli = PlatformPKI.load(pki.directory, PASS)
    cert = server.issue_event_certificate(ec.generate_private_key(ec.SECP256R1()).public_key(), identity())
    cli.revoke(cert.serial_number, "keyCompromise")
    crl = server.issue_crl()
    assert crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None
    assert cert.serial_number in {r.serial for r in server.revocations()}
