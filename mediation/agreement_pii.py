"""ID numbers inside stored agreement texts, encrypted like the case tables' (PIPL: sensitive
personal information).

An agreement's ``data`` JSON names each party, agent, representative and the mediator with their
ID number, which the PDF prints in full. The store keeps every ``id_number`` value as
``pii1:<base64 of the PiiCipher blob>`` and opens it only when it reads a version back, so the
rest of the system (the editor's masking, rendering, the ceremony) sees the text as drafted while
the database holds no number in clear. A value without the prefix is read as it is: a row written
before migration 0015, which converts them.
"""

from __future__ import annotations

import base64
from typing import Any

from .pii import PiiCipher

PREFIX = "pii1:"
CONTEXT = "agreement.id_number"
_FIELD = "id_number"


def seal_id_numbers(data: Any, cipher: PiiCipher) -> Any:
    """A copy of ``data`` (an agreement's JSON) with every ID number encrypted."""
    return _map_id_numbers(data, lambda value: value if value.startswith(PREFIX) else
                           PREFIX + base64.b64encode(cipher.encrypt(value, context=CONTEXT)).decode())


def open_id_numbers(data: Any, cipher: PiiCipher) -> Any:
    """A copy of ``data`` with every encrypted ID number in clear (clear ones are kept)."""
    return _map_id_numbers(data, lambda value: cipher.decrypt(base64.b64decode(value[len(PREFIX):]), context=CONTEXT)
                           if value.startswith(PREFIX) else value)


def _map_id_numbers(data: Any, change: Any) -> Any:
    if isinstance(data, dict):
        return {key: change(value) if key == _FIELD and isinstance(value, str) else _map_id_numbers(value, change)
                for key, value in data.items()}
    if isinstance(data, list):
        return [_map_id_numbers(item, change) for item in data]
    return data
