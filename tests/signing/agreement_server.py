"""A real Accord server on a free port for the agreement API and browser tests."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

import signaling.api.agreements as agreements_api
from signaling.app import create_app
from signaling.auth import API_KEYS_KEY
from signaling.config import Settings

from agreement_samples import agreement_dict
from pades_samples import browser_sign
from signing.pades import document_digest


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

    @property
    def ceremony(self) -> agreements_api.SigningCeremony:
        return self.app[agreements_api.CEREMONY_KEY]

    @property
    def store(self) -> agreements_api.AgreementStore:
        return self.app[agreements_api.STORE_KEY]

    async def call(self, method: str, path: str, *, token: str | None = None, key: bool = True,
                   **kwargs: Any) -> tuple[int, Any]:
        headers = kwargs.pop("headers", {})
        if token is not None:
            headers[agreements_api.SIGNING_TOKEN_HEADER] = token
        elif key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        async with self.session.request(method, self.base_url + path, headers=headers, **kwargs) as resp:
            if resp.content_type == "application/json":
                return resp.status, await resp.json()
            return resp.status, await resp.read()

    async def locked_agreement(self, **changes: Any) -> tuple[str, dict[str, str]]:
        """Create and lock an agreement; return its id and the signing token per field."""
        status, created = await self.call("POST", "/api/agreements", json={"data": agreement_dict(**changes)})
        assert status == 201, created
        agreement_id = created["agreement_id"]
        status, locked = await self.call("POST", f"/api/agreements/{agreement_id}/versions/1/lock")
        assert status == 200, locked
        status, links = await self.call("POST", f"/api/agreements/{agreement_id}/signing-links")
        assert status == 200, links
        return agreement_id, {link["field_name"]: link["token"] for link in links["links"]}

    async def pass_identity(self, agreement_id: str, signer_key: str) -> None:
        status, body = await self.call("POST", f"/api/agreements/{agreement_id}/identity-checks", json={
            "signer_key": signer_key, "method": "face", "score": 0.97, "frames_sha256": "ab" * 32,
            "checked_at": dt.datetime.now(dt.UTC).isoformat()}, key=False,
            headers={"Authorization": f"Bearer {self.identity_key}"})
        assert status == 201, body

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

    async def fully_signed(self) -> tuple[str, bytes]:
        """An agreement signed by everyone over HTTP, sealed and archived; returns its id and final PDF."""
        agreement_id, tokens = await self.locked_agreement()
        for field, token in tokens.items():
            status, claims = await self.call("GET", "/api/sign/session", token=token)
            await self.pass_identity(agreement_id, claims["you"]["signer_key"])
            status, body = await self.sign_as(token, field, ec.generate_private_key(ec.SECP256R1()))
            assert status == 200, body
        status, body = await self.call("POST", f"/api/agreements/{agreement_id}/seal", json={"version": 1})
        assert status == 200 and body["status"] == "completed", body
        status, pdf = await self.call("GET", "/api/sign/document.pdf", token=next(iter(tokens.values())))
        assert status == 200
        return agreement_id, pdf

    async def close(self) -> None:
        await self.session.close()
        await self.runner.cleanup()


async def start_server(data_dir: Path, **settings: Any) -> Server:
    config = Settings(data_dir=data_dir, identity_gate="test", log_level="WARNING", **settings)
    app = create_app(config)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    keys = app[API_KEYS_KEY]
    drafter = await keys.create("organisation-system", {"agreements"})
    identity = await keys.create("identity-service", {"identity-provider"})
    return Server(app, runner, f"http://127.0.0.1:{port}", drafter.key, identity.key, aiohttp.ClientSession())
