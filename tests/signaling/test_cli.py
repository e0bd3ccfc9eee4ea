"""The ``accord`` command as a person uses it: serve, create a room, invite, stop cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from signaling.config import load_settings
from signaling.tokens import TokenIssuer
from signaling.config import ensure_secret

ACCORD = [sys.executable, "-m", "signaling.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*args: str, data: Path) -> str:
    """Global options may come before or after the sub-command: use the latter, as people do."""
    out = subprocess.run([*ACCORD, *args, "--data-dir", str(data)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_room_create_and_invite_produce_a_working_token(tmp_path):
    room = json.loads(run("room", "create", "--case", "(2026)川0104民调1号", "--json", data=tmp_path))
    invite = json.loads(run("room", "invite", room["room_id"], "--role", "party", "--side", "applicant",
                            "--name", "张三", "--json", data=tmp_path))
    assert invite["url"].startswith("http://localhost:8080/join#")
    issuer = TokenIssuer(ensure_secret(load_settings(data_dir=tmp_path), "token-secret"))
    claims = issuer.verify(invite["token"], room=room["room_id"])
    assert (claims.role, claims.side, claims.name) == ("party", "applicant", "张三")


def test_invite_for_a_missing_room_is_a_clear_error(tmp_path):
    out = subprocess.run([*ACCORD, "--data-dir", str(tmp_path), "room", "invite", "r_nope", "--role", "mediator",
                          "--name", "M"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "no room" in out.stderr


def test_serve_answers_health_checks_and_stops_gracefully(tmp_path):
    port = free_port()
    env = dict(os.environ, ACCORD_LOG_FORMAT="json")
    proc = subprocess.Popen([*ACCORD, "--data-dir", str(tmp_path), "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:
                    assert json.load(resp)["status"] == "ok"
                    break
            except OSError:
                assert proc.poll() is None, proc.stderr.read()
                assert time.time() < deadline, "server did not come up"
                time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        stdout, stderr = proc.communicate()
        assert f"localhost:{port}" in stdout
        for line in stderr.splitlines():
            if line.startswith("{"):
                json.loads(line)  # every log line is structured
    finally:
        if proc.poll() is None:
            proc.kill()
