"""Notifications over HTTP: each signed-in account reads its own, marks them read, and says how
else it wants to be told (text message, e-mail).

``setup_notifications`` is what the app factory calls: it subscribes the :class:`Notifier` to
the case events, with the SMS gateway the case system already uses and an e-mail sender
(development: a file in the data directory).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import Field

from mediation.notifications import EmailSender, FileEmailSender, NotificationInbox, Notifier, Preferences
from mediation.services import MediationServices

from ..config import Settings
from ..errors import ApiError
from ..openapi import Query, api, principal_of, query_of
from .accounts import ACCOUNT_ROLES, Empty, Strict, domain_errors, dump

TAG = "notifications"
INBOX_KEY = web.AppKey("notification_inbox", NotificationInbox)
NOTIFIER_KEY = web.AppKey("notifier", Notifier)


def setup_notifications(app: web.Application, settings: Settings, services: MediationServices,
                        email: EmailSender | None = None) -> Notifier:
    notifier = Notifier(services.db, services.cases.clock, services.cases.sms,
                        email or FileEmailSender(settings.data_dir))
    services.events.subscribe(notifier)
    app[INBOX_KEY] = NotificationInbox(services.db, services.cases.clock)
    app[NOTIFIER_KEY] = notifier

    async def stop(_: web.Application) -> None:
        await notifier.close()

    app.on_shutdown.append(stop)
    return notifier


class PreferencesIn(Strict):
    email: str | None = Field(default=None, max_length=254)
    by_sms: bool = Field(description="text messages to the account's phone")
    by_email: bool = Field(description="e-mails to `email`")


def _inbox(request: web.Request) -> NotificationInbox:
    return request.app[INBOX_KEY]


class InboxQuery(Query):
    unread: bool = False
    limit: int = Field(default=50, ge=1, le=200)


@api.route("GET", "/api/notifications", summary="Your notifications, newest first, and how many are unread",
           allow=ACCOUNT_ROLES, tag=TAG, query=InboxQuery)
@domain_errors
async def list_notifications(request: web.Request, _: None) -> Any:
    """Query: ``unread=1`` for unread ones only; ``limit`` (1-200, default 50)."""
    q: InboxQuery = query_of(request)
    return dump(await _inbox(request).list(principal_of(request).subject, unread_only=q.unread, limit=q.limit))


@api.route("POST", "/api/notifications/{notification_id}/read", summary="Mark one of your notifications read",
           allow=ACCOUNT_ROLES, tag=TAG, request=Empty)
@domain_errors
async def mark_notification_read(request: web.Request, _: Empty) -> Any:
    raw = request.match_info["notification_id"]
    if not raw.isdigit() or len(raw) > 18:
        raise ApiError(404, "notification_not_found", f"no notification {raw[:40]} of yours")
    return dump(await _inbox(request).mark_read(principal_of(request).subject, int(raw)))


@api.route("GET", "/api/notifications/preferences", summary="How else you want to be told", allow=ACCOUNT_ROLES,
           tag=TAG)
@domain_errors
async def notification_preferences(request: web.Request, _: None) -> Any:
    return dump(await _inbox(request).preferences(principal_of(request).subject))


@api.route("PUT", "/api/notifications/preferences", summary="Choose text messages and/or e-mail",
           allow=ACCOUNT_ROLES, tag=TAG, request=PreferencesIn)
@domain_errors
async def set_notification_preferences(request: web.Request, body: PreferencesIn) -> Any:
    return dump(await _inbox(request).set_preferences(principal_of(request).subject,
                                                      Preferences(body.email, body.by_sms, body.by_email)))
