"""A real Accord server on a free port for the agreement API and browser tests, with the case an
agreement is drafted from: 张三 applies against 李四, 李四 is represented by 王律师, 赵调解 of
朝阳区人民调解委员会 mediates; the mediator drafts the agreement from the case and writes the
sample's terms into it (no ID number is typed)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

import signaling.api.agreements as agreements_api
from identity.face_match import FaceMatchResult
from identity.models import MODEL_SHA256
from identity.recorder import CheckRecorder, CheckTarget
from mediation.accounts import Actor, NewAccount, Role
from mediation.cases import Application, PartyDetails
from mediation.directory import DirectoryService, NewOrganisation
from mediation.services import MediationServices
from signaling.api.accounts import SERVICES_KEY
from signaling.app import create_app
from signaling.api.pki import PKI_KEY
from signaling.api.signing_ceremony import SIGNING_TOKEN_HEADER
from signaling.auth import API_KEYS_KEY
from signaling.config import Settings
from tests.support.loopback_media import SETTINGS as LOOPBACK_MEDIA

from agreement_samples import agreement_dict
from pades_samples import browser_sign
from provider_keys import ProviderKey
from signing.id_numbers import resident_id_check_digit
from signing.attestation_key import AttestationKeyStore
from signing.ceremony import slot_subject
from signing.pades import document_digest

PASSWORD = "correct horse battery"
#: Field names of the sample agreement drafted from its case (parties are keyed by side).
FIELDS = ["sig_01_party_applicant", "sig_02_party_respondent", "sig_03_agent_respondent", "sig_04_mediator",
          "sig_05_organisation"]


@dataclass
class Person:
    actor: Actor
    login: str
    token: str = ""  # session, once signed in


@dataclass
class Cast:
    """The sample agreement's people as accounts (see the module docstring)."""

    mediator: Person
    org_admin: Person
    zhang: Person
    li: Person
    wang: Person
    organisation_id: str
    people: dict[str, Person] = field(default_factory=dict)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass
