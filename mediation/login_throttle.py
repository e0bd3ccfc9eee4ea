"""Password sign-in throttling, per login and per client address, kept in the database.

Every attempt is counted *before* the password is checked (a reservation, like a one-time code's
attempt): however many arrive at once, at most ``limit`` per window reach the 64 MiB argon2 hash,
and a locked key is refused before the account is even looked up. Keys are the SHA-256 of the
login (known or not: the answer must not tell which) or of the address, so a password typed into
the login field is not stored. A success clears the login's record and gives back the address's
reservation; each lockout doubles the next one, up to a ceiling, until a quiet day forgets them.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .clock import Clock
from .errors import Throttled
from .models import LoginThrottle


@dataclass(frozen=True)
class ThrottleRule:
    """``limit`` attempts within ``window``, then a lockout of ``first_lockout`` doubled per repeat."""

    limit: int
    window: timedelta = timedelta(minutes=15)
    first_lockout: timedelta = timedelta(minutes=1)
    max_lockout: timedelta = timedelta(hours=1)
    forget_after: timedelta = timedelta(days=1)

    def lockout(self, count: int) -> timedelta:
        """The ``count``-th lockout in a row (1-based)."""
        return min(self.first_lockout * 2 ** min(count - 1, 30), self.max_lockout)


#: Per login: a person mistyping gets five tries; a guesser gets ~5 an hour once the lockout tops out.
ACCOUNT_RULE = ThrottleRule(limit=5)
#: Per client address: higher, since an office or a NAT shares one address among many people.
ADDRESS_RULE = ThrottleRule(limit=50)


def _key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


class LoginThrottler:
    def __init__(self, db: async_sessionmaker[AsyncSession], clock: Clock,
                 account_rule: ThrottleRule = ACCOUNT_RULE, address_rule: ThrottleRule = ADDRESS_RULE):
        self.db = db
        self.clock = clock
        self.account_rule = account_rule
        self.address_rule = address_rule

    def _rules(self, login: str, address: str | None) -> dict[str, ThrottleRule]:
        rules = {_key("account", login): self.account_rule}
        if address:
            rules[_key("ip", address)] = self.address_rule
        return rules

    async def reserve(self, login: str, address: str | None) -> None:
        """Count one attempt for ``login`` and ``address``, or refuse with :class:`Throttled`
        (changing nothing) while either is locked out.

        The rows are created if missing, then locked (``FOR UPDATE``: PostgreSQL's row lock,
        SQLite's write lock) in key order, so concurrent attempts are counted one after another."""
        rules = self._rules(login, address)
        now = self.clock.now()
        async with self.db.begin() as s:
            await self._ensure_rows(s, list(rules), now)
            rows = (await s.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(list(rules)))
                                    .order_by(LoginThrottle.key).with_for_update())).all()
            locked = [r.locked_until for r in rows if r.locked_until is not None and r.locked_until > now]
            if locked:
                wait = math.ceil((max(locked) - now).total_seconds())
                raise Throttled("login_throttled", "too many failed sign-ins: try again later",
                                {"retry_after": wait})
            for row in rows:
                self._count(row, rules[row.key], now)

    @staticmethod
    def _count(row: LoginThrottle, rule: ThrottleRule, now: datetime) -> None:
        if now - row.window_start >= rule.window:
            if now - row.window_start >= rule.forget_after:
                row.lockouts = 0
            row.failures, row.window_start = 0, now
        row.failures += 1
        if row.failures >= rule.limit:
            row.lockouts += 1
            row.locked_until = now + rule.lockout(row.lockouts)
            row.failures, row.window_start = 0, now

    @staticmethod
    async def _ensure_rows(s: AsyncSession, keys: list[str], now: datetime) -> None:
        dialect = s.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        await s.execute(insert(LoginThrottle).values([
            {"key": k, "failures": 0, "window_start": now, "lockouts": 0, "locked_until": None} for k in keys
        ]).on_conflict_do_nothing(index_elements=["key"]))

    async def succeeded(self, login: str, address: str | None) -> None:
        """The password was right: forget the login's failures, give the address its attempt back."""
        async with self.db.begin() as s:
            await s.execute(delete(LoginThrottle).where(LoginThrottle.key == _key("account", login)))
            if address:
                await s.execute(update(LoginThrottle)
                                .where(LoginThrottle.key == _key("ip", address), LoginThrottle.failures > 0)
                                .values(failures=LoginThrottle.failures - 1)
                                .execution_options(synchronize_session=False))
