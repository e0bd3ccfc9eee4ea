"""Identity checks tied to a signer's slot: an identity provider reports a signed verdict, and,
only on a server with the test identity gate, a signer records a simulated check for their own
field. The live-capture check on the signing page is :mod:`.signing_identity`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, Field

from identity.checks import SIMULATED, CheckOutcome
from identity.gate import IdentityCheckRejected
from identity.provider import accept_verdict
from identity.recorder import CheckTarget
from signing.ceremony import slot_subject

from ..auth import PUBLIC
from ..errors import ApiError
from ..openapi import api, principal_of
from .agreements import (GATE_KEY, IDENTITY_REPORTERS, PROVIDER_ANCHORS_KEY, RECORDER_KEY, TAG, StrictIn,
                         current_version, simulated_checks)
from .signing_ceremony import signer_context

class SignedVerdictIn(StrictIn):
    """A :class:`ProviderVerdict`'s JSON bytes as signed (base64), the signature (base64) and the
    provider's certificate (PEM): :mod:`identity.provider`."""

    payload: Annotated[str, Field(min_length=1, max_length=32 * 1024)]
    signature: Annotated[str, Field(max_length=4096)] | None = None
    certificate: Annotated[str, Field(max_length=16 * 1024)] | None = None


@api.route("POST", "/api/agreements/{agreement_id}/identity-checks", summary="Record an identity provider's check",
           allow=IDENTITY_REPORTERS, tag=TAG, request=SignedVerdictIn, status=201, scope="identity-provider")
async def record_identity_check(request: web.Request, body: SignedVerdictIn) -> dict[str, Any]:
    """For an identity provider holding an API key with the ``identity-provider`` scope (no other
    key may): a check it made, passed or failed, stored with the case like the server's own — only
    when the verdict is signed by a certificate of ``identity_provider_certificates`` (codes in
    :mod:`identity.provider`) and names this agreement. A ``checked_at`` in the future
    (``checked_at_in_future``) or already outside the gate's window (``checked_at_too_old``) is refused."""
    agreement_id = request.match_info["agreement_id"]
    state = await current_version(request, agreement_id)
    gate = request.app[GATE_KEY]
    try:
        accepted = accept_verdict(body.payload, body.signature, body.certificate, request.app[PROVIDER_ANCHORS_KEY],
                                  gate.clock.now(), agreement_id)
    except IdentityCheckRejected as exc:
        raise ApiError(422, exc.code, exc.message) from None
    verdict = accepted.verdict
    slot = next((s for s in state.slots if s.signer_key == verdict.signer_key), None)
    if slot is None:
        raise ApiError(404, "unknown_signer", f"the agreement has no signer {verdict.signer_key!r}")
    subject = slot_subject(state, slot)
    if subject.case_id is None or subject.participant_id is None:
        raise ApiError(422, "not_a_case_participant", "identity checks are made for a case participant: this "
                                                      "agreement's slot names none")
    try:
        recorded = await request.app[RECORDER_KEY].provider(
            CheckTarget(subject, state.version, slot.field_name), verdict.checked_at, accepted.evidence(),
            recorded_by=principal_of(request).subject, extra=accepted.envelope())
    except IdentityCheckRejected as exc:
        raise ApiError(422, exc.code, exc.message) from None
    check_id = recorded.check_id
    return {"recorded": True, "check_id": check_id}


class SimulatedCheckIn(StrictIn):
    field_name: Annotated[str, Field(min_length=1, max_length=64)]
    #: Only when signed in (a signing link names its agreement).
    agreement_id: Annotated[str, Field(min_length=1, max_length=32)] | None = None


class SimulatedCheckOut(BaseModel):
    field_name: str
    method: str
    checked_at: dt.datetime
    valid_until: dt.datetime


@api.route("POST", "/api/sign/identity/simulate",
           summary="Development only: record a simulated identity check for your own signature field",
           allow=PUBLIC, tag=TAG, request=SimulatedCheckIn, response=SimulatedCheckOut, only_if=simulated_checks)
async def simulate_identity_check(request: web.Request, body: SimulatedCheckIn) -> SimulatedCheckOut:
    """Exists only on a server running the test identity gate (never in production), so that signing
    can be tried without a camera. Stores a check with method ``test`` for the caller's own slot
    (signing link or session), which every signature it allows states; anyone else's field is the
    404 of a field that does not exist."""
    context = await signer_context(request, body.agreement_id)
    state = await current_version(request, context.agreement_id)
    slot = next((s for s in context.own_slots(state) if s.field_name == body.field_name), None)
    if slot is None:
        raise ApiError(404, "unknown_field", f"you have no signature field {body.field_name!r}")
    gate = request.app[GATE_KEY]
    now = gate.clock.now()
    await gate.record(CheckOutcome(subject=slot_subject(state, slot), method=SIMULATED, passed=True, checked_at=now,
                                   recorded_by=slot.participant_id or "signing-link", score=1.0))
    return SimulatedCheckOut(field_name=slot.field_name, method=SIMULATED, checked_at=now,
                             valid_until=now + gate.window)
