"""``accord room create`` / ``accord room invite``: try rooms without writing an integration."""

from __future__ import annotations

import argparse
import asyncio
import json

from ..config import ensure_secret
from ..data_dir import prepare_data_dir
from ..database import create_schema, make_engine
from ..room_store import RoomOwner, RoomStore
from ..room_store import metadata as room_metadata
from ..tokens import TokenIssuer
from . import settings_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("room", help="create rooms and invitation links")
    inner = p.add_subparsers(dest="room_command", required=True)
    create = inner.add_parser("create", help="create a room for a case")
    create.add_argument("--case", required=True, dest="case_id", help="case number, e.g. (2026)川0104民调123号")
    create.add_argument("--title", default="")
    create.add_argument("--json", action="store_true", help="machine-readable output")
    create.set_defaults(func=run_create)
    invite = inner.add_parser("invite", help="print a join link for one seat")
    invite.add_argument("room_id")
    invite.add_argument("--role", required=True, choices=["mediator", "party", "agent", "observer"])
    invite.add_argument("--side", choices=["applicant", "respondent"])
    invite.add_argument("--name", required=True)
    invite.add_argument("--ttl", type=int, default=None, help="seconds the link stays valid")
    invite.add_argument("--json", action="store_true")
    invite.set_defaults(func=run_invite)


async def _store(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    settings = settings_from(args)
    prepare_data_dir(settings)
    engine = make_engine(settings.effective_database_url)
    await create_schema(engine, [room_metadata])
    return settings, engine, RoomStore(engine)


def run_create(args: argparse.Namespace) -> int:
    async def go() -> int:
        _, engine, store = await _store(args)
        try:
            # The operator's room: over the API, only platform administrators and integrating systems manage it.
            record = await store.create(args.case_id, args.title, RoomOwner(None, "cli", None))
        finally:
            await engine.dispose()
        if args.json:
            print(json.dumps({"room_id": record.room_id, "case_id": record.case_id}))
        else:
            print(f"room {record.room_id} for case {record.case_id}")
        return 0

    return asyncio.run(go())


def run_invite(args: argparse.Namespace) -> int:
    async def go() -> int:
        settings, engine, store = await _store(args)
        try:
            record = await store.get(args.room_id)
        finally:
            await engine.dispose()
        if record is None:
            raise ValueError(f"no room {args.room_id!r}")
        if record.ended_at is not None:
            raise ValueError(f"room {args.room_id} has ended")
        if record.case_bound:
            raise ValueError(f"room {args.room_id} belongs to case {record.case_id}: its participants enter from "
                             "the case page")
        issuer = TokenIssuer(ensure_secret(settings, "token-secret"), settings.token_ttl_seconds)
        token, claims = issuer.issue(record.room_id, args.role, args.name, args.side, ttl=args.ttl)
        url = f"{settings.base_url}/join#{token}"
        if args.json:
            print(json.dumps({"url": url, "token": token, "seat": claims.seat}))
        else:
            print(url)
        return 0

    return asyncio.run(go())
