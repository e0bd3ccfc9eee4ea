"""An HTTP app for the integration features (webhooks, notifications) over the test services:
the case system's endpoints plus the extra tags, and whatever set-up those features need.

The shared ``api`` fixture serves only the case system's own tags; this keeps its
authorisation matrix unchanged while these features are tested through the same client."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from aiohttp import DummyCookieJar, web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from mediation.api_keys import ApiKeyService
from mediation.services import MediationServices
from signaling.api.accounts import make_session_resolver
from signaling.api.cases import setup_cases
from signaling.auth import make_auth_middleware
from signaling.config import Settings
from signaling.errors import error_middleware
from signaling.openapi import ApiRegistry
from signaling.openapi import api as registry

from .api_client import Api
from .conftest import MEDIATION_TAGS, api_key_store, scopes_for
from .doubles import MemorySms

ADMIN_PASSWORD = "correct horse battery"


async def start_api(services: MediationServices, engine: AsyncEngine, data_dir: Path, sms: MemorySms,
                    tags: tuple[str, ...], setup: Callable[[web.Application], None]) -> tuple[Api, ApiKeyService]:
    """A started client (close it with ``api.client.close()``) and the API key store, with a
    bootstrapped platform administrator ``root`` and a service key named ``court-system`` with the
    scopes every endpoint served needs."""
    settings = Settings(data_dir=data_dir)
    keys = api_key_store(services)
    app = web.Application(middlewares=[error_middleware,
                                       make_auth_middleware(keys, make_session_resolver(services.accounts))])
    setup_cases(app, settings, engine, services, scan_interval=None)
    setup(app)
    served = MEDIATION_TAGS + tags
    ApiRegistry([ep for ep in registry.endpoints if ep.tag in served]).install(app)
    client = TestClient(TestServer(app), cookie_jar=DummyCookieJar())
    await client.start_server()
    await services.accounts.bootstrap_admin("root", "Platform Admin", ADMIN_PASSWORD)
    return Api(client, services, sms, (await keys.create("court-system", scopes_for(served))).key), keys
