"""Agreements in a real database for the ceremony tests: a migrated SQLite file, the case
system's agreement store over it, and accounts for the sample agreement's participants."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from agreement_samples import agreement_dict
from mediation.agreement_store import SqlAgreementStore
from mediation.clock import SystemClock
from mediation.files import FileStore
from mediation.models import Account
from mediation.pii import PiiCipher
from mediation.schema import upgrade_engine
from signaling.database import make_engine
from signing.agreement import AgreementData
from signing.ceremony import Signer

#: The sample's people as case participants (account ids).
ACCOUNTS = {"zhang": "a_zhang", "li": "a_li", "wang": "a_wang", "zhao": "a_zhao"}
ZHANG = Signer("party:zhang", ACCOUNTS["zhang"])
LI = Signer("party:li", ACCOUNTS["li"])
WANG = Signer("agent:li", ACCOUNTS["wang"])  # 李四's agent
ZHAO = Signer("mediator", ACCOUNTS["zhao"])


def bound_dict(**changes: Any) -> dict[str, Any]:
    """The sample agreement with every person bound to their account, as a case draft is."""
    data = agreement_dict(**changes)
    zhang, li = data["parties"]
    zhang.setdefault("participant_id", ACCOUNTS["zhang"])
    li.setdefault("participant_id", ACCOUNTS["li"])
    if li.get("agent"):
        li["agent"].setdefault("participant_id", ACCOUNTS["wang"])
    data["mediator"].setdefault("participant_id", ACCOUNTS["zhao"])
    return data


def bound_agreement(**changes: Any) -> AgreementData:
    return AgreementData.model_validate(bound_dict(**changes))


async def open_store(tmp_path: Path, *, one_loop: bool = True) -> tuple[AsyncEngine, SqlAgreementStore]:
    """``one_loop=False`` for tests that run several event loops: no connection outlives its loop."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'accord.sqlite3'}"
    engine = make_engine(url) if one_loop else create_async_engine(url, poolclass=NullPool)
    await upgrade_engine(engine)
    db = async_sessionmaker(engine, expire_on_commit=False)
    async with db.begin() as s:
        for name, account_id in ACCOUNTS.items():
            s.add(Account(id=account_id, role="party", login=name, display_name=name,
                          created_at=dt.datetime.now(dt.UTC)))
    return engine, SqlAgreementStore(db, FileStore(tmp_path / "files", 50 * 1024 * 1024), SystemClock(),
                                     PiiCipher(secrets.token_bytes(32)))


async def create_agreement(store: SqlAgreementStore, data: AgreementData | None = None) -> str:
    """A draft agreement outside any case (as the store allows for imported ones)."""
    async with store.db.begin() as s:
        return await store.add_draft(s, data or bound_agreement(), case_id=None, organisation_id=None,
                                     created_by=None)
