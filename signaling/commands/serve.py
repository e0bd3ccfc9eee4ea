"""``accord serve``: run the server until SIGINT/SIGTERM, then close peers cleanly."""

from __future__ import annotations

import argparse

from aiohttp import web

from ..app import create_app
from ..logs import configure_logging
from ..tls import ssl_context
from . import settings_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the server")
    p.add_argument("--host", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8080)")
    p.add_argument("--tls-cert", help="PEM certificate for HTTPS")
    p.add_argument("--tls-key", help="PEM private key for HTTPS")
    p.add_argument("--self-signed", action="store_true", default=None, dest="tls_self_signed",
                   help="serve HTTPS with a generated self-signed certificate")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args, host=args.host, port=args.port, tls_cert=args.tls_cert, tls_key=args.tls_key,
                             tls_self_signed=args.tls_self_signed)
    configure_logging(settings.log_level, settings.log_format)
    app = create_app(settings)
    print(f"Accord is running: open {settings.base_url}/ (Ctrl-C to stop)", flush=True)
    web.run_app(app, host=settings.host, port=settings.port, ssl_context=ssl_context(settings),
                print=None, shutdown_timeout=10)
    return 0
