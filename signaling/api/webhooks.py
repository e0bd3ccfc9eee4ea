"""Webhook subscriptions over HTTP, for platform administrators and integrating systems.

``setup_webhooks`` is what the app factory calls: it subscribes the dispatcher to the case
events, resumes the deliveries a previous run left pending (in the background: start-up never
waits for a receiver) and stops it (pending deliveries stay ``pending`` in the log) when the app
shuts down.
See :mod:`mediation.webhooks` for the payload and the signature scheme.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import Field

from mediation.outbound import OutboundPolicy
from mediation.services import MediationServices
from mediation.webhooks import ALL_KINDS, EVENT_KINDS, NewWebhook, RetryPolicy, WebhookDispatcher, WebhookService

from ..config import Settings
from ..openapi import api
from .accounts import Strict, actor_of, domain_errors, dump

TAG = "webhooks"
INTEGRATORS = frozenset({"platform_admin", "service"})
WEBHOOKS_KEY = web.AppKey("webhook_service", WebhookService)
DISPATCHER_KEY = web.AppKey("webhook_dispatcher", WebhookDispatcher)


def outbound_policy(settings: Settings) -> OutboundPolicy:
    """The webhook destinations ``webhook_allow_http`` and ``webhook_allowed_hosts`` permit."""
    return OutboundPolicy(allow_http=settings.webhook_allow_http, allowed=settings.webhook_allowed_hosts)


def setup_webhooks(app: web.Application, services: MediationServices, policy: RetryPolicy | None = None,
                   outbound: OutboundPolicy | None = None) -> WebhookDispatcher:
    """Store the webhook service for the handlers, subscribe a dispatcher to the case events and
    have it resume interrupted deliveries once the app starts. ``outbound`` defaults to the strict
    policy: https to public addresses only."""
    service = WebhookService(services.db, services.cases.cipher, services.cases.clock, outbound)
    dispatcher = WebhookDispatcher(service, policy)
    services.events.subscribe(dispatcher)
    app[WEBHOOKS_KEY] = service
    app[DISPATCHER_KEY] = dispatcher

    async def resume(_: web.Application) -> None:
        dispatcher.resume_in_background()

    async def stop(_: web.Application) -> None:
        await dispatcher.close()

    app.on_startup.append(resume)
    app.on_shutdown.append(stop)
    return dispatcher


class WebhookIn(Strict):
    url: str = Field(min_length=8, max_length=500, description="absolute http(s) URL that receives the POSTs")
    kinds: list[str] = Field(min_length=1, max_length=len(EVENT_KINDS) + 1,
                             description=f"event kinds, or [\"{ALL_KINDS}\"]: {', '.join(sorted(EVENT_KINDS))}")
    case_id: str | None = Field(default=None, max_length=64, description="only this case's events")


def _webhooks(request: web.Request) -> WebhookService:
    return request.app[WEBHOOKS_KEY]


@api.route("POST", "/api/webhooks", summary="Subscribe a URL to case events (the secret is shown only now)",
           allow=INTEGRATORS, tag=TAG, request=WebhookIn, status=201)
@domain_errors
async def create_webhook(request: web.Request, body: WebhookIn) -> Any:
    """Each delivery is signed: ``Accord-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``,
    with ``Accord-Event-Id`` to deduplicate retries."""
    created = await _webhooks(request).create(actor_of(request), NewWebhook(body.url, body.kinds, body.case_id))
    return {**dump(created.webhook), "secret": created.secret}


@api.route("GET", "/api/webhooks", summary="Webhook subscriptions you manage", allow=INTEGRATORS, tag=TAG)
@domain_errors
async def list_webhooks(request: web.Request, _: None) -> Any:
    return dump(await _webhooks(request).list(actor_of(request)))


@api.route("DELETE", "/api/webhooks/{webhook_id}", summary="Stop a webhook subscription", allow=INTEGRATORS,
           tag=TAG)
@domain_errors
async def delete_webhook(request: web.Request, _: None) -> Any:
    return dump(await _webhooks(request).delete(actor_of(request), request.match_info["webhook_id"]))


@api.route("GET", "/api/webhooks/{webhook_id}/deliveries", summary="The delivery log of a subscription",
           allow=INTEGRATORS, tag=TAG)
@domain_errors
async def webhook_deliveries(request: web.Request, _: None) -> Any:
    return dump(await _webhooks(request).deliveries(actor_of(request), request.match_info["webhook_id"]))
