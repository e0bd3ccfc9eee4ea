"""The ``accord`` command: ``accord serve``, ``accord room ...``, ``accord apikey ...`` and the
commands other packages contribute (each ``signaling/commands/<name>.py`` has ``register``).

Only the module of the command given is imported (``accord verify`` must not load the web
server); without one, all are, for the full help."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

#: Command modules, in the order ``accord --help`` lists them.
COMMAND_MODULES = ("serve", "room", "apikey", "admin", "pki", "verify", "audit", "agreements", "recordings", "demo", "guidance")


_GLOBAL_OPTIONS_WITH_VALUE = ("--config", "--data-dir")


def requested_command(argv: list[str]) -> str | None:
    """The sub-command ``argv`` names (skipping the global options and their values), if any."""
    tokens = iter(argv)
    for token in tokens:
        if token in _GLOBAL_OPTIONS_WITH_VALUE:
            next(tokens, None)
        elif not token.startswith("-"):
            return token if token in COMMAND_MODULES else None
    return None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser for every command, or for ``only`` that one (imports only its module)."""
    parser = argparse.ArgumentParser(prog="accord", description="Video mediation and e-signing server")
    parser.add_argument("--config", type=Path, help="accord.toml to read (default: ./accord.toml if present)")
    parser.add_argument("--data-dir", type=Path, help="where the database, keys and files live")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES if only is None else (only,):
        importlib.import_module(f"signaling.commands.{name}").register(sub)
    _accept_global_options_everywhere(parser)
    return parser


def _accept_global_options_everywhere(parser: argparse.ArgumentParser) -> None:
    """Let ``--config``/``--data-dir`` follow the sub-command too (``accord serve --data-dir X``)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                child.add_argument("--config", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
                child.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
                _accept_global_options_everywhere(child)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(requested_command(argv))
    args = parser.parse_args(argv)
    os.umask(0o077)  # every file a command creates in the data directory is the server account's alone
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError) as exc:
        print(f"accord: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
