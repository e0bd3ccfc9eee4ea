"""Text messages to phones (one-time codes, notices) through a pluggable gateway.

A deployment plugs in its SMS provider; development uses :class:`LoggingSmsGateway`, which
writes messages to a file in the data directory and never to the log (a code in a log is a
credential in a log).
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol


class SmsGateway(Protocol):
    async def send(self, phone: str, text: str) -> None: ...


class PrivateOutbox:
    """Development delivery: appends JSON lines to a 0600 file in the data directory, off the
    event loop. Codes and messages must never reach the log; a file only the server can read is
    where a developer looks instead."""

    def __init__(self, path: Path):
        self.path = path

    async def append(self, record: dict[str, str]) -> None:
        line = json.dumps({"at": datetime.now(timezone.utc).isoformat(), **record}, ensure_ascii=False) + "\n"
        await asyncio.to_thread(self._append, line)

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(line)


class LoggingSmsGateway:
    """Appends ``{"at", "phone", "text"}`` JSON lines to ``<data_dir>/sms-outbox.jsonl`` (mode 0600)."""

    def __init__(self, data_dir: Path):
        self.outbox = PrivateOutbox(data_dir / "sms-outbox.jsonl")
        self.path = self.outbox.path

    async def send(self, phone: str, text: str) -> None:
        await self.outbox.append({"phone": phone, "text": text})
