"""``accord demo load [--cases 300] [--signed 20] [--seed N] [--password PW]``: fill the database with
the clearly fictional demo platform (see :mod:`mediation.demo_data`), through the domain services
and the signing ceremony, and print the demo accounts with their one password, once.

Safe while ``accord serve`` runs on the same data directory (each action is one locked
transaction) and safe to run again: a second run finishes what an interrupted one left and adds
nothing twice."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
from dataclasses import asdict

from identity.gate import TestIdentityGate
from mediation.demo_data import DemoClock, DemoLoader, DemoOutbox, DemoSeedMismatch, DemoSigning, DemoSummary
from mediation.directory import DirectoryService
from mediation.guidance.demo_corpus import demo_cases
from mediation.guidance.service import GuidanceService
from mediation.recommendation import Recommender
from mediation.rooms import CaseSeat, RoomInvitation
from mediation.schema import upgrade_engine
from mediation.services import MediationServices
from signing.ceremony import SigningCeremony
from signing.pki import PlatformPKI
from signing.tsa import TimeStampAuthority

from ..api.cases import create_case_services
from ..api.pki import court_ruling_signer, open_platform_pki, platform_timestamper
from ..config import Settings, ensure_secret, pii_key
from ..data_dir import prepare_data_dir
from ..database import create_schema, make_engine
from ..room_store import RoomOwner, RoomStore
from ..room_store import metadata as room_metadata
from . import settings_from

#: Who signs in where, for the list of demo accounts.
ROLES = [("platform_admin", "platform admin", "平台管理员", "admin"),
         ("org_admin", "organisation admin", "机构管理员", "mediator"),
         ("mediator", "mediator", "调解员", "mediator"),
         ("court_clerk", "court clerk", "法院书记员", "court"),
         ("judge", "judge", "法官", "court"),
         ("party", "party", "当事人", "party"),
         ("agent", "agent", "代理人", "party")]


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


#: How many fictional past cases the demo adds for similar-case search.
DEMO_PAST_CASES = 500


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="a fictional demo data set")
    inner = p.add_subparsers(dest="demo_command", required=True)
    load = inner.add_parser("load", help="load organisations, accounts for every role and cases across the 7 steps; "
                                         "run it again to finish an interrupted load")
    load.add_argument("--cases", type=int, default=300, help="how many cases (default 300)")
    load.add_argument("--signed", type=int, default=20,
                      help="how many settled cases get an agreement signed through the ceremony and sealed "
                           "(default 20; about 1 s each); the other settled cases wait at step 5 with their draft")
    load.add_argument("--mediators", type=int, default=60, help="how many mediators (default 60)")
    load.add_argument("--parties", type=int, default=40, help="how many party accounts share the cases (default 40)")
    load.add_argument("--seed", type=int, default=2016, help="same seed, same data set")
    load.add_argument("--password", help="the password of every demo account (at least 10 characters); "
                                         "otherwise a new random one, printed at the end")
    load.add_argument("--json", action="store_true", help="machine-readable summary")
    load.set_defaults(func=run_load)


def _signing(settings: Settings, services: MediationServices, pki: PlatformPKI) -> DemoSigning:
    """The ceremony as the server builds it (same PKI, seals, TSA and ID-number key, from the data
    directory), asking a test identity gate."""
    timestamper = platform_timestamper(settings, TimeStampAuthority(pki))
    gate = TestIdentityGate()
    ceremony = SigningCeremony(services.agreements, pki, gate, timestamper,
                               id_digest_key=ensure_secret(settings, "id-hash"),
                               on_effective=services.results.signatures_took_effect,
                               on_revision=services.results.agreement_revised)
    return DemoSigning(ceremony, gate)


def run_load(args: argparse.Namespace) -> int:
    if not 1 <= args.cases <= 5000 or not 5 <= args.mediators <= 1000 or not 2 <= args.parties <= 1000 \
            or not 0 <= args.signed <= args.cases:
        raise ValueError("--cases is 1-5000, --signed 0 to --cases, --mediators 5-1000 and --parties 2-1000")
    if args.password is not None and len(args.password) < 10:
        raise ValueError("--password needs at least 10 characters")
    settings = settings_from(args)
    if settings.environment == "production":
        print("accord: demo data (fictional people, development identity checks) is refused in production")
        return 1

    async def go() -> DemoSummary:
        prepare_data_dir(settings)
        engine = make_engine(settings.effective_database_url)
        try:
            await upgrade_engine(engine, pii_key=pii_key(settings))
            await create_schema(engine, [room_metadata])
            clock = DemoClock()
            outbox = DemoOutbox()
            pki = open_platform_pki(settings)
            services = create_case_services(settings, engine, rooms=DemoRooms(RoomStore(engine)), clock=clock,
                                            sms=outbox, sign_ruling=court_ruling_signer(settings, pki))
            loader = DemoLoader(services, DirectoryService(services.db, clock), Recommender(services.db, services.cases),
                                outbox.code_for, clock, _signing(settings, services, pki) if args.signed else None,
                                seed=args.seed, password=args.password)
            summary = await loader.load(cases=args.cases, mediators=args.mediators, parties=args.parties,
                                        signed=args.signed)
            # Past cases for the guidance page's similar-case search (fictional; once).
            await GuidanceService(services.db, clock).import_cases_if_none(demo_cases(DEMO_PAST_CASES, args.seed))
            return summary
        finally:
            await engine.dispose()

    # Signatures embed the platform's CRLs offline, on purpose: pyHanko's note about it is noise here.
    logging.getLogger("pyhanko.sign.signers.pdf_signer").setLevel(logging.ERROR)
    started = time.monotonic()
    try:
        summary = asyncio.run(go())
    except DemoSeedMismatch as exc:
        print(f"accord: {exc}")
        return 1
    seconds = time.monotonic() - started
    if args.json:
        print(json.dumps({**asdict(summary), "seconds": round(seconds, 1)}, ensure_ascii=False))
        return 0
    _print(summary, seconds)
    return 0


def _print(summary: DemoSummary, seconds: float) -> None:
    print(f"demo loaded in {seconds:.0f} s: {summary.organisations} organisations, {summary.mediators} mediators, "
          f"{summary.parties} parties, {summary.cases} cases ({summary.cases_created} new)")
    print("cases by step: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.by_step.items())))
    print(f"agreements signed and sealed {summary.signed_agreements}; court applications "
          + (", ".join(f"{k} {v}" for k, v in sorted(summary.court_applications.items())) or "none"))
    print(f"ratings {summary.ratings}, declines {summary.declines}, complaints {summary.complaints}")
    print("\ndemo accounts, by role: sign in at /cases.html through the entry point named")
    for role, label, label_zh, channel in ROLES:
        logins = summary.accounts.by_role.get(role, [])
        if logins:
            shown = logins[0] if len(logins) == 1 else f"{logins[0]} … {logins[-1]} ({len(logins)})"
            print(f"  {label:<19} {channel:<9} {shown:<46} {label_zh}")
    print(f"\npassword of every demo account (shown this once): {summary.accounts.password}")
