"""Schemathesis against a running server's ``/api/openapi.json``: generated requests for every
operation (bounded examples), as an integrating system with every scope and as a platform
administrator. No answer may be a server error, and each answer must match the schema the
document declares for it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

schemathesis = pytest.importorskip("schemathesis")  # a test dependency (pyproject.toml [test]): skipped until installed

from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

from signaling.auth import SCOPES  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "schemathesis admin password"
#: Uploads are bytes: generated like any binary body.
schemathesis.serializer.alias(["application/pdf", "application/timestamp-query"], "application/octet-stream")
#: Examples per operation and caller: about 100 operations, some 2,000 requests in all.
EXAMPLES = 10


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """``accord serve`` in a child process (schemathesis calls synchronously), and two bearer
    credentials: an API key with every scope, and a platform administrator's session."""
    data = tmp_path_factory.mktemp("schemathesis") / "data"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "ACCORD_LOG_LEVEL": "WARNING"}
    created = subprocess.run([sys.executable, "-m", "signaling.cli", "apikey", "create", "schemathesis", "--json",
                              *[arg for scope in SCOPES for arg in ("--scope", scope)], "--data-dir", str(data)],
                             check=True, capture_output=True, text=True, env=env, cwd=ROOT)
    key = json.loads(created.stdout)["key"]
    subprocess.run([sys.executable, "-m", "signaling.cli", "admin", "create", "--login", "root", "--name", "Admin",
                    "--data-dir", str(data)], check=True, capture_output=True, cwd=ROOT,
                   env=env | {"ACCORD_ADMIN_PASSWORD": ADMIN_PASSWORD})
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "signaling.cli", "serve", "--port", str(port),
                               "--data-dir", str(data)], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=open(data.parent / "server.log", "wb"))
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError((data.parent / "server.log").read_text()[-2000:]) from None
                time.sleep(0.3)
        login = urllib.request.Request(f"{url}/api/auth/login", method="POST", headers={"Content-Type": "application/json"},
                                       data=json.dumps({"channel": "admin", "login": "root",
                                                        "password": ADMIN_PASSWORD}).encode())
        with urllib.request.urlopen(login, timeout=30) as response:
            session = json.loads(response.read())["token"]
        yield url, {"api_key": key, "platform_admin": session}
    finally:
        server.terminate()
        server.wait(timeout=20)
        log = (data.parent / "server.log").read_text()
        assert "Traceback" not in log, log[-4000:]


@pytest.fixture(scope="module")
def api_schema(live_server: tuple[str, dict[str, str]]) -> object:
    url, _ = live_server
    return schemathesis.openapi.from_url(f"{url}/api/openapi.json")


@pytest.mark.parametrize("caller", ["api_key", "platform_admin"])
def test_the_api_holds_its_schema(live_server: tuple[str, dict[str, str]], api_schema: object, caller: str) -> None:
    """Each operation with its own bounded hypothesis run (derandomised: the same requests each
    time, so a failure here is reproducible); every failure is collected and reported together."""
    key = live_server[1][caller]
    failures: list[str] = []
    operations = 0
    for result in api_schema.get_all_operations():  # type: ignore[attr-defined]
        operation = result.ok()
        operations += 1
        if caller == "platform_admin" and operation.label == "POST /api/auth/logout":
            continue  # it would end the session the rest of the run uses

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case: object) -> None:
            case.call_and_validate(headers={"Authorization": f"Bearer {key}"},  # type: ignore[attr-defined]
                                   checks=[not_a_server_error, response_schema_conformance], timeout=30)

        try:
            run()
        except Exception as exc:  # one operation's failure does not hide the others'
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    assert operations > 80
    me = urllib.request.Request(f"{live_server[0]}/api/auth/me", headers={"Authorization": f"Bearer {key}"})
    if caller == "platform_admin":  # the session held for the whole run: every call was the administrator's
        with urllib.request.urlopen(me, timeout=30) as response:
            assert json.loads(response.read())["role"] == "platform_admin"
    assert not failures, "\n\n".join(failures)
