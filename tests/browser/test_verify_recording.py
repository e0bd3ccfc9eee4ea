"""The public verification page checks a downloaded recording package: a genuine one (stamped by
this server's TSA) is shown intact with its session, segments and stamps; the same package with
one byte of a segment flipped is shown altered, naming the code, the segment and the message, in
Chinese by default and in English after the switch.

Screenshot in ``test-artifacts/``: verify-recording-altered."""

from __future__ import annotations

import asyncio
import concurrent.futures
from pathlib import Path

import pytest

from signaling.api.pki import open_platform_pki
from signaling.config import Settings
from tests.recordings.package_builder import build_package, flip_in_first_segment

from .case_site import ARTIFACTS
from .conftest import BrowserFactory, RunningServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


def _upload(page, base_url: str, data: bytes) -> None:  # type: ignore[no-untyped-def]
    page.goto(base_url + "/verify.html")
    page.set_input_files("#file", files=[{"name": "recording.zip", "mimeType": "application/zip", "buffer": data}])
    page.click("#submit")
    page.wait_for_selector("#recording:not([hidden])", timeout=60000)


def test_a_recording_package_is_verified_and_a_flipped_byte_shown(accord_server: RunningServer,
                                                                  browsers: BrowserFactory, tmp_path: Path) -> None:
    pki = open_platform_pki(Settings(data_dir=accord_server.data_dir))
    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # its own event loop, beside Playwright's
        package = pool.submit(asyncio.run, build_package(pki, tmp_path)).result(timeout=120)
    flipped, key = flip_in_first_segment(package)
    track = key.split("/")[1]

    context = browsers.launch()
    page = context.new_page()
    _upload(page, accord_server.base_url, package)
    assert page.get_attribute("#verdict", "data-valid") == "true"
    assert "完整" in page.inner_text("#verdict")
    assert page.locator("#recording-findings tr").count() == 0
    assert page.locator("#recording-stamps tr").count() >= 1
    assert page.is_hidden("#pdf-report")

    _upload(page, accord_server.base_url, flipped)
    assert page.get_attribute("#verdict", "data-valid") == "false"
    (row,) = page.locator("#recording-findings tr").all()
    assert row.get_attribute("data-code") == "altered_file"
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == "文件被改动 (altered_file)" and cells[1] == f"track {track} segment 0" and "altered" in cells[2]
    page.click("#lang")
    assert row.locator("td").first.inner_text() == "File altered (altered_file)"
    assert "altered" in page.inner_text("#verdict")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "verify-recording-altered.png"), full_page=True)
    browsers.close(context)
