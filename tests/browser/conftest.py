"""Browser end-to-end fixtures: a real ``accord serve`` process, rooms and invitations made
through its HTTP API, and Debian's Chromium driven by Playwright with a fake camera showing a
real face (matplotlib's ``grace_hopper.jpg``) and the fake microphone's beep.

At most three browsers run at once (a mediator and two parties): this machine has two cores.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from signaling.config import Settings, ensure_secret
from signaling.tokens import TokenIssuer
from tests.support.fake_camera import CAMERA_FPS, CAMERA_SECONDS, CAMERA_SIZE, make_fake_camera
from tests.support.loopback_media import CHROMIUM_ARGS as LOOPBACK_CHROMIUM_ARGS
from tests.support.loopback_media import ENVIRONMENT as LOOPBACK_MEDIA_ENV
from tests.support.page_wait import wait_js

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
MAX_BROWSERS = 3


# --------------------------------------------------------------------------- fake camera

@pytest.fixture(scope="session")
def fake_camera(request: pytest.FixtureRequest) -> Path:
    cache = Path(request.config.cache.mkdir("accord-fake-camera"))
    path = cache / f"grace_hopper_{CAMERA_SIZE[0]}x{CAMERA_SIZE[1]}_{CAMERA_FPS}fps_{CAMERA_SECONDS}s.y4m"
    return path if path.exists() else make_fake_camera(path)


# --------------------------------------------------------------------------- the server

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RunningServer:
    """An ``accord serve`` subprocess and the means to set rooms up through its HTTP API."""

    base_url: str
    data_dir: Path
    api_key: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            self.base_url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def create_room(self, case_id: str) -> str:
        return self.api("POST", "/api/rooms", {"case_id": case_id})["room_id"]

    def invite(self, room_id: str, role: str, name: str, side: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"role": role, "name": name}
        if side is not None:
            body["side"] = side
        return self.api("POST", f"/api/rooms/{room_id}/invites", body)

    def join_url(self, token: str) -> str:
        return f"{self.base_url}/join#{token}"

    def token_issuer(self) -> TokenIssuer:
        """The server's own issuer (same secret file): for tokens the API will not make, e.g. expired."""
        return TokenIssuer(ensure_secret(Settings(data_dir=self.data_dir), "token-secret"))


