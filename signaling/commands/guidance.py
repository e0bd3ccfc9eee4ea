"""``accord guidance``: load the assistant's shipped knowledge base (new entries only) and import
past cases for similar-case search — a court's own corpus (JSON Lines, see README "Similar cases")
or the fictional demo corpus. The whole file is validated before anything is written."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from sqlalchemy.ext.asyncio import async_sessionmaker

from mediation.clock import SystemClock
from mediation.directory import DISPUTE_TYPES
from mediation.errors import MediationError
from mediation.guidance.demo_corpus import demo_cases
from mediation.guidance.service import GuidanceService
from mediation.guidance.similar import ImportError_, PastCaseIn, parse_lines
from mediation.schema import upgrade_engine

from ..database import make_engine
from ..config import pii_key
from . import settings_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("guidance", help="the assistant's knowledge base and the similar-case corpus")
    inner = p.add_subparsers(dest="guidance_command", required=True)
    load = inner.add_parser("load-knowledge", help="add the shipped knowledge-base entries the database lacks")
    load.set_defaults(func=run_load_knowledge)
    imp = inner.add_parser("import-cases", help="import past cases from a JSON Lines file")
    imp.add_argument("file", type=Path)
    imp.set_defaults(func=run_import)
    demo = inner.add_parser("demo-cases", help="import the fictional demo corpus of past cases")
    demo.add_argument("--count", type=int, default=500)
    demo.add_argument("--seed", type=int, default=2016)
    demo.set_defaults(func=run_demo)


async def _with_service(args: argparse.Namespace, work) -> int:  # type: ignore[no-untyped-def]
    settings = settings_from(args)
    engine = make_engine(settings.effective_database_url)
    try:
        await upgrade_engine(engine, pii_key=pii_key(settings))
        return await work(GuidanceService(async_sessionmaker(engine, expire_on_commit=False), SystemClock()))
    finally:
        await engine.dispose()


def run_load_knowledge(args: argparse.Namespace) -> int:
    added = asyncio.run(_with_service(args, lambda g: g.seed()))
    print(f"{added} knowledge-base entries added")
    return 0


def _import(args: argparse.Namespace, cases: list[PastCaseIn]) -> int:
    try:
        count = asyncio.run(_with_service(args, lambda g: g.import_cases(cases)))
    except MediationError as err:
        print(f"accord: {err.message}", file=sys.stderr)
        return 1
    print(f"{count} past cases imported")
    return 0


def run_import(args: argparse.Namespace) -> int:
    try:
        with args.file.open(encoding="utf-8") as lines:
            cases = list(parse_lines(lines, DISPUTE_TYPES))
    except (OSError, ImportError_) as err:
        print(f"accord: {err}", file=sys.stderr)
        return 1
    return _import(args, cases)


def run_demo(args: argparse.Namespace) -> int:
    return _import(args, list(demo_cases(args.count, args.seed)))