class Server:
    app: web.Application
    runner: web.AppRunner
    base_url: str
    api_key: str  # the scope ``agreements``: what a mediation organisation's system drafts and seals with
    identity_key: str  # the scope ``identity-provider``: the identity service's
    session: aiohttp.ClientSession
    provider: ProviderKey  # signs the identity service's verdicts (a trust anchor of this server)
    _cast: Cast | None = None
    _admin_id: str = ""
    _strangers: int = 0

    @property
    def ceremony(self) -> agreements_api.SigningCeremony:
        return self.app[agreements_api.CEREMONY_KEY]

    @property
    def store(self) -> agreements_api.SqlAgreementStore:
        return self.app[agreements_api.STORE_KEY]

    @property
    def services(self) -> MediationServices:
        return self.app[SERVICES_KEY]

    async def login(self, channel: str, login: str) -> str:
        status, body = await self.call("POST", "/api/auth/login", key=False, json={
            "channel": channel, "login": login, "password": PASSWORD})
        assert status == 200, body
        return body["token"]

    async def as_user(self, person: Person, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        headers = {**kwargs.pop("headers", {}), "Authorization": f"Bearer {person.token}"}
        return await self.call(method, path, key=False, headers=headers, **kwargs)

    def last_code(self, phone: str) -> str:
        """The newest one-time code texted to ``phone`` (the development SMS outbox)."""
        outbox = self.app[agreements_api.AGREEMENT_SETTINGS_KEY].data_dir / "sms-outbox.jsonl"
        last = [json.loads(line) for line in outbox.read_text().splitlines() if json.loads(line)["phone"] == phone][-1]
        return next(word for word in last["text"].replace("(", " ").split() if word.isdigit() and len(word) == 6)

    async def _register(self, role: Role, login: str, name: str, id_number: str, phone: str) -> Person:
        accounts = self.services.accounts
        await accounts.send_code(phone)
        info = await accounts.register(NewAccount(role, login, name, PASSWORD, phone=phone, id_number=id_number),
                                       self.last_code(phone))
        return Person(info.as_actor(), login, await self.login("party", login))

    async def cast(self) -> Cast:
        """The people of the sample agreement, created once per server."""
        if self._cast is not None:
            return self._cast
        sample = agreement_dict()
        zhang_data, li_data = sample["parties"]
        accounts = self.services.accounts
        admin = (await accounts.bootstrap_admin("root", "平台管理员", PASSWORD)).as_actor()
        self._admin_id = admin.id
        org = sample["organisation"]
        directory = DirectoryService(self.services.db, self.services.cases.clock)
        listed = await directory.add_organisation(admin, NewOrganisation(
            org["name"], "peoples", "北京市朝阳区", org["address"], "010-00000000", credit_code="12110105MB0000000X"))
        org_admin = (await accounts.create_staff(admin, NewAccount(
            Role.ORG_ADMIN, "orgadmin", "朝阳调委会管理员", PASSWORD, organisation=org["name"]))).as_actor()
        mediator = (await accounts.create_staff(admin, NewAccount(
            Role.MEDIATOR, "mediator", sample["mediator"]["name"], PASSWORD, organisation=org["name"],
            id_number=sample["mediator"]["id_number"]))).as_actor()
        zhang = await self._register(Role.PARTY, "zhangsan", zhang_data["name"], zhang_data["id_number"],
                                     zhang_data["contact"])
        li = await self._register(Role.PARTY, "lisi", li_data["name"], li_data["id_number"], li_data["contact"])
        agent = li_data["agent"]
        wang = await self._register(Role.AGENT, "wanglawyer", agent["name"], agent["id_number"], agent["contact"])
        await accounts.authorise_agent(li.actor, "wanglawyer", b"%PDF-1.4 power of attorney", "poa.pdf", "application/pdf")
        self._cast = Cast(Person(mediator, "mediator", await self.login("mediator", "mediator")),
                          Person(org_admin, "orgadmin", await self.login("mediator", "orgadmin")),
                          zhang, li, wang, listed.id)
        self._cast.people = {"zhang": zhang, "li": li, "wang": wang, "mediator": self._cast.mediator}
        return self._cast

    async def stranger(self) -> Person:
        """A party with an account who takes part in none of these cases."""
        self._strangers += 1
        n = self._strangers
        first17 = f"11010519900101{n:03d}"
        return await self._register(Role.PARTY, f"stranger{n}", f"路人{n}", first17 + resident_id_check_digit(first17),
                                    f"1370000{n:04d}")

    async def other_organisation_admin(self) -> Person:
        """The administrator of another organisation (in the directory as well)."""
        await self.cast()
        accounts = self.services.accounts
        admin = (await accounts.get(self._admin_id)).as_actor()
        await accounts.create_staff(admin, NewAccount(Role.ORG_ADMIN, "otheradmin", "他处管理员", PASSWORD,
                                                      organisation="海淀区人民调解委员会"))
        return Person((await accounts.get(admin.id)).as_actor(), "otheradmin", await self.login("mediator", "otheradmin"))

    async def court_clerk(self, court: str) -> Person:
        """A clerk of ``court`` (no court directory here: names are taken as given)."""
        await self.cast()
        accounts = self.services.accounts
        admin = (await accounts.get(self._admin_id)).as_actor()
        login = f"clerk{secrets.token_hex(3)}"
        clerk = await accounts.create_staff(admin, NewAccount(Role.COURT_CLERK, login, "立案庭书记员", PASSWORD,
                                                              court=court))
        return Person(clerk.as_actor(), login, await self.login("court", login))

    async def case_at_result(self) -> str:
        """A case of 张三 against 李四 through steps 1-4 (the domain services, as the case pages do)."""
        c = await self.cast()
        sample = agreement_dict()
        zhang_data, li_data = sample["parties"]
        view = await self.services.filing.apply(c.zhang.actor, Application(
            "loan", "请求被申请人归还借款50,000元", sample["facts"],
            PartyDetails(zhang_data["name"], zhang_data["contact"], zhang_data["id_number"], zhang_data["address"]),
            PartyDetails(li_data["name"], li_data["contact"], li_data["id_number"], li_data["address"]),
            amount_fen=5_000_000))
        await self.services.filing.answer_consent(c.li.actor, view.id, True)
        await self.services.mediator_choice.choose_mediator(c.zhang.actor, view.id, c.mediator.actor.id)
        await self.services.mediator_choice.answer_assignment(c.mediator.actor, view.id, True)
        await self.services.video.open_video(c.mediator.actor, view.id)
        await self.services.video.conclude_video(c.mediator.actor, view.id)
        return view.id

    async def drafted_agreement(self, *, agent_signs: bool = True, **changes: Any) -> tuple[str, str]:
        """The mediator drafts the case's agreement and writes the sample's terms into it over HTTP,
        sending the ID numbers back masked as the editor does; returns (case id, agreement id)."""
        c = await self.cast()
        case_id = await self.case_at_result()
        status, drafted = await self.as_user(c.mediator, "POST", f"/api/cases/{case_id}/agreement", json={})
        assert status == 201, drafted
        agreement_id = drafted["agreement_id"]
        status, current = await self.as_user(c.mediator, "GET", f"/api/agreements/{agreement_id}")
        assert status == 200, current
        sample = agreement_dict(**changes)
        data = current["data"]
        data["parties"][1]["agent"]["signs"] = agent_signs
        data["monetary"] = [{**m, "payer": "respondent", "payee": "applicant"} for m in sample["monetary"]]
        data["performance"] = [{**p, "obligor": "applicant"} for p in sample["performance"]]
        for key in ("dispute_type", "facts", "date", "place"):
            data[key] = sample[key]
        status, edited = await self.as_user(c.mediator, "PUT", f"/api/agreements/{agreement_id}", json={"data": data})
        assert status == 200, edited
        return case_id, agreement_id

    async def call(self, method: str, path: str, *, token: str | None = None, key: bool = True,
                   **kwargs: Any) -> tuple[int, Any]:
        headers = kwargs.pop("headers", {})
        if token is not None:
            headers[SIGNING_TOKEN_HEADER] = token
        elif key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        async with self.session.request(method, self.base_url + path, headers=headers, **kwargs) as resp:
            if resp.content_type == "application/json":
                return resp.status, await resp.json()
            return resp.status, await resp.read()

    async def locked_agreement(self, *, agent_signs: bool = True, **changes: Any) -> tuple[str, dict[str, str]]:
        """Draft an agreement from a case and lock it; return its id and the signing-link token per field."""
        _, agreement_id = await self.drafted_agreement(agent_signs=agent_signs, **changes)
        status, locked = await self.call("POST", f"/api/agreements/{agreement_id}/versions/1/lock")
        assert status == 200, locked
        status, links = await self.call("POST", f"/api/agreements/{agreement_id}/signing-links")
        assert status == 200, links
        return agreement_id, {link["field_name"]: link["token"] for link in links["links"]}

    async def pass_identity(self, agreement_id: str, signer_key: str) -> None:
        """The identity provider's signed verdict: passed, now."""
        status, body = await self.call("POST", f"/api/agreements/{agreement_id}/identity-checks",
                                       json=self.provider.envelope({
                                           "agreement_id": agreement_id, "signer_key": signer_key, "method": "face",
                                           "score": 0.97, "frames_sha256": "ab" * 32,
                                           "checked_at": dt.datetime.now(dt.UTC).isoformat()}),
                                       key=False, headers={"Authorization": f"Bearer {self.identity_key}"})
        assert status == 201, body

    async def attest_identity(self, agreement_id: str, field_name: str, *, attested_field: str | None = None) -> str:
        """What the server's face check leaves for ``field_name``'s signer: a check row with an attestation
        signed by the platform's identity-attestation key (naming ``attested_field`` if given, to make
        one that names another field). Returns the attestation's SHA-256."""
        state = await self.store.current(agreement_id)
        slot = next(s for s in state.slots if s.field_name == field_name)
        recorder = CheckRecorder(self.app[agreements_api.GATE_KEY], AttestationKeyStore(self.app[PKI_KEY]))
        face = FaceMatchResult(passed=True, score=0.93, threshold=0.4, reason=None, frames_used=8,
                               frames_sha256="ab" * 32, model_sha256=dict(MODEL_SHA256))
        target = CheckTarget(slot_subject(state, slot), state.version, attested_field or field_name)
        recorded = await recorder.face(target, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5), face)
        return recorded.attestation_sha256

    async def sign_as(self, token: str, field: str, key: ec.EllipticCurvePrivateKey,
                      version: int = 1) -> tuple[int, Any]:
        """What the signing page does, with a Python key: stops at the first refusal and returns it."""
        spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)
        status, challenge = await self.call("POST", "/api/sign/begin", token=token,
                                            json={"version": version, "field_name": field})
        if status != 200:
            return status, challenge
        nonce = base64.b64decode(challenge["nonce"])
        status, enrolled = await self.call("POST", "/api/sign/enroll", token=token, json={
            "version": version, "field_name": field, "spki": _b64(spki),
            "proof": _b64(browser_sign(key, nonce + spki))})
        if status != 200:
            return status, enrolled
        assert "BEGIN CERTIFICATE" in enrolled["certificate_pem"]
        status, prep = await self.call("POST", "/api/sign/prepare", token=token,
                                       json={"version": version, "field_name": field})
        if status != 200:
            return status, prep
        status, pdf = await self.call("GET", f"/api/sign/prepared.pdf?version={version}&field_name={field}",
                                      token=token)
        assert status == 200 and pdf[:5] == b"%PDF-"
        attrs = base64.b64decode(prep["signed_attrs"])
        assert document_digest(pdf, tuple(prep["byte_range"])) in attrs  # messageDigest sits inside the DER
        return await self.call("POST", "/api/sign/complete", token=token, json={
            "version": version, "field_name": field, "signature": _b64(browser_sign(key, attrs))})

    async def fully_signed(self, *, attested: bool = False) -> tuple[str, bytes]:
        """An agreement signed by everyone over HTTP, sealed and archived; returns its id and final PDF.
        ``attested``: each signer passes the server's (attested) face check instead of a provider's."""
        agreement_id, tokens = await self.locked_agreement()
        for field, token in tokens.items():
            status, claims = await self.call("GET", "/api/sign/session", token=token)
            if attested:
                await self.attest_identity(agreement_id, field)
            else:
                await self.pass_identity(agreement_id, claims["you"]["signer_key"])
            status, body = await self.sign_as(token, field, ec.generate_private_key(ec.SECP256R1()))
            assert status == 200, body
        status, body = await self.call("POST", f"/api/agreements/{agreement_id}/seal", json={"version": 1})
        assert status == 200 and body["status"] == "completed", body
        status, pdf = await self.call("GET", "/api/sign/document.pdf", token=next(iter(tokens.values())))
        assert status == 200
        return agreement_id, pdf

    async def sign_with_session(self, person: Person, agreement_id: str, field: str,
                                key: ec.EllipticCurvePrivateKey, version: int = 1) -> tuple[int, Any]:
        """What the signing page does for a signed-in participant (``sign.html?agreement=…``)."""
        spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)
        step = {"agreement_id": agreement_id, "version": version, "field_name": field}
        status, challenge = await self.as_user(person, "POST", "/api/sign/begin", json=step)
        if status != 200:
            return status, challenge
        status, enrolled = await self.as_user(person, "POST", "/api/sign/enroll", json={
            **step, "spki": _b64(spki), "proof": _b64(browser_sign(key, base64.b64decode(challenge["nonce"]) + spki))})
        if status != 200:
            return status, enrolled
        status, prep = await self.as_user(person, "POST", "/api/sign/prepare", json=step)
        if status != 200:
            return status, prep
        status, pdf = await self.as_user(
            person, "GET", f"/api/sign/prepared.pdf?agreement={agreement_id}&version={version}&field_name={field}")
        assert status == 200 and pdf[:5] == b"%PDF-"
        attrs = base64.b64decode(prep["signed_attrs"])
        assert document_digest(pdf, tuple(prep["byte_range"])) in attrs
        return await self.as_user(person, "POST", "/api/sign/complete", json={
            **step, "signature": _b64(browser_sign(key, attrs))})

    async def close(self) -> None:
        await self.session.close()
        await self.runner.cleanup()


async def start_server(data_dir: Path, **settings: Any) -> Server:
    # The identity service of these tests reports face checks only (``pass_identity``).
    provider = ProviderKey.make()
    data_dir.mkdir(parents=True, exist_ok=True)
    anchor = provider.write(data_dir / f"identity-provider-{secrets.token_hex(3)}.pem")
    config = Settings(**{"data_dir": data_dir, "identity_gate": "test", "identity_policy": "face",
                         "log_level": "WARNING", "identity_provider_certificates": (anchor,), **LOOPBACK_MEDIA,
                         **settings})
    app = create_app(config)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    keys = app[API_KEYS_KEY]
    run = secrets.token_hex(3)  # a data directory may serve several test servers in turn
    drafter = await keys.create(f"organisation-system-{run}", {"agreements"})
    identity = await keys.create(f"identity-service-{run}", {"identity-provider"})
    return Server(app, runner, f"http://127.0.0.1:{port}", drafter.key, identity.key, aiohttp.ClientSession(),
                  provider)
