"""``accord audit verify CASE``: check a case's hash-chained audit trail. Exit 0 when intact,
1 when tampering is found (the first bad entry and why are printed), 2 when there is no such case."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict

from sqlalchemy import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import async_sessionmaker

from mediation.audit import AuditVerification, verify_chain
from mediation.errors import NotFound

from ..database import make_engine
from . import settings_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="the per-case audit trail")
    inner = p.add_subparsers(dest="audit_command", required=True)
    verify = inner.add_parser("verify", help="check that no entry of a case's trail was altered, removed or reordered")
    verify.add_argument("case_id", metavar="CASE")
    verify.set_defaults(func=run_verify)


async def _verify(database_url: str, case_id: str) -> AuditVerification:
    engine = make_engine(database_url)
    try:
        return await verify_chain(async_sessionmaker(engine), case_id)
    finally:
        await engine.dispose()


def run_verify(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    try:
        result = asyncio.run(_verify(settings.effective_database_url, args.case_id))
    except NotFound as err:
        print(f"accord: {err.message}", file=sys.stderr)
        return 2
    except DBAPIError as err:
        where = make_url(settings.effective_database_url).render_as_string(hide_password=True)
        print(f"accord: cannot read the case tables at {where}: {err.orig}", file=sys.stderr)
        return 2
    print(json.dumps(asdict(result), ensure_ascii=False))
    return 0 if result.ok else 1
