"""The development identity check (``POST /api/sign/identity/simulate``) exists only on a server
running the test identity gate: anywhere else the route is not there at all (a plain 404) and the
API description does not mention it. (That only the signer's own field can be checked, and that
the signing page offers the button, is in test_case_agreement and the browser tests.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from signaling.app import create_app
from signaling.config import Settings
from signaling.openapi import api

PATH = "/api/sign/identity/simulate"


@pytest.mark.parametrize(("gate", "served"), [("test", True), ("face", False)])
def test_only_the_test_gate_serves_the_simulated_check(tmp_path: Path, gate: str, served: bool) -> None:
    app = create_app(Settings(data_dir=tmp_path / "data", identity_gate=gate, log_level="WARNING"))
    routes = {(route.method, route.resource.canonical) for route in app.router.routes() if route.resource}
    assert (("POST", PATH) in routes) is served
    assert (PATH in api.document("Accord", "0", "http://localhost", app)["paths"]) is served
    assert ("/api/sign/session" in api.document("Accord", "0", "http://localhost", app)["paths"])
