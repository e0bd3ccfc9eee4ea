"""``accord demo load`` next to a running ``accord serve`` on the same data directory: the server
scans deadlines every fraction of a second and answers sign-ins and case lists while the demo
loads; the load is killed half-way and a second run finishes it. Afterwards every signed demo
agreement passes the verifier and every case's audit chain passes ``accord audit verify``."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

from signaling.config import load_settings
from signaling.api.pki import open_platform_pki
from signing.verification import async_verify_agreement

from .test_cli import ACCORD, free_port

PASSWORD = "demo-password-for-tests"
LOAD = ["demo", "load", "--cases", "30", "--signed", "3", "--mediators", "8", "--parties", "6",
        "--password", PASSWORD, "--json"]


def _call(port: int, method: str, path: str, body: dict[str, Any] | None = None,
          token: str | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[int]:
    port = free_port()
    env = dict(os.environ, ACCORD_DEADLINE_SCAN_SECONDS="0.3", ACCORD_LOG_LEVEL="WARNING")
    proc = subprocess.Popen([*ACCORD, "--data-dir", str(tmp_path), "serve", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.time() < deadline, "server did not come up"
                time.sleep(0.2)
        yield port
        assert proc.poll() is None, "the server died while the demo loaded"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


class LiveTraffic(threading.Thread):
    """A person using the server during the load: signs in as the demo administrator once that
    account exists (sign-ins to a login that does not exist yet would only be throttled), and
    lists cases, again and again, signing in again when a demo run ends the session; any 5xx is kept."""

    def __init__(self, port: int, data: Path):
        super().__init__(daemon=True)
        self.port = port
        self.data = data
        self.stop = threading.Event()
        self.server_errors: list[tuple[int, Any]] = []
        self.case_lists = 0

    def run(self) -> None:
        token: str | None = None
        while not self.stop.is_set():
            if token is None and _has_account(self.data, "demo-admin"):
                status, body = _call(self.port, "POST", "/api/auth/login",
                                     {"channel": "admin", "login": "demo-admin", "password": PASSWORD})
                token = body["token"] if status == 200 else None
            elif token is not None:
                status, body = _call(self.port, "GET", "/api/cases?limit=20", token=token)
                self.case_lists += status == 200
                if status == 401:  # a second demo run ends the demo accounts' sessions
                    token = None
            else:
                status, body = 0, None
            if status >= 500:
                self.server_errors.append((status, body))
            time.sleep(0.1)


def _has_account(data: Path, login: str) -> bool:
    try:
        with sqlite3.connect(data / "accord.sqlite3", timeout=30) as db:
            return db.execute("SELECT 1 FROM med_accounts WHERE login = ?", (login,)).fetchone() is not None
    except sqlite3.OperationalError:  # the tables are not there yet
        return False


def _cases(data: Path) -> int:
    try:
        with sqlite3.connect(data / "accord.sqlite3", timeout=30) as db:
            return db.execute("SELECT count(*) FROM med_cases").fetchone()[0]
    except sqlite3.OperationalError:  # the tables are not there yet
        return 0


def test_demo_load_while_the_server_runs_then_again_after_a_partial_load(server: int, tmp_path: Path) -> None:
    traffic = LiveTraffic(server, tmp_path)
    traffic.start()
    # The first load is killed once it has made 12 of its 30 cases (signed cases come last).
    first = subprocess.Popen([*ACCORD, *LOAD, "--data-dir", str(tmp_path)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 240
    while _cases(tmp_path) < 12:
        assert first.poll() is None, first.communicate()
        assert time.time() < deadline, "the demo load made no progress"
        time.sleep(0.2)
    first.kill()
    first.wait()
    partial = _cases(tmp_path)
    assert partial < 30

    second = subprocess.run([*ACCORD, *LOAD, "--data-dir", str(tmp_path)], capture_output=True, text=True,
                            timeout=600)
    traffic.stop.set()
    traffic.join()
    assert second.returncode == 0, second.stderr
    summary = json.loads(second.stdout)
    assert summary["cases"] == 30 and summary["cases_created"] == 30 - partial
    assert summary["signed_agreements"] == 3 and summary["court_applications"].get("ruled", 0) >= 1
    assert not traffic.server_errors and traffic.case_lists > 0

    with sqlite3.connect(tmp_path / "accord.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM med_cases").fetchone()[0] == 30
        assert db.execute("SELECT count(*) FROM med_accounts WHERE login LIKE 'demo-%'").fetchone()[0] == \
            sum(len(v) for v in summary["accounts"]["by_role"].values())
        agreements = db.execute(
            "SELECT r.path FROM med_agreement_versions v JOIN med_agreement_revisions r ON r.version_id = v.id "
            "WHERE v.status = 'completed' AND r.sha256 = v.final_sha256").fetchall()
        case_ids = [row[0] for row in db.execute("SELECT id FROM med_cases")]
        scanned = db.execute("SELECT count(*) FROM med_audit_entries WHERE actor = 'system:deadlines'").fetchone()[0]
    assert scanned > 0  # the server's scan flagged demo deadlines while the demo wrote to the same cases

    root = open_platform_pki(load_settings(data_dir=tmp_path)).root_cert
    assert len(agreements) == 3
    for (path,) in agreements:
        report = asyncio.run(async_verify_agreement((tmp_path / "case-files" / path).read_bytes(), [root]))
        assert report.valid, report.to_dict()
    for case_id in case_ids:
        out = subprocess.run([*ACCORD, "--data-dir", str(tmp_path), "audit", "verify", case_id],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0 and json.loads(out.stdout)["ok"], (case_id, out.stdout, out.stderr)
