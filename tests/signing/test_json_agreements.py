"""An older data directory whose agreements are JSON files: the server refuses to start and names
the command; `accord agreements import` brings them into the database; then the server starts and
serves them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agreement_samples import sample_agreement
from agreement_server import start_server
from signaling.api.agreements import JsonAgreementsLeft
from signaling.cli import main as accord
from tests.mediation.legacy_agreements import write_legacy_agreement

AGREEMENT = "ag_00000000000000c1"


async def test_the_server_refuses_to_start_until_the_json_agreements_are_imported(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = tmp_path / "data"
    locked_sha256 = await asyncio.to_thread(write_legacy_agreement, data_dir, AGREEMENT, sample_agreement())
    with pytest.raises(JsonAgreementsLeft) as info:
        await start_server(data_dir)
    assert "accord agreements import" in str(info.value) and str(data_dir) in str(info.value)

    assert await asyncio.to_thread(accord, ["agreements", "import", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "imported 1 agreement(s)" in out and "agreements-imported" in out
    assert not (data_dir / "agreements").exists()

    server = await start_server(data_dir)
    try:
        status, body = await server.call("GET", f"/api/agreements/{AGREEMENT}")
        assert status == 200 and (body["version"], body["status"], body["case_id"]) == (2, "draft", None)
        status, pdf = await server.call("GET", f"/api/agreements/{AGREEMENT}/versions/1/pdf")
        assert status == 200 and pdf[:5] == b"%PDF-"
        status, report = await server.call("POST", "/api/verify", key=False, data=pdf,
                                           headers={"Content-Type": "application/pdf"})
        assert status == 200 and report["platform"]["agreement_id"] == AGREEMENT
        assert report["platform"]["locked_sha256"] == locked_sha256
    finally:
        await server.close()
