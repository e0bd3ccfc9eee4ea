"""``accord admin create --login L --name N``: the first platform administrator.

Nobody can sign up as an administrator over HTTP, so the first one is made here, on the
configured database. The password comes from ``ACCORD_ADMIN_PASSWORD`` or a prompt, never from
an argument: arguments end up in shell history and ``ps`` output.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys

from mediation.errors import MediationError
from mediation.schema import upgrade_engine

from ..api.cases import create_case_services
from ..config import pii_key
from ..data_dir import prepare_data_dir
from ..database import make_engine
from . import settings_from

PASSWORD_VARIABLE = "ACCORD_ADMIN_PASSWORD"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("admin", help="platform administrator accounts")
    inner = p.add_subparsers(dest="admin_command", required=True)
    create = inner.add_parser("create", help=f"create a platform administrator (password from ${PASSWORD_VARIABLE} "
                                             "or prompted)")
    create.add_argument("--login", required=True, help="the login name (3-64 letters, digits or . _ @ + -)")
    create.add_argument("--name", required=True, help="the name shown to others")
    create.add_argument("--json", action="store_true", help="machine-readable result")
    create.set_defaults(func=run_create)


def read_password() -> str:
    """From the environment, or typed twice at a terminal."""
    given = os.environ.get(PASSWORD_VARIABLE)
    if given is not None:
        return given
    if not sys.stdin.isatty():
        raise ValueError(f"no terminal to prompt for the password: set {PASSWORD_VARIABLE}")
    first = getpass.getpass("Password for the new administrator: ")
    if getpass.getpass("Again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def run_create(args: argparse.Namespace) -> int:
    password = read_password()

    async def go() -> int:
        settings = settings_from(args)
        prepare_data_dir(settings)
        engine = make_engine(settings.effective_database_url)
        try:
            await upgrade_engine(engine, pii_key=pii_key(settings))
            services = create_case_services(settings, engine, rooms=None)
            info = await services.accounts.bootstrap_admin(args.login, args.name, password)
        except MediationError as exc:
            print(f"accord: {exc.message} ({exc.code})", file=sys.stderr)
            return 2
        finally:
            await engine.dispose()
        if args.json:
            print(json.dumps({"id": info.id, "login": info.login, "role": str(info.role)}, ensure_ascii=False))
        else:
            print(f"platform administrator {info.login} created ({info.id}); sign in through the admin channel")
        return 0

    return asyncio.run(go())
