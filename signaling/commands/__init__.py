"""Sub-commands of ``accord``; each module exposes ``register(subparsers)``."""

from __future__ import annotations

import argparse

from ..config import Settings, load_settings


def settings_from(args: argparse.Namespace, **overrides: object) -> Settings:
    """Settings for a command: config file and data dir from the global options."""
    return load_settings(getattr(args, "config", None), data_dir=getattr(args, "data_dir", None), **overrides)
