"""Agreement texts at rest: the database holds no ID number in clear, the store and the locked PDF
still give the full number, and migration 0015 converts agreements stored before it."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from agreement_db import bound_dict, create_agreement, open_store
from mediation.agreement_models import AgreementRow, AgreementVersionRow
from mediation.agreement_pii import PREFIX
from mediation.agreement_store import SqlAgreementStore
from mediation.clock import SystemClock
from mediation.files import FileStore
from mediation.pii import PiiCipher
from mediation.schema import upgrade_engine
from signaling.database import make_engine
from signing.agreement import AgreementData

NUMBERS = [bound_dict()["parties"][0]["id_number"], bound_dict()["parties"][1]["id_number"],
           bound_dict()["parties"][1]["agent"]["id_number"], bound_dict()["mediator"]["id_number"]]


async def _stored_json(engine: AsyncEngine) -> str:
    async with engine.connect() as conn:
        return json.dumps([row[0] for row in await conn.execute(text("SELECT data FROM med_agreement_versions"))],
                          ensure_ascii=False)


def _on_disk(tmp_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in tmp_path.glob("accord.sqlite3*"))


async def test_the_database_keeps_id_numbers_encrypted_and_the_pdf_prints_them(tmp_path: Path) -> None:
    engine, store = await open_store(tmp_path)
    try:
        agreement_id = await create_agreement(store)
        draft = await store.current(agreement_id)
        assert [draft.data.parties[0].id_number, draft.data.parties[1].id_number,
                draft.data.parties[1].agent.id_number, draft.data.mediator.id_number] == NUMBERS  # type: ignore[union-attr]
        edited = await store.edit(agreement_id, draft.data.model_copy(update={"place": "线上"}), None)
        locked = await store.lock(agreement_id, edited.version)
        stored = await _stored_json(engine)
        assert stored.count(PREFIX) == len(NUMBERS)
        for number in NUMBERS:
            assert number not in stored
            assert number.encode() not in _on_disk(tmp_path)
        pdf_text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(await store.revision_path(locked)), "-"],
                                  check=True, capture_output=True, text=True).stdout
        for number in NUMBERS[:3]:  # the parties and the agent are printed in full; the mediator's is not printed
            assert number in pdf_text
    finally:
        await engine.dispose()


async def _agreement_before_0015(tmp_path: Path) -> AsyncEngine:
    """A database as version 0011 left it, with one agreement whose text holds clear ID numbers."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'accord.sqlite3'}")
    await upgrade_engine(engine, "0011")
    now = dt.datetime.now(dt.UTC)
    async with engine.begin() as conn:
        await conn.execute(insert(AgreementRow.__table__).values(id="ag_00000000000000aa", case_id=None,
                                                                 organisation_id=None, created_by=None,
                                                                 created_at=now, current_version=1))
        await conn.execute(insert(AgreementVersionRow.__table__).values(
            agreement_id="ag_00000000000000aa", version=1, status="draft", data=bound_dict(),
            evidence={}, created_at=now))
    return engine


async def test_migration_0015_encrypts_the_ids_of_stored_agreements(tmp_path: Path) -> None:
    engine = await _agreement_before_0015(tmp_path)
    key = secrets.token_bytes(32)
    try:
        assert NUMBERS[0] in await _stored_json(engine)
        await upgrade_engine(engine, pii_key=key)
        stored = await _stored_json(engine)
        assert stored.count(PREFIX) == len(NUMBERS) and not any(n in stored for n in NUMBERS)
        store = SqlAgreementStore(async_sessionmaker(engine, expire_on_commit=False),
                                  FileStore(tmp_path / "files", 1 << 20), SystemClock(), PiiCipher(key))
        assert (await store.current("ag_00000000000000aa")).data == AgreementData.model_validate(bound_dict())
    finally:
        await engine.dispose()


async def test_migration_0015_needs_the_key_when_agreements_exist(tmp_path: Path) -> None:
    engine = await _agreement_before_0015(tmp_path)
    try:
        with pytest.raises(RuntimeError, match="PII key"):
            await upgrade_engine(engine)
        assert NUMBERS[0] in await _stored_json(engine)  # nothing half-converted
    finally:
        await engine.dispose()
