"""What a Python test client does with ``room:state``, as the browser does (web_client/js/app.js
``withYou``): a group's shared snapshot names nobody as ``you``; the client finds its own seat
among the participants."""

from __future__ import annotations

from typing import Any


def with_you(snapshot: dict[str, Any], seat: str | None) -> dict[str, Any]:
    """``snapshot`` with ``you`` filled in (``None`` while this client does not know its seat or is
    not among the participants); ``shared`` marks a group's snapshot."""
    if snapshot.get("you") is not None:
        return snapshot
    me = next((p for p in snapshot.get("participants", []) if p["seat"] == seat), None)
    you = None if me is None else me | {"waiting_for_caucus": bool(snapshot.get("caucus")) and not me["in_caucus"]}
    return snapshot | {"you": you, "shared": True}
