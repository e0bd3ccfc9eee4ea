"""Operations metrics in Prometheus' text format at ``/metrics`` (prometheus-client).

Off unless configured, because the figures describe the platform's load to whoever reads them:
``metrics_token`` serves ``/metrics`` on the main port to callers presenting it as a bearer token;
``metrics_bind`` ("host:port") serves it only on a separate listener (an internal interface the
scraper reaches), with the token required there too when both are set.

Rooms, participants and media come from the live rooms' routers, read at scrape time (the
routers keep their own counters; nothing here sits on the media path). A router's counters end
with its room, so the last figures of each router seen at a scrape are read once more at the next
scrape and kept as "retired" totals: the counters stay monotonic. A room that opens and closes
between two scrapes is missed. API errors (by the error's stable code), signatures and
verifications are counted by a middleware; the event loop's lag by a task that sleeps and
measures how late it wakes.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Iterator
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from rtc.router import MediaRouter, RouterStats

from .config import parse_host_port
from .room_events import RoomHub

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LAG_INTERVAL = 0.5  # seconds between two event-loop lag probes
#: Successful calls that count as a signature (by kind) or a verification.
SIGNATURE_ROUTES = {"/api/sign/complete": "party", "/api/agreements/{agreement_id}/seal": "seal"}
VERIFICATION_ROUTES = frozenset({"/api/verify"})
#: The router counters exported as Prometheus counters: (field, metric name, help).
MEDIA_COUNTERS = (
    ("packets_in", "accord_media_packets_received", "RTP packets received from publishers"),
    ("frames_forwarded", "accord_media_frames_forwarded", "Encoded frames forwarded to subscribers"),
    ("bytes_forwarded", "accord_media_bytes_forwarded", "Payload bytes of the forwarded frames"),
    ("frames_dropped", "accord_media_frames_dropped", "Frames not forwarded (overflow, waiting for a keyframe)"),
    ("keyframe_requests", "accord_media_keyframe_requests", "Keyframe requests (PLI) sent to publishers"),
)


class MediaCollector(Collector):
    """Rooms, participants and forwarding counters of this process's live rooms, read at scrape time."""

    def __init__(self, hub: RoomHub):
        self.hub = hub
        self._last_seen: dict[int, MediaRouter] = {}
        self._retired = {name: 0 for name, _, _ in MEDIA_COUNTERS}

    def collect(self) -> Iterator[Any]:
        live = {id(room.router): room.router for room in self.hub.rooms.values()}
        for key, router in list(self._last_seen.items()):
            if key not in live:  # its room ended since the last scrape: keep its final counts
                final = router.stats()
                for name in self._retired:
                    self._retired[name] += getattr(final, name)
        self._last_seen = live
        totals = dict(self._retired)
        peers = 0
        for router in live.values():
            stats: RouterStats = router.stats()
            peers += stats.peers
            for name in totals:
                totals[name] += getattr(stats, name)
        yield GaugeMetricFamily("accord_rooms_live", "Rooms with people in them on this node", value=len(self.hub.rooms))
        yield GaugeMetricFamily("accord_participants_connected", "Socket.IO connections joined to a room",
                                value=len(self.hub.connections))
        yield GaugeMetricFamily("accord_media_peers", "WebRTC peer connections of the live rooms' routers", value=peers)
        for name, metric, help_text in MEDIA_COUNTERS:
            yield CounterMetricFamily(metric, help_text, value=totals[name])


