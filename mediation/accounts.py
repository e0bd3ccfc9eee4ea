"""Accounts, roles, login channels, one-time codes and sessions.

Each role signs in through its own channel (the seed's dedicated entry points): parties and
agents, mediators and their organisation administrators, court staff, and platform
administrators. Passwords are argon2 hashes; a session is a random token of which only the
SHA-256 is stored, so a database leak does not leak live sessions. One-time codes are stored as
an HMAC keyed with a server secret (six digits are a million guesses: an unkeyed hash in a leaked
database is a live code), and every guess is counted in the database before it is compared.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum, StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .clock import Clock
from .court_models import require_listed
from .errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from .files import FileStore, clean_file_name
from .id_numbers import validate_id_number
from .login_throttle import LoginThrottler
from .models import Account, AgentLink, LoginSession, OneTimeCode, StoredFile
from .pii import PiiCipher
from .sms import SmsGateway
from .text import clean_text, is_identifier


class Role(StrEnum):
    PARTY = "party"
    AGENT = "agent"
    MEDIATOR = "mediator"
    ORG_ADMIN = "org_admin"
    COURT_CLERK = "court_clerk"
    JUDGE = "judge"
    PLATFORM_ADMIN = "platform_admin"


class Channel(StrEnum):
    PARTY = "party"
    MEDIATOR = "mediator"
    COURT = "court"
    ADMIN = "admin"


#: Which roles may sign in through which entry point.
CHANNEL_ROLES: dict[Channel, frozenset[Role]] = {
    Channel.PARTY: frozenset({Role.PARTY, Role.AGENT}),
    Channel.MEDIATOR: frozenset({Role.MEDIATOR, Role.ORG_ADMIN}),
    Channel.COURT: frozenset({Role.COURT_CLERK, Role.JUDGE}),
    Channel.ADMIN: frozenset({Role.PLATFORM_ADMIN}),
}
#: Integrating systems (a court's case system, the signing service) act with this role, by API key.
SERVICE_ROLE = "service"
SELF_REGISTERING = frozenset({Role.PARTY, Role.AGENT})
STAFF_ROLES = frozenset(Role) - SELF_REGISTERING

PHONE = re.compile(r"^\+?\d{6,15}$")
LOGIN = re.compile(r"^[A-Za-z0-9_.@+-]{3,64}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 256
CODE_RESEND_INTERVAL = timedelta(seconds=60)
CODE_MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Actor:
    """Whoever performs a domain action: an account, or an integrating system (role ``service``)."""

    id: str
    role: str
    name: str
    phone: str | None = None
    organisation: str | None = None
    court: str | None = None


@dataclass(frozen=True)
class AccountInfo:
    id: str
    role: Role
    login: str
    display_name: str
    phone: str | None
    organisation: str | None
    court: str | None

    def as_actor(self) -> Actor:
        return Actor(self.id, str(self.role), self.display_name, self.phone, self.organisation, self.court)


@dataclass(frozen=True)
class SessionInfo:
    account: AccountInfo
    channel: Channel
    expires_at: datetime


@dataclass(frozen=True)
class IssuedSession:
    """Returned once at login: ``token`` exists nowhere else in clear."""

    token: str
    session: SessionInfo


@dataclass(frozen=True)
class CodeSent:
    phone: str
    expires_at: datetime


@dataclass(frozen=True)
class AgentAuthorisation:
    agent: AccountInfo
    party_id: str
    power_of_attorney_id: str
    power_of_attorney_sha256: str


@dataclass(frozen=True)
class PasswordHash:
    """A password hashed once by :meth:`AccountService.hash_password`, for many accounts that are
    meant to share it (the demo's, which all open with one known password) without paying argon2
    for each of them."""

    value: str


@dataclass(frozen=True)
class NewAccount:
    """What a self-registration or an administrator supplies."""

    role: Role
    login: str
    display_name: str
    password: str | PasswordHash
    phone: str | None = None
    id_number: str | None = None
    organisation: str | None = None
    court: str | None = None


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class _CodeCheck(Enum):
    """The answer to one guess; the values of the refusals are their messages."""

    MATCH = "the code is right"
    WRONG = "the code is wrong"
    NONE_LEFT = "no valid code for this phone: ask for a new one"  # none live, or its attempts are spent

    def refusal(self) -> Unauthenticated:
        return Unauthenticated("bad_code", self.value)


def _info(row: Account) -> AccountInfo:
    return AccountInfo(row.id, Role(row.role), row.login, row.display_name, row.phone, row.organisation, row.court)


def normalise_phone(phone: str) -> str:
    value = phone.strip().replace(" ", "").replace("-", "")
    if not PHONE.match(value):
        raise InvalidInput("invalid_phone", "a phone number is 6-15 digits, optionally starting with +")
    return value


class AccountService:
    def __init__(self, db: async_sessionmaker[AsyncSession], clock: Clock, sms: SmsGateway, cipher: PiiCipher,
                 files: FileStore, code_key: bytes, session_ttl: timedelta = timedelta(hours=12),
                 code_ttl: timedelta = timedelta(minutes=5), throttler: LoginThrottler | None = None):
        if len(code_key) < 32:
            raise ValueError("the one-time code key must have at least 32 bytes")
        self.db = db
        self._code_key = code_key
        self.clock = clock
        self.sms = sms
        self.cipher = cipher
        self.files = files
        self.session_ttl = session_ttl
        self.code_ttl = code_ttl
        self.throttler = throttler or LoginThrottler(db, clock)
        self._hasher = PasswordHasher()
        self._dummy_hash = self._hasher.hash(secrets.token_hex(16))

    # --- one-time codes -------------------------------------------------------------------
    async def send_code(self, phone: str) -> CodeSent:
        """Text a 6-digit code to ``phone``; at most one per minute per phone."""
        phone = normalise_phone(phone)
        now = self.clock.now()
        code = f"{secrets.randbelow(10**6):06d}"
        async with self.db.begin() as s:
            recent = await s.scalar(select(OneTimeCode.id).where(
                OneTimeCode.phone == phone, OneTimeCode.created_at > now - CODE_RESEND_INTERVAL))
            if recent is not None:
                raise InvalidInput("code_rate_limited", "a code was sent less than a minute ago; wait before asking again")
            s.add(OneTimeCode(phone=phone, code_hash=self._code_digest(phone, code), created_at=now,
                              expires_at=now + self.code_ttl, attempts=0))
        await self.sms.send(phone, f"Accord verification code: {code} (valid {int(self.code_ttl.total_seconds() // 60)} min)")
        return CodeSent(phone, now + self.code_ttl)

    def _code_digest(self, phone: str, code: str) -> str:
        return hmac.new(self._code_key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()

    async def _check_code(self, s: AsyncSession, phone: str, code: str) -> _CodeCheck:
        """Spend one attempt of the newest live code for ``phone``, then compare; a match marks it used.

        This must be the first statement of ``s``'s transaction, and the transaction must commit
        whatever the answer (a wrong guess stays counted). The attempt is taken by one conditional
        ``UPDATE``: concurrent guesses queue on the row (PostgreSQL's row lock, re-checking the
        condition after the wait; SQLite's write lock), so however many arrive at once, at most
        :data:`CODE_MAX_ATTEMPTS` are ever compared. The row stays locked until the caller commits.
        """
        now = self.clock.now()
        newest = (select(OneTimeCode.id).where(OneTimeCode.phone == phone, OneTimeCode.used_at.is_(None),
                                               OneTimeCode.expires_at > now)
                  .order_by(OneTimeCode.id.desc()).limit(1).scalar_subquery())
        spent = (await s.execute(
            update(OneTimeCode)
            .where(OneTimeCode.id == newest, OneTimeCode.used_at.is_(None), OneTimeCode.attempts < CODE_MAX_ATTEMPTS)
            .values(attempts=OneTimeCode.attempts + 1)
            .returning(OneTimeCode.id, OneTimeCode.code_hash)
            .execution_options(synchronize_session=False))).first()
        if spent is None:
            return _CodeCheck.NONE_LEFT
        if not hmac.compare_digest(spent.code_hash, self._code_digest(phone, code.strip())):
            return _CodeCheck.WRONG
        await s.execute(update(OneTimeCode).where(OneTimeCode.id == spent.id).values(used_at=now)
                        .execution_options(synchronize_session=False))
        return _CodeCheck.MATCH

    async def confirm_code(self, account_id: str, code: str) -> str | None:
        """A second factor for an account that is already signed in or identified otherwise (the
        identity check at signing): spend one attempt of the newest code sent to its phone.
        ``None`` when the code is right, else why not (``wrong_code``, ``no_code``). The guess stays
        counted whatever the answer."""
        phone = await self.phone_of(account_id)
        async with self.db.begin() as s:
            check = await self._check_code(s, phone, code)
        return {_CodeCheck.MATCH: None, _CodeCheck.WRONG: "wrong_code", _CodeCheck.NONE_LEFT: "no_code"}[check]

    async def phone_of(self, account_id: str) -> str:
        """The account's verified phone, for a code; ``no_phone`` if it has none."""
        info = await self.get(account_id)
        if not info.phone:
            raise InvalidInput("no_phone", "this account has no phone number to send a code to")
        return info.phone

    # --- accounts -------------------------------------------------------------------------
    async def register(self, new: NewAccount, code: str) -> AccountInfo:
        """Self-registration of a party or agent, proving the phone with a one-time code."""
        if new.role not in SELF_REGISTERING:
            raise Forbidden("role_not_self_service", f"a {new.role} account is created by an administrator")
        if new.phone is None or new.id_number is None:
            raise InvalidInput("missing_identity", "parties and agents register with a phone and an ID number")
        phone = normalise_phone(new.phone)
        row = await self._new_row(new)
        async with self.db.begin() as s:
            check = await self._check_code(s, phone, code)
            if check is _CodeCheck.MATCH:
                await self._add_account(s, row)  # a taken login rolls the code back: it can be used again
        if check is not _CodeCheck.MATCH:
            raise check.refusal()  # after the commit: the wrong guess stays counted
        return _info(row)

    async def create_staff(self, by: Actor, new: NewAccount) -> AccountInfo:
        """Platform administrators create any staff account; an organisation administrator creates
        mediators of their own organisation."""
        if new.role not in STAFF_ROLES:
            raise InvalidInput("wrong_role", "parties and agents register themselves")
        if by.role == Role.ORG_ADMIN:
            if new.role != Role.MEDIATOR or new.organisation != by.organisation:
                raise Forbidden("forbidden", "an organisation administrator creates mediators of their own organisation")
        elif by.role != Role.PLATFORM_ADMIN:
            raise Forbidden("forbidden", "only administrators create staff accounts")
        if new.role in (Role.MEDIATOR, Role.ORG_ADMIN) and not new.organisation:
            raise InvalidInput("missing_organisation", "mediators and organisation administrators belong to an organisation")
        if new.role in (Role.COURT_CLERK, Role.JUDGE) and not new.court:
            raise InvalidInput("missing_court", "court clerks and judges belong to a court")
        row = await self._new_row(new)
        async with self.db.begin() as s:
            if row.court is not None:
                await require_listed(s, row.court)
            await self._add_account(s, row)
        return _info(row)

    async def bootstrap_admin(self, login: str, display_name: str, password: str | PasswordHash) -> AccountInfo:
        """The first platform administrator, created from the command line."""
        row = await self._new_row(NewAccount(Role.PLATFORM_ADMIN, login, display_name, password))
        async with self.db.begin() as s:
            await self._add_account(s, row)
        return _info(row)

    async def _new_row(self, new: NewAccount) -> Account:
        """Validate and hash outside any transaction: argon2 takes time and memory, and a pooled
        connection should not wait on it."""
        if not LOGIN.match(new.login):
            raise InvalidInput("invalid_login", "a login is 3-64 letters, digits or . _ @ + -")
        name = clean_text(new.display_name, "display_name", 100)
        organisation = clean_text(new.organisation, "organisation", 100) if new.organisation is not None else None
        court = clean_text(new.court, "court", 100) if new.court is not None else None
        phone = normalise_phone(new.phone) if new.phone is not None else None
        id_enc = None
        if new.id_number is not None:
            id_enc = self.cipher.encrypt(validate_id_number(new.id_number), context="account.id_number")
        password = new.password if isinstance(new.password, PasswordHash) else await self.hash_password(new.password)
        return Account(id="a_" + secrets.token_hex(8), role=str(new.role), login=new.login, display_name=name,
                       phone=phone, id_number_enc=id_enc, password_hash=password.value,
                       organisation=organisation, court=court, created_at=self.clock.now())

    async def hash_password(self, password: str) -> PasswordHash:
        if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            raise InvalidInput("weak_password", f"a password is {MIN_PASSWORD}-{MAX_PASSWORD} characters")
        return PasswordHash(await asyncio.to_thread(self._hasher.hash, password))

    async def set_password(self, by: Actor, account_ids: list[str], password: str | PasswordHash) -> None:
        """A platform administrator gives these accounts a new password; their sessions end."""
        if by.role != Role.PLATFORM_ADMIN:
            raise Forbidden("forbidden", "only platform administrators set other accounts' passwords")
        hashed = password if isinstance(password, PasswordHash) else await self.hash_password(password)
        now = self.clock.now()
        async with self.db.begin() as s:
            await s.execute(update(Account).where(Account.id.in_(account_ids)).values(password_hash=hashed.value))
            await s.execute(update(LoginSession).where(LoginSession.account_id.in_(account_ids),
                                                       LoginSession.ended_at.is_(None)).values(ended_at=now))

    @staticmethod
    async def _add_account(s: AsyncSession, row: Account) -> None:
        if await s.scalar(select(Account.id).where(Account.login == row.login)) is not None:
            raise InvalidInput("login_taken", "this login is already in use")
        s.add(row)

    async def get(self, account_id: str) -> AccountInfo:
        async with self.db() as s:
            row = await s.get(Account, account_id) if is_identifier(account_id) else None
        if row is None or row.disabled_at is not None:
            raise NotFound("account_not_found", "no such account")
        return _info(row)

    async def list_by_role(self, role: Role) -> list[AccountInfo]:
        async with self.db() as s:
            rows = (await s.scalars(select(Account).where(Account.role == str(role), Account.disabled_at.is_(None))
                                    .order_by(Account.display_name))).all()
        return [_info(r) for r in rows]

    # --- sessions -------------------------------------------------------------------------
    async def login_password(self, channel: Channel, login: str, password: str,
                             client: str | None = None) -> IssuedSession:
        """``client`` is the caller's network address, throttled alongside the login. The attempt is
        counted (or refused as ``login_throttled``) before the account is looked up or argon2 runs,
        so a locked login costs no hash and answers alike whether it exists or not."""
        if not LOGIN.match(login):
            raise Unauthenticated("bad_credentials", "wrong login, password or channel")
        await self.throttler.reserve(login, client)
        async with self.db() as s:
            row = await s.scalar(select(Account).where(Account.login == login, Account.disabled_at.is_(None)))
        stored = row.password_hash if row is not None and row.password_hash else self._dummy_hash
        try:
            await asyncio.to_thread(self._hasher.verify, stored, password)
            verified = row is not None
        except (VerifyMismatchError, InvalidHashError):
            verified = False
        if not verified or row is None or Role(row.role) not in CHANNEL_ROLES[channel]:
            raise Unauthenticated("bad_credentials", "wrong login, password or channel")
        await self.throttler.succeeded(login, client)
        async with self.db.begin() as s:
            return self._issue(s, row, channel)

    async def login_code(self, channel: Channel, phone: str, code: str) -> IssuedSession:
        """One connection at a time: the account lookup, then one transaction that checks the code
        and opens the session together."""
        phone = normalise_phone(phone)
        async with self.db() as s:
            rows = (await s.scalars(select(Account).where(Account.phone == phone, Account.disabled_at.is_(None)))).all()
        matching = [r for r in rows if Role(r.role) in CHANNEL_ROLES[channel]]
        if len(matching) != 1:
            raise Unauthenticated("bad_credentials", "no single account on this channel has that phone")
        async with self.db.begin() as s:
            check = await self._check_code(s, phone, code)
            if check is _CodeCheck.MATCH:
                return self._issue(s, matching[0], channel)
        raise check.refusal()  # after the commit: the wrong guess stays counted

    def _issue(self, s: AsyncSession, row: Account, channel: Channel) -> IssuedSession:
        """Add a session for ``row`` to ``s``'s transaction; the caller commits it."""
        token = "as_" + secrets.token_urlsafe(32)
        now = self.clock.now()
        s.add(LoginSession(token_hash=_digest(token), account_id=row.id, channel=str(channel),
                           created_at=now, expires_at=now + self.session_ttl))
        return IssuedSession(token, SessionInfo(_info(row), channel, now + self.session_ttl))

    async def resolve_session(self, token: str) -> SessionInfo | None:
        """The live session behind ``token``, or ``None`` if unknown, expired, ended or disabled."""
        async with self.db() as s:
            found = (await s.execute(select(LoginSession, Account).join(Account, Account.id == LoginSession.account_id)
                                     .where(LoginSession.token_hash == _digest(token)))).first()
        if found is None:
            return None
        sess, account = found
        if sess.ended_at is not None or sess.expires_at <= self.clock.now() or account.disabled_at is not None:
            return None
        return SessionInfo(_info(account), Channel(sess.channel), sess.expires_at)

    async def logout(self, token: str) -> None:
        async with self.db.begin() as s:
            await s.execute(update(LoginSession).where(LoginSession.token_hash == _digest(token),
                                                       LoginSession.ended_at.is_(None))
                            .values(ended_at=self.clock.now()))

    # --- agents ---------------------------------------------------------------------------
    async def authorise_agent(self, party: Actor, agent_login: str, document: bytes, file_name: str,
                              media_type: str) -> AgentAuthorisation:
        """A party names an agent by login and uploads the signed power of attorney."""
        if party.role != Role.PARTY:
            raise Forbidden("forbidden", "only a party authorises an agent")
        name = clean_file_name(file_name)
        if not LOGIN.match(agent_login):
            raise NotFound("agent_not_found", "no agent account with this login")
        async with self.db() as s:
            agent = await s.scalar(select(Account).where(Account.login == agent_login, Account.role == str(Role.AGENT),
                                                         Account.disabled_at.is_(None)))
        if agent is None:
            raise NotFound("agent_not_found", "no agent account with this login")
        blob = await self.files.put(document)
        file_id = "f_" + secrets.token_hex(8)
        now = self.clock.now()
        async with self.db.begin() as s:
            s.add(StoredFile(id=file_id, sha256=blob.sha256, size=blob.size, media_type=media_type[:100], name=name,
                             path=blob.relative_path, uploaded_by=party.id, created_at=now))
            await s.flush()
            s.add(AgentLink(agent_id=agent.id, party_id=party.id, power_of_attorney_id=file_id, created_at=now))
        return AgentAuthorisation(_info(agent), party.id, file_id, blob.sha256)

    async def represented_parties(self, agent_id: str) -> list[str]:
        async with self.db() as s:
            return list((await s.scalars(select(AgentLink.party_id).where(
                AgentLink.agent_id == agent_id, AgentLink.revoked_at.is_(None)))).all())
