"""``accord apikey create|list|revoke|import``: keys for integrating systems (courts, organisations,
the signing and identity services), each limited to the scopes it needs.

``create`` prints the key once (alone on stdout, so ``KEY=$(accord apikey create ...)`` works);
the database keeps only a keyed hash. ``list`` never shows a key. ``revoke`` takes effect on the
next request, also on a running server. ``import`` brings the keys of ``secrets/api-keys.json``
(versions without scopes) into the database with the scopes given.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, AsyncIterator, Awaitable, Callable

from sqlalchemy.ext.asyncio import async_sessionmaker

from mediation.api_keys import ApiKeyInfo, ApiKeyService
from mediation.errors import MediationError
from mediation.schema import upgrade_engine

from ..auth import LEGACY_KEY_FILE, SCOPES, open_api_keys
from ..config import pii_key
from ..data_dir import prepare_data_dir
from ..database import make_engine
from . import settings_from

_DURATION = re.compile(r"^(\d{1,5})([hdw])$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def duration(text: str) -> timedelta:
    """``90d``, ``12h``, ``2w``."""
    match = _DURATION.match(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 90d, 12h or 2w")
    return int(match.group(1)) * _UNITS[match.group(2)]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("apikey", help="API keys for integrating systems")
    inner = p.add_subparsers(dest="apikey_command", required=True)
    scope_help = "a scope the key needs (repeat for several): " + "; ".join(f"{k}: {v}" for k, v in SCOPES.items())

    create = inner.add_parser("create", help="create a key and print it once")
    create.add_argument("name", help="who will use it, e.g. court-system (distinct among live keys)")
    create.add_argument("--scope", action="append", required=True, choices=sorted(SCOPES), metavar="SCOPE",
                        help=scope_help)
    create.add_argument("--expires-in", type=duration, metavar="DURATION", help="e.g. 90d, 12h, 2w (default: never)")
    create.add_argument("--json", action="store_true", help="machine-readable result (includes the key)")
    create.set_defaults(func=run_create)

    listing = inner.add_parser("list", help="every key with its scopes and state (never the key itself)")
    listing.add_argument("--json", action="store_true", help="machine-readable list")
    listing.set_defaults(func=run_list)

    revoke = inner.add_parser("revoke", help="revoke a key at once")
    revoke.add_argument("key", metavar="ID|NAME", help="the key's id, or the name of a live key")
    revoke.set_defaults(func=run_revoke)

    legacy = inner.add_parser("import", help=f"move the keys of secrets/{LEGACY_KEY_FILE} (no scopes) into the "
                                             "database with the scopes given")
    legacy.add_argument("--scope", action="append", required=True, choices=sorted(SCOPES), metavar="SCOPE",
                        help=scope_help)
    legacy.set_defaults(func=run_import)


@asynccontextmanager
async def _keys(args: argparse.Namespace) -> AsyncIterator[ApiKeyService]:
    settings = settings_from(args)
    prepare_data_dir(settings)
    engine = make_engine(settings.effective_database_url)
    try:
        await upgrade_engine(engine, pii_key=pii_key(settings))
        yield open_api_keys(settings, async_sessionmaker(engine, expire_on_commit=False))
    finally:
        await engine.dispose()


def _run(args: argparse.Namespace, action: Callable[[ApiKeyService], Awaitable[int]]) -> int:
    async def go() -> int:
        async with _keys(args) as keys:
            try:
                return await action(keys)
            except MediationError as exc:
                print(f"accord: {exc.message} ({exc.code})", file=sys.stderr)
                return 2

    return asyncio.run(go())


def _when(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value is not None else "-"


def _record(info: ApiKeyInfo, now: datetime) -> dict[str, Any]:
    return {"id": info.id, "name": info.name, "scopes": list(info.scopes), "state": info.state(now),
            "created_at": _when(info.created_at), "expires_at": info.expires_at and _when(info.expires_at),
            "revoked_at": info.revoked_at and _when(info.revoked_at),
            "last_used_at": info.last_used_at and _when(info.last_used_at)}


def run_create(args: argparse.Namespace) -> int:
    async def create(keys: ApiKeyService) -> int:
        issued = await keys.create(args.name, args.scope, args.expires_in)
        if args.json:
            print(json.dumps({**_record(issued.info, keys.clock.now()), "key": issued.key}, ensure_ascii=False))
        else:
            print(issued.key)
            print(f"key {issued.info.id} ({issued.info.name}) with {', '.join(issued.info.scopes)}; expires "
                  f"{_when(issued.info.expires_at) if issued.info.expires_at else 'never'}. It is shown only now.",
                  file=sys.stderr)
        return 0

    return _run(args, create)


def run_list(args: argparse.Namespace) -> int:
    async def show(keys: ApiKeyService) -> int:
        now = keys.clock.now()
        records = [_record(info, now) for info in await keys.list()]
        if args.json:
            print(json.dumps(records, ensure_ascii=False))
            return 0
        columns = ("id", "name", "state", "scopes", "created_at", "expires_at", "last_used_at")
        rows = [[(",".join(r[c]) if c == "scopes" else r[c] or "-") for c in columns] for r in records]
        if not rows:
            print("no API keys yet: accord apikey create NAME --scope SCOPE", file=sys.stderr)
            return 0
        widths = [max([len(c), *(len(row[i]) for row in rows)]) for i, c in enumerate(columns)]
        for row in [[c.upper() for c in columns], *rows]:
            print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
        return 0

    return _run(args, show)


def run_revoke(args: argparse.Namespace) -> int:
    async def revoke(keys: ApiKeyService) -> int:
        info = await keys.revoke(args.key)
        print(f"key {info.id} ({info.name}) revoked at {_when(info.revoked_at)}")
        return 0

    return _run(args, revoke)


def run_import(args: argparse.Namespace) -> int:
    path = settings_from(args).secret_file(LEGACY_KEY_FILE)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: nothing to import")
    try:
        entries = json.loads(path.read_text())
        digests = {digest: str(meta["name"]) for digest, meta in entries.items()}
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ValueError(f"{path} is not a key file of an earlier version: {exc}") from None

    async def bring_over(keys: ApiKeyService) -> int:
        imported = await keys.import_legacy(digests, args.scope)
        path.replace(path.with_name(path.name + ".imported"))
        for info in imported:
            print(f"imported key {info.id} ({info.name}) with {', '.join(info.scopes)}")
        print(f"{len(imported)} key(s) imported; {path.name} renamed to {path.name}.imported", file=sys.stderr)
        return 0

    return _run(args, bring_over)
