"""An outbound real-name provider: this server asks a government or commercial identity service
(a CTID-style platform) whether the enrolled name and ID number belong to the live face.

Configured by the deployment (``identity_provider_url``, ``identity_provider_name``; the
provider's certificate among ``identity_provider_certificates``) and used when the identity policy
names ``provider``. The request is a JSON POST of the name, ID type and number, one live frame
(JPEG, base64), the agreement and signer slot, and a fresh nonce. The answer must be the signed
envelope of :mod:`identity.provider` — the same verification as for verdicts pushed to our API —
and the verdict must name this agreement, this slot, ``provider:<name>`` and echo the nonce (an
older signed verdict cannot be replayed). The URL goes through the outbound policy of webhooks
(:mod:`mediation.outbound`): no internal address unless the operator allow-lists it, checked
again at connect time. Every answer, refused ones included, becomes a check with its attestation.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
from dataclasses import dataclass
from typing import Sequence

import aiohttp
from cryptography import x509

from mediation.clock import Clock
from mediation.outbound import OutboundPolicy, OutboundRefused

from .attestation import ProviderEvidence
from .enrolment import EnrolledPerson
from .provider import AcceptedVerdict, ProviderVerdictRejected, accept_verdict
from .recorder import CheckRecorder, CheckTarget, RecordedCheck

#: The policy's method for this check (the row's method; the verdict says ``provider:<name>``).
METHOD = "provider"
#: An envelope is a few kB; a photo is sent, never received.
MAX_RESPONSE_BYTES = 64 * 1024
#: A live frame sent to the provider is one JPEG of a 640x480 frame: far below this.
MAX_PHOTO_BYTES = 2 * 1024 * 1024
TIMEOUT_S = 15.0


@dataclass(frozen=True)
class ProviderRequest:
    """What the provider is asked about: one signer slot, the enrolled person, one live frame."""

    agreement_id: str
    signer_key: str
    person: EnrolledPerson
    photo_jpeg: bytes


class HttpIdentityProvider:
    """One configured provider. ``close`` the HTTP session at shutdown."""

    def __init__(self, url: str, name: str, anchors: Sequence[x509.Certificate], outbound: OutboundPolicy,
                 clock: Clock, *, timeout_s: float = TIMEOUT_S):
        self.url = outbound.check_url(url)  # refused at start-up, before any request
        self.name = name
        self.anchors = list(anchors)
        self.outbound = outbound
        self.clock = clock
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._http: aiohttp.ClientSession | None = None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            connector = aiohttp.TCPConnector(resolver=self.outbound.http_resolver())
            self._http = aiohttp.ClientSession(connector=connector, timeout=self.timeout)
        return self._http

    async def ask(self, request: ProviderRequest) -> AcceptedVerdict:
        """The provider's verdict, authenticated; :class:`ProviderVerdictRejected` otherwise
        (``provider_unavailable`` when it cannot be reached or answers with an error)."""
        if len(request.photo_jpeg) > MAX_PHOTO_BYTES:
            raise ValueError("the live frame is larger than a provider request allows")
        nonce = secrets.token_urlsafe(24)
        body = {"agreement_id": request.agreement_id, "signer_key": request.signer_key, "nonce": nonce,
                "name": request.person.name, "id_type": request.person.id_type,
                "id_number": request.person.id_number, "photo": base64.b64encode(request.photo_jpeg).decode()}
        self.outbound.check_url(self.url)
        try:
            async with self._session().post(self.url, json=body, allow_redirects=False) as response:
                raw = await response.content.read(MAX_RESPONSE_BYTES + 1)
                status = response.status
        except OutboundRefused:
            raise ProviderVerdictRejected("provider_unavailable", "the provider's address is refused by the "
                                                                  "outbound policy") from None
        except (aiohttp.ClientError, TimeoutError, OSError):
            raise ProviderVerdictRejected("provider_unavailable", "the identity provider could not be reached") \
                from None
        if status != 200 or len(raw) > MAX_RESPONSE_BYTES:
            raise ProviderVerdictRejected("provider_unavailable", f"the identity provider answered {status}")
        try:
            envelope = json.loads(raw)
        except ValueError:
            raise ProviderVerdictRejected("verdict_malformed", "the provider's answer is not JSON") from None
        if not isinstance(envelope, dict):
            raise ProviderVerdictRejected("verdict_malformed", "the provider's answer is not a signed envelope")
        accepted = accept_verdict(_text(envelope.get("payload")), _text(envelope.get("signature")),
                                  _text(envelope.get("certificate")), self.anchors, self.clock.now(),
                                  request.agreement_id)
        verdict = accepted.verdict
        if verdict.signer_key != request.signer_key:
            raise ProviderVerdictRejected("verdict_other_signer", "the signed verdict is for another signer")
        if verdict.nonce != nonce:
            raise ProviderVerdictRejected("verdict_replayed", "the signed verdict does not answer this request")
        if verdict.method != f"provider:{self.name}":
            raise ProviderVerdictRejected("verdict_malformed", f"the verdict's method is {verdict.method!r}, "
                                                               f"not provider:{self.name}")
        return accepted

    async def check(self, recorder: CheckRecorder, target: CheckTarget, request: ProviderRequest) -> RecordedCheck:
        """Ask, then store the outcome as a ``provider`` check with its attestation — a refused or
        unreachable answer as a failed one (it voids older passes and counts against the attempts)."""
        try:
            accepted = await self.ask(request)
        except ProviderVerdictRejected as exc:
            refused = ProviderEvidence(passed=False, reason=exc.code, provider=self.name,
                                       method=f"provider:{self.name}")
            return await recorder.provider(target, self.clock.now(), refused, recorded_by="identity-provider",
                                           method=METHOD)
        return await recorder.provider(target, _not_after(accepted.verdict.checked_at, self.clock.now()),
                                       accepted.evidence(), recorded_by="identity-provider", method=METHOD,
                                       extra=accepted.envelope())

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _not_after(moment: dt.datetime, now: dt.datetime) -> dt.datetime:
    """The provider's time, unless its clock runs ahead of ours (the gate refuses future checks)."""
    return min(moment, now)
