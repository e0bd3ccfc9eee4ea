"""Shared by the tests that check what the public verification page shows (``verify.html``)."""

from __future__ import annotations

import re
import tempfile
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

from playwright.async_api import Page, async_playwright

from test_sign_browser import CHROMIUM_ARGS

REPO = Path(__file__).resolve().parents[2]


@asynccontextmanager
async def browser_page() -> AsyncIterator[Page]:
    """One page of a fresh Chromium profile, closed afterwards."""
    with tempfile.TemporaryDirectory() as profile:
        async with async_playwright() as p:
            browser = await p.chromium.launch_persistent_context(
                profile, executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
            try:
                yield await browser.new_page()
            finally:
                await browser.close()


async def verify_on_page(page: Page, base_url: str, pdf: Path, state: str) -> None:
    """Upload ``pdf`` on the verification page and wait for its verdict (``valid`` / ``invalid``)."""
    await page.goto(f"{base_url}/verify.html")
    await page.set_input_files("#file", str(pdf))
    await page.click("#submit")
    await page.wait_for_selector(f"body[data-state={state}]", timeout=60_000)


def assert_codes_explained(codes: set[str]) -> None:
    """The verifier emits each code, and the verify page explains each in Chinese and in English."""
    source = (REPO / "signing" / "verification.py").read_text()
    assert codes <= set(re.findall(r'Reason\("([a-z_]+)"', source)), codes - set(re.findall(r'Reason\("([a-z_]+)"', source))
    messages = (REPO / "web_client" / "js" / "verify" / "messages.js").read_text()
    zh, en = messages[messages.index("\n  zh: {"):messages.index("\n  en: {")], messages[messages.index("\n  en: {"):]
    for table in (zh, en):
        assert codes <= set(re.findall(r'"reason\.([a-z_]+)":', table))
