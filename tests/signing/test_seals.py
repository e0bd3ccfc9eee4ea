"""Seal certificates: one per organisation (and per court), issued by the platform CA, keys
encrypted at rest, reused, renewed, and importable from an e-seal provider."""

from __future__ import annotations

import asyncio
import json
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pades_samples import ORGANISATION, ORGANISATION_ID, SEATS, Platform, provider_crls, provider_seal
from signing import oids
from signing.binding import SealHolder, seal_holder
from signing.pki import asn1_certificate
from signing.seals import SealError, SealRegistry, provider_roots
from signing.verification import verify_agreement

CODE = "53110105MJ0000003A"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Platform:
    return Platform.create(tmp_path_factory.mktemp("seals") / "pki", org_name="Accord 测试平台")


def _policies(cert: x509.Certificate) -> list[str]:
    return [p.policy_identifier.dotted_string
            for p in cert.extensions.get_extension_for_class(x509.CertificatePolicies).value]


def test_an_organisation_seal_is_made_once_and_kept_encrypted(platform: Platform) -> None:
    registry = SealRegistry(platform.pki)
    seal = registry.for_organisation("org-1", "东城区人民调解委员会", CODE)
    subject = seal.cert.subject
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "东城区人民调解委员会"
    assert subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == CODE
    assert _policies(seal.cert) == [oids.SEAL_CERTIFICATE_POLICY]
    assert seal_holder(asn1_certificate(seal.cert)) == SealHolder(kind="organisation", holder_id="org-1",
                                                                  name="东城区人民调解委员会", credit_code=CODE)
    seal.cert.verify_directly_issued_by(platform.pki.signing_ca_cert)
    assert seal.chain == platform.pki.chain and not seal.imported
    ku = seal.cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and ku.content_commitment
    folder = next(p.parent for p in registry.directory.glob("*/seal.json")
                  if json.loads(p.read_text())["holder"]["holder_id"] == "org-1")
    for name in ("seal.key", "seal.json"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600
    key_pem = (folder / "seal.key").read_bytes()
    assert key_pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with pytest.raises(TypeError, match="encrypted"):
        serialization.load_pem_private_key(key_pem, password=None)
    # reused, also by another process (a fresh registry on the same directory)
    assert registry.for_organisation("org-1", "东城区人民调解委员会", CODE).cert == seal.cert
    again = SealRegistry(platform.pki).for_organisation("org-1", "东城区人民调解委员会", CODE)
    assert again.cert == seal.cert and again.key.private_numbers() == seal.key.private_numbers()
    assert platform.pki.issued_certificate(seal.cert.serial_number) == seal.cert


def test_each_organisation_has_its_own_seal(platform: Platform) -> None:
    registry = SealRegistry(platform.pki)
    one = registry.for_organisation("org-a", "西城区人民调解委员会", None)
    two = registry.for_organisation("org-b", "西城区人民调解委员会", None)  # same name, another organisation
    assert one.cert != two.cert and seal_holder(asn1_certificate(two.cert)).holder_id == "org-b"
    assert not one.cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)  # no credit code known
    renamed = registry.for_organisation("org-a", "西城区第二人民调解委员会", CODE)
    assert renamed.cert != one.cert and renamed.holder.name == "西城区第二人民调解委员会"
    # agreements that name no organisation id find the seal by credit code
    by_code = registry.for_organisation(None, "朝阳区人民调解委员会", "53110105MJ0000004B")
    assert registry.for_organisation(None, "朝阳区人民调解委员会", "53110105MJ0000004B").cert == by_code.cert
    with pytest.raises(SealError, match="credit code"):
        registry.for_organisation("org-c", "某委员会", "not-a-code")
    with pytest.raises(SealError, match="cannot make a seal"):
        registry.for_organisation("org-d", "  ", None)


