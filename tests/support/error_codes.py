"""Every error code the server can send, collected from the source rather than kept by hand.

The project's errors all carry a stable ``code`` (``ApiError``, ``MediationError`` and its kinds,
``RoomError``, ``TokenError``, ``CeremonyRefused``...). This module reads the server packages'
syntax trees and finds:

- every exception class whose ``__init__`` takes a ``code`` (and its subclasses), and every call
  to one of them with a literal code (positional or ``code=``);
- every class-level ``code = "..."`` of an exception class (``rtc.errors``);
- the members of an enum a ``code`` parameter is annotated with (``RefusalCode``);
- the literal first argument of the Socket.IO refusal helpers (``refuse``, ``_refuse``), and every
  error written out by hand as ``{"code": "...", "message": ...}`` (e.g. a Socket.IO ``error`` event);
- the codes the HTTP layer makes itself (:data:`FRAMEWORK_CODES`).

A call whose code is not a literal must forward an already-coded error (``exc.code``); anything
else is reported by :func:`unresolved_calls` so that a new way of making codes cannot slip by.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SERVER_PACKAGES = ("signaling", "mediation", "identity", "recordings", "signing", "rtc")

#: Codes ``signaling.errors.error_middleware`` builds from aiohttp's own refusals, plus its 500.
FRAMEWORK_CODES = frozenset({"not_found", "method_not_allowed", "bad_request", "too_large", "internal",
                             "unsupported_media_type", "unauthorized", "forbidden"})
#: The refusal helpers of the Socket.IO handlers: ``refuse(code, message)``.
REFUSAL_FUNCTIONS = frozenset({"refuse", "_refuse"})
#: Forwarding a code some other error already carries is fine: its source is counted where it is made.
_FORWARDED = frozenset({"code", "value"})
#: Errors whose constructor refuses a code outside a declared ``*_ERROR_CODES`` set (collected whole).
_CHECKED_CALLEES = frozenset({"IdentityInputError"})
_BASE_EXCEPTIONS = frozenset({"Exception", "ValueError", "RuntimeError", "LookupError", "PermissionError"})


@dataclass
class _Class:
    name: str
    bases: list[str]
    has_init: bool = False
    code_index: int | None = None  # position of ``code`` among __init__'s arguments (after self)
    code_enum: str | None = None
    literal_code: str | None = None
    is_enum: bool = False
    members: list[str] = field(default_factory=list)


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _modules() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(), str(path)))
            for package in SERVER_PACKAGES for path in sorted((REPO / package).rglob("*.py"))
            if "migrations" not in path.parts]


def _classes(modules: list[tuple[Path, ast.Module]]) -> dict[str, _Class]:
    found: dict[str, _Class] = {}
    for _, tree in modules:
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            info = _Class(node.name, [n for n in (_name(b) for b in node.bases) if n])
            info.is_enum = any(b in ("StrEnum", "Enum") for b in info.bases)
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    info.has_init = True
                    names = [a.arg for a in item.args.args[1:]]
                    if "code" in names:
                        info.code_index = names.index("code")
                        annotation = item.args.args[1 + info.code_index].annotation
                        info.code_enum = _name(annotation) if annotation is not None else None
                elif isinstance(item, ast.Assign) and isinstance(item.value, ast.Constant):
                    targets = [_name(t) for t in item.targets]
                    if "code" in targets and isinstance(item.value.value, str):
                        info.literal_code = item.value.value
                    elif info.is_enum and isinstance(item.value.value, str):
                        info.members.append(item.value.value)
            found.setdefault(node.name, info)
    return found


def _is_exception(name: str, classes: dict[str, _Class], seen: frozenset[str] = frozenset()) -> bool:
    if name in _BASE_EXCEPTIONS:
        return True
    info = classes.get(name)
    return info is not None and name not in seen and any(
        _is_exception(b, classes, seen | {name}) for b in info.bases)


def _code_index(name: str, classes: dict[str, _Class]) -> int | None:
    info = classes.get(name)
    while info is not None:
        if info.has_init:
            return info.code_index
        info = next((classes[b] for b in info.bases if b in classes), None)
    return None


@dataclass
class Collection:
    codes: set[str] = field(default_factory=set)
    unresolved: list[str] = field(default_factory=list)  # "path:line" of calls with an unknown code source


def collect() -> Collection:
    modules = _modules()
    classes = _classes(modules)
    out = Collection(codes=set(FRAMEWORK_CODES))
    for info in classes.values():
        if info.literal_code and _is_exception(info.name, classes):
            out.codes.add(info.literal_code)
        if info.code_enum and info.code_enum in classes:
            out.codes.update(classes[info.code_enum].members)
    enums = {info.code_enum for info in classes.values() if info.code_enum}
    for path, tree in modules:
        out.codes.update(_declared_code_sets(tree))
        out.codes.update(_hand_written_errors(tree))
        for node, owner in _calls(tree):
            callee = _name(node.func)
            if callee == "__init__" and owner is not None:  # super().__init__(code, ...) in an error class
                callee = next((b for b in classes[owner].bases), None)
            if callee in REFUSAL_FUNCTIONS:
                index: int | None = 0
            elif callee and _is_exception(callee, classes):
                index = _code_index(callee, classes)
            else:
                continue
            if index is None:
                continue
            argument = next((k.value for k in node.keywords if k.arg == "code"), None)
            if argument is None and index < len(node.args):
                argument = node.args[index]
            if argument is None:
                continue
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                out.codes.add(argument.value)
            elif not (isinstance(argument, ast.Attribute) and (argument.attr in _FORWARDED
                                                                or _name(argument.value) in enums)
                      or isinstance(argument, ast.Name) and argument.id == "code"
                      or callee in _CHECKED_CALLEES):
                out.unresolved.append(f"{path.relative_to(REPO)}:{node.lineno}")
    return out


def _calls(tree: ast.Module) -> list[tuple[ast.Call, str | None]]:
    """Every call with the name of the class whose body it is in (for ``super().__init__``)."""
    found: list[tuple[ast.Call, str | None]] = []

    def visit(node: ast.AST, owner: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Call):
                found.append((child, owner))
            visit(child, child.name if isinstance(child, ast.ClassDef) else owner)

    visit(tree, None)
    return found


def _declared_code_sets(tree: ast.Module) -> set[str]:
    """Module-level ``X_ERROR_CODES = frozenset({...})``: the codes a checked constructor accepts."""
    found: set[str] = set()
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        value = getattr(node, "value", None)
        if isinstance(target, ast.Name) and target.id.endswith("ERROR_CODES") and value is not None:
            found |= {c.value for c in ast.walk(value) if isinstance(c, ast.Constant) and isinstance(c.value, str)}
    return found


def _hand_written_errors(tree: ast.Module) -> set[str]:
    """``{"code": "x", "message": ...}`` dict literals: the error shape written out directly."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            keys = {k.value: v for k, v in zip(node.keys, node.values) if isinstance(k, ast.Constant)}
            code = keys.get("code")
            if "message" in keys and isinstance(code, ast.Constant) and isinstance(code.value, str):
                found.add(code.value)
    return found
