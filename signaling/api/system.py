"""Health and self-description of the server."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel

from ..auth import PUBLIC
from ..openapi import api
from .rooms import HUB_KEY, SETTINGS_KEY


class Health(BaseModel):
    status: Literal["ok"]
    rooms_live: int
    connections: int


@api.route("GET", "/healthz", summary="Liveness and a little load information", allow=PUBLIC, tag="system",
           response=Health)
async def healthz(request: web.Request, _: None) -> Health:
    hub = request.app[HUB_KEY]
    return Health(status="ok", rooms_live=len(hub.rooms), connections=len(hub.connections))


@api.route("GET", "/api/openapi.json", summary="This document", allow=PUBLIC, tag="system")
async def openapi_document(request: web.Request, _: None) -> dict:
    from importlib.metadata import version

    return api.document("Accord", version("accord"), request.app[SETTINGS_KEY].base_url, request.app)