def test_a_court_has_its_own_certificate(platform: Platform) -> None:
    court = SealRegistry(platform.pki).for_court("北京市朝阳区人民法院")
    assert _policies(court.cert) == [oids.COURT_CERTIFICATE_POLICY]
    assert seal_holder(asn1_certificate(court.cert)).kind == "court"
    assert SealRegistry(platform.pki).for_court("北京市朝阳区人民法院").cert == court.cert


def test_a_seal_about_to_expire_is_renewed(platform: Platform) -> None:
    first = SealRegistry(platform.pki).for_organisation("org-r", "丰台区人民调解委员会", None)
    eager = SealRegistry(platform.pki, renew_before=timedelta(days=3 * 365))  # longer than a seal lives
    renewed = eager.for_organisation("org-r", "丰台区人民调解委员会", None)
    assert renewed.cert != first.cert
    assert renewed.cert.not_valid_before_utc >= first.cert.not_valid_before_utc


def test_a_providers_seal_is_imported_and_verifies(tmp_path: Path) -> None:
    platform = Platform.create(tmp_path / "pki", org_name="Accord 测试平台")
    provider = Platform.create(tmp_path / "provider", org_name="某电子认证服务有限公司")
    key = ec.generate_private_key(ec.SECP256R1())
    pem = provider_seal(provider, ORGANISATION.name, ORGANISATION.credit_code or "", key)
    registry = SealRegistry(platform.pki)
    seal = registry.import_seal(ORGANISATION_ID, pem, key, provider_crls(provider))
    assert seal.imported and seal.holder.credit_code == ORGANISATION.credit_code
    assert seal.provider_root == provider.pki.root_cert
    assert provider_roots(platform.pki.directory) == [provider.pki.root_cert]
    assert registry.trusted_roots() == [platform.pki.root_cert, provider.pki.root_cert]
    # the ceremony's lookup finds it (not a platform-issued one), in this process and another
    assert platform.organisation_seal().cert == seal.cert
    assert SealRegistry(platform.pki).for_organisation(ORGANISATION_ID, ORGANISATION.name,
                                                       ORGANISATION.credit_code).imported
    agreement = asyncio.run(platform.full_agreement())
    report = verify_agreement(agreement, registry.trusted_roots())
    assert report.valid, report.to_dict()
    assert report.signatures[-1].signer.organisation == ORGANISATION.name and report.signatures[-1].binding is None
    only_ours = verify_agreement(agreement, [platform.pki.root_cert])
    assert not only_ours.valid and "untrusted" in {r.code for r in only_ours.signatures[-1].reasons}
    # an imported seal is never silently replaced: another name is an error naming the remedy
    with pytest.raises(SealError, match="import-seal"):
        registry.for_organisation(ORGANISATION_ID, "改名后的调解委员会", ORGANISATION.credit_code)


def test_import_refuses_what_cannot_be_a_seal(platform: Platform, tmp_path: Path) -> None:
    provider = Platform.create(tmp_path / "provider", org_name="某电子认证服务有限公司")
    key = ec.generate_private_key(ec.SECP256R1())
    pem = provider_seal(provider, "怀柔区人民调解委员会", CODE, key)
    registry = SealRegistry(platform.pki)
    with pytest.raises(SealError, match="does not belong"):
        registry.import_seal("org-x", pem, ec.generate_private_key(ec.SECP256R1()), provider_crls(provider))
    with pytest.raises(SealError, match="CRLs"):
        registry.import_seal("org-x", pem, key)  # the provider's revocation data are needed
    event_key = ec.generate_private_key(ec.SECP256R1())
    event = platform.pki.issue_event_certificate(event_key.public_key(), platform.identity(SEATS[0]))
    with pytest.raises(SealError, match="another purpose"):
        registry.import_seal("org-x", event.public_bytes(serialization.Encoding.PEM), event_key)
    with pytest.raises(SealError, match="not PEM"):
        registry.import_seal("org-x", b"junk", key)
    assert not registry.holders() or all(h.holder_id != "org-x" for h, _, _ in registry.holders())