def _wait_healthy(server: RunningServer, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"accord serve exited early; see {server.log_path}:\n{server.log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(server.base_url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"accord serve did not become healthy in {timeout} s; see {server.log_path}")


def server_env() -> dict[str, str]:
    """This process's environment without any Accord setting: the server runs on its defaults."""
    return {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_") and k not in ("DATABASE_URL", "REDIS_URL")}


@contextmanager
def start_accord_server(data_dir: Path, log_name: str = "browser-server.log") -> Iterator[RunningServer]:
    """``accord serve`` as a subprocess over ``data_dir`` (SQLite and its secrets there), until the block ends."""
    port = _free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / log_name
    env = server_env()
    api_key = subprocess.run([sys.executable, "-m", "signaling.cli", "--data-dir", str(data_dir), "apikey", "create",
                              "tests", "--scope", "rooms"], cwd=data_dir, env=env, check=True, capture_output=True,
                             text=True, timeout=60).stdout.strip()
    env.update(ACCORD_LOG_FORMAT="text", ACCORD_LOG_LEVEL="INFO", PYTHONUNBUFFERED="1", **LOOPBACK_MEDIA_ENV)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "signaling.cli", "--data-dir", str(data_dir),
             "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=data_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    server = RunningServer(f"http://127.0.0.1:{port}", data_dir, api_key, process, log_path)
    try:
        _wait_healthy(server)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def accord_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The real server as a subprocess, with SQLite and its secrets in a temporary data dir."""
    with start_accord_server(tmp_path_factory.mktemp("accord-data")) as server:
        yield server


# --------------------------------------------------------------------------- browsers

def chromium_args(camera: Path | None, microphone: Path | None = None) -> list[str]:
    """``camera``: the y4m the fake camera shows; ``None``: Chromium's own test pattern (no face).
    ``microphone``: the WAV the fake microphone plays; ``None``: Chromium's beep."""
    return [
        "--headless", "--no-sandbox", "--disable-gpu",
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", *([f"--use-file-for-fake-video-capture={camera}"] if camera else []),
        *LOOPBACK_CHROMIUM_ARGS, *([f"--use-file-for-fake-audio-capture={microphone}"] if microphone else []),
    ]


@pytest.fixture(scope="module")
def playwright_session() -> Iterator[Any]:
    """Module-scoped on purpose: Playwright's sync API keeps an event loop running in this thread
    while it is open, and the asyncio tests of later modules cannot start one of their own."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup.sh --test")
    with sync_playwright() as p:
        yield p


@dataclass
class BrowserFactory:
    """Launches isolated Chromium instances (one per participant) and closes them all at the end."""

    playwright: Any
    camera: Path
    contexts: list[Any] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)

    def launch(self, microphone: Path | None = None) -> Any:
        if len(self.contexts) >= MAX_BROWSERS:
            raise RuntimeError(f"at most {MAX_BROWSERS} browsers at once on this machine")
        profile = tempfile.mkdtemp(prefix="accord-chromium-")
        context = self.playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=chromium_args(self.camera, microphone),
            viewport={"width": 1280, "height": 800},
        )
        self.contexts.append(context)
        self.profiles.append(profile)
        return context

    def close(self, context: Any) -> None:
        context.close()
        self.contexts.remove(context)

    def close_all(self) -> None:
        for context in list(self.contexts):
            self.close(context)
        for profile in self.profiles:
            shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def browsers(playwright_session: Any, fake_camera: Path) -> Iterator[BrowserFactory]:
    factory = BrowserFactory(playwright_session, fake_camera)
    try:
        yield factory
    finally:
        factory.close_all()


# --------------------------------------------------------------------------- pages

@dataclass
class Participant:
    """One person's page in the room, with the client's test surface (`window.accord`)."""

    label: str
    context: Any
    url: str
    page: Any = None
    console: list[str] = field(default_factory=list)

    def open(self) -> "Participant":
        self.page = self.context.new_page()
        self.page.on("console", lambda msg: self.console.append(f"{msg.type}: {msg.text}"))
        self.page.on("pageerror", lambda exc: self.console.append(f"pageerror: {exc}"))
        self.page.goto(self.url)
        return self

    def join(self) -> "Participant":
        """From the device check: wait until the camera is up, then press Join."""
        if self.page is None or self.page.is_closed():
            self.open()
        self.page.wait_for_selector("#join:not([disabled])", timeout=15000)
        self.page.click("#join")
        # Joined (a snapshot arrived) or refused (the error screen shows).
        wait_js(self.page, "window.accord.state() !== null || !document.getElementById('ended').hidden", 15000)
        return self

    def state(self) -> dict[str, Any]:
        return self.page.evaluate("window.accord.state()")

    @property
    def seat(self) -> str:
        return self.state()["you"]["seat"]

    def stats(self) -> dict[str, dict[str, int]]:
        return self.page.evaluate("window.accord.stats()")

    def wait_for(self, expression: str, timeout: float = 15000) -> None:
        """Wait until a JavaScript expression over `window.accord` holds."""
        wait_js(self.page, expression, timeout)

    def wait_state(self, predicate: str, timeout: float = 15000) -> None:
        """`predicate` is a JS expression over `s`, the latest room snapshot."""
        self.wait_for(f"(() => {{ const s = window.accord.state(); return Boolean(s && ({predicate})); }})()", timeout)

    def diagnostics(self) -> str:
        """What the page knows about its connection, for assertion messages."""
        if self.page is None or self.page.is_closed():
            return f"{self.label}: page closed"
        info = self.page.evaluate("({connection: window.accord.connection(), tracks: window.accord.tracks()})")
        return f"{self.label}: {info}; console tail: {self.console[-8:]}"

    def screenshot(self, name: str) -> None:
        if self.page is not None and not self.page.is_closed():
            self.page.screenshot(path=str(ARTIFACTS / f"{name}-{self.label}.png"))


@pytest.fixture
def screenshots(request: pytest.FixtureRequest) -> Iterator[list[Participant]]:
    """Register participants; each gets a screenshot in test-artifacts/ when the test ends."""
    registered: list[Participant] = []
    yield registered
    ARTIFACTS.mkdir(exist_ok=True)
    for participant in registered:
        try:
            participant.screenshot(request.node.name)
        except Exception as exc:  # noqa: BLE001 - a failed screenshot must not hide the test result
            print(f"screenshot of {participant.label} failed: {exc}")


# --------------------------------------------------------------------------- media assertions

SAMPLE_GAP_S = 2.5


def media_deltas(viewer: Participant, gap: float = SAMPLE_GAP_S) -> dict[str, dict[str, int]]:
    """Counter growth per remote seat between two `stats()` readings `gap` seconds apart."""
    before = viewer.stats()
    time.sleep(gap)
    after = viewer.stats()
    out: dict[str, dict[str, int]] = {}
    for seat, counters in after.items():
        prior = before.get(seat, {})
        out[seat] = {k: v - prior.get(k, 0) for k, v in counters.items()}
    return out


def wait_until(check: Callable[[], str | None], timeout: float, what: str) -> None:
    """Retry `check` (returns None when satisfied, else why not) until it passes or time runs out."""
    deadline = time.monotonic() + timeout
    reason = "not checked"
    while time.monotonic() < deadline:
        reason = check()
        if reason is None:
            return
    raise AssertionError(f"{what}: {reason}")


MEDIA_TIMEOUT_S = 30


def expect_flowing(viewer: Participant, seats: dict[str, str], kinds: tuple[str, ...] = ("video", "audio")) -> None:
    """Every seat in `seats` (seat → label) grows `viewer`'s decoded-video and received-audio counters."""
    counters = {"video": "framesDecoded", "audio": "totalSamplesReceived"}

    def check() -> str | None:
        deltas = media_deltas(viewer)
        missing = [f"{label}:{kind}" for seat, label in seats.items() for kind in kinds
                   if deltas.get(seat, {}).get(counters[kind], 0) <= 0]
        if not missing:
            return None
        return f"{viewer.label} receives nothing for {missing}; deltas {deltas}; {viewer.diagnostics()}"

    wait_until(check, MEDIA_TIMEOUT_S, f"media to {viewer.label}")


def expect_silent(viewer: Participant, seats: dict[str, str], kinds: tuple[str, ...] = ("video", "audio")) -> None:
    """Nothing of `kinds` from `seats` reaches `viewer` (packets, not just decoded output)."""
    counters = {"video": "videoPacketsReceived", "audio": "audioPacketsReceived"}

    def check() -> str | None:
        deltas = media_deltas(viewer)
        leaking = [f"{label}:{kind}={deltas[seat][counters[kind]]}" for seat, label in seats.items()
                   for kind in kinds if deltas.get(seat, {}).get(counters[kind], 0) > 0]
        return None if not leaking else f"{viewer.label} still receives {leaking}"

    # The first reading may straddle the moment forwarding stopped: allow a few tries.
    wait_until(check, 15, f"media to {viewer.label} to stop")
