"""``accord agreements import``: bring the agreements an older data directory kept as JSON files
(``data_dir/agreements``) into the database; the server refuses to start until this ran. Exit 0
when everything is in (then the directory is moved to ``agreements-imported``), 1 when some
agreement could not be imported (each is named with the reason; nothing of it was written)."""

from __future__ import annotations

import argparse
import asyncio

from mediation.agreement_store import ImportReport, import_json_agreements
from mediation.schema import upgrade_engine

from ..api.cases import create_case_services
from ..config import pii_key
from ..database import make_engine
from . import settings_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("agreements", help="agreements kept by older versions")
    inner = p.add_subparsers(dest="agreements_command", required=True)
    imp = inner.add_parser("import", help="import the JSON-file agreements of this data directory into the database")
    imp.set_defaults(func=run_import)


async def _import(args: argparse.Namespace) -> ImportReport:
    settings = settings_from(args)
    engine = make_engine(settings.effective_database_url)
    try:
        await upgrade_engine(engine, pii_key=pii_key(settings))
        services = create_case_services(settings, engine, rooms=None)
        return await import_json_agreements(services.agreements, settings.data_dir)
    finally:
        await engine.dispose()


def run_import(args: argparse.Namespace) -> int:
    report = asyncio.run(_import(args))
    print(f"imported {len(report.imported)} agreement(s), {len(report.already_present)} already in the database")
    for agreement_id, reason in sorted(report.failed.items()):
        print(f"  not imported: {agreement_id}: {reason}")
    if report.moved_to is not None:
        print(f"the JSON files were moved to {report.moved_to}")
    return 1 if report.failed else 0
