"""Telling people what happened on their cases: in the app, by text message and by e-mail.

The :class:`Notifier` subscribes to the case events. For each event it works out who is
concerned (the parties and their agents, the mediator, the chosen mediator, the people
responsible for an overdue step, the organisation for a complaint), stores an in-app
notification per account, and for the events that need someone to act soon also sends a text
message and an e-mail, as each account prefers. It runs after the change is committed: the
in-app notifications are stored before the request that caused the event returns; text
messages and e-mails go out in the background, so a slow SMS provider never holds up a
request, and a failed send loses nothing.

Messages name the case and what happened, never personal data: a text message or an e-mail
travels through third parties.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .accounts import Role
from .background import BackgroundTasks
from .clock import Clock
from .errors import InvalidInput, NotFound
from .models import Account, AgentLink, Case, CaseParty, Deadline
from .notification_models import Notification, NotificationPreference
from .sms import PrivateOutbox, SmsGateway

log = logging.getLogger(__name__)

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
MAX_EMAIL = 254


class EmailSender(Protocol):
    async def send(self, to: str, subject: str, text: str) -> None: ...


class FileEmailSender:
    """Development e-mail: appends ``{"at", "to", "subject", "text"}`` JSON lines to
    ``<data_dir>/email-outbox.jsonl`` (mode 0600), never to the log."""

    def __init__(self, data_dir: Path):
        self.outbox = PrivateOutbox(data_dir / "email-outbox.jsonl")
        self.path = self.outbox.path

    async def send(self, to: str, subject: str, text: str) -> None:
        await self.outbox.append({"to": to, "subject": subject, "text": text})


# --- what to say ------------------------------------------------------------------------------
def _consent(d: dict[str, Any]) -> str:
    return f"The {d.get('side', 'party')} {'agreed to' if d.get('consent') else 'refused'} mediation"


def _assignment(d: dict[str, Any]) -> str:
    return "The mediator accepted the case" if d.get("accepted") else "The chosen mediator declined; choose another"


#: Event kind -> what happened, in a sentence (the case id is added).
DESCRIPTIONS: dict[str, Callable[[dict[str, Any]], str]] = {
    "case.created": lambda d: "The case was opened",
    "document.added": lambda d: "A document was added",
    "consent": _consent,
    "mediator.chosen": lambda d: "A mediator was chosen; the mediator is asked to accept or decline",
    "mediator.answered": _assignment,
    "message": lambda d: "A new counselling message",
    "video.opened": lambda d: "The video mediation session is open; join from the case page",
    "video.scheduled": lambda d: f"A video mediation session is scheduled for {d.get('china_time', '?')} (China time, "
                                 f"{d.get('duration_minutes', '?')} minutes); join from the case page then",
    "video.cancelled": lambda d: f"The video mediation session of {d.get('china_time', '?')} (China time) is cancelled",
    "step": lambda d: f"The case moved to the step '{d.get('step', '?')}'",
    "agreement.recorded": lambda d: "A mediation agreement was drafted",
    "agreement.effective": lambda d: "The mediation agreement took effect",
    "mediation.failed": lambda d: "Mediation ended without agreement",
    "rated": lambda d: f"The {d.get('side', 'party')} rated the mediation",
    "complaint.filed": lambda d: "A complaint was filed about the mediation",
    "court.application": lambda d: f"Court application: {d.get('status', 'updated')}",
    "court.ruling": lambda d: f"The court ruled: {d.get('ruling', '?')}",
    "deadline.overdue": lambda d: "A time limit has passed and needs your action",
}


def describe(case_id: str, kind: str, data: dict[str, Any]) -> str:
    what = DESCRIPTIONS.get(kind, lambda d: f"Case update: {kind}")(data)
    return f"Case {case_id}: {what}."[:400]


# --- who is concerned -------------------------------------------------------------------------
PARTIES, MEDIATOR, CHOSEN, SIDE, RESPONSIBLE, ORGANISATION = (
    "parties", "mediator", "chosen", "side", "responsible", "organisation")
AUDIENCES: dict[str, frozenset[str]] = {
    "case.created": frozenset({PARTIES}),
    "mediator.chosen": frozenset({CHOSEN, PARTIES}),
    "mediator.answered": frozenset({PARTIES}),
    "message": frozenset({SIDE, MEDIATOR}),
    "video.opened": frozenset({PARTIES}),
    "video.scheduled": frozenset({PARTIES}),
    "video.cancelled": frozenset({PARTIES}),
    "rated": frozenset({MEDIATOR}),
    "complaint.filed": frozenset({ORGANISATION}),
    "deadline.overdue": frozenset({RESPONSIBLE}),
}
DEFAULT_AUDIENCE = frozenset({PARTIES, MEDIATOR})
#: Events someone should act on soon, and whom they concern so: these also go out by text message and e-mail.
URGENT: dict[str, frozenset[str]] = {
    "mediator.chosen": frozenset({CHOSEN}),
    "mediator.answered": frozenset({PARTIES}),
    "video.opened": frozenset({PARTIES}),
    "video.scheduled": frozenset({PARTIES}),
    "video.cancelled": frozenset({PARTIES}),
    "agreement.effective": frozenset({PARTIES, MEDIATOR}),
    "mediation.failed": frozenset({PARTIES}),
    "court.ruling": frozenset({PARTIES, MEDIATOR}),
    "deadline.overdue": frozenset({RESPONSIBLE}),
}


async def _party_accounts(s: AsyncSession, parties: list[CaseParty]) -> set[str]:
    """The party accounts (by account, or by verified phone before they first acted) and their agents."""
    ids = {p.account_id for p in parties if p.account_id}
    phones = [p.phone for p in parties if not p.account_id]
    if phones:
        ids |= set((await s.scalars(select(Account.id).where(Account.role == str(Role.PARTY),
                                                             Account.phone.in_(phones)))).all())
    if ids:
        ids |= set((await s.scalars(select(AgentLink.agent_id).where(AgentLink.party_id.in_(ids),
                                                                     AgentLink.revoked_at.is_(None)))).all())
    return ids


async def concerned(s: AsyncSession, case: Case, kind: str, data: dict[str, Any]) -> dict[str, set[str]]:
    """The accounts an event on ``case`` concerns, by audience."""
    parties = list((await s.scalars(select(CaseParty).where(CaseParty.case_id == case.id))).all())
    found: dict[str, set[str]] = {}
    for audience in AUDIENCES.get(kind, DEFAULT_AUDIENCE):
        ids: set[str] = set()
        if audience == PARTIES:
            ids = await _party_accounts(s, parties)
        elif audience == SIDE:
            ids = await _party_accounts(s, [p for p in parties if p.side == data.get("side")])
        elif audience == MEDIATOR and case.mediator_id:
            ids = {case.mediator_id}
        elif audience == CHOSEN and isinstance(data.get("mediator_id"), str):
            ids = {data["mediator_id"]}
        elif audience == RESPONSIBLE:
            for responsible in (await s.scalars(select(Deadline.responsible_account_id).where(
                    Deadline.case_id == case.id, Deadline.kind == data.get("deadline"),
                    Deadline.overdue_at.is_not(None)))).all():
                ids |= set(filter(None, (responsible or "").split(",")))
        elif audience == ORGANISATION and case.organisation:
            ids = set((await s.scalars(select(Account.id).where(Account.role == str(Role.ORG_ADMIN),
                                                                Account.organisation == case.organisation))).all())
        found[audience] = ids
    return found


#: At most this many administrators of one organisation are told of a notice not tied to a case.
MAX_ORGANISATION_NOTICES = 50


# --- the notifier -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Recipient:
    account_id: str
    phone: str | None
    email: str | None


class Notifier:
    """Subscribed to the :class:`~mediation.events.CaseEventHub`."""

    def __init__(self, db: async_sessionmaker[AsyncSession], clock: Clock, sms: SmsGateway, email: EmailSender):
        self.db = db
        self.clock = clock
        self.sms = sms
        self.email = email
        self.tasks = BackgroundTasks("notification")

    async def publish(self, case_id: str, event: dict[str, Any]) -> None:
        """Store the in-app notifications now (as the case stands when the event happened); text
        messages and e-mails go out in the background."""
        event = dict(event)
        kind = str(event.pop("kind"))
        event.pop("at", None)
        text = describe(case_id, kind, event)
        now = self.clock.now()
        async with self.db.begin() as s:
            case = await s.get(Case, case_id)
            if case is None:
                return
            audiences = await concerned(s, case, kind, event)
            named: set[str] = set().union(*audiences.values())
            # Only live accounts: an id in event data or a deadline may name a disabled one.
            ids = set((await s.scalars(select(Account.id).where(Account.id.in_(named),
                                                                Account.disabled_at.is_(None)))).all())
            s.add_all([Notification(account_id=a, case_id=case_id, kind=kind, text=text, created_at=now)
                       for a in sorted(ids)])
            urgent: set[str] = ids & set().union(*(audiences.get(a, set()) for a in URGENT.get(kind, ())))
            recipients = await self._recipients(s, urgent) if urgent else []
        for recipient in recipients:
            self.tasks.spawn(self._send_outside(recipient, case_id, kind, text))

    async def tell_organisation(self, organisation: str, kind: str, text: str) -> int:
        """In-app notice to the live administrators of ``organisation`` (by name) about something not
        tied to a case, such as a consultation request. ``text`` must carry no personal data: the
        administrators read the details where their role is checked. Bounded: an administrator who
        still has an unread notice of this ``kind`` is not told again (a burst of requests leaves one
        line to act on), and at most :data:`MAX_ORGANISATION_NOTICES` administrators are told.
        Returns how many were told."""
        now = self.clock.now()
        async with self.db.begin() as s:
            admins = set((await s.scalars(
                select(Account.id).where(Account.role == str(Role.ORG_ADMIN), Account.organisation == organisation,
                                         Account.disabled_at.is_(None))
                .order_by(Account.id).limit(MAX_ORGANISATION_NOTICES))).all())
            if not admins:
                return 0
            pending = set((await s.scalars(select(Notification.account_id).where(
                Notification.account_id.in_(admins), Notification.kind == kind,
                Notification.read_at.is_(None)))).all())
            told = sorted(admins - pending)
            s.add_all([Notification(account_id=a, case_id=None, kind=kind, text=text[:400], created_at=now)
                       for a in told])
        return len(told)

    @staticmethod
    async def _recipients(s: AsyncSession, ids: set[str]) -> list[Recipient]:
        rows = (await s.execute(select(Account.id, Account.phone, NotificationPreference)
                                .outerjoin(NotificationPreference, NotificationPreference.account_id == Account.id)
                                .where(Account.id.in_(ids), Account.disabled_at.is_(None))
                                .order_by(Account.id))).all()
        found = []
        for account_id, phone, pref in rows:
            by_sms = pref.by_sms if pref is not None else True
            email = pref.email if pref is not None and pref.by_email else None
            found.append(Recipient(account_id, phone if by_sms else None, email))
        return found

    async def _send_outside(self, recipient: Recipient, case_id: str, kind: str, text: str) -> None:
        """A failed send is logged (without the message or the address) and does not stop the others."""
        if recipient.phone:
            try:
                await self.sms.send(recipient.phone, f"Accord: {text}")
            except Exception:
                log.exception("notification text message not sent",
                              extra={"account_id": recipient.account_id, "case_id": case_id, "kind": kind})
        if recipient.email:
            try:
                await self.email.send(recipient.email, f"Accord: case {case_id}",
                                      f"{text}\n\nSign in to Accord to see the case and act on it.")
            except Exception:
                log.exception("notification e-mail not sent",
                              extra={"account_id": recipient.account_id, "case_id": case_id, "kind": kind})

    async def drain(self) -> None:
        await self.tasks.drain()

    async def close(self) -> None:
        await self.tasks.close()


# --- reading them -----------------------------------------------------------------------------
@dataclass(frozen=True)
class NotificationView:
    id: int
    case_id: str | None
    kind: str
    text: str
    created_at: datetime
    read_at: datetime | None


@dataclass(frozen=True)
class NotificationList:
    unread: int
    notifications: list[NotificationView]


@dataclass(frozen=True)
class Preferences:
    email: str | None
    by_sms: bool
    by_email: bool


def _view(row: Notification) -> NotificationView:
    return NotificationView(row.id, row.case_id, row.kind, row.text, row.created_at, row.read_at)


class NotificationInbox:
    """Each account reads and marks only its own notifications."""

    def __init__(self, db: async_sessionmaker[AsyncSession], clock: Clock):
        self.db = db
        self.clock = clock

    async def list(self, account_id: str, *, unread_only: bool = False, limit: int = 50) -> NotificationList:
        """Newest first, with the number of unread ones."""
        mine = Notification.account_id == account_id
        query = select(Notification).where(mine, Notification.read_at.is_(None)) if unread_only else \
            select(Notification).where(mine)
        async with self.db() as s:
            rows = (await s.scalars(query.order_by(Notification.id.desc()).limit(limit))).all()
            unread = await s.scalar(select(func.count()).select_from(Notification)
                                    .where(mine, Notification.read_at.is_(None))) or 0
        return NotificationList(unread, [_view(r) for r in rows])

    async def mark_read(self, account_id: str, notification_id: int) -> NotificationView:
        async with self.db.begin() as s:
            row = await s.scalar(select(Notification).where(Notification.id == notification_id,
                                                            Notification.account_id == account_id))
            if row is None:
                raise NotFound("notification_not_found", f"no notification {notification_id} of yours")
            if row.read_at is None:
                row.read_at = self.clock.now()
        return _view(row)

    async def preferences(self, account_id: str) -> Preferences:
        async with self.db() as s:
            row = await s.get(NotificationPreference, account_id)
        return Preferences(None, True, False) if row is None else Preferences(row.email, row.by_sms, row.by_email)

    async def set_preferences(self, account_id: str, wanted: Preferences) -> Preferences:
        email = wanted.email.strip() if wanted.email is not None else None
        if email is not None and (len(email) > MAX_EMAIL or not EMAIL.match(email)):
            raise InvalidInput("invalid_email", "not an e-mail address", {"field": "email"})
        if wanted.by_email and email is None:
            raise InvalidInput("missing_field", "give an e-mail address to be told by e-mail", {"field": "email"})
        async with self.db.begin() as s:
            row = await s.get(NotificationPreference, account_id)
            if row is None:
                row = NotificationPreference(account_id=account_id)
                s.add(row)
            row.email, row.by_sms, row.by_email = email, wanted.by_sms, wanted.by_email
            row.updated_at = self.clock.now()
        return Preferences(email, wanted.by_sms, wanted.by_email)
