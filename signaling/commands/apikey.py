"""``accord apikey create NAME``: a key for an integrating system (court, organisation)."""

from __future__ import annotations

import argparse

from ..auth import ApiKeyStore
from . import settings_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("apikey", help="API keys for integrating systems")
    inner = p.add_subparsers(dest="apikey_command", required=True)
    create = inner.add_parser("create", help="create a key and print it once")
    create.add_argument("name", help="who will use it, e.g. court-system")
    create.set_defaults(func=run_create)


def run_create(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    print(ApiKeyStore(settings.secret_file("api-keys.json")).create(args.name))
    return 0
