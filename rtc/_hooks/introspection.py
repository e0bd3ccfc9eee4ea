"""What the compatibility checks read of a library function: its global names, its parameters and
its source, each empty when the function cannot be read (a C function, a replaced attribute)."""

from __future__ import annotations

import inspect
from typing import Any


def code_names(function: Any) -> tuple[str, ...]:
    code = getattr(function, "__code__", None)
    return code.co_names if code is not None else ()


def parameters(function: Any) -> list[str]:
    try:
        return list(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return []


def source(function: Any) -> str:
    try:
        return inspect.getsource(function)
    except (OSError, TypeError):
        return ""