class OperationsMetrics:
    """One registry per app (tests start several apps in one process)."""

    def __init__(self, hub: RoomHub):
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(MediaCollector(hub))
        self.api_errors = Counter("accord_api_errors", "Error responses by their stable code and HTTP status",
                                  ["code", "status"], registry=self.registry)
        self.signatures = Counter("accord_signatures", "Signatures applied (party: a signer's; seal: an organisation's)",
                                  ["kind"], registry=self.registry)
        for kind in set(SIGNATURE_ROUTES.values()):  # present from the start: rate() sees the first one
            self.signatures.labels(kind)
        self.verifications = Counter("accord_verifications", "Documents or recording packages verified",
                                     registry=self.registry)
        self.loop_lag = Gauge("accord_event_loop_lag_seconds", "How late the last lag probe woke up",
                              registry=self.registry)
        self.loop_lag_histogram = Histogram(
            "accord_event_loop_lag_distribution_seconds", "How late the lag probes woke up",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5), registry=self.registry)
        self._probe: asyncio.Task[None] | None = None

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def observe(self, request: web.Request, response: web.StreamResponse) -> None:
        """Count what a finished request means: an error by code, a signature, a verification."""
        if response.status >= 400:
            self.api_errors.labels(_error_code(response), str(response.status)).inc()
            return
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else ""
        if route in SIGNATURE_ROUTES:
            self.signatures.labels(SIGNATURE_ROUTES[route]).inc()
        elif route in VERIFICATION_ROUTES:
            self.verifications.inc()

    def middleware(self) -> Any:
        @web.middleware
        async def count(request: web.Request, handler: Any) -> web.StreamResponse:
            response = await handler(request)
            self.observe(request, response)
            return response

        return count

    def start(self) -> None:
        self._probe = asyncio.get_running_loop().create_task(self._measure_lag())

    async def stop(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            await asyncio.gather(self._probe, return_exceptions=True)

    async def _measure_lag(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(LAG_INTERVAL)
            lag = max(0.0, loop.time() - started - LAG_INTERVAL)
            self.loop_lag.set(lag)
            self.loop_lag_histogram.observe(lag)


def _error_code(response: web.StreamResponse) -> str:
    """The stable code of our one error shape; ``http_<status>`` for anything else (static files)."""
    body = getattr(response, "body", None)
    if isinstance(body, bytes) and response.content_type == "application/json" and len(body) < 65536:
        try:
            code = json.loads(body)["error"]["code"]
        except (ValueError, KeyError, TypeError):
            code = None
        if isinstance(code, str) and code.replace("_", "").isalnum() and len(code) <= 40:
            return code
    return f"http_{response.status}"


def metrics_handler(metrics: OperationsMetrics, token: str | None) -> Any:
    """``GET /metrics``; with ``token``, only for ``Authorization: Bearer <token>`` (compared in constant time)."""
    expected = f"Bearer {token}".encode() if token is not None else None

    async def serve(request: web.Request) -> web.Response:
        if expected is not None:
            given = request.headers.get("Authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                return web.json_response({"error": {"code": "metrics_token_required",
                                                    "message": "the metrics need their bearer token"}},
                                         status=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    return serve


def setup_metrics(app: web.Application, hub: RoomHub, token: str | None, bind: str | None) -> OperationsMetrics | None:
    """Serve ``/metrics`` as configured (see the module docstring); nothing at all when neither is
    set. The counting middleware goes first, outside the error middleware, to see final responses."""
    if token is None and bind is None:
        return None
    metrics = OperationsMetrics(hub)
    app.middlewares.insert(0, metrics.middleware())
    handler = metrics_handler(metrics, token)
    runner: web.AppRunner | None = None
    if bind is None:
        app.router.add_get("/metrics", handler)

    async def startup(_: web.Application) -> None:
        nonlocal runner
        metrics.start()
        if bind is not None:
            side = web.Application()
            side.router.add_get("/metrics", handler)
            runner = web.AppRunner(side, access_log=None)
            await runner.setup()
            host, port = parse_host_port(bind)
            await web.TCPSite(runner, host, port).start()
            log.info("metrics served on a separate address", extra={"bind": bind})

    async def cleanup(_: web.Application) -> None:
        await metrics.stop()
        if runner is not None:
            await runner.cleanup()

    app.on_startup.append(startup)
    app.on_cleanup.append(cleanup)
    return metrics

