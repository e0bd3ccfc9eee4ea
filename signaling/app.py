"""The app factory: composes rooms, media, signing and cases into one aiohttp application.

Request flow: aiohttp → ``error_middleware`` (one error shape) → ``html_error_pages`` (HTML 404 and 500
pages for browsers) → ``auth_middleware`` (who is calling) → the endpoint wrapper from
:mod:`signaling.openapi` (role check, body validation) → a handler that calls a domain package. Socket.IO shares the same aiohttp server and is served
by :class:`signaling.room_events.RoomHub`.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import socketio
from aiohttp import web

from .api import accounts as accounts_api
from .api import agreement_editing as _agreement_editing_api  # noqa: F401  (registers the drafting endpoints)
from .api import agreement_identity_checks as _agreement_identity_checks_api  # noqa: F401  (registers identity checks)
from .api import agreement_sealing as _agreement_sealing_api  # noqa: F401  (registers the seal and the final PDF)
from .api import agreement_verification as agreement_verification_api
from .api import agreements as agreements_api
from .api import api_keys as _api_keys_api  # noqa: F401  (registers /api/admin/api-keys)
from .api import case_package as _case_package_api  # noqa: F401  (registers the package's contents)
from .api import cases as cases_api
from .api import datacentre as datacentre_api
from .api import directory as directory_api
from .api import drafts as _drafts_api  # noqa: F401  (registers /api/me/application-draft)
from .api import guidance as guidance_api
from .api import identity as identity_api
from .api import notifications as notifications_api
from .api import pki as pki_api
from .api import recordings as recordings_api
from .api import rooms as rooms_api
from .api import signing_ceremony as _signing_ceremony_api  # noqa: F401  (registers /api/sign/…)
from .api import signing_identity as signing_identity_api
from .api import video_sessions as _video_sessions_api  # noqa: F401  (registers sessions and /api/me/desk)
from .api import system as _system_api  # noqa: F401  (registers /healthz and /api/openapi.json)
from .api import webhooks as webhooks_api
from .auth import API_KEYS_KEY, make_auth_middleware, open_api_keys, refuse_legacy_key_file
from .case_follow import CASE_FOLLOWERS_KEY, CaseFollowers, RedisSessionEnds
from .config import Settings, ensure_secret
from .data_dir import prepare_data_dir, tighten_tree
from .database import create_schema, make_engine
from .error_pages import html_error_pages
from .errors import error_middleware
from .openapi import api
from .recordings_setup import setup_recordings
from .metrics import setup_metrics
from .origins import origin_allowed
from .room_audit import install_room_audit
from .room_events import RoomHub
from .room_store import RoomStore
from .room_store import metadata as room_metadata
from .tokens import TokenIssuer

log = logging.getLogger(__name__)

WEB_CLIENT = Path(__file__).resolve().parent.parent / "web_client"
VENDOR_FILES = {
    "socket.io.js": WEB_CLIENT / "node_modules/socket.io-client/dist/socket.io.esm.min.js",
    "echarts.js": WEB_CLIENT / "node_modules/echarts/dist/echarts.esm.min.mjs",
}
#: pdf.js renders PDFs in the page (the document viewer): its module, worker, character maps and
#: standard fonts, nothing else of the package.
PDFJS = WEB_CLIENT / "node_modules/pdfjs-dist"
PDFJS_PARTS = {"build": "text/javascript", "cmaps": "application/octet-stream",
               "standard_fonts": "application/octet-stream"}
ENGINE_KEY = web.AppKey("engine", object)


#: The pages load scripts and styles only from this server (no inline script or style exists), show
#: page images and PDFs fetched as blobs, and talk to this server alone (WebSocket included).
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' blob: data:",
    "media-src 'self' blob:", "connect-src 'self'", "object-src 'none'", "base-uri 'self'",
    "form-action 'self'", "frame-ancestors 'self'"))
HSTS = "max-age=31536000"


def _security_headers(settings: Settings) -> web.middleware:  # type: ignore[valid-type]
    """``Referrer-Policy: same-origin`` keeps ``Referer`` for our own writes (the CSRF check's
    fallback when ``Origin`` is missing) and tells no other site where a person was."""
    tls = settings.base_url.startswith("https://")

    @web.middleware
    async def headers(request: web.Request, handler):  # type: ignore[no-untyped-def]
        response = await handler(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if tls or request.secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response

    return headers


def _socket_origins(settings: Settings):  # type: ignore[no-untyped-def]
    """Socket.IO's origin check: a WebSocket carries the session cookie and no CORS protects it, so
    only our own pages may open one (clients that send no ``Origin``, i.e. no browser, still may)."""

    def allowed(origin: str, environ: dict) -> bool:  # type: ignore[type-arg]
        own = f"{settings.scheme}://{environ.get('HTTP_HOST', '')}"
        return origin_allowed(origin, public_url=settings.base_url, own=own)

    return allowed


def _file_handler(path: Path):  # type: ignore[no-untyped-def]
    async def serve_file(_: web.Request) -> web.FileResponse:
        return web.FileResponse(path)

    return serve_file


def _static_routes(app: web.Application) -> None:
    async def join_page(_: web.Request) -> web.FileResponse:
        return web.FileResponse(WEB_CLIENT / "room.html")

    async def index(_: web.Request) -> web.FileResponse:
        return web.FileResponse(WEB_CLIENT / "index.html")

    async def vendor(request: web.Request) -> web.FileResponse:
        path = VENDOR_FILES.get(request.match_info["name"])
        if path is None or not path.exists():
            raise web.HTTPNotFound(text="front-end dependency missing: run scripts/setup.sh")
        return web.FileResponse(path, headers={"Content-Type": "text/javascript"})

    async def pdfjs(request: web.Request) -> web.FileResponse:
        part, name = request.match_info["part"], request.match_info["name"]
        path = PDFJS / part / name
        if part not in PDFJS_PARTS or "/" in name or name.startswith(".") or not path.is_file():
            raise web.HTTPNotFound(text="front-end dependency missing: run scripts/setup.sh")
        return web.FileResponse(path, headers={"Content-Type": PDFJS_PARTS[part],
                                               "Cache-Control": "public, max-age=86400"})

    app.router.add_get("/join", join_page)
    app.router.add_get("/vendor/pdfjs/{part}/{name}", pdfjs)
    app.router.add_get("/", index)
    app.router.add_get("/vendor/{name}", vendor)
    for sub in ("js", "css", "img"):
        if (WEB_CLIENT / sub).is_dir():
            app.router.add_static(f"/{sub}/", WEB_CLIENT / sub)
    for page in sorted(WEB_CLIENT.glob("*.html")):
        app.router.add_get(f"/{page.name}", _file_handler(page))


def create_app(settings: Settings) -> web.Application:
    """Build the application; start-up work (schema, keys) runs in ``on_startup``."""
    prepare_data_dir(settings, tighten=False)  # start-up walks the whole tree once, in a thread
    refuse_legacy_key_file(settings)
    engine = make_engine(settings.effective_database_url)
    store = RoomStore(engine)
    tokens = TokenIssuer(ensure_secret(settings, "token-secret"), settings.token_ttl_seconds)
    pki = pki_api.open_platform_pki(settings)
    services = cases_api.create_case_services(
        settings, engine, rooms=cases_api.RoomServiceScheduler(store, tokens, settings.base_url),
        sign_ruling=pki_api.court_ruling_signer(settings, pki))
    sessions = accounts_api.make_session_resolver(services.accounts)
    api_keys = open_api_keys(settings, services.db)
    app = web.Application(
        middlewares=[error_middleware, _security_headers(settings), html_error_pages,
                     make_auth_middleware(api_keys, sessions=sessions)],
        client_max_size=settings.max_upload_bytes,
    )
    manager = socketio.AsyncRedisManager(settings.redis_url, channel=f"{settings.redis_prefix}-sio") \
        if settings.redis_url else None
    sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins=_socket_origins(settings),
                               client_manager=manager,
                               max_http_buffer_size=max(settings.max_event_bytes * 4, 1_000_000))
    sio.attach(app)
    hub = RoomHub(sio, store, tokens, settings)
    install_room_audit(hub, services)
    followers = CaseFollowers(sio, sessions,
                              lambda principal, case_id: cases_api.may_follow_case(services, principal, case_id))
    if settings.redis_url:
        followers.ends = RedisSessionEnds(settings.redis_url, f"{settings.redis_prefix}-session-ends",
                                          followers.drop_session_room)
    app[CASE_FOLLOWERS_KEY] = followers
    services.events.subscribe(cases_api.SocketIoCaseEvents(sio))

    app[rooms_api.SETTINGS_KEY] = settings
    app[rooms_api.ROOM_STORE_KEY] = store
    app[rooms_api.TOKENS_KEY] = tokens
    app[rooms_api.HUB_KEY] = hub
    app[ENGINE_KEY] = engine
    app[API_KEYS_KEY] = api_keys
    pki_api.install_pki(app, pki)
    agreements_api.setup_agreements(app, settings, services)
    agreement_verification_api.setup_verification(app, settings)
    cases_api.setup_cases(app, settings, engine, services, scan_interval=settings.deadline_scan_seconds)
    setup_recordings(app, settings, services)
    recordings_api.setup_room_recording(app, settings, services, hub)
    identity_api.setup_identity(app, settings, services)
    signing_identity_api.setup_signing_identity(app, settings)
    webhooks_api.setup_webhooks(app, services, outbound=webhooks_api.outbound_policy(settings))
    notifications_api.setup_notifications(app, settings, services)
    directory_api.setup_directory(app, services)
    setup_metrics(app, hub, settings.metrics_token, settings.metrics_bind)
    datacentre_api.setup_datacentre(app)
    guidance_api.setup_guidance(app, settings, services, sio)
    api.install(app, public_url=settings.base_url)
    _static_routes(app)

    async def startup(_: web.Application) -> None:
        await create_schema(engine, [room_metadata])
        await asyncio.to_thread(tighten_tree, settings.data_dir)  # what start-up wrote under a looser umask
        hub.start()
        if followers.ends is not None:
            await followers.ends.start()
        log.info("accord ready", extra={"url": settings.base_url})

    async def shutdown(_: web.Application) -> None:
        await hub.close()

    async def cleanup(_: web.Application) -> None:
        if followers.ends is not None:
            await followers.ends.close()
        await engine.dispose()

    app.on_startup.append(startup)
    app.on_shutdown.append(shutdown)
    app.on_cleanup.append(cleanup)
    return app
