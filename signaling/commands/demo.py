"""``accord demo load [--cases 300] [--seed N] [--password PW]``: fill the database with the
clearly fictional demo platform (see :mod:`mediation.demo_data`), through the domain services."""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import asdict
from datetime import datetime, timezone

from mediation.clock import ManualClock
from mediation.demo_data import DemoAlreadyLoaded, DemoLoader, DemoOutbox, time_span
from mediation.directory import DirectoryService
from mediation.recommendation import Recommender
from mediation.rooms import CaseSeat, RoomInvitation
from mediation.schema import upgrade_engine

from ..api.cases import create_case_services
from ..database import create_schema, make_engine
from ..room_store import RoomOwner, RoomStore
from ..room_store import metadata as room_metadata
from . import settings_from


class DemoRooms:
    """Step 4 opens real rooms in the room store. The loader invites nobody (join links are
    issued by the running server to the people who open them), so ``invite`` refuses."""

    def __init__(self, store: RoomStore):
        self.store = store

    async def create_room(self, case_id: str, opened_by: str, organisation: str | None) -> str:
        owner = RoomOwner(case_id=case_id, created_by=opened_by, organisation=organisation)
        return (await self.store.create(case_id, "示例视频调解（演示数据）", owner)).room_id

    async def invite(self, room_id: str, seat: CaseSeat) -> RoomInvitation:
        raise RuntimeError("the demo loader does not issue join links; ask the running server for one")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="a fictional demo data set")
    inner = p.add_subparsers(dest="demo_command", required=True)
    load = inner.add_parser("load", help="load organisations, mediators and cases across the 7 steps")
    load.add_argument("--cases", type=int, default=300, help="how many cases (default 300)")
    load.add_argument("--mediators", type=int, default=60, help="how many mediators (default 60)")
    load.add_argument("--parties", type=int, default=40, help="how many party accounts share the cases (default 40)")
    load.add_argument("--seed", type=int, default=2016, help="same seed, same data set")
    load.add_argument("--password", help="give every demo account this password (to sign in as one); "
                                         "otherwise each gets a random one nobody knows")
    load.add_argument("--json", action="store_true", help="machine-readable summary")
    load.set_defaults(func=run_load)


def run_load(args: argparse.Namespace) -> int:
    if not 1 <= args.cases <= 5000 or not 5 <= args.mediators <= 1000 or not 2 <= args.parties <= 1000:
        raise ValueError("--cases is 1-5000, --mediators 5-1000 and --parties 2-1000")
    if args.password is not None and len(args.password) < 10:
        raise ValueError("--password needs at least 10 characters")

    async def go() -> int:
        settings = settings_from(args)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.effective_database_url)
        try:
            await upgrade_engine(engine)
            await create_schema(engine, [room_metadata])
            clock = ManualClock(datetime.now(timezone.utc) - time_span(args.cases))
            outbox = DemoOutbox()
            services = create_case_services(settings, engine, rooms=DemoRooms(RoomStore(engine)), clock=clock,
                                            sms=outbox)
            loader = DemoLoader(services, DirectoryService(services.db, clock), Recommender(services.db, services.cases),
                                outbox.code_for, clock, seed=args.seed, password=args.password)
            summary = await loader.load(cases=args.cases, mediators=args.mediators, parties=args.parties)
        except DemoAlreadyLoaded as exc:
            print(f"accord: {exc}")
            return 1
        finally:
            await engine.dispose()
        if args.json:
            print(json.dumps(asdict(summary), ensure_ascii=False))
        else:
            print(f"demo loaded: {summary.organisations} organisations, {summary.mediators} mediators, "
                  f"{summary.parties} parties, {summary.cases} cases")
            print("cases by step: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.by_step.items())))
            print(f"ratings {summary.ratings}, declines {summary.declines}, complaints {summary.complaints}")
        return 0

    return asyncio.run(go())
